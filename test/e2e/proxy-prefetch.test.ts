// Fetching ahead: when a client's read fetches a package from the upstream, the packuments of its latest
// version's dependencies are fetched too, three levels deep, so the installer's next reads find them kept.
// A name that could not be fetched for a client (private by config, in a local scope) is never asked for.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startServer, type TestServer } from '../helpers/server.ts';
import { applyFile, defaults } from '../../src/config/config.ts';
import { CORGI } from '../../src/http/install-reads.ts';

/** name → its latest version's dependencies */
const GRAPH: Record<string, string[]> = {
  'pre-a': ['pre-b', 'corp-secret', '@mine/util'],
  'pre-b': ['pre-c'],
  'pre-c': ['pre-d'],
  'pre-d': ['pre-e'],
  'pre-e': [],
  'solo-a': ['solo-b'],
  'solo-b': [],
  'corp-secret': [],
  '@mine/util': [],
};

function upstream(asked: string[]): Server {
  return createServer((req, res) => {
    const name = decodeURIComponent((req.url ?? '/').slice(1));
    asked.push(name);
    const deps = GRAPH[name];
    if (!deps) return res.writeHead(404, { 'content-type': 'application/json' }).end('{}');
    const version = { name, version: '1.0.0', dependencies: Object.fromEntries(deps.map((d) => [d, '^1.0.0'])) };
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ name, 'dist-tags': { latest: '1.0.0' }, versions: { '1.0.0': version } }));
  });
}

async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
}

/** A registry in front of the upstream above, for one describe: what the upstream was asked, and the server. */
function proxying(prefetch: boolean): { asked: string[]; server: () => TestServer } {
  const asked: string[] = [];
  const up = upstream(asked);
  let s: TestServer;
  before(async () => {
    await new Promise<void>((r) => up.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(up.address() as AddressInfo).port}/`;
    const upstreamConfig = { ...defaults.upstream, url, prefetch };
    s = await startServer({ upstream: upstreamConfig, privateNamespaces: ['corp-*'] }, { recordRequests: true });
    await s.addUser('mine');
  });
  after(async () => {
    await s.close();
    up.closeAllConnections();
    await new Promise((r) => up.close(r));
  });
  return { asked, server: () => s };
}

describe('fetching ahead', () => {
  const { asked, server } = proxying(true);

  test("a client's read fetches the dependencies three levels deep; the next reads find them kept", async () => {
    assert.equal((await fetch(`${server().url}pre-a`, { headers: { accept: CORGI } })).status, 200);
    await until(() => asked.includes('pre-d'));
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual([...asked].sort(), ['pre-a', 'pre-b', 'pre-c', 'pre-d']);
    server().routed.length = 0;
    for (const name of ['pre-b', 'pre-c', 'pre-d']) {
      const r = await fetch(`${server().url}${name}`, { headers: { accept: CORGI } });
      assert.equal(r.status, 200);
      assert.equal(((await r.json()) as { name: string }).name, name);
    }
    assert.deepEqual(server().routed, [], 'answered from memory, before Fastify');
    assert.deepEqual([...asked].sort(), ['pre-a', 'pre-b', 'pre-c', 'pre-d'], 'each asked for once');
  });

  test('a private name and a local scope are never asked for, even as dependencies', () => {
    assert.ok(!asked.includes('corp-secret'));
    assert.ok(!asked.includes('@mine/util'));
  });
});

describe('fetching ahead turned off (upstream.prefetch: false)', () => {
  const { asked, server } = proxying(false);

  test('only what clients ask for is fetched', async () => {
    assert.equal((await fetch(`${server().url}solo-a`, { headers: { accept: CORGI } })).status, 200);
    await new Promise((r) => setTimeout(r, 150));
    assert.deepEqual(asked, ['solo-a']);
  });
});

test('upstream.prefetch in the configuration file: on by default, true or false', () => {
  assert.equal(applyFile(structuredClone(defaults), {}, '/').upstream.prefetch, true);
  assert.equal(applyFile(structuredClone(defaults), { upstream: { prefetch: false } }, '/').upstream.prefetch, false);
  assert.throws(
    () => applyFile(structuredClone(defaults), { upstream: { prefetch: 'no' } }, '/'),
    /upstream\.prefetch: must be true or false/,
  );
});
