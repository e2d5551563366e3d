// A webhook receiver on loopback: records every POST the registry delivers and answers what the test says.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One delivery: the path it was sent to, its headers, the raw body (what signatures cover), and our answer. */
export type Received<B = Record<string, unknown>> = {
  path: string;
  headers: IncomingMessage['headers'];
  raw: string;
  body: B;
  status: number;
};

/** The package version an event is about (npm's `change.version`). */
export const versionOf = (r: Received) => (r.body.change as { version?: string } | undefined)?.version;

export class HookReceiver<B = Record<string, unknown>> {
  readonly got: Received<B>[] = [];
  /** Statuses a path answers in turn (a receiver that fails, then recovers); then `status`'s. */
  readonly plan: Record<string, number[]> = {};
  /** What a path answers once its plan is spent: 200 unless set. */
  readonly status = new Map<string, number>();
  /** Paths that never answer (nor are recorded): a receiver that hangs. */
  readonly hang = new Set<string>();
  readonly #server: Server;
  readonly #waitMs: number;
  url = '';

  /** `waitMs`: how long `until` waits by default. */
  static async start<B = Record<string, unknown>>(o: { waitMs?: number } = {}): Promise<HookReceiver<B>> {
    const rx = new HookReceiver<B>(o.waitMs ?? 10_000);
    await new Promise<void>((r) => rx.#server.listen(0, '127.0.0.1', r));
    rx.url = `http://127.0.0.1:${(rx.#server.address() as AddressInfo).port}`;
    return rx;
  }

  private constructor(waitMs: number) {
    this.#waitMs = waitMs;
    this.#server = createServer((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => {
        raw += c;
      });
      req.on('end', () => {
        const path = req.url ?? '';
        if (this.hang.has(path)) return;
        const status = this.plan[path]?.shift() ?? this.status.get(path) ?? 200;
        this.got.push({ path, headers: req.headers, raw, body: JSON.parse(raw) as B, status });
        res.writeHead(status).end();
      });
    });
  }

  /** What was delivered to `path` (about package `name`, if given). */
  at(path: string, name?: string): Received<B>[] {
    return this.got.filter(
      (g) => g.path === path && (name === undefined || (g.body as { name?: unknown }).name === name),
    );
  }

  async until(what: string, ok: () => boolean, ms = this.#waitMs): Promise<void> {
    const end = Date.now() + ms;
    while (!ok()) {
      if (Date.now() > end) {
        const body = (g: Received<B>) => g.body as { event?: unknown; name?: unknown };
        const seen = this.got.map((g) => [g.path, g.status, body(g).event, body(g).name, versionOf(g as Received)]);
        throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(seen)}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((r) => this.#server.close(() => r()));
  }
}
