// Upstream health and efficiency, against a loopback upstream that can answer, be slow or hang: stale
// packuments are served at once while a refresh runs or the upstream is down, a circuit breaker stops
// asking a failing upstream, concurrent misses share one fetch, and requests in flight are bounded.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import ssri from 'ssri';
import { startServer, type TestServer } from '../helpers/server.ts';
import { defaults } from '../../src/config/config.ts';
import { upstreamHealth } from '../../src/services/upstream.ts';

type Mode = 'ok' | 'slow' | 'hang';

/** A registry of generated packages `<anything>@1.0.0`, counting what it is asked and how much at once. */
function fakeUpstream() {
  let base = '';
  const asked: string[] = [];
  const sockets = new Set<string>();
  const state = { mode: 'ok' as Mode, active: 0, peak: 0 };
  const tarball = (name: string) => Buffer.from(`tarball of ${name}`);
  const server: Server = createServer((req, res) => {
    asked.push(req.url ?? '');
    sockets.add(`${req.socket.remotePort}`);
    if (state.mode === 'hang') return; // accepts, never answers
    state.active++;
    state.peak = Math.max(state.peak, state.active);
    const answer = () => {
      state.active--;
      const url = decodeURIComponent(req.url ?? '/').slice(1);
      const tgz = /^(.+)\/-\/.+-1\.0\.0\.tgz$/.exec(url);
      if (tgz) {
        res.end(tarball(tgz[1]));
        return;
      }
      const dist = {
        tarball: `${base}${url}/-/${url.split('/').pop()}-1.0.0.tgz`,
        integrity: ssri.fromData(tarball(url)).toString(),
      };
      res.setHeader('content-type', 'application/json');
      const versions = { '1.0.0': { name: url, version: '1.0.0', dist } };
      res.end(JSON.stringify({ name: url, 'dist-tags': { latest: '1.0.0' }, versions }));
    };
    if (state.mode === 'slow') setTimeout(answer, 200);
    else answer();
  });
  return {
    state,
    asked,
    sockets,
    server,
    async start() {
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const addr = server.address();
      base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/`;
      return base;
    },
    count: (path: string) => asked.filter((p) => p === path).length,
    close: () => {
      server.closeAllConnections();
      return new Promise((r) => server.close(r));
    },
  };
}

describe('upstream health and efficiency', () => {
  const up = fakeUpstream();
  let down: TestServer;
  let upstreamUrl: string;
  const upstream = {
    ...defaults.upstream,
    cacheTtlMs: 60_000,
    timeoutMs: 2_000,
    maxStaleMs: 3_600_000,
    maxConnections: 3,
    breakerFailures: 2,
    breakerCooldownMs: 30_000,
  };

  before(async () => {
    upstreamUrl = await up.start();
    down = await startServer({ upstream: { ...upstream, url: upstreamUrl } });
  });
  after(async () => {
    await down.close();
    await up.close();
  });

  test('20 concurrent requests for an uncached packument, then its tarball, make one upstream fetch each', async () => {
    up.state.mode = 'slow';
    const docs = await Promise.all(Array.from({ length: 20 }, () => fetch(`${down.url}coalesced`)));
    assert.deepEqual(
      docs.map((r) => r.status),
      Array(20).fill(200),
    );
    assert.equal(up.count('/coalesced'), 1);
    const tgzUrl = `${down.url}coalesced/-/coalesced-1.0.0.tgz`;
    const tgz = await Promise.all(Array.from({ length: 20 }, () => fetch(tgzUrl)));
    const bodies = await Promise.all(tgz.map(async (r) => `${r.status} ${await r.text()}`));
    assert.deepEqual(bodies, Array(20).fill('200 tarball of coalesced'));
    assert.equal(up.count('/coalesced/-/coalesced-1.0.0.tgz'), 1);
  });

  test('requests in flight to the upstream are bounded, and their connections kept alive and reused', async () => {
    up.state.mode = 'slow';
    up.state.peak = 0;
    up.sockets.clear();
    const names = Array.from({ length: 12 }, (_, i) => `bounded-${i}`);
    const res = await Promise.all(names.map((n) => fetch(`${down.url}${n}`)));
    assert.deepEqual(
      res.map((r) => r.status),
      Array(12).fill(200),
    );
    assert.equal(up.state.peak, upstream.maxConnections);
    assert.ok(up.sockets.size <= upstream.maxConnections, `${up.sockets.size} connections for 12 requests`);
  });

  test('a hung upstream: stale packuments answer at once, the breaker opens, and nothing waits on it', async () => {
    up.state.mode = 'ok';
    const fresh = await fetch(`${down.url}stale-pkg`);
    assert.equal(fresh.status, 200);
    const body = await fresh.text();
    up.state.mode = 'hang';
    down.clock.advance(upstream.cacheTtlMs + 1);
    const t = performance.now();
    const stale = await fetch(`${down.url}stale-pkg`);
    // Generous: the point is not waiting for the upstream's 2 s timeout.
    assert.ok(performance.now() - t < 1_000, `the stale answer took ${performance.now() - t} ms`);
    assert.equal(stale.status, 200);
    assert.equal(await stale.text(), body);
    // A miss meanwhile waits for the timeout and fails; with the background refresh, two failures in a row.
    const miss = await fetch(`${down.url}never-cached`);
    assert.equal(miss.status, 502);
    for (let i = 0; i < 50 && upstreamHealth(down.ctx, upstreamUrl).state !== 'open'; i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(upstreamHealth(down.ctx, upstreamUrl).state, 'open');
    // While open, the upstream is not asked: a miss fails at once, a stale copy is served at once.
    const asked = up.asked.length;
    const fast = performance.now();
    assert.equal((await fetch(`${down.url}another-miss`)).status, 502);
    assert.equal((await fetch(`${down.url}stale-pkg`)).status, 200);
    assert.ok(performance.now() - fast < 1_000);
    assert.equal(up.asked.length, asked);
    // Past the maximum staleness, a stale copy is not served.
    down.clock.advance(upstream.maxStaleMs);
    assert.equal((await fetch(`${down.url}stale-pkg`)).status, 502);
    await new Promise((r) => setTimeout(r, 200)); // pino writes the log file asynchronously
    const log = readFileSync(down.logFile, 'utf8');
    assert.match(log, /"level":40.*serving a stale upstream packument/);
    assert.match(log, /"level":40.*upstream circuit opened/);
  });

  test('after the cool-down one probe goes out, and its success closes the breaker', async () => {
    up.state.mode = 'ok';
    down.clock.advance(upstream.breakerCooldownMs);
    assert.equal(upstreamHealth(down.ctx, upstreamUrl).state, 'half-open');
    assert.equal((await fetch(`${down.url}after-recovery`)).status, 200);
    assert.equal(upstreamHealth(down.ctx, upstreamUrl).state, 'closed');
    assert.equal((await fetch(`${down.url}stale-pkg`)).status, 200);
  });
});
