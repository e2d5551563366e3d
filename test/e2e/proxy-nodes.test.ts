// Upstream copies on several nodes. A node keeps the copy it fetched without telling the others (a refresh
// would otherwise empty every node's caches); another node that meets a newer copy in the database answers
// with it and its ETag, never a body under another copy's ETag. On SQLite the nodes share one store.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import ssri from 'ssri';
import { startNodes, type Node, type Nodes } from '../helpers/nodes.ts';
import { defaults } from '../../src/config/config.ts';
import { CORGI } from '../../src/http/install-reads.ts';

describe('upstream copies on two nodes', () => {
  const ttl = 60_000;
  const tarball = (v: string) => Buffer.from(`tarball ${v}`);
  let versions = ['1.0.0'];
  const asked: string[] = [];
  let base = '';
  const up: Server = createServer((req, res) => {
    asked.push(req.url ?? '');
    const tgz = /^\/moving\/-\/moving-(.+)\.tgz$/.exec(req.url ?? '');
    if (tgz) return res.end(tarball(tgz[1]));
    const doc = {
      name: 'moving',
      'dist-tags': { latest: versions.at(-1) },
      versions: Object.fromEntries(
        versions.map((v) => {
          const dist = { tarball: `${base}moving/-/moving-${v}.tgz`, integrity: ssri.fromData(tarball(v)).toString() };
          return [v, { name: 'moving', version: v, dist }];
        }),
      ),
    };
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(doc));
  });
  let c: Nodes;
  let a: Node;
  let b: Node;

  before(async () => {
    await new Promise<void>((r) => up.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(up.address() as AddressInfo).port}/`;
    c = await startNodes(2, { upstream: { ...defaults.upstream, url: base, cacheTtlMs: ttl, maxStaleMs: 3_600_000 } });
    [a, b] = c.nodes;
  });
  after(async () => {
    await c.close();
    up.closeAllConnections();
    await new Promise((r) => up.close(r));
  });

  /** An ETag without its last eight characters, which name the node's base URL (install-reads.ts servedEtag). */
  const copyOf = (etag: string) => etag.slice(0, -9);
  const read = async (n: Node) => {
    const r = await fetch(`${n.url}moving`, { headers: { accept: CORGI } });
    const body = await r.text();
    assert.equal(r.status, 200, body);
    const doc = JSON.parse(body) as { versions: Record<string, unknown> };
    return { etag: r.headers.get('etag') ?? '', versions: Object.keys(doc.versions) };
  };

  test("a node that meets a newer copy than the one it knew answers with the newer copy's ETag", async () => {
    const first = await read(a);
    assert.deepEqual(first.versions, ['1.0.0']);
    // Node b learns the copy's head from a tarball read, without its documents.
    assert.equal(await (await fetch(`${b.url}moving/-/moving-1.0.0.tgz`)).text(), 'tarball 1.0.0');

    versions = ['1.0.0', '1.1.0'];
    c.clock.advance(ttl + 1);
    const stale = await read(a); // served at once; the refresh runs behind it
    assert.equal(stale.etag, first.etag);
    let fresh = stale;
    for (let i = 0; i < 100 && fresh.etag === first.etag; i++) {
      await new Promise((r) => setTimeout(r, 20));
      fresh = await read(a);
    }
    assert.deepEqual(fresh.versions, ['1.0.0', '1.1.0']);

    const other = await read(b);
    assert.deepEqual(other.versions, fresh.versions);
    assert.equal(copyOf(other.etag), copyOf(fresh.etag), 'the body and its ETag are the same copy');
    assert.notEqual(copyOf(other.etag), copyOf(first.etag));
    assert.equal(asked.filter((p) => p === '/moving').length, 2, 'one refresh, by the node whose copy was stale');
  });
});
