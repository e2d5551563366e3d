// `tessera import verdaccio` against a storage folder written by a real Verdaccio 6 (test/fixtures/verdaccio,
// made by make-fixture.ts there): the real `tessera` binary imports it into a running registry's data
// folder, then every imported version installs with `npm ci` from the lockfile npm made against Verdaccio,
// each htpasswd user (bcrypt, SHA-1, crypt, Apache MD5) logs in with the old password through the legacy
// `npm login`, and importing again changes nothing.
//
// The lockfile's `resolved` URLs name Verdaccio's host; npm's own `replace-registry-host=always` points
// them at the configured registry, so the lockfile is used as it was committed, not rewritten.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer, type TestServer } from '../helpers/server.ts';
import { makeNpm } from '../helpers/npm.ts';
import { tessera } from '../helpers/cli.ts';
import { defaults } from '../../src/config/config.ts';

const FIXTURE = fileURLToPath(new URL('../fixtures/verdaccio/', import.meta.url));
const USERS = JSON.parse(readFileSync(join(FIXTURE, 'users.json'), 'utf8')) as Record<
  string,
  { algorithm: string; password: string }
>;
const VERDACCIO_PORT = (JSON.parse(readFileSync(join(FIXTURE, 'made-by.json'), 'utf8')) as { port: number }).port;
const storage = (name: string) => JSON.parse(readFileSync(join(FIXTURE, 'storage', name, 'package.json'), 'utf8'));

function importInto(s: TestServer, ...extra: string[]) {
  return tessera([
    'import',
    'verdaccio',
    '--storage',
    join(FIXTURE, 'storage'),
    '--config',
    join(FIXTURE, 'config.yaml'),
    '--data',
    s.dataDir,
    ...extra,
  ]);
}

async function packument(s: TestServer, name: string) {
  const res = await fetch(`${s.url}${name.replace('/', '%2f')}`);
  return { status: res.status, etag: res.headers.get('etag'), body: (await res.json()) as Record<string, any> };
}

describe('tessera import verdaccio', () => {
  let s: TestServer;
  let first: { code: number; stdout: string; stderr: string };
  before(async () => {
    s = await startServer();
    first = await importInto(s);
  });
  after(async () => {
    await s.close();
  });

  test('prints what it imported and what it skipped, and why', () => {
    assert.equal(first.code, 0, first.stderr);
    for (const [name, u] of Object.entries(USERS)) {
      assert.match(
        first.stdout,
        new RegExp(`^imported user ${name}: ${u.algorithm} hash, replaced at the first login$`, 'm'),
      );
    }
    assert.match(first.stdout, /^imported package @team\/vd-core: public; maintainers alice, bob$/m);
    assert.match(first.stdout, /^imported package vd-left: public; no maintainer known/m);
    assert.match(
      first.stdout,
      /^skipped package vd-upstream: only cached from the uplink upstream \(--keep-proxied keeps it\)$/m,
    );
    assert.match(first.stdout, /^4 user\(s\), 4 package\(s\) and 7 version\(s\) imported; 1 skipped$/m);
  });

  test('versions, dist-tags, times, deprecations, readme and maintainers are kept', async () => {
    const left = await packument(s, 'vd-left');
    const was = storage('vd-left');
    assert.equal(left.status, 200);
    assert.deepEqual(left.body['dist-tags'], was['dist-tags']);
    assert.deepEqual(Object.keys(left.body.versions).sort(), Object.keys(was.versions).sort());
    for (const v of Object.keys(was.versions)) {
      assert.equal(left.body.time[v], was.time[v], `time of ${v}`);
      assert.equal(left.body.versions[v].dist.integrity, was.versions[v].dist.integrity);
      assert.equal(left.body.versions[v].dist.tarball, `${s.url}vd-left/-/vd-left-${v}.tgz`);
    }
    assert.equal(left.body.time.created, was.time.created);
    assert.equal(left.body.versions['1.0.0'].deprecated, 'use 1.1.0 or later');
    assert.equal(left.body.readme, was.readme);
    const core = await packument(s, '@team/vd-core');
    assert.deepEqual(
      core.body.maintainers.map((m: { name: string }) => m.name),
      ['alice', 'bob'],
    );
    assert.equal((await packument(s, 'vd-upstream')).status, 404, 'a package Verdaccio only cached is left out');
  });

  test('every imported version installs with npm ci from the lockfile made against Verdaccio', async () => {
    const proj = mkdtempSync(join(tmpdir(), 'tessera-vd-proj-'));
    cpSync(join(FIXTURE, 'project'), proj, { recursive: true });
    assert.match(
      readFileSync(join(proj, 'package-lock.json'), 'utf8'),
      new RegExp(`"resolved": "http://127\\.0\\.0\\.1:${VERDACCIO_PORT}/`),
    );
    s.requests.length = 0;
    const npm = makeNpm(s.url);
    const r = await npm.run(['ci', '--registry', s.url, '--replace-registry-host=always'], { cwd: proj });
    assert.equal(r.code, 0, r.output);
    const deps = (
      JSON.parse(readFileSync(join(proj, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }
    ).dependencies;
    assert.equal(Object.keys(deps).length, 7);
    for (const [alias, spec] of Object.entries(deps)) {
      const m = /^npm:(.+)@([^@]+)$/.exec(spec)!;
      assert.equal(
        readFileSync(join(proj, 'node_modules', alias, 'index.js'), 'utf8'),
        `module.exports = ${JSON.stringify(`${m[1]}@${m[2]}`)};\n`,
      );
    }
  });

  test('each htpasswd user logs in with the old password (legacy npm login); the hash is replaced then', async () => {
    for (const [name, u] of Object.entries(USERS)) {
      const before = await s.ctx.store.db
        .selectFrom('users')
        .select('password_hash')
        .where('name', '=', name)
        .executeTakeFirstOrThrow();
      assert.match(before.password_hash!, /^htpasswd\$/);
      const npm = makeNpm(s.url);
      // (crypt(3) reads 8 characters only, as in Verdaccio: the wrong password differs at the start.)
      const wrong = await npm.runTty(
        ['login', '--auth-type=legacy'],
        [
          [/Username:/, name],
          [/Password:/, `x${u.password}`],
        ],
      );
      assert.notEqual(wrong.code, 0, wrong.output);
      const login = await npm.runTty(
        ['login', '--auth-type=legacy'],
        [
          [/Username:/, name],
          [/Password:/, u.password],
        ],
      );
      assert.equal(login.code, 0, `${name} (${u.algorithm}): ${login.output}`);
      assert.equal((await npm.run(['whoami'])).stdout.trim(), name);
      const after = await s.ctx.store.db
        .selectFrom('users')
        .select('password_hash')
        .where('name', '=', name)
        .executeTakeFirstOrThrow();
      assert.match(after.password_hash!, /^scrypt\$/, `${name}'s hash is ours after the first login`);
      const again = await makeNpm(s.url).runTty(
        ['login', '--auth-type=legacy'],
        [
          [/Username:/, name],
          [/Password:/, u.password],
        ],
      );
      assert.equal(again.code, 0, again.output);
    }
    const rehashed = await s.ctx.store.db
      .selectFrom('audit')
      .select('user_name')
      .where('event', '=', 'password-rehashed')
      .execute();
    assert.deepEqual(rehashed.map((r) => r.user_name).sort(), Object.keys(USERS).sort());
  });

  test('an imported maintainer publishes the next version', async () => {
    const t = await s.token({ user: 'bob' });
    const npm = makeNpm(s.url);
    npm.setToken(s.host, t);
    const { makePackage } = await import('../helpers/npm.ts');
    const r = await npm.run(['publish'], {
      cwd: makePackage('@team/vd-core', '1.1.0', { publishConfig: { access: 'public' } }),
    });
    assert.equal(r.code, 0, r.output);
    assert.equal((await packument(s, '@team/vd-core')).body['dist-tags'].latest, '1.1.0');
  });

  test('importing again changes nothing', async () => {
    const before = await Promise.all(['vd-left', '@team/vd-core', 'vd-bob', '@carol/util'].map((n) => packument(s, n)));
    const r = await importInto(s);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^0 user\(s\), 0 package\(s\) and 0 version\(s\) imported; \d+ skipped$/m);
    assert.match(
      r.stdout,
      /^skipped user alice: a user of that name already exists$/m,
      'her hash was replaced at login',
    );
    assert.match(r.stdout, /^skipped version vd-left@1\.0\.0: already imported$/m);
    assert.doesNotMatch(r.stdout, /^imported/m);
    const after = await Promise.all(['vd-left', '@team/vd-core', 'vd-bob', '@carol/util'].map((n) => packument(s, n)));
    assert.deepEqual(
      after.map((a) => a.etag),
      before.map((b) => b.etag),
    );
  });
});

describe('tessera import verdaccio --keep-proxied', () => {
  let s: TestServer;
  // An upstream nobody answers on: the kept package is served from what Verdaccio had cached.
  before(async () => {
    s = await startServer({
      upstream: { ...defaults.upstream, url: 'http://127.0.0.1:9/', cacheTtlMs: 60_000, timeoutMs: 2_000 },
    });
  });
  after(async () => {
    await s.close();
  });

  test('the cached-only package is kept as proxied, with its cached tarball', async () => {
    const r = await importInto(s, '--keep-proxied');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^imported package vd-upstream: kept as proxied, with 1 cached tarball\(s\)$/m);
    const doc = await packument(s, 'vd-upstream');
    assert.equal(doc.status, 200);
    assert.equal(doc.body.versions['1.0.0'].dist.tarball, `${s.url}vd-upstream/-/vd-upstream-1.0.0.tgz`);
    const tgz = await fetch(doc.body.versions['1.0.0'].dist.tarball);
    assert.equal(tgz.status, 200);
    const again = await importInto(s, '--keep-proxied');
    assert.match(again.stdout, /^skipped package vd-upstream: already kept as proxied$/m);
  });
});
