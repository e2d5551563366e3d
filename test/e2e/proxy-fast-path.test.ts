// Fresh upstream copies are answered from memory, before Fastify, like local packages; a stale copy, a scoped
// name (its scope may become local at any time) and a private one still take the full route, which decides.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import ssri from 'ssri';
import { startServer, type TestServer } from '../helpers/server.ts';
import { defaults } from '../../src/config/config.ts';
import { CORGI } from '../../src/http/install-reads.ts';

describe('fresh upstream copies from memory', () => {
  const asked: string[] = [];
  let base = '';
  const tarball = (name: string) => Buffer.from(`tarball of ${name}`);
  const up: Server = createServer((req, res) => {
    asked.push(req.url ?? '');
    const url = decodeURIComponent(req.url ?? '/').slice(1);
    const tgz = /^(.+)\/-\/.+-1\.0\.0\.tgz$/.exec(url);
    if (tgz) return res.end(tarball(tgz[1]));
    const dist = {
      tarball: `${base}${url}/-/${url.split('/').pop()}-1.0.0.tgz`,
      integrity: ssri.fromData(tarball(url)).toString(),
    };
    res.setHeader('content-type', 'application/json');
    res.end(
      JSON.stringify({
        name: url,
        'dist-tags': { latest: '1.0.0' },
        versions: { '1.0.0': { name: url, version: '1.0.0', dist } },
      }),
    );
  });
  const ttl = 60_000;
  let s: TestServer;
  const corgi = { accept: CORGI };

  before(async () => {
    await new Promise<void>((r) => up.listen(0, '127.0.0.1', r));
    const addr = up.address();
    base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/`;
    const upstream = { ...defaults.upstream, url: base, cacheTtlMs: ttl, maxStaleMs: 3_600_000 };
    s = await startServer({ upstream }, { recordRequests: true });
  });
  after(async () => {
    await s.close();
    up.closeAllConnections();
    await new Promise((r) => up.close(r));
  });

  test('a fresh copy and its tarball skip the full route; once stale, the full route refreshes it', async () => {
    const first = await fetch(`${s.url}fast-pkg`, { headers: corgi });
    assert.equal(first.status, 200);
    const body = await first.text();
    const tgz = `${s.url}fast-pkg/-/fast-pkg-1.0.0.tgz`;
    // The first read streams from the upstream, the next finds where it was kept.
    for (let i = 0; i < 2; i++) assert.equal(await (await fetch(tgz)).text(), 'tarball of fast-pkg');
    s.routed.length = 0;
    const again = await fetch(`${s.url}fast-pkg`, { headers: corgi });
    assert.equal(again.status, 200);
    assert.equal(await again.text(), body);
    assert.equal(await (await fetch(tgz)).text(), 'tarball of fast-pkg');
    assert.deepEqual(s.routed, [], 'answered before Fastify');
    assert.equal(asked.filter((p) => p === '/fast-pkg').length, 1);

    s.clock.advance(ttl + 1);
    const stale = await fetch(`${s.url}fast-pkg`, { headers: corgi });
    assert.equal(stale.status, 200);
    await stale.text();
    assert.deepEqual(s.routed, ['GET /fast-pkg'], 'a stale copy takes the full route');
    for (let i = 0; i < 50 && asked.filter((p) => p === '/fast-pkg').length < 2; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(asked.filter((p) => p === '/fast-pkg').length, 2, 'refreshed in the background');
  });

  test("fetching more copies keeps the earlier ones answered from memory: an install's first fetches do not empty the caches", async () => {
    const names = ['keep-a', 'keep-b', 'keep-c'];
    for (const name of names) assert.equal((await fetch(`${s.url}${name}`, { headers: corgi })).status, 200);
    s.routed.length = 0;
    for (const name of names) {
      const again = await fetch(`${s.url}${name}`, { headers: corgi });
      assert.equal(again.status, 200);
      assert.equal((await again.json()).name, name);
    }
    assert.deepEqual(s.routed, [], 'every copy answered before Fastify');
    for (const name of names) assert.equal(asked.filter((p) => p === `/${name}`).length, 1);
  });

  test('a scoped copy always takes the full route: a user taking the scope cuts it off at once', async () => {
    const url = `${s.url}@late/pkg`;
    assert.equal((await fetch(url, { headers: corgi })).status, 200);
    s.routed.length = 0;
    assert.equal((await fetch(url, { headers: corgi })).status, 200);
    assert.deepEqual(s.routed, ['GET /@late/pkg']);
    await s.addUser('late');
    assert.equal((await fetch(url, { headers: corgi })).status, 404);
    assert.equal((await fetch(`${s.url}@late/pkg/-/pkg-1.0.0.tgz`)).status, 404);
  });
});
