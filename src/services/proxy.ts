// Proxying public packages from the upstream registry named in config, with namespace protection:
// a name or scope that exists locally, belongs to a local user, or is declared private is never
// fetched upstream (dependency confusion).
import { Refusal } from '../domain/reasons.ts';
import { escapeName, scopeOf } from '../domain/names.ts';
import { renderProxied } from '../domain/packument.ts';
import { packageHead, type PackageHead } from '../store/packages.ts';
import { accountNamed, fetchedAt, keepProxied, scopeHasLocalPackage } from '../store/proxy-cache.ts';
import type { Ctx } from './context.ts';
import { shared, upstreamIsDown, upstreamRequest, warnStale } from './upstream.ts';
import { metricsOf } from './metrics.ts';
import { readCache } from './read-cache.ts';

/** Patterns come from the config, a handful: each is compiled once, not on every proxied read. */
const compiled = new Map<string, RegExp>();

/** `@scope` matches the scope, `*` any run of characters, anything else the name itself. */
export function matchesPattern(name: string, pattern: string): boolean {
  if (pattern.startsWith('@') && !pattern.includes('/')) return scopeOf(name) === pattern;
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
  return re.test(name);
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
  const url = `${ctx.config.upstream.url}${escapeName(name)}`;
  const refresh = () => shared(ctx, `packument\0${name}`, () => fetchPackument(ctx, name, url));
  if (!cached) return refresh();
  const age = ctx.clock.now() - (await lastFetched(ctx, name));
  if (age < ctx.config.upstream.cacheTtlMs) {
    metricsOf(ctx.store)?.proxyRequests.inc({ kind: 'packument', outcome: 'cache-hit' });
    return cached;
  }
  if (age > ctx.config.upstream.maxStaleMs) return refresh();
  if (upstreamIsDown(ctx, url)) {
    warnStale(ctx, url, name, age, 'the upstream circuit is open');
    return cached;
  }
  refresh().catch((e: unknown) => warnStale(ctx, url, name, age, `the refresh failed (${(e as Error).message})`));
  return cached;
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

async function fetchPackument(ctx: Ctx, name: string, url: string): Promise<PackageHead | undefined> {
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
  const head = await packageHead(ctx.store.db, name);
  // The client that asked is answered from these very strings, not from a read of what was just written.
  if (kept && head) {
    const cache = readCache(ctx.store);
    cache.keepDocument(name, r);
    cache.keepHead(head);
    remember(fetchTimes(ctx), name, now);
  }
  return head;
}
