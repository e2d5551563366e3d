// The registry with the real pnpm (12, a native binary) and Yarn Berry (4) clients, configured the way
// their users configure them: pnpm from the project's .npmrc, Yarn from the project's .yarnrc.yml.
// Packages are published with npm first: tess-pad (public, unscoped), @alice/vault (restricted, owned by
// alice) and @alice/app (restricted, depends on both). Then: installs with and without the token, publish
// of new versions with each client, `yarn npm whoami`, and what each client prints when Tessera refuses.
//
// What the clients show of a refusal: on a 403 both print Tessera's `error` text. On a 401 neither does:
// pnpm prints "Unauthorized - 401" and Yarn 4 always "Invalid authentication (as an unknown user)";
// Tessera's reason is in the body and the npm-notice header, which those clients do not print.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, type TestServer } from '../helpers/server.ts';
import { makeNpm, makePackage, makeProject } from '../helpers/npm.ts';
import { makePnpm, makeYarn, writeNpmrc, writeYarnrc, type ClientEnv } from '../helpers/clients.ts';
import { adminRevoke } from '../../src/services/tokens.ts';
import { onceInSqlitePass } from '../helpers/cluster-data.ts';

let s: TestServer;
let aliceToken: string;
let bobToken: string;

const read = (dir: string, file: string) => readFileSync(join(dir, file), 'utf8');
const esc = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

async function packument(name: string, token?: string): Promise<{ status: number; body: Record<string, any> }> {
  const res = await fetch(`${s.url}${name.replace('/', '%2f')}`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

before(async () => {
  s = await startServer({}, { recordRequests: true });
  await s.addUser('alice');
  await s.addUser('bob');
  aliceToken = await s.token({ user: 'alice' });
  bobToken = await s.token({ user: 'bob' });
  const npm = makeNpm(s.url);
  npm.setToken(s.host, aliceToken);
  for (const dir of [
    makePackage('tess-pad', '1.0.0'),
    makePackage('@alice/vault', '1.0.0', { dependencies: { 'tess-pad': '^1.0.0' } }),
    makePackage('@alice/app', '1.0.0', { dependencies: { '@alice/vault': '^1.0.0', 'tess-pad': '^1.0.0' } }),
  ]) {
    const r = await npm.run(['publish'], { cwd: dir });
    assert.equal(r.code, 0, r.output);
  }
  assert.equal((await packument('@alice/vault')).status, 404, 'scoped packages are published restricted');
});
after(async () => {
  await s.close();
});

describe('pnpm 11', { skip: onceInSqlitePass }, () => {
  let pnpm: ClientEnv;
  before(() => {
    pnpm = makePnpm();
  });

  test('install with the token in the project .npmrc: public and private packages, with a lockfile', async () => {
    const proj = makeProject({ '@alice/app': '^1.0.0', 'tess-pad': '1.0.0' });
    writeNpmrc(proj, s.url, aliceToken);
    s.requests.length = 0;
    const r = await pnpm.run(['install'], { cwd: proj });
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /Packages: \+3/);
    assert.match(r.output, /\+ @alice\/app 1\.0\.0/);
    assert.match(r.output, /\+ tess-pad 1\.0\.0/);
    assert.equal(read(proj, 'node_modules/@alice/app/index.js'), 'module.exports = "@alice/app@1.0.0";\n');
    assert.equal(
      read(proj, 'node_modules/.pnpm/@alice+vault@1.0.0/node_modules/@alice/vault/index.js'),
      'module.exports = "@alice/vault@1.0.0";\n',
    );
    const lock = read(proj, 'pnpm-lock.yaml');
    assert.match(lock, /'@alice\/vault@1\.0\.0':\s+resolution: \{integrity: sha512-/);
    assert.ok(!existsSync(join(proj, 'pnpm-workspace.yaml')), 'nothing held back by the release-age gate');
    assert.ok(s.requests.includes('GET /@alice/vault/-/vault-1.0.0.tgz'), s.requests.join('\n'));
  });

  test('without a token the private package is a 404, and the public one still installs', async () => {
    // Another user: pnpm answers a 404 from its metadata cache when it has the package cached.
    const anon = makePnpm();
    let proj = makeProject({ '@alice/app': '^1.0.0' });
    writeNpmrc(proj, s.url);
    let r = await anon.run(['install'], { cwd: proj });
    assert.equal(r.code, 1, r.output);
    assert.match(r.output, /ERR_PNPM_FETCH_404/);
    assert.match(r.output, /@alice%2Fapp: Not Found - 404/);
    assert.match(r.output, /No authorization header was set for the request/);
    proj = makeProject({ 'tess-pad': '^1.0.0' });
    writeNpmrc(proj, s.url);
    r = await anon.run(['install'], { cwd: proj });
    assert.equal(r.code, 0, r.output);
    assert.equal(read(proj, 'node_modules/tess-pad/index.js'), 'module.exports = "tess-pad@1.0.0";\n');
  });

  test('publish a new version of the public and of the private package', async () => {
    let pkg = makePackage('tess-pad', '1.1.0');
    writeNpmrc(pkg, s.url, aliceToken);
    s.requests.length = 0;
    let r = await pnpm.run(['publish', '--no-git-checks'], { cwd: pkg });
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /Published package tess-pad@1\.1\.0/);
    assert.deepEqual(s.requests, ['PUT /tess-pad']);
    const pad = await packument('tess-pad');
    assert.equal(pad.body['dist-tags'].latest, '1.1.0');
    assert.equal(pad.body.versions['1.1.0']._npmUser?.name, 'alice');
    const tgz = Buffer.from(await (await fetch(pad.body.versions['1.1.0'].dist.tarball)).arrayBuffer());
    assert.equal(
      `sha512-${createHash('sha512').update(tgz).digest('base64')}`,
      pad.body.versions['1.1.0'].dist.integrity,
    );

    pkg = makePackage('@alice/vault', '1.1.0', { dependencies: { 'tess-pad': '^1.0.0' } });
    writeNpmrc(pkg, s.url, aliceToken);
    r = await pnpm.run(['publish', '--no-git-checks'], { cwd: pkg });
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /Published package @alice\/vault@1\.1\.0/);
    assert.equal((await packument('@alice/vault')).status, 404, 'a new version keeps the package restricted');
    assert.equal((await packument('@alice/vault', aliceToken)).body['dist-tags'].latest, '1.1.0');
  });

  test("a refused publish shows Tessera's reason", async () => {
    let pkg = makePackage('tess-pad', '1.0.0');
    writeNpmrc(pkg, s.url, aliceToken);
    let r = await pnpm.run(['publish', '--no-git-checks'], { cwd: pkg });
    assert.equal(r.code, 1, r.output);
    assert.match(r.output, /403 Forbidden - PUT .*\/tess-pad/);
    assert.match(
      r.output.replace(/\s*│\s*/g, ' '),
      /You cannot publish over the previously published versions: 1\.0\.0\./,
    );
    pkg = makePackage('tess-pad', '9.0.0');
    writeNpmrc(pkg, s.url, bobToken);
    r = await pnpm.run(['publish', '--no-git-checks'], { cwd: pkg });
    assert.equal(r.code, 1, r.output);
    assert.match(r.output.replace(/\s*│\s*/g, ' '), /You are not a maintainer of tess-pad, so you cannot publish it/);
  });

  test('a revoked token is a 401 (pnpm prints the status, not the body)', async () => {
    const token = await s.token({ user: 'alice' });
    await adminRevoke(s.ctx, token);
    const proj = makeProject({ '@alice/vault': '^1.0.0' });
    writeNpmrc(proj, s.url, token);
    const r = await makePnpm().run(['install'], { cwd: proj });
    assert.equal(r.code, 1, r.output);
    assert.match(r.output, /ERR_PNPM_FETCH_401/);
    assert.match(r.output, /@alice%2Fvault: Unauthorized - 401/);
    assert.match(r.output, /An authorization header was used: Bearer tsr_\[hidden\]/);
    const direct = await packument('@alice/vault', token);
    assert.equal(direct.status, 401);
    assert.match(direct.body.error, /The access token was revoked/);
  });
});

describe('Yarn 4', { skip: onceInSqlitePass }, () => {
  let yarn: ClientEnv;
  before(() => {
    yarn = makeYarn();
  });

  /** A package folder Yarn can publish from: a .yarnrc.yml and an install (Yarn publishes installed projects). */
  async function yarnPackage(
    name: string,
    version: string,
    token: string,
    extra: Record<string, unknown> = {},
  ): Promise<string> {
    const dir = makePackage(name, version, extra);
    writeYarnrc(dir, s.url, { token, scope: '@alice' });
    const r = await yarn.run(['install'], { cwd: dir });
    assert.equal(r.code, 0, r.output);
    return dir;
  }

  test('install with npmScopes and npmAuthToken: public and private packages', async () => {
    const proj = makeProject({ '@alice/app': '^1.0.0', 'tess-pad': '1.0.0' });
    writeYarnrc(proj, s.url, { token: aliceToken, scope: '@alice' });
    s.requests.length = 0;
    const r = await yarn.run(['install'], { cwd: proj });
    assert.equal(r.code, 0, r.output);
    assert.match(
      r.output,
      /YN0085: .*\+ @alice\/app@npm:1\.0\.0, tess-pad@npm:1\.0\.0, @alice\/vault@npm:1\.1\.0, tess-pad@npm:1\.1\.0\n/,
    );
    assert.match(r.output, /YN0000: · Done/);
    assert.equal(read(proj, 'node_modules/@alice/app/index.js'), 'module.exports = "@alice/app@1.0.0";\n');
    assert.equal(read(proj, 'node_modules/@alice/vault/index.js'), 'module.exports = "@alice/vault@1.1.0";\n');
    assert.match(read(proj, 'yarn.lock'), /"@alice\/vault@npm:\^1\.0\.0":\n {2}version: 1\.1\.0/);
    // Yarn builds the tarball URL itself, with the scope's slash encoded, rather than using dist.tarball.
    assert.ok(s.requests.includes('GET /@alice%2fvault/-/vault-1.1.0.tgz'), s.requests.join('\n'));
  });

  test('without a token the private package is "Package not found"', async () => {
    const proj = makeProject({ '@alice/vault': '^1.0.0' });
    writeYarnrc(proj, s.url, { scope: '@alice' });
    const r = await yarn.run(['install'], { cwd: proj });
    assert.equal(r.code, 1, r.output);
    assert.match(r.output, /YN0035: .*@alice\/vault@npm:\^1\.0\.0: Package not found/);
    assert.match(r.output, /Response Code: 404 \(Not Found\)/);
  });

  test('yarn npm whoami', async () => {
    const proj = makeProject();
    writeYarnrc(proj, s.url, { token: aliceToken });
    const r = await yarn.run(['npm', 'whoami'], { cwd: proj });
    assert.equal(r.code, 0, r.output);
    assert.match(r.stdout, /YN0000: alice\n/);
  });

  test('yarn npm publish of a new version of the private package', async () => {
    const dir = await yarnPackage('@alice/vault', '1.2.0', aliceToken, { dependencies: { 'tess-pad': '^1.0.0' } });
    s.requests.length = 0;
    const r = await yarn.run(['npm', 'publish'], { cwd: dir });
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, new RegExp(`Publishing to ${esc(s.url.replace(/\/$/, ''))} with tag latest`));
    assert.match(r.output, /YN0000: Package archive published/);
    assert.deepEqual(s.requests, ['PUT /@alice%2fvault']);
    assert.equal((await packument('@alice/vault')).status, 404, 'still restricted');
    const doc = (await packument('@alice/vault', aliceToken)).body;
    assert.equal(doc['dist-tags'].latest, '1.2.0');
    assert.deepEqual(doc.versions['1.2.0'].dependencies, { 'tess-pad': '^1.0.0' });
    const res = await fetch(doc.versions['1.2.0'].dist.tarball, { headers: { authorization: `Bearer ${aliceToken}` } });
    assert.equal(res.status, 200);
    const tgz = Buffer.from(await res.arrayBuffer());
    assert.equal(`sha512-${createHash('sha512').update(tgz).digest('base64')}`, doc.versions['1.2.0'].dist.integrity);
  });

  test("a refused publish shows Tessera's reason", async () => {
    const dir = await yarnPackage('tess-pad', '9.0.0', bobToken);
    const r = await yarn.run(['npm', 'publish'], { cwd: dir });
    assert.equal(r.code, 1, r.output);
    assert.match(
      r.output,
      /YN0035: You are not a maintainer of tess-pad, so you cannot publish it\. `npm owner ls tess-pad` shows who is \(http:\/\/127\.0\.0\.1:\d+\/-\/help\/not-maintainer\)/,
    );
    assert.match(r.output, /Response Code: 403 \(Forbidden\)/);
  });

  test('an expired token: Yarn refuses with its own words for any 401', async () => {
    const token = await s.token({ user: 'alice', expiresInMs: 1 });
    s.clock.advance(1000);
    const proj = makeProject({ '@alice/vault': '^1.0.0' });
    writeYarnrc(proj, s.url, { token, scope: '@alice' });
    let r = await yarn.run(['npm', 'whoami'], { cwd: proj });
    assert.equal(r.code, 1, r.output);
    assert.match(r.output, /YN0041: Invalid authentication \(as an unknown user\)/);
    r = await yarn.run(['install'], { cwd: proj });
    assert.equal(r.code, 1, r.output);
    assert.match(r.output, /YN0041: .*@alice\/vault@npm:\^1\.0\.0: Invalid authentication \(as an unknown user\)/);
    // Tessera did give its reason; Yarn 4 prints neither the body nor the npm-notice header of a 401.
    const res = await fetch(`${s.url}-/whoami`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('npm-notice'), 'access token expired or revoked. Please try logging in again.');
    assert.match(
      ((await res.json()) as { error: string }).error,
      /^The access token expired on \d{4}-.*Run `npm login` or create a new token/,
    );
  });
});
