// Known defects of the proxy, as a platform team meets them: a first local publish over a name the proxy
// had cached from the upstream, `tessera proxy purge` spelled the ways the HTTP routes accept names, and
// provenance links of proxied versions that must stay on this registry.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type TestServer } from '../helpers/server.ts';
import { defaults } from '../../src/config/config.ts';
import { makeNpm, makePackage, type NpmEnv } from '../helpers/npm.ts';
import { upstreamGate, type UpstreamGate } from '../helpers/upstream-gate.ts';
import { tessera } from '../helpers/cli.ts';

describe('proxy points', () => {
  let gate: UpstreamGate;
  let up: TestServer;
  let down: TestServer;
  let npm: NpmEnv;
  let upNpm: NpmEnv;

  before(async () => {
    gate = await upstreamGate();
    up = await startServer({ publicUrl: gate.url });
    gate.target = up.url;
    await up.addUser('upstreamer');
    upNpm = makeNpm(up.url);
    upNpm.setToken(up.host, await up.token({ user: 'upstreamer' }));
    for (const [name, v] of [
      ['taken-here', '3.0.0'],
      ['@pub/purge-me', '1.0.0'],
      ['@pub/purge-too', '1.0.0'],
    ]) {
      const r = await upNpm.run(['publish', '--access', 'public'], { cwd: makePackage(name, v) });
      assert.equal(r.code, 0, r.output);
    }
    const upstream = { ...defaults.upstream, url: gate.url, cacheTtlMs: 60_000, timeoutMs: 5_000 };
    down = await startServer({ upstream, privateNamespaces: [] });
    await down.addUser('dana');
    npm = makeNpm(down.url);
    npm.setToken(down.host, await down.token({ user: 'dana' }));
  });
  after(async () => {
    await down.close();
    await up.close();
    await gate.close();
  });

  const tags = async (name: string) =>
    ((await (await fetch(`${down.url}${name.replace('/', '%2f')}`)).json()) as { 'dist-tags': object })['dist-tags'];

  test('a first local publish with --tag next gives the same dist-tags over a cached name as over a new one', async () => {
    let r = await npm.run(['publish', '--tag', 'next'], { cwd: makePackage('never-cached', '1.0.0') });
    assert.equal(r.code, 0, r.output);
    const fresh = await tags('never-cached');
    assert.deepEqual(fresh, { latest: '1.0.0', next: '1.0.0' });
    // Cached from the upstream first (its latest is 3.0.0), then published here for the first time.
    assert.deepEqual(await tags('taken-here'), { latest: '3.0.0' });
    r = await npm.run(['publish', '--tag', 'next'], { cwd: makePackage('taken-here', '1.0.0') });
    assert.equal(r.code, 0, r.output);
    assert.deepEqual(await tags('taken-here'), fresh);
    r = await npm.run(['install', 'taken-here@latest'], { cwd: makePackage('consumer', '1.0.0') });
    assert.equal(r.code, 0, r.output);
  });

  test('tessera proxy purge takes every spelling of a name the routes take, and says what it matched', async () => {
    for (const n of ['@pub%2fpurge-me', '@pub%2Fpurge-too']) assert.equal((await fetch(`${down.url}${n}`)).status, 200);
    const purge = (spelling: string, ...flags: string[]) =>
      tessera(['proxy', 'purge', spelling, ...flags, '--data', down.dataDir]);
    for (const spelling of ['@pub%2fpurge-me', '%40pub%2Fpurge-me', '@PUB/Purge-Me']) {
      const r = await purge(spelling, '--dry-run');
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^would purge @pub\/purge-me$/m, `${spelling}: ${r.stdout}`);
    }
    let r = await purge('@pub%2Fpurge-me', '--json');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout).packages, ['@pub/purge-me']);
    r = await purge('%40PUB');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /%40PUB is read as @pub/);
    assert.match(r.stdout, /^purged @pub\/purge-too$/m);
    // A name published here matches no cached copy, and the answer says why.
    r = await purge('Taken-Here');
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /no package cached from the upstream matches taken-here \(taken-here is a package published/,
    );
    assert.equal((await fetch(`${down.url}taken-here`)).status, 200);
    const { db } = down.ctx.store;
    const left = await db.selectFrom('packages').select('name').where('name', 'like', '@pub/%').execute();
    assert.deepEqual(left, []);
  });
});
