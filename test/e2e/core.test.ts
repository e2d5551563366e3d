// The registry core with the real npm CLI, both current majors: login (web and legacy), whoami, publish
// (unscoped, scoped public, scoped restricted), install with a lockfile and again with `npm ci`, view,
// dist-tag, deprecate, unpublish, owner, a second user refused, anonymous 404, logout.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, type TestServer } from '../helpers/server.ts';
import { onceForLaterMajors } from '../helpers/cluster-data.ts';
import { makeNpm, makePackage, makeProject, NPM_MAJORS, type NpmEnv } from '../helpers/npm.ts';

/** Plays the browser for npm's web login: opens loginUrl, submits the form. */
async function browserLogin(loginUrl: string, name: string, password: string): Promise<void> {
  const page = await fetch(loginUrl);
  assert.equal(page.status, 200);
  const html = await page.text();
  const action = /action="([^"]+)"/.exec(html)?.[1];
  assert.ok(action, 'the login page has a form');
  const res = await fetch(
    action.replace(/&#(\d+);/g, (_m, c) => String.fromCharCode(Number(c))),
    {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ name, password }).toString(),
    },
  );
  assert.equal(res.status, 200, await res.clone().text());
  assert.match(await res.text(), new RegExp(`Signed in as ${name}`));
}

/** npm 12 wraps `npm view --json` results in an array; npm 11 does not. */
function viewJson(stdout: string): unknown {
  const v = JSON.parse(stdout) as unknown;
  return Array.isArray(v) && v.length === 1 && typeof v[0] === 'object' ? v[0] : v;
}

for (const major of NPM_MAJORS) {
  describe(`registry core with npm ${major}`, { skip: onceForLaterMajors(major, NPM_MAJORS) }, () => {
    let s: TestServer;
    let alice: NpmEnv;
    let bob: NpmEnv;
    let anon: NpmEnv;

    before(async () => {
      s = await startServer();
      await s.addUser('alice');
      await s.addUser('bob');
      alice = makeNpm(s.url, major);
      bob = makeNpm(s.url, major);
      anon = makeNpm(s.url, major);
    });
    after(async () => {
      await s.close();
    });

    test('web login: npm prints the login URL, the browser signs in, npm stores the token', async () => {
      let done = false;
      const run = alice.run(['login'], {
        onStdout: (chunk) => {
          const url = /(http:\/\/\S+\/-\/v1\/login\/cli\/\S+)/.exec(chunk)?.[1];
          if (url && !done) {
            done = true;
            void browserLogin(url, 'alice', 'alice-password');
          }
        },
      });
      const r = await run;
      assert.equal(r.code, 0, r.output);
      assert.match(r.output, /Login at:/);
      assert.match(r.output, new RegExp(`Logged in on ${s.url.replace(/[/.]/g, '\\$&')}`));
      assert.match(alice.npmrc(), new RegExp(`//${s.host}/:_authToken=tsr_`));
      const w = await alice.run(['whoami']);
      assert.equal(w.code, 0, w.output);
      assert.equal(w.stdout.trim(), 'alice');
    });

    test('legacy login prompts for username and password', async () => {
      const r = await bob.runTty(
        ['login', '--auth-type=legacy'],
        [
          [/Username:/, 'bob'],
          [/Password:/, 'bob-password'],
        ],
      );
      assert.equal(r.code, 0, r.output);
      assert.match(r.output, /Logged in on/);
      const w = await bob.run(['whoami']);
      assert.equal(w.stdout.trim(), 'bob');
    });

    test('legacy login with a wrong password says so', async () => {
      const other = makeNpm(s.url, major);
      const r = await other.runTty(
        ['login', '--auth-type=legacy'],
        [
          [/Username:/, 'bob'],
          [/Password:/, 'wrong-password'],
        ],
      );
      assert.notEqual(r.code, 0);
      assert.match(r.output, /Incorrect or missing password/);
    });

    test('publish unscoped, scoped public and scoped restricted', async () => {
      let r = await alice.run(['publish'], { cwd: makePackage('demo-core', '1.0.0') });
      assert.equal(r.code, 0, r.output);
      assert.match(r.output, /\+ demo-core@1\.0\.0/);
      r = await alice.run(['publish', '--access', 'public'], { cwd: makePackage('@alice/pub', '1.0.0') });
      assert.equal(r.code, 0, r.output);
      r = await alice.run(['publish'], { cwd: makePackage('@alice/priv', '1.0.0') });
      assert.equal(r.code, 0, r.output);
      const vis = await fetch(`${s.url}-/package/@alice%2fpub/visibility`);
      assert.deepEqual(await vis.json(), { public: true });
    });

    test("publishing the same version again is refused in npm's words", async () => {
      const r = await alice.run(['publish', '--force'], { cwd: makePackage('demo-core', '1.0.0') });
      assert.notEqual(r.code, 0);
      assert.match(
        r.output,
        /403 Forbidden - PUT .*demo-core - You cannot publish over the previously published versions: 1\.0\.0\./,
      );
    });

    test('install into a fresh project with a lockfile, then npm ci', async () => {
      const proj = makeProject({ 'demo-core': '^1.0.0', '@alice/pub': '1.0.0', '@alice/priv': '1.0.0' });
      let r = await alice.run(['install'], { cwd: proj });
      assert.equal(r.code, 0, r.output);
      assert.match(r.output, /added 3 packages/);
      const lock = JSON.parse(readFileSync(join(proj, 'package-lock.json'), 'utf8'));
      assert.equal(lock.packages['node_modules/demo-core'].resolved, `${s.url}demo-core/-/demo-core-1.0.0.tgz`);
      assert.equal(lock.packages['node_modules/@alice/priv'].resolved, `${s.url}@alice/priv/-/priv-1.0.0.tgz`);
      assert.match(lock.packages['node_modules/@alice/priv'].integrity, /^sha512-/);
      rmSync(join(proj, 'node_modules'), { recursive: true });
      rmSync(join(alice.home, 'cache'), { recursive: true });
      r = await alice.run(['ci'], { cwd: proj });
      assert.equal(r.code, 0, r.output);
      assert.ok(existsSync(join(proj, 'node_modules/@alice/priv/index.js')));
      assert.equal(
        readFileSync(join(proj, 'node_modules/demo-core/index.js'), 'utf8'),
        'module.exports = "demo-core@1.0.0";\n',
      );
    });

    test('anonymous install of a private package is a 404', async () => {
      const r = await anon.run(['install'], { cwd: makeProject({ '@alice/priv': '1.0.0' }) });
      assert.notEqual(r.code, 0);
      assert.match(r.output, /E404/);
      assert.match(r.output, /404 Not Found - GET .*@alice%2fpriv - Not found/);
      // …and the same for another logged-in user who is not a maintainer.
      const b = await bob.run(['view', '@alice/priv']);
      assert.match(b.output, /E404/);
      const pub = await anon.run(['view', '@alice/pub', 'name']);
      assert.equal(pub.stdout.trim(), '@alice/pub');
    });

    test('view, dist-tag add/ls/rm', async () => {
      let r = await alice.run(['publish'], { cwd: makePackage('demo-core', '1.1.0') });
      assert.equal(r.code, 0, r.output);
      r = await alice.run(['view', 'demo-core', 'dist-tags', '--json']);
      assert.deepEqual(viewJson(r.stdout), { latest: '1.1.0' });
      r = await alice.run(['dist-tag', 'add', 'demo-core@1.0.0', 'stable']);
      assert.equal(r.code, 0, r.output);
      assert.match(r.output, /\+stable: demo-core@1\.0\.0/);
      r = await alice.run(['dist-tag', 'ls', 'demo-core']);
      assert.match(r.stdout, /latest: 1\.1\.0/);
      assert.match(r.stdout, /stable: 1\.0\.0/);
      r = await alice.run(['dist-tag', 'rm', 'demo-core', 'stable']);
      assert.equal(r.code, 0, r.output);
      assert.match(r.output, /-stable: demo-core@1\.0\.0/);
      r = await alice.run(['view', 'demo-core', 'versions', '--json']);
      assert.deepEqual(viewJson(r.stdout), ['1.0.0', '1.1.0']);
    });

    test('deprecate and undeprecate', async () => {
      let r = await alice.run(['deprecate', 'demo-core@1.0.0', 'use 1.1 instead']);
      assert.equal(r.code, 0, r.output);
      r = await alice.run(['view', 'demo-core@1.0.0', 'deprecated']);
      assert.equal(r.stdout.trim(), 'use 1.1 instead');
      r = await alice.run(['install', 'demo-core@1.0.0'], { cwd: makeProject() });
      assert.match(r.output, /deprecated demo-core@1\.0\.0: use 1\.1 instead/);
      r = await alice.run(['deprecate', 'demo-core@1.0.0', '']);
      assert.equal(r.code, 0, r.output);
      r = await alice.run(['view', 'demo-core@1.0.0', 'deprecated']);
      assert.equal(r.stdout.trim(), '');
    });

    test('owner add, ls, rm', async () => {
      let r = await alice.run(['owner', 'add', 'bob', 'demo-core']);
      assert.equal(r.code, 0, r.output);
      assert.match(r.output, /\+ bob \(demo-core\)/);
      r = await alice.run(['owner', 'ls', 'demo-core']);
      assert.match(r.stdout, /alice <alice@example\.com>/);
      assert.match(r.stdout, /bob <bob@example\.com>/);
      r = await alice.run(['owner', 'rm', 'bob', 'demo-core']);
      assert.equal(r.code, 0, r.output);
      r = await alice.run(['owner', 'ls', 'demo-core']);
      assert.doesNotMatch(r.stdout, /bob/);
    });

    test("a second user cannot publish over the first one's package", async () => {
      const r = await bob.run(['publish'], { cwd: makePackage('demo-core', '9.0.0') });
      assert.notEqual(r.code, 0);
      assert.match(r.output, /E403/);
      assert.match(r.output, /You are not a maintainer of demo-core/);
      const o = await bob.run(['owner', 'ls', 'demo-core']);
      assert.match(o.stdout, /alice/);
    });

    test('unpublish a version, then the whole package', async () => {
      let r = await alice.run(['unpublish', 'demo-core@1.1.0']);
      assert.equal(r.code, 0, r.output);
      assert.match(r.output, /- demo-core@1\.1\.0/);
      r = await alice.run(['view', 'demo-core', 'dist-tags.latest']);
      assert.equal(r.stdout.trim(), '1.0.0');
      r = await alice.run(['publish'], { cwd: makePackage('demo-core', '1.1.0') });
      assert.match(r.output, /You cannot publish over the previously published versions: 1\.1\.0/);
      r = await alice.run(['unpublish', 'demo-core', '--force']);
      assert.equal(r.code, 0, r.output);
      r = await alice.run(['view', 'demo-core']);
      assert.match(r.output, /E404/);
    });

    test('search finds what the caller may see', async () => {
      let r = await alice.run(['search', 'alice', '--json']);
      assert.equal(r.code, 0, r.output);
      const names = (JSON.parse(r.stdout) as { name: string }[]).map((p) => p.name).sort();
      assert.deepEqual(names, ['@alice/priv', '@alice/pub']);
      r = await anon.run(['search', 'alice', '--json']);
      assert.deepEqual(
        (JSON.parse(r.stdout) as { name: string }[]).map((p) => p.name),
        ['@alice/pub'],
      );
    });

    test('ping and audit work', async () => {
      let r = await anon.run(['ping']);
      assert.equal(r.code, 0, r.output);
      assert.match(r.output, /PONG/);
      const proj = makeProject({ '@alice/pub': '1.0.0' });
      r = await alice.run(['install'], { cwd: proj });
      assert.equal(r.code, 0, r.output);
      // No upstream here: the audit fails with the reason, never a silent "found 0 vulnerabilities".
      r = await alice.run(['audit'], { cwd: proj });
      assert.notEqual(r.code, 0, r.output);
      assert.match(r.output, /No advisory database can answer this audit/);
    });

    test('logout revokes the token on the server; whoami then fails', async () => {
      const token = /_authToken=(\S+)/.exec(alice.npmrc())![1];
      let r = await alice.run(['logout']);
      assert.equal(r.code, 0, r.output);
      r = await alice.run(['whoami']);
      assert.equal(r.code, 1);
      assert.match(r.output, /ENEEDAUTH/);
      const res = await fetch(`${s.url}-/whoami`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(res.status, 401);
      assert.equal(res.headers.get('x-tessera-reason'), 'token-revoked');
      assert.equal(res.headers.get('npm-notice'), 'access token expired or revoked. Please try logging in again.');
    });
  });
}
