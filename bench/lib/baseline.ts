// The baseline: a bare node:http server in the same process, answering each case with the very response
// Tessera gave — its body and its headers (content type, ETag, Vary, Cache-Control: what npm's protocol
// asks of a registry) — from memory. Node adds Date, Connection and Content-Length to both alike.
// Whatever Tessera costs above this is its own work: routing, the caller's token, the access check, the lookup.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Canned = { body: Buffer; headers: Record<string, string> };

export class BaselineServer {
  readonly #routes = new Map<string, Canned>();
  readonly #server: Server;
  url = '';

  constructor() {
    this.#server = createServer((req, res) => {
      const hit = this.#routes.get(req.url ?? '');
      if (!hit) {
        res.writeHead(404, { 'content-length': 0 });
        res.end();
        return;
      }
      res.writeHead(200, { ...hit.headers, 'content-length': String(hit.body.length) });
      res.end(hit.body);
    });
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/`;
    return this;
  }

  /** Serves `canned` at /<id>; returns the full URL. */
  add(id: string, canned: Canned): string {
    this.#routes.set(`/${id}`, canned);
    return `${this.url}${id}`;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/** What node:http writes itself, on both sides. */
const NODE_SETS = new Set(['date', 'connection', 'keep-alive', 'content-length', 'transfer-encoding']);

/** GETs a URL once and keeps what a baseline needs to replay it; refuses anything but a 200. */
export async function capture(url: string, requestHeaders: Record<string, string>): Promise<Canned> {
  const res = await fetch(url, { headers: requestHeaders });
  const body = Buffer.from(await res.arrayBuffer());
  if (res.status !== 200) throw new Error(`GET ${url}: HTTP ${res.status} ${body.toString('utf8').slice(0, 300)}`);
  const headers: Record<string, string> = {};
  for (const [k, v] of res.headers) if (!NODE_SETS.has(k)) headers[k] = v;
  return { body, headers };
}
