// What any proxy could reach: a bare node:http server replaying, from memory, the answers a registry gave
// (its abbreviated packuments, with tarball links moved to the replay's own address, and its tarballs),
// with no delay for new connections. An install from it is the floor for an install through a warm proxy:
// only the client's own work is left.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Fixture } from './fake-upstream.ts';

const CORGI = 'application/vnd.npm.install-v1+json';

export type Recorded = { base: string; docs: Map<string, string>; tarballs: Map<string, Buffer> };

/** Asks `base` (ending in /) for every packument of the fixture, as npm does, and for each latest tarball. */
export async function record(base: string, f: Fixture): Promise<Recorded> {
  const docs = new Map<string, string>();
  const tarballs = new Map<string, Buffer>();
  for (const name of f.names) {
    const text = await (await fetch(`${base}${name}`, { headers: { accept: CORGI } })).text();
    docs.set(`/${name}`, text);
    const doc = JSON.parse(text) as {
      'dist-tags': { latest: string };
      versions: Record<string, { dist: { tarball: string } }>;
    };
    const url = doc.versions[doc['dist-tags'].latest].dist.tarball;
    tarballs.set(new URL(url).pathname, Buffer.from(await (await fetch(url)).arrayBuffer()));
  }
  return { base: base.replace(/\/$/, ''), docs, tarballs };
}

/** Serves what `record` kept; `setupMs` delays each new connection, as lib/fake-upstream.ts does. */
export async function replay(r: Recorded, setupMs = 0): Promise<{ url: string; close(): Promise<void> }> {
  let bodies = new Map<string, Buffer>();
  const server = createServer({ keepAlive: true }, (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const tgz = r.tarballs.get(path);
    if (tgz)
      return res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': tgz.length }).end(tgz);
    const doc = bodies.get(path);
    if (doc) return res.writeHead(200, { 'content-type': CORGI, 'content-length': doc.length }).end(doc);
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
  });
  if (setupMs > 0) {
    server.on('connection', (socket) => {
      socket.pause();
      setTimeout(() => socket.resume(), setupMs);
    });
  }
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  bodies = new Map([...r.docs].map(([k, v]) => [k, Buffer.from(v.split(r.base).join(url))]));
  return {
    url: `${url}/`,
    close: () =>
      new Promise((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
