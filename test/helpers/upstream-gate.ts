// A gate in front of a real upstream (a Tessera on loopback) that can pass requests on, hold them forever
// (an upstream that accepts connections and never answers), or fail them with a 503. It counts what it got.
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

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
  close(): Promise<void>;
};

export async function upstreamGate(): Promise<UpstreamGate> {
  const gate = { mode: 'pass', got: [], bodies: [], target: '' } as unknown as UpstreamGate;
  const server: Server = createServer((req, res) => {
    gate.got.push(`${req.method} ${req.url}`);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method === 'POST') gate.bodies.push({ url: req.url ?? '', body: Buffer.concat(chunks).toString() });
      // Held: the connection stays open and unanswered until the gate closes.
      if (gate.mode === 'hang') return;
      if (gate.mode === 'fail') {
        res.writeHead(503).end('down for maintenance');
        return;
      }
      const target = new URL(gate.target);
      const out = request(
        { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      out.on('error', () => res.destroy());
      out.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  gate.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  gate.close = async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  };
  return gate;
}
