// Proxying public packages from the upstream registry named in config, with namespace protection:
// a name or scope that exists locally, belongs to a local user, or is declared private is never
// fetched upstream (dependency confusion).
import { Refusal } from '../domain/reasons.ts';
import { escapeName, isReadableName, scopeOf } from '../domain/names.ts';
import { renderProxied } from '../domain/packument.ts';
import { packageHead, type PackageHead } from '../store/packages.ts';
import { accountNamed, fetchedAt, keepProxied, scopeHasLocalPackage } from '../store/proxy-cache.ts';
import type { Ctx } from './context.ts';
import { shared, upstreamHealth, upstreamIsDown, upstreamRequest, warnStale } from './upstream.ts';
import { metricsOf } from './metrics.ts';
import { readCache } from './read-cache.ts';

/** Patterns come from the config, a handful: each is compiled once, not on every proxied read. */
const compiled = new Map<string, RegExp>();

/** `@scope` matches the scope (`@corp-*` every scope so named), `*` any run of characters, anything else the name. */
export function matchesPattern(name: string, pattern: string): boolean {
  if (pattern.startsWith('@') && !pattern.includes('/')) {
    const scope = scopeOf(name);
    return scope !== undefined && (scope === pattern || (pattern.includes('*') && globMatches(scope, pattern)));
  }
  return globMatches(name, pattern);
}

function globMatches(text: string, pattern: string): boolean {
  let re = compiled.get(pattern);
  if (!re) {
    re = new RegExp(
      `^${pattern
        .split('*')
        .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*')}$`,
    );
    if (compiled.size >= 1000) compiled.clear();
    compiled.set(pattern, re);
  }
  return re.test(text);
}

export function isPrivateName(ctx: Ctx, name: string): boolean {
  return ctx.config.privateNamespaces.some((p) => matchesPattern(name, p));
}

export function mayProxy(ctx: Ctx, name: string): boolean {
  return ctx.config.upstream.url !== null && !isPrivateName(ctx, name);
}

/** A scope is local once any local package lives in it, or a local user or organization owns it. */
export async function scopeIsLocal(ctx: Ctx, name: string): Promise<boolean> {
  const scope = scopeOf(name);
  if (!scope) return false;
  if (await scopeHasLocalPackage(ctx.store.db, scope)) return true;
  return accountNamed(ctx.store.db, scope.slice(1));
}

/** Whether an upstream copy of `name`, cached or not, may be served: a namespace declared private or made
 *  local after the copy was cached cuts it off (the clean-up after a dependency-confusion incident). */
export async function mayServeProxied(ctx: Ctx, name: string): Promise<boolean> {
  return mayProxy(ctx, name) && !(await scopeIsLocal(ctx, name));
}

/** Whether a cached upstream copy of `name` may be answered from memory as it is: not private, no scope to
 *  ask the database about, and known to be fresh. Anything else takes the full route (proxyPackument). */
export function freshInMemory(ctx: Ctx, name: string): boolean {
  if (scopeOf(name) || !mayProxy(ctx, name)) return false;
  const at = fetchTimes(ctx).get(name);
  return at !== undefined && ctx.clock.now() - at < ctx.config.upstream.cacheTtlMs;
}

/**
 * Returns the cached proxied package, or undefined when the upstream has no such package. A fresh copy
 * (younger than `upstream.cacheTtl`) is served as it is; an older one, up to `upstream.maxStale`, is served
 * at once too while a refresh runs in the background (stale-while-revalidate), so a slow or hung upstream
 * never holds an install up. Past `maxStale`, or with nothing cached, the caller waits for the upstream.
 */
export async function proxyPackument(
  ctx: Ctx,
  name: string,
  cached: PackageHead | undefined,
): Promise<PackageHead | undefined> {
  if (await scopeIsLocal(ctx, name)) return undefined;
  const url = packumentUrl(ctx, name);
  const refresh = () => refreshProxied(ctx, name);
  if (!cached) return refresh();
  const age = ctx.clock.now() - (await lastFetched(ctx, name));
  if (age < ctx.config.upstream.cacheTtlMs) {
    metricsOf(ctx.store)?.proxyRequests.inc({ kind: 'packument', outcome: 'cache-hit' });
    return cached;
  }
  if (age > ctx.config.upstream.maxStaleMs) return refresh();
  metricsOf(ctx.store)?.proxyRequests.inc({ kind: 'packument', outcome: 'stale' });
  if (upstreamIsDown(ctx, url)) {
    warnStale(ctx, url, name, age, 'the upstream circuit is open');
    return cached;
  }
  refresh().catch((e: unknown) => warnStale(ctx, url, name, age, `the refresh failed (${(e as Error).message})`));
  return cached;
}

/** Fetches a fresh copy of `name`'s packument now, whatever the age of the one kept (shared with concurrent reads).
 *  The caller has checked that `name` may be proxied. */
export function refreshProxied(ctx: Ctx, name: string): Promise<PackageHead | undefined> {
  return shared(ctx, `packument\0${name}`, () => fetchPackument(ctx, name, packumentUrl(ctx, name), 0));
}

/** The upstream address of a packument. */
function packumentUrl(ctx: Ctx, name: string): string {
  return `${ctx.config.upstream.url}${escapeName(name)}`;
}

/** When each cached copy was fetched, as this process last saw it: a fresh copy's read costs no query. Only ever
 *  older than the database's (another process may have refreshed it since), so at worst a refresh comes early. */
const fetchedByStore = new WeakMap<object, Map<string, number>>();

function fetchTimes(ctx: Ctx): Map<string, number> {
  let m = fetchedByStore.get(ctx.store);
  if (!m) {
    m = new Map();
    fetchedByStore.set(ctx.store, m);
  }
  return m;
}

async function lastFetched(ctx: Ctx, name: string): Promise<number> {
  const times = fetchTimes(ctx);
  const known = times.get(name);
  if (known !== undefined) return known;
  const at = await fetchedAt(ctx.store.db, name);
  remember(times, name, at);
  return at;
}

function remember(times: Map<string, number>, name: string, at: number): void {
  if (times.size >= 50_000) times.clear();
  times.set(name, at);
}

/** `depth`: 0 for a client's request, n for a package fetched ahead n dependency levels below one. */
async function fetchPackument(ctx: Ctx, name: string, url: string, depth: number): Promise<PackageHead | undefined> {
  const upstreamDoc = await upstreamRequest(ctx, url, { accept: 'application/json' }, async (res) => {
    if (res.status === 404) {
      await res.discard();
      return undefined;
    }
    if (!res.ok) throw new Refusal('upstream-unavailable', { detail: `upstream answered ${res.status}` });
    return (await res.json()) as Record<string, unknown>;
  });
  if (!upstreamDoc) return undefined;
  if (upstreamDoc.name !== name || typeof upstreamDoc.versions !== 'object') {
    throw new Refusal('upstream-unavailable', { detail: 'upstream sent a document for another package' });
  }
  const now = ctx.clock.now();
  const r = renderProxied(upstreamDoc, name);
  const meta = JSON.stringify({ tarballs: r.tarballs });
  const kept = await ctx.store.transaction((trx) => keepProxied(trx, name, { ...r, meta }, now));
  // A local package of that name appeared meanwhile: it is the answer.
  if (!kept) return packageHead(ctx.store.db, name);
  // The client that asked is answered from these very strings, not from a read of what was just written.
  const cache = readCache(ctx.store);
  cache.keepDocument(name, r);
  cache.keepHead(kept);
  remember(fetchTimes(ctx), name, now);
  prefetchDependencies(ctx, upstreamDoc, depth + 1);
  return kept;
}

// Fetching ahead. An installer reads a package's packument, picks a version, then asks for its
// dependencies' packuments, level after level: on a cold cache every level waits for the upstream in
// turn. The dependencies of a fetched package's latest version are what it will most likely ask for
// next (a packument serves every version, so the names are what matter), so their packuments are fetched
// at once, a few levels deep, with what the upstream connections have spare: at most PREFETCH_IN_FLIGHT at
// a time, never while clients' requests queue for a connection, and never for a name that could not be
// fetched for a client (private, local, or in a local scope).
const PREFETCH_DEPTH = 3;
const PREFETCH_IN_FLIGHT = 4;
const PREFETCH_QUEUE = 1000;
const DEPENDENCY_FIELDS = ['dependencies', 'optionalDependencies', 'peerDependencies'] as const;

type Prefetch = { queue: { name: string; depth: number }[]; running: number };
const prefetchByStore = new WeakMap<object, Prefetch>();

function prefetchDependencies(ctx: Ctx, upstreamDoc: Record<string, unknown>, depth: number): void {
  if (!ctx.config.upstream.prefetch || depth > PREFETCH_DEPTH) return;
  const tags = upstreamDoc['dist-tags'] as Record<string, unknown> | undefined;
  const versions = upstreamDoc.versions as Record<string, Record<string, unknown>>;
  const latest = typeof tags?.latest === 'string' ? versions[tags.latest] : undefined;
  if (!latest) return;
  let p = prefetchByStore.get(ctx.store);
  if (!p) {
    p = { queue: [], running: 0 };
    prefetchByStore.set(ctx.store, p);
  }
  const cache = readCache(ctx.store);
  for (const field of DEPENDENCY_FIELDS) {
    const deps = latest[field];
    if (!deps || typeof deps !== 'object') continue;
    for (const name of Object.keys(deps)) {
      if (p.queue.length >= PREFETCH_QUEUE) return;
      // Known here already (kept, fetched, or known missing): nothing to fetch ahead.
      if (!isReadableName(name) || cache.peekHead(name) !== undefined || fetchTimes(ctx).has(name)) continue;
      if (!mayProxy(ctx, name)) continue;
      p.queue.push({ name, depth });
    }
  }
  drainPrefetch(ctx, p);
}

function drainPrefetch(ctx: Ctx, p: Prefetch): void {
  while (p.running < PREFETCH_IN_FLIGHT && p.queue.length > 0) {
    const { name, depth } = p.queue.shift()!;
    const url = packumentUrl(ctx, name);
    const health = upstreamHealth(ctx, url);
    // Clients first: with the breaker open or clients queueing for connections, fetching ahead waits for another time.
    if (health.state !== 'closed' || health.waiting > 0) {
      p.queue.length = 0;
      return;
    }
    p.running++;
    // A failure counts towards the breaker as any other; the client's own read, if it comes, will say what it is.
    prefetchOne(ctx, name, url, depth)
      .catch(() => {})
      .finally(() => {
        p.running--;
        drainPrefetch(ctx, p);
      });
  }
}

async function prefetchOne(ctx: Ctx, name: string, url: string, depth: number): Promise<void> {
  // The checks a client's read makes before it fetches: a local package or a local scope is never asked for.
  if ((await readCache(ctx.store).head(name)) !== undefined) return;
  if (await scopeIsLocal(ctx, name)) return;
  await shared(ctx, `packument\0${name}`, () => fetchPackument(ctx, name, url, depth));
}
