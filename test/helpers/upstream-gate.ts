// A gate in front of a real upstream (a Tessera on loopback) that can pass requests on, hold them (an
// upstream that accepts connections and does not answer, until `release`), or fail them with a 503.
// It keeps what it got.
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import assert from 'node:assert/strict';
import { startServer, type TestServer } from './server.ts';
import { makeNpm, makePackage, type NpmEnv } from './npm.ts';

export type GateMode = 'pass' | 'hang' | 'fail';

export type UpstreamGate = {
  /** The gate's own address: give it to the upstream as its public URL, so tarball links come through it too. */
  url: string;
  mode: GateMode;
  /** "METHOD url" of every request that reached the gate, in order. */
  got: string[];
  /** The body of every POST that reached the gate, as text. */
  bodies: { url: string; body: string }[];
  /** Where requests go in 'pass' mode (set once the upstream started, at its gate's URL). */
  target: string;
  /** When set, `mode` applies only to the requests it accepts; the others pass. */
  only?: (method: string, url: string) => boolean;
  /** How many requests are held now. */
  held(): number;
  /** Passes the held requests on, and those that come after. */
  release(): void;
  close(): Promise<void>;
};

export async function upstreamGate(): Promise<UpstreamGate> {
  const held: (() => void)[] = [];
  const forward = (req: IncomingMessage, res: ServerResponse, body: Buffer) => {
    const target = new URL(gate.target);
    const out = request(
      { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    out.end(body);
  };
  const server: Server = createServer((req, res) => {
    gate.got.push(`${req.method} ${req.url}`);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (req.method === 'POST') gate.bodies.push({ url: req.url ?? '', body: body.toString() });
      const mode = !gate.only || gate.only(req.method ?? '', req.url ?? '') ? gate.mode : 'pass';
      if (mode === 'hang') held.push(() => forward(req, res, body));
      else if (mode === 'fail') res.writeHead(503).end('down for maintenance');
      else forward(req, res, body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const gate: UpstreamGate = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    mode: 'pass',
    got: [],
    bodies: [],
    target: '',
    held: () => held.length,
    release() {
      gate.mode = 'pass';
      for (const go of held.splice(0)) go();
    },
    async close() {
      held.length = 0;
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
  return gate;
}

/** A real upstream for a proxy under test: a Tessera (`up`) behind a gate, whose tarball links come through
 *  the gate, with `packages` ([name, version, extra package.json fields]) published to it by `upstreamer`. */
export async function gatedUpstream(
  packages: [name: string, version: string, extra?: Record<string, unknown>][],
): Promise<{ gate: UpstreamGate; up: TestServer; upNpm: NpmEnv }> {
  const gate = await upstreamGate();
  const up = await startServer({ publicUrl: gate.url });
  gate.target = up.url;
  await up.addUser('upstreamer');
  const upNpm = makeNpm(up.url);
  upNpm.setToken(up.host, await up.token({ user: 'upstreamer' }));
  for (const [name, version, extra] of packages) {
    const r = await upNpm.run(['publish', '--access', 'public'], { cwd: makePackage(name, version, extra) });
    assert.equal(r.code, 0, r.output);
  }
  return { gate, up, upNpm };
}
