// Private namespaces apply to everything a proxy cached: a name declared private (or whose scope became
// local) after its upstream copy was cached serves neither the packument nor the tarball, so `npm ci`
// with an old lockfile fails. `tessera proxy purge` forgets cached upstream copies, audited.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { startServer, type TestServer } from '../helpers/server.ts';
import { defaults } from '../../src/config/config.ts';
import { makeNpm, makePackage, makeProject, type NpmEnv } from '../helpers/npm.ts';
import { tessera } from '../helpers/cli.ts';

describe('private namespaces and cached upstream copies', () => {
  let up: TestServer;
  let down: TestServer;
  let npm: NpmEnv;
  let project: string;
  const tarballPath = 'kind-of/-/kind-of-6.0.3.tgz';

  before(async () => {
    up = await startServer({}, { recordRequests: true });
    await up.addUser('upstreamer');
    const upNpm = makeNpm(up.url);
    upNpm.setToken(up.host, await up.token({ user: 'upstreamer' }));
    for (const [name, v] of [
      ['kind-of', '6.0.3'],
      ['@acme/widget', '1.0.0'],
    ]) {
      const r = await upNpm.run(['publish', '--access', 'public'], { cwd: makePackage(name, v) });
      assert.equal(r.code, 0, r.output);
    }
    const upstream = { ...defaults.upstream, url: up.url, cacheTtlMs: 60_000, timeoutMs: 5_000 };
    down = await startServer({ upstream, privateNamespaces: [] });
    await down.addUser('dana');
    npm = makeNpm(down.url);
    npm.setToken(down.host, await down.token({ user: 'dana' }));
    project = makeProject({ 'kind-of': '^6.0.0' });
    const r = await npm.run(['install'], { cwd: project });
    assert.equal(r.code, 0, r.output);
    assert.equal((await fetch(`${down.url}${tarballPath}`)).status, 200);
  });
  after(async () => {
    await down.close();
    await up.close();
  });

  test('private after it was cached: packument and tarball 404, npm ci with the old lockfile E404', async () => {
    down.ctx.config.privateNamespaces = ['kind-*'];
    try {
      const asked = up.requests.length;
      assert.equal((await fetch(`${down.url}kind-of`)).status, 404);
      assert.equal((await fetch(`${down.url}${tarballPath}`)).status, 404);
      // A fresh npm cache, as on a CI machine: only the lockfile remembers the tarball.
      const ci = await makeNpm(down.url).run(['ci'], { cwd: project });
      assert.notEqual(ci.code, 0, ci.output);
      assert.match(ci.output, /E404/);
      assert.equal(up.requests.length, asked, 'the upstream was asked for a private name');
    } finally {
      down.ctx.config.privateNamespaces = [];
    }
    assert.equal((await fetch(`${down.url}${tarballPath}`)).status, 200);
  });

  test('a scope that became local after one of its names was cached: the cached tarball 404s', async () => {
    const widget = '@acme/widget/-/widget-1.0.0.tgz';
    assert.equal((await fetch(`${down.url}${widget}`)).status, 200);
    const r = await npm.run(['publish', '--access', 'public'], { cwd: makePackage('@acme/app', '1.0.0') });
    assert.equal(r.code, 0, r.output);
    assert.equal((await fetch(`${down.url}${widget}`)).status, 404);
    assert.equal((await fetch(`${down.url}@acme%2fwidget`)).status, 404);
  });

  test('tessera proxy purge forgets cached documents and tarballs, is audited, leaves local packages', async () => {
    const tgz = Buffer.from(await (await fetch(`${up.url}${tarballPath}`)).arrayBuffer());
    const key = createHash('sha512').update(tgz).digest('hex');
    // Through the store's blob API: on the cluster backend the tarball is in a bucket, not the data folder.
    const stored = async () => (await down.ctx.store.blobs.entry(key)) !== undefined;
    assert.ok(await stored());
    const dry = await tessera(['proxy', 'purge', 'kind-*', '--dry-run', '--data', down.dataDir]);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /would purge kind-of/);
    assert.ok(await stored());
    const r = await tessera(['proxy', 'purge', 'kind-*', '--json', '--data', down.dataDir]);
    assert.equal(r.code, 0, r.stderr);
    const expected = { dryRun: false, packages: ['kind-of'], versions: 1, blobs: 1, bytes: tgz.length };
    assert.deepEqual(JSON.parse(r.stdout), expected);
    assert.ok(!(await stored()));
    const { db } = down.ctx.store;
    assert.deepEqual(await db.selectFrom('packages').select('name').where('name', '=', 'kind-of').execute(), []);
    const audit = await db.selectFrom('audit').select('detail').where('event', '=', 'proxy-purged').execute();
    assert.equal(audit.length, 1);
    assert.equal(JSON.parse(audit[0].detail ?? '{}').pattern, 'kind-*');
    // A local package matching a pattern stays.
    const local = await tessera(['proxy', 'purge', '@acme', '--json', '--data', down.dataDir]);
    assert.deepEqual(JSON.parse(local.stdout).packages, ['@acme/widget']);
    assert.equal((await fetch(`${down.url}@acme%2fapp`)).status, 200);
    // The next read asks the upstream again (the running server sees the purge within its poll interval).
    await new Promise((res) => setTimeout(res, 150));
    const asked = up.requests.length;
    assert.equal((await fetch(`${down.url}${tarballPath}`)).status, 200);
    const fetched = up.requests.slice(asked);
    assert.ok(
      fetched.some((x) => x.startsWith(`GET /${tarballPath}`)),
      fetched.join('\n'),
    );
  });
});
