// The install path: packument and tarball GETs, the requests a registry answers by the million. Their
// answers are bytes made in advance (see read-cache.ts), so they go straight to the socket.
//
// `answerFromMemory` runs before Fastify sees a request. It answers only the case that needs nothing it
// would have to wait for — a GET of a local package (or a fresh upstream copy) whose bytes are in memory, by
// an anonymous caller or a cached token that passes every check, of a public package or of a restricted one
// this token was already found to read — and leaves everything else (a first read, a bad token, a query string...) to
// the full route in routes/packages.ts, which gives the same answer the long way
// and fills the caches. Both build their headers here.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';
import type { Ctx } from '../services/context.ts';
import type { Authenticator } from '../services/authenticate.ts';
import { readCache } from '../services/read-cache.ts';
import { isReadableName, versionFromTarball } from '../domain/names.ts';
import { parsePackagePath } from './package-path.ts';
import { readableInMemory } from '../services/read.ts';
import { baseUrlOf } from './base-url.ts';
import { freshInMemory } from '../services/proxy.ts';
import { metricsOf } from '../services/metrics.ts';

export const CORGI = 'application/vnd.npm.install-v1+json';
const PUBLIC_REVALIDATE = 'public, max-age=0, must-revalidate';
const PRIVATE_REVALIDATE = 'private, max-age=0, must-revalidate';
const TARBALL_HEADERS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  public: { 'content-type': 'application/octet-stream', 'cache-control': 'public, max-age=31536000, immutable' },
  // A shared cache in front of the registry would keep a `public` answer and hand it to anyone (RFC 9111, 3.5).
  restricted: { 'content-type': 'application/octet-stream', 'cache-control': 'private, max-age=31536000, immutable' },
};

/** A tarball never changes; only a public package's may be kept by caches shared between callers. */
export function tarballHeaders(access: string): Readonly<Record<string, string>> {
  return access === 'public' ? TARBALL_HEADERS.public : TARBALL_HEADERS.restricted;
}

/** npm asks for the abbreviated form by listing it first in Accept. */
export function wantsCorgi(accept: string | undefined): boolean {
  return accept?.trimStart().startsWith(CORGI) === true;
}

const baseTags = new Map<string, string>();

/** The stored ETag covers the document; the bytes also carry the base URL (tarball links), so the served
 *  ETag does too, or a client that moved host or port would get a 304 for links it cannot use. */
export function servedEtag(etag: string, base: string): string {
  let tag = baseTags.get(base);
  if (tag === undefined) {
    if (baseTags.size >= 256) baseTags.clear(); // Host comes from the caller: keep a few, not any number
    tag = createHash('sha256').update(base).digest('hex').slice(0, 8);
    baseTags.set(base, tag);
  }
  return `${etag.slice(0, -1)}${tag}"`;
}

/** The headers of a packument answer (200 or 304). The abbreviated form has its own, weak, ETag. */
export function packumentHeaders(
  etag: string,
  corgi: boolean,
  access: string,
  write: boolean,
  base: string,
): Record<string, string> {
  const served = servedEtag(etag, base);
  return {
    vary: 'Accept, Authorization',
    etag: corgi ? `W/${served}` : served,
    'cache-control': write ? 'no-store' : access === 'public' ? PUBLIC_REVALIDATE : PRIVATE_REVALIDATE,
    'content-type': corgi ? CORGI : 'application/json',
  };
}

/** Writes a whole answer of prepared bytes; a 304 has headers only. */
export function writeBytes(res: ServerResponse, status: number, headers: Record<string, string>, body?: Buffer): void {
  res.writeHead(status, body ? { ...headers, 'content-length': String(body.length) } : headers);
  res.end(body);
}

/** Writes the access-log line of a request answered here (when `accessLog` is on). */
export type AccessLog = (req: IncomingMessage, status: number, startedAt: number) => void;

/** Answers a cached install read at once and says what it answered (for metrics), or returns false and touches
 *  nothing. */
export function answerFromMemory(
  ctx: Ctx,
  auth: Authenticator,
  req: IncomingMessage,
  res: ServerResponse,
  accessLog?: AccessLog,
): false | 'packument' | 'tarball' {
  const url = req.url;
  if (req.method !== 'GET' || url === undefined || url.includes('?')) return false;
  const { config } = ctx;
  // Behind proxies the caller's address and the public URL come from forwarded headers, which only the
  // full route reads: here, the public URL must then be configured, a token limited to CIDR ranges takes
  // the full route, and so does every read when the access log (which records the caller's address) is on.
  const proxied = config.trustedProxies.length > 0;
  if (proxied && (!config.publicUrl || config.accessLog)) return false;
  const startedAt = accessLog ? performance.now() : 0;
  // A malformed escape anywhere is the full route's 400, not something to read past.
  if (url.includes('%')) {
    try {
      decodeURIComponent(url);
    } catch {
      return false;
    }
  }
  const path = parsePackagePath(url);
  if (!path || path.kind === 'version' || path.rev !== undefined || !isReadableName(path.name)) return false;
  const cache = readCache(ctx.store);
  const head = cache.peekHead(path.name);
  if (!head || head.deletedAt !== null) return false;
  // A cached upstream copy too, while fresh and not private (proxy.ts decides; else the full route asks).
  if (head.origin !== 'local' && !(head.origin === 'proxy' && freshInMemory(ctx, path.name))) return false;
  const credential = req.headers.authorization;
  const principal =
    credential === undefined
      ? undefined
      : auth.cachedPrincipal(credential, proxied ? undefined : (req.socket.remoteAddress ?? ''));
  if (credential !== undefined && !principal) return false;
  // The read rule, from memory, before any bytes are looked up: a package the caller may not read leaves
  // here as early as a missing name does. A restricted package needs a decision the full route made.
  if (readableInMemory(cache, principal, head) !== true) return false;

  let status = 200;
  let headers: Record<string, string>;
  let body: Buffer | undefined;
  if (path.kind === 'tarball') {
    const version = versionFromTarball(path.name, path.file);
    const blob = version && cache.peekTarballBlob(path.name, version);
    body = blob ? cache.peekBlob(blob) : undefined;
    headers = tarballHeaders(head.access);
  } else {
    const corgi = wantsCorgi(req.headers.accept);
    const base = baseUrlOf(config, req);
    body = cache.peekDocument(path.name, head.etag, corgi ? 'abbrev' : 'full', base);
    headers = packumentHeaders(head.etag, corgi, head.access, false, base);
    if (req.headers['if-none-match'] === headers.etag) status = 304;
  }
  if (!body) return false;
  if (head.origin === 'proxy' && path.kind !== 'tarball') {
    metricsOf(ctx.store)?.proxyRequests.inc({ kind: 'packument', outcome: 'cache-hit' });
  }
  if (principal) auth.countUse(principal);
  writeBytes(res, status, headers, status === 304 ? undefined : body);
  accessLog?.(req, status, startedAt);
  return path.kind === 'tarball' ? 'tarball' : 'packument';
}
