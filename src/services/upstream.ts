// Talking to upstream registries, per host: a bound on requests in flight, a circuit breaker, and one
// fetch shared by everyone asking for the same thing at once.
//
// Each host has one pool of kept-alive connections (upstream-http.ts) of at most `maxConnections`: an
// install's hundreds of parallel misses queue for a handful of connections instead of opening hundreds.
import { Refusal } from '../domain/reasons.ts';
import type { Ctx } from './context.ts';
import { metricsOf } from './metrics.ts';
import { send, type UpstreamResponse } from './upstream-http.ts';
import { VERSION } from '../config/version.ts';

type Host = {
  active: number;
  waiting: (() => void)[];
  /** Consecutive failures; the breaker is open while they reach `breakerFailures`. */
  failures: number;
  openUntil: number;
  /** A half-open probe is in flight: everyone else still gets the fast refusal. */
  probing: boolean;
  /** Requests sent (for tests and diagnostics). */
  sent: number;
  /** Packuments served stale while the breaker is open, warned about once each per opening. */
  warned: Set<string>;
};

export type Health = {
  state: 'closed' | 'open' | 'half-open';
  failures: number;
  sent: number;
  active: number;
  waiting: number;
};

const hostsByStore = new WeakMap<object, Map<string, Host>>();
const inflightByStore = new WeakMap<object, Map<string, Promise<unknown>>>();

function hostOf(ctx: Ctx, url: string): Host {
  let hosts = hostsByStore.get(ctx.store);
  if (!hosts) {
    hosts = new Map();
    hostsByStore.set(ctx.store, hosts);
  }
  const origin = new URL(url).origin;
  let h = hosts.get(origin);
  if (!h) {
    h = { active: 0, waiting: [], failures: 0, openUntil: 0, probing: false, sent: 0, warned: new Set() };
    hosts.set(origin, h);
  }
  return h;
}

function stateOf(ctx: Ctx, h: Host): Health['state'] {
  if (h.failures < ctx.config.upstream.breakerFailures) return 'closed';
  return ctx.clock.now() < h.openUntil || h.probing ? 'open' : 'half-open';
}

/** The breaker and the pool of the upstream host serving `url`. */
export function upstreamHealth(ctx: Ctx, url: string): Health {
  const h = hostOf(ctx, url);
  return { state: stateOf(ctx, h), failures: h.failures, sent: h.sent, active: h.active, waiting: h.waiting.length };
}

/** True when the host of `url` is not being asked (breaker open): callers serve what they have at once. */
export function upstreamIsDown(ctx: Ctx, url: string): boolean {
  return stateOf(ctx, hostOf(ctx, url)) === 'open';
}

/** Logs a stale answer given because the upstream is down, once per package while the breaker stays open. */
export function warnStale(ctx: Ctx, url: string, name: string, ageMs: number, why: string): void {
  const h = hostOf(ctx, url);
  if (h.warned.has(name)) return;
  if (h.warned.size >= 1000) h.warned.clear();
  h.warned.add(name);
  const details = { package: name, ageSeconds: Math.round(ageMs / 1000), upstream: new URL(url).origin };
  ctx.log?.warn(details, `serving a stale upstream packument: ${why}`);
}

function settle(ctx: Ctx, h: Host, url: string, ok: boolean, detail: string): void {
  const wasOpen = h.failures >= ctx.config.upstream.breakerFailures;
  h.probing = false;
  if (ok) {
    if (wasOpen) ctx.log?.warn({ upstream: new URL(url).origin }, 'upstream circuit closed: it answers again');
    h.failures = 0;
    h.warned.clear();
    return;
  }
  h.failures++;
  if (h.failures < ctx.config.upstream.breakerFailures) return;
  h.openUntil = ctx.clock.now() + ctx.config.upstream.breakerCooldownMs;
  if (!wasOpen) {
    const details = { upstream: new URL(url).origin, failures: h.failures, detail };
    ctx.log?.warn(details, 'upstream circuit opened: not asking it for a while');
  }
}

/** Waits for a free request slot on `h`, or for `signal`. */
function slot(h: Host, max: number, signal: AbortSignal): Promise<() => void> {
  const release = () => {
    h.active--;
    h.waiting.shift()?.();
  };
  if (h.active < max) {
    h.active++;
    return Promise.resolve(release);
  }
  return new Promise((resolve, reject) => {
    const go = () => {
      signal.removeEventListener('abort', abort);
      h.active++;
      resolve(release);
    };
    const abort = () => {
      const i = h.waiting.indexOf(go);
      if (i >= 0) h.waiting.splice(i, 1);
      reject(signal.reason);
    };
    h.waiting.push(go);
    signal.addEventListener('abort', abort, { once: true });
  });
}

export type Outgoing = { accept: string; method?: 'GET' | 'POST'; body?: string };

/**
 * One request to an upstream: refused at once while its host's breaker is open, queued while the host has
 * `maxConnections` requests in flight, and timed out after `upstream.timeout` (queueing included). `consume`
 * reads the answer within the request's slot and time. A network error, a timeout or a 5xx count against
 * the host's breaker; any other answer counts for it (audits count neither way).
 */
export async function upstreamRequest<T>(
  ctx: Ctx,
  url: string,
  init: Outgoing,
  consume: (res: UpstreamResponse) => Promise<T>,
): Promise<T> {
  const { timeoutMs, maxConnections } = ctx.config.upstream;
  const h = hostOf(ctx, url);
  const state = stateOf(ctx, h);
  if (state === 'open') {
    const detail = `it failed ${h.failures} times in a row; it is not asked again for a while`;
    throw new Refusal('upstream-unavailable', { detail });
  }
  // An audit's trouble is its endpoint's (slow, unimplemented), not the registry's: it neither opens the
  // breaker for packages nor closes it, and is never the half-open probe.
  const counts = init.method !== 'POST';
  if (state === 'half-open' && counts) h.probing = true;
  const signal = AbortSignal.timeout(timeoutMs);
  const metrics = metricsOf(ctx.store);
  const kind = init.method === 'POST' ? 'audit' : init.accept === 'application/json' ? 'packument' : 'tarball';
  const started = performance.now();
  let release: (() => void) | undefined;
  try {
    release = await slot(h, maxConnections, signal);
    h.sent++;
    const headers: Record<string, string> = { accept: init.accept, 'user-agent': `tessera/${VERSION}` };
    // Documents compress well and registries compress them; tarballs are compressed already.
    if (init.accept.includes('json')) headers['accept-encoding'] = 'gzip, deflate, br';
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    const method = init.method ?? 'GET';
    const res = await send(url, { method, headers, body: init.body, signal }, maxConnections);
    let out: T;
    try {
      if (res.status >= 500) throw new Error(`upstream answered ${res.status}`);
      out = await consume(res);
    } finally {
      // An answer not read to its end (a 5xx, a refusal) would hold its connection: close it instead.
      if (!res.body.readableEnded) res.body.destroy();
    }
    if (counts) settle(ctx, h, url, true, '');
    metrics?.proxyRequests.inc({ kind, outcome: 'ok' });
    return out;
  } catch (e) {
    // The upstream answered, and we refuse what it said (another package, a bad tarball): not a sign of ill health.
    metrics?.proxyRequests.inc({ kind, outcome: 'error' });
    if (e instanceof Refusal) {
      if (counts) settle(ctx, h, url, true, '');
      throw e;
    }
    const err = e as Error & { cause?: Error };
    const detail = signal.aborted ? `no answer within ${timeoutMs} ms` : (err.cause?.message ?? err.message);
    if (counts) settle(ctx, h, url, false, detail);
    throw new Refusal('upstream-unavailable', { detail });
  } finally {
    // The agent frees the connection just after the body ends: the next request must find it free, not open another.
    if (release) setImmediate(release);
    metrics?.proxyDuration.observe({ kind }, (performance.now() - started) / 1000);
  }
}

/** Runs `fn` once for everyone asking for `key` while it runs: concurrent misses share one upstream fetch. */
export function shared<T>(ctx: Ctx, key: string, fn: () => Promise<T>): Promise<T> {
  let inflight = inflightByStore.get(ctx.store);
  if (!inflight) {
    inflight = new Map();
    inflightByStore.set(ctx.store, inflight);
  }
  const running = inflight.get(key);
  if (running) return running as Promise<T>;
  const p = fn().finally(() => inflight.delete(key));
  inflight.set(key, p);
  return p;
}
