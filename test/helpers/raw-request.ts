// One HTTP request with node:http from a chosen local address: loopback accepts any 127.x source, so a
// test can play a second client machine without trusting proxy headers. Answered as status, reason, body.
import { request, type IncomingHttpHeaders } from 'node:http';
import type { TestServer } from './server.ts';

export type Answer = { status: number; reason: string | null; body: string; headers?: IncomingHttpHeaders };
export type SendOpts = { from?: string; headers?: Record<string, string>; body?: unknown };

/** A string body is sent as it is; anything else as JSON. */
export function send(s: TestServer, method: string, path: string, opts: SendOpts = {}): Promise<Answer> {
  const body = opts.body === undefined || typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
  return new Promise((resolve, reject) => {
    const req = request(
      `${s.url}${path.replace(/^\//, '')}`,
      {
        method,
        localAddress: opts.from ?? '127.0.0.1',
        headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...opts.headers },
      },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => {
          text += c;
        });
        const reason = (res.headers['x-tessera-reason'] as string | undefined) ?? null;
        res.on('end', () => resolve({ status: res.statusCode ?? 0, reason, body: text, headers: res.headers }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
