// `tessera proxy purge <pattern>` while installs run, as a platform team runs it on a busy registry: a public
// tarball on its way when its name is purged still reaches every client asking for it (the purge forgets what
// was kept; it does not make a public package missing), and ETags after a purge follow the upstream's content.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type TestServer } from '../helpers/server.ts';
import { defaults } from '../../src/config/config.ts';
import { makeNpm, makePackage, makeProject, type NpmEnv } from '../helpers/npm.ts';
import { tessera } from '../helpers/cli.ts';
import { gatedUpstream, type UpstreamGate } from '../helpers/upstream-gate.ts';
import { onceInSqlitePass } from '../helpers/cluster-data.ts';
import { readCache } from '../../src/services/read-cache.ts';

/** Waits for `ok()` a bounded number of short turns (a running server sees another process's purge by polling). */
async function until(ok: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await ok()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail(`never: ${what}`);
}

describe('proxy purge while installs run', { skip: onceInSqlitePass }, () => {
  let gate: UpstreamGate;
  let up: TestServer;
  let down: TestServer;
  let upNpm: NpmEnv;

  before(async () => {
    ({ gate, up, upNpm } = await gatedUpstream([
      ['race-a', '1.0.0'],
      ['race-b', '1.0.0'],
      ['race-c', '1.0.0'],
      ['race-d', '1.0.0'],
    ]));
    down = await startServer({ upstream: { ...defaults.upstream, url: gate.url } });
  });
  after(async () => {
    gate.release();
    await down?.close();
    await up?.close();
    await gate?.close();
  });

  test('a public tarball on its way when its name is purged reaches the install and every asker', async () => {
    const tgz = 'race-a/-/race-a-1.0.0.tgz';
    const bytes = Buffer.from(await (await fetch(`${up.url}${tgz}`)).arrayBuffer());
    gate.only = (method, url) => method === 'GET' && url.endsWith('.tgz');
    gate.mode = 'hang';
    try {
      const install = makeNpm(down.url).run(['install', '--no-audit'], { cwd: makeProject({ 'race-a': '^1.0.0' }) });
      await until(() => gate.held() > 0, 'the install asked for the tarball');
      // Others ask meanwhile: they wait for the same fetch.
      const others = [1, 2].map(() =>
        fetch(`${down.url}${tgz}`).then(
          async (r) => ({ status: r.status, body: Buffer.from(await r.arrayBuffer()) }),
          () => ({ status: 0, body: Buffer.alloc(0) }),
        ),
      );
      const purged = await tessera(['proxy', 'purge', 'race-*', '--data', down.dataDir]);
      assert.equal(purged.code, 0, purged.stderr);
      assert.match(purged.stdout, /^purged race-a$/m);
      gate.release();
      const r = await install;
      assert.equal(r.code, 0, r.output);
      for (const o of await Promise.all(others)) {
        assert.equal(o.status, 200);
        assert.ok(o.body.equals(bytes), 'a waiting asker got other bytes');
      }
    } finally {
      gate.only = undefined;
      gate.mode = 'pass';
    }
    // The next read after the purge asks the upstream again, and gets the same bytes.
    const again = await fetch(`${down.url}${tgz}`);
    assert.equal(again.status, 200);
    assert.ok(Buffer.from(await again.arrayBuffer()).equals(bytes));
  });

  test("ETags after a purge: the same content keeps its ETag (304), the upstream's new content gets a new one", async () => {
    const get = (etag?: string) =>
      fetch(`${down.url}race-b`, {
        headers: { accept: 'application/vnd.npm.install-v1+json', ...(etag ? { 'if-none-match': etag } : {}) },
      });
    const first = await get();
    assert.equal(first.status, 200);
    const etag = first.headers.get('etag')!;
    const fetches = () => gate.got.filter((g) => g === 'GET /race-b').length;
    const before = fetches();
    assert.equal((await tessera(['proxy', 'purge', 'race-b', '--data', down.dataDir])).code, 0);
    await until(async () => (await get(etag)).status === 304 && fetches() > before, 'the purged copy fetched again');
    const r = await upNpm.run(['publish'], { cwd: makePackage('race-b', '1.1.0') });
    assert.equal(r.code, 0, r.output);
    assert.equal((await tessera(['proxy', 'purge', 'race-b', '--data', down.dataDir])).code, 0);
    let now = await get(etag);
    await until(async () => (now = await get(etag)).status === 200, 'the new content served after the purge');
    assert.equal(now.status, 200);
    assert.notEqual(now.headers.get('etag'), etag);
    assert.deepEqual(Object.keys(((await now.json()) as { versions: object }).versions).sort(), ['1.0.0', '1.1.0']);
  });

  test('packument reads going on while another process purges them: each an answer, never a 500', async () => {
    // With no room for documents but the last one read, each read of race-c takes its document from the database.
    const cache = readCache(down.ctx.store);
    cache.setBudgets({ documentBytes: 0, tarballBytes: 0 });
    try {
      for (const name of ['race-c', 'race-d']) assert.equal((await fetch(`${down.url}${name}`)).status, 200);
      const statuses = new Map<number, number>();
      let purging = true;
      const reads = (async () => {
        while (purging) {
          for (const path of ['race-c', 'race-d', 'race-c/1.0.0']) {
            const res = await fetch(`${down.url}${path}`);
            await res.arrayBuffer();
            statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          }
        }
      })();
      for (let i = 0; i < 3; i++) {
        const r = await tessera(['proxy', 'purge', 'race-*', '--data', down.dataDir]);
        assert.equal(r.code, 0, r.stderr);
      }
      purging = false;
      await reads;
      assert.deepEqual([...statuses.keys()], [200], `answers: ${JSON.stringify([...statuses])}`);
    } finally {
      cache.setBudgets(down.ctx.config.cache);
    }
  });
});
