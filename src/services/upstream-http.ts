// The wire under services/upstream.ts: Node's own HTTP client, with one keep-alive agent per upstream
// origin. Node's fetch did the same job at about twice the CPU per request (a WebAssembly parser and web
// streams around every body), which a cold install pays hundreds of times on the server's one thread.
// Agents made here honour HTTP_PROXY / HTTPS_PROXY / NO_PROXY when the server runs with
// NODE_USE_ENV_PROXY=1, as Node's global agents and fetch do.
import http from 'node:http';
import https from 'node:https';
import { pipeline, type Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';

export type UpstreamResponse = {
  status: number;
  ok: boolean;
  header(name: string): string | undefined;
  /** The body's length as sent, when it is sent as it is (no content-encoding). */
  length?: number;
  /** The body, decoded, as it arrives. */
  body: Readable;
  /** The whole body parsed as JSON; refused past `maxBytes`. */
  json(maxBytes?: number): Promise<unknown>;
  /** Reads the body to its end unread, so the connection goes back to the pool. */
  discard(): Promise<void>;
};

export type WireRequest = {
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
  signal: AbortSignal;
};

/** The default bound on a JSON answer: above the largest packuments public registries serve. */
const MAX_JSON_BYTES = 256 * 1024 * 1024;

const agents = new Map<string, http.Agent>();

function usesEnvProxy(): boolean {
  return process.env.NODE_USE_ENV_PROXY === '1' || process.execArgv.includes('--use-env-proxy');
}

/** The agent of an origin: at most `maxSockets` connections, kept alive between requests. */
function agentFor(url: URL, maxSockets: number): http.Agent {
  const key = `${url.origin} ${maxSockets}`;
  let agent = agents.get(key);
  if (!agent) {
    const options: http.AgentOptions = { keepAlive: true, maxSockets, scheduling: 'lifo' };
    if (usesEnvProxy()) options.proxyEnv = process.env;
    agent = url.protocol === 'https:' ? new https.Agent(options) : new http.Agent(options);
    agents.set(key, agent);
  }
  return agent;
}

function decoded(res: http.IncomingMessage): Readable {
  const encoding = String(res.headers['content-encoding'] ?? 'identity')
    .trim()
    .toLowerCase();
  const decoder =
    encoding === 'gzip' || encoding === 'x-gzip'
      ? createGunzip()
      : encoding === 'deflate'
        ? createInflate()
        : encoding === 'br'
          ? createBrotliDecompress()
          : undefined;
  if (!decoder) return res;
  // A decoding error ends the decoder's stream with it; the answer's own errors reach it through pipeline.
  return pipeline(res, decoder, () => {});
}

function wrap(res: http.IncomingMessage): UpstreamResponse {
  const body = decoded(res);
  const status = res.statusCode ?? 0;
  const length = body === res ? Number(res.headers['content-length']) : Number.NaN;
  return {
    status,
    ok: status >= 200 && status < 300,
    header: (name) => {
      const v = res.headers[name.toLowerCase()];
      return Array.isArray(v) ? v.join(', ') : v;
    },
    length: Number.isFinite(length) && length >= 0 ? length : undefined,
    body,
    async json(maxBytes = MAX_JSON_BYTES) {
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of body) {
        size += (chunk as Buffer).length;
        if (size > maxBytes) {
          res.destroy();
          throw new Error(`the answer is larger than ${maxBytes} bytes`);
        }
        chunks.push(chunk as Buffer);
      }
      return JSON.parse(Buffer.concat(chunks, size).toString('utf8'));
    },
    async discard() {
      body.resume();
      await finished(body).catch(() => {});
    },
  };
}

function once(url: URL, init: WireRequest, maxSockets: number): Promise<{ res: UpstreamResponse; reused: boolean }> {
  return new Promise((resolve, reject) => {
    const transport = url.protocol === 'https:' ? https : http;
    const req = transport.request(url, {
      method: init.method,
      headers:
        init.body === undefined ? init.headers : { ...init.headers, 'content-length': Buffer.byteLength(init.body) },
      agent: agentFor(url, maxSockets),
      signal: init.signal,
    });
    req.once('response', (res) => resolve({ res: wrap(res), reused: req.reusedSocket }));
    req.once('error', (e) => reject(Object.assign(e, { reused: req.reusedSocket })));
    req.end(init.body);
  });
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 5;

/**
 * Sends one request and resolves with the answer's head; the body is the caller's to read. A GET that is
 * redirected (a registry sending tarballs on to blob storage, a mirror that moved) follows, up to
 * MAX_REDIRECTS times, as npm itself does.
 */
export async function send(url: string, init: WireRequest, maxSockets: number): Promise<UpstreamResponse> {
  let target = new URL(url);
  for (let hops = 0; ; hops++) {
    const res = await sendTo(target, init, maxSockets);
    const location = res.header('location');
    if (init.method !== 'GET' || !REDIRECTS.has(res.status) || !location) return res;
    await res.discard();
    const next = new URL(location, target);
    if (hops >= MAX_REDIRECTS) throw new Error(`more than ${MAX_REDIRECTS} redirects, the last to ${next.origin}`);
    if (next.protocol !== 'http:' && next.protocol !== 'https:') throw new Error(`a redirect to ${next.protocol}`);
    target = next;
  }
}

/**
 * One request to one address. A kept-alive connection the upstream closed just as it was reused fails at
 * once with ECONNRESET: that request is sent again, once, on another connection (it never reached the upstream).
 */
async function sendTo(target: URL, init: WireRequest, maxSockets: number): Promise<UpstreamResponse> {
  try {
    return (await once(target, init, maxSockets)).res;
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { reused?: boolean };
    if (!err.reused || err.code !== 'ECONNRESET' || init.signal.aborted) throw e;
    return (await once(target, init, maxSockets)).res;
  }
}
