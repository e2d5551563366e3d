// `tessera explain` on what the real clients print when a Tessera refuses a write other than publish
// (dist-tag, deprecate, owner): pnpm 11's own commands name no method or URL, only `[ERR_PNPM_FORBIDDEN]` /
// `[ERR_PNPM_UNAUTHORIZED]` / `[ERR_PNPM_REGISTRY_ERROR] … 401` and the registry's body; Yarn 4 prints the
// registry's words under YN0035 with the dist-tag URL; npm 11 the `/-/package/<name>/dist-tags/<tag>` URL.
// Each paste, as printed and as a GitHub Actions log shows it, must name its cause first and the package by
// its name (never the dist-tag at the end of the URL). And `tessera doctor` on Yarn 4's npmRegistries keys
// must agree with what Yarn 4 itself sends.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { explainText } from '../../src/doctor/explain.ts';
import { onceInSqlitePass } from '../helpers/cluster-data.ts';
import { makeNpm, makePackage } from '../helpers/npm.ts';
import { makePnpm, makeYarn, writeYarnrc } from '../helpers/clients.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

const PKG = 'sweep2-lib';
const BIN = join(import.meta.dirname, '../../bin/tessera.js');

/** The output as printed, and as a GitHub Actions log shows it (timestamps, `##[error]` on the first line). */
function forms(output: string): string[] {
  const lines = output.trim().split('\n');
  const actions = lines
    .map((l, i) => `2026-01-02T03:04:${String(i % 60).padStart(2, '0')}.1234567Z ${i === 0 ? '##[error]' : ''}${l}`)
    .join('\n');
  return [output, actions];
}

function expectCause(output: string, first: string, what: string): void {
  for (const text of forms(output)) {
    const { explanation: ex } = explainText(text);
    const ids = ex.causes.map((c) => c.id);
    assert.equal(ids[0], first, `${what}: ${ex.code} [${ids.join(', ')}]\n${text}`);
    for (const c of ex.causes) {
      assert.ok(!/--packages beta\b|owner ls beta\b/.test(c.fix), `${what}: ${c.id} names the dist-tag: ${c.fix}`);
    }
  }
}

describe('explain on real pnpm 11, Yarn 4 and npm 11 write refusals', { skip: onceInSqlitePass }, () => {
  let s: TestServer;
  let bob: string;
  let expired: string;

  before(async () => {
    s = await startServer();
    await s.addUser('alice');
    await s.addUser('bob');
    const alice = await s.token({ user: 'alice' });
    bob = await s.token({ user: 'bob' });
    expired = await s.token({ user: 'alice', expiresInMs: 60_000 });
    const npm = makeNpm(s.url);
    npm.setToken(s.host, alice);
    const p = await npm.run(['publish'], { cwd: makePackage(PKG, '1.0.0') });
    assert.equal(p.code, 0, p.output);
    s.clock.advance(120_000);
  });
  after(() => s?.close());

  test('pnpm 11: not a maintainer, an expired token, no token', async () => {
    const pnpm = makePnpm();
    const dir = mkdtempSync(join(tmpdir(), 'explain-sweep2-pnpm-'));
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0' }));
    const cases: [token: string, args: string[], first: string][] = [
      [bob, ['dist-tag', 'add', `${PKG}@1.0.0`, 'beta'], 'not-maintainer'],
      [expired, ['dist-tag', 'add', `${PKG}@1.0.0`, 'beta'], 'token-rejected'],
      [expired, ['deprecate', `${PKG}@1.0.0`, 'old'], 'token-rejected'], // `Failed to fetch package info: 401`
      ['', ['owner', 'add', 'bob', PKG], 'no-credential-for-registry'],
    ];
    for (const [token, args, first] of cases) {
      writeFileSync(join(dir, '.npmrc'), `registry=${s.url}\n${token ? `//${s.host}/:_authToken=${token}\n` : ''}`);
      const r = await pnpm.run(args, { cwd: dir });
      assert.notEqual(r.code, 0, r.output);
      assert.match(r.output, /ERR_PNPM_/);
      expectCause(r.output, first, `pnpm ${args.join(' ')}`);
    }
  });

  test('Yarn 4 and npm 11: dist-tag add by someone who is not a maintainer', async () => {
    const yarn = makeYarn();
    const dir = mkdtempSync(join(tmpdir(), 'explain-sweep2-yarn-'));
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({ name: 'app', version: '1.0.0', packageManager: 'yarn@4.18.1' }),
    );
    writeYarnrc(dir, s.url, { token: bob });
    const y = await yarn.run(['npm', 'tag', 'add', `${PKG}@1.0.0`, 'beta'], { cwd: dir });
    assert.notEqual(y.code, 0, y.output);
    expectCause(y.output, 'not-maintainer', 'yarn npm tag add');
    assert.ok(explainText(y.output).explanation.causes[0].fix.includes(`npm owner ls ${PKG}`));

    const npm = makeNpm(s.url);
    npm.setToken(s.host, bob);
    const n = await npm.run(['dist-tag', 'add', `${PKG}@1.0.0`, 'beta']);
    assert.notEqual(n.code, 0, n.output);
    expectCause(n.output, 'not-maintainer', 'npm dist-tag add');
    assert.ok(explainText(n.output).explanation.causes[0].fix.includes(`npm owner ls ${PKG}`));
  });

  test('the doctor and Yarn 4 agree on npmRegistries keys (how Yarn looks them up)', async () => {
    const yarn = makeYarn();
    const dir = mkdtempSync(join(tmpdir(), 'explain-sweep2-yarnrc-'));
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({ name: 'app', version: '1.0.0', packageManager: 'yarn@4.18.1' }),
    );
    const server = s.url.replace(/\/$/, '');
    const port = new URL(s.url).port;
    // Another company's registry in ~/.yarnrc.yml is not this project's business: never a finding.
    mkdirSync(yarn.home, { recursive: true });
    writeFileSync(
      join(yarn.home, '.yarnrc.yml'),
      'npmRegistries:\n  "//npm.other.example.test":\n    npmAuthToken: "${OTHER_TOKEN:-}"\n',
    );
    const keys: [key: string, works: boolean][] = [
      [`//127.0.0.1:${port}/`, true], // Yarn strips the trailing slash from keys
      [`127.0.0.1:${port}`, false], // a bare host: never looked up
      [`https://127.0.0.1:${port}`, false], // another scheme than the registry's
      [`//127.0.0.1:${port}/:_authToken`, false], // an .npmrc key
      ['//127.0.0.1:1', false], // another port
    ];
    for (const [key, works] of keys) {
      writeFileSync(
        join(dir, '.yarnrc.yml'),
        `npmRegistryServer: "${server}"\nunsafeHttpWhitelist:\n  - "127.0.0.1"\nnpmAlwaysAuth: true\n` +
          `npmRegistries:\n  "${key}":\n    npmAuthToken: "${bob}"\n`,
      );
      const who = await yarn.run(['npm', 'whoami'], { cwd: dir });
      assert.equal(who.code === 0, works, `yarn npm whoami with "${key}": ${who.output}`);
      const d = spawnSync(process.execPath, [BIN, 'doctor', '--offline', '--json'], {
        cwd: dir,
        env: { HOME: yarn.home, PATH: '', NO_COLOR: '1' },
        encoding: 'utf8',
      });
      const findings = JSON.parse(d.stdout).findings as {
        id: string;
        severity: string;
        fix: string;
        source?: object;
      }[];
      const bad = findings.filter((f) => f.id === 'yarn-config' && f.severity === 'error');
      assert.equal(bad.length === 0, works, `doctor with "${key}": ${JSON.stringify(findings)}`);
      if (!works) {
        assert.ok(bad[0].fix.includes(`"//127.0.0.1:${port}":`), bad[0].fix);
        assert.deepEqual(bad[0].source, { file: join(dir, '.yarnrc.yml'), line: 6 });
      }
      assert.ok(!d.stdout.includes(bob), 'the token is never printed');
    }
  });
});
