// Yarn 4 reads every setting from YARN_* variables too (YARN_NPM_AUTH_TOKEN, YARN_NPM_ALWAYS_AUTH, in any
// letter case), the way CI passes a token: the real `yarn npm whoami` against a real Tessera, and the doctor
// in the same setup, must agree that Yarn has a credential.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { onceInSqlitePass } from '../helpers/cluster-data.ts';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';
import { makeYarn, writeYarnrc } from '../helpers/clients.ts';

const BIN = join(resolve(import.meta.dirname, '../..'), 'bin/tessera.js');
let s: TestServer;
let token: string;

before(async () => {
  s = await startServer();
  await s.addUser('alice');
  token = await s.token({ user: 'alice' });
});
after(() => s.close());

function doctor(cwd: string, env: Record<string, string>): Promise<{ code: number; json: any; out: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [BIN, 'doctor', '--offline', '--json'], { cwd, env });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', fail);
    child.on('close', (code) => {
      try {
        done({ code: code ?? -1, json: JSON.parse(out), out });
      } catch {
        fail(new Error(`doctor printed no JSON:\n${out}`));
      }
    });
    child.stdin.end();
  });
}

test('a Yarn 4 token from YARN_NPM_AUTH_TOKEN (the .npmrc only for npm users): Yarn sends it, no yarn-config error', {
  skip: onceInSqlitePass,
}, async () => {
  const yarn = makeYarn();
  const dir = mkdtempSync(join(tmpdir(), 'doctor-sweep-yarn-'));
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'app', version: '1.0.0', packageManager: 'yarn@4.18.1' }),
  );
  writeYarnrc(dir, s.url);
  writeFileSync(join(dir, '.npmrc'), `registry=${s.url}\n//${s.host}/:_authToken=\${NPM_TOKEN}\n`);
  const settings: Record<string, string>[] = [
    { YARN_NPM_AUTH_TOKEN: token, YARN_NPM_ALWAYS_AUTH: 'true' },
    { yarn_npm_auth_token: token, yarn_npm_always_auth: '1' },
  ];
  for (const vars of settings) {
    const who = await yarn.run(['npm', 'whoami'], { cwd: dir, env: vars });
    assert.equal(who.code, 0, who.output);
    assert.match(who.stdout, /alice/);
    const env = { HOME: yarn.home, PATH: '', NO_COLOR: '1', NPM_TOKEN: token, ...vars };
    const r = await doctor(dir, env);
    const dump = JSON.stringify(r.json.findings, null, 1);
    assert.ok(!r.json.findings.some((f: any) => f.id === 'yarn-config'), `${Object.keys(vars)[0]}: ${dump}`);
    assert.equal(r.code, 0, dump);
    assert.ok(!r.out.includes(token), 'the token is never printed');
  }
  // Without the variables, the .npmrc token does not reach Yarn: both say so.
  const bare = await doctor(dir, { HOME: yarn.home, PATH: '', NPM_TOKEN: token });
  assert.ok(
    bare.json.findings.some((f: any) => f.id === 'yarn-config' && f.severity === 'error'),
    JSON.stringify(bare.json.findings),
  );
  const denied = await yarn.run(['npm', 'whoami'], { cwd: dir, env: { NPM_TOKEN: token } });
  assert.notEqual(denied.code, 0, denied.output);
});

test('a ${VAR} in a .yarnrc.yml comment is not read by Yarn 4, and is no finding; one in a value is', {
  skip: onceInSqlitePass,
}, async () => {
  const yarn = makeYarn();
  const dir = mkdtempSync(join(tmpdir(), 'doctor-sweep-yarn-'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'app', packageManager: 'yarn@4.18.1' }));
  const rc = (token: string) =>
    [
      `npmRegistryServer: "${s.url}"`,
      'npmAlwaysAuth: true',
      `${token}npmAuthToken: "\${YARN_SWEEP_UNSET}"`,
      'npmScopes:',
      '  corp:',
      `    npmRegistryServer: "${s.url}" # was \${YARN_SWEEP_OLD_REGISTRY}`,
      '',
    ].join('\n');
  writeFileSync(join(dir, '.yarnrc.yml'), rc('# '));
  const read = await yarn.run(['config', 'get', 'npmRegistryServer'], { cwd: dir });
  assert.equal(read.code, 0, read.output);
  const quiet = await doctor(dir, { HOME: yarn.home, PATH: '' });
  assert.ok(!quiet.json.findings.some((f: any) => f.id === 'yarn-config'), JSON.stringify(quiet.json.findings));
  writeFileSync(join(dir, '.yarnrc.yml'), rc(''));
  const broken = await yarn.run(['config', 'get', 'npmRegistryServer'], { cwd: dir });
  assert.notEqual(broken.code, 0);
  assert.match(broken.output, /Environment variable not found \(YARN_SWEEP_UNSET\)/);
  const loud = await doctor(dir, { HOME: yarn.home, PATH: '' });
  const found = loud.json.findings.filter((f: any) => f.id === 'yarn-config' && f.severity === 'error');
  assert.equal(found.length, 1, JSON.stringify(loud.json.findings));
  assert.deepEqual(found[0].source, { file: join(dir, '.yarnrc.yml'), line: 3 });
});
