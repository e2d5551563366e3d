// Proxying public packages from the upstream registry named in config, with namespace protection:
// a name or scope that exists locally, belongs to a local user, or is declared private is never
// fetched upstream (dependency confusion).
import ssri from 'ssri';
import { Refusal } from '../domain/reasons.ts';
import { escapeName, scopeOf } from '../domain/names.ts';
import { renderProxied } from '../domain/packument.ts';
import { packageHead, type PackageHead } from '../store/packages.ts';
import { bumpCounter } from '../store/counters.ts';
import type { Ctx } from './context.ts';
import { metricsOf } from './metrics.ts';

function matchesPattern(name: string, pattern: string): boolean {
  if (pattern.startsWith('@') && !pattern.includes('/')) return scopeOf(name) === pattern;
  const re = new RegExp(`^${pattern.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return re.test(name);
}

export function isPrivateName(ctx: Ctx, name: string): boolean {
  return ctx.config.privateNamespaces.some((p) => matchesPattern(name, p));
}

export function mayProxy(ctx: Ctx, name: string): boolean {
  return ctx.config.upstream.url !== null && !isPrivateName(ctx, name);
}

/** A scope is local once any local package lives in it, or a local user or organization owns it. */
async function scopeIsLocal(ctx: Ctx, name: string): Promise<boolean> {
  const scope = scopeOf(name);
  if (!scope) return false;
  const pkg = await ctx.store.db.selectFrom('packages').select('name').where('scope', '=', scope).where('origin', '=', 'local').executeTakeFirst();
  if (pkg) return true;
  const user = await ctx.store.db.selectFrom('users').select('id').where('name', '=', scope.slice(1)).executeTakeFirst();
  const org = await ctx.store.db.selectFrom('orgs').select('name').where('name', '=', scope.slice(1)).executeTakeFirst();
  return user !== undefined || org !== undefined;
}

async function fetchUpstream(ctx: Ctx, url: string, accept: string): Promise<Response> {
  const metrics = metricsOf(ctx.store);
  const kind = accept === 'application/json' ? 'packument' : 'tarball';
  const started = performance.now();
  try {
    const res = await fetch(url, { headers: { accept }, signal: AbortSignal.timeout(ctx.config.upstream.timeoutMs) });
    metrics?.proxyRequests.inc({ kind, outcome: res.ok || res.status === 404 ? 'ok' : 'error' });
    return res;
  } catch (e) {
    metrics?.proxyRequests.inc({ kind, outcome: 'error' });
    throw new Refusal('upstream-unavailable', { detail: (e as Error).message });
  } finally {
    metrics?.proxyDuration.observe({ kind }, (performance.now() - started) / 1000);
  }
}

/** Returns the cached proxied package, refreshed when stale; undefined when upstream has no such package. */
export async function proxyPackument(ctx: Ctx, name: string, cached: PackageHead | undefined): Promise<PackageHead | undefined> {
  if (await scopeIsLocal(ctx, name)) return undefined;
  const now = ctx.clock.now();
  if (cached) {
    const row = await ctx.store.db.selectFrom('packages').select('fetched_at').where('name', '=', name).executeTakeFirst();
    if (row?.fetched_at && now - row.fetched_at < ctx.config.upstream.cacheTtlMs) {
      metricsOf(ctx.store)?.proxyRequests.inc({ kind: 'packument', outcome: 'cache-hit' });
      return cached;
    }
  }
  let res: Response;
  try {
    res = await fetchUpstream(ctx, `${ctx.config.upstream.url}${escapeName(name)}`, 'application/json');
  } catch (e) {
    if (cached) return cached; // upstream down: serve what we have
    throw e;
  }
  if (res.status === 404) return undefined;
  if (!res.ok) {
    if (cached) return cached;
    throw new Refusal('upstream-unavailable', { detail: `upstream answered ${res.status}` });
  }
  const upstreamDoc = (await res.json()) as Record<string, unknown>;
  if (upstreamDoc.name !== name || typeof upstreamDoc.versions !== 'object') {
    throw new Refusal('upstream-unavailable', { detail: 'upstream sent a document for another package' });
  }
  const r = renderProxied(upstreamDoc, name);
  const meta = JSON.stringify({ tarballs: r.tarballs });
  await ctx.store.db.transaction().execute(async (trx) => {
    const upd = await trx.insertInto('packages').values({
      name, scope: scopeOf(name) ?? null, access: 'public', origin: 'proxy', rev: 1, created_at: now, modified_at: now,
      deleted_at: null, etag: r.etag, fetched_at: now, meta,
    }).onConflict((oc) => oc.column('name').doUpdateSet({ etag: r.etag, fetched_at: now, modified_at: now, meta })
      .where('packages.origin', '=', 'proxy')).executeTakeFirst();
    // A local package of that name appeared meanwhile: it wins, and its documents stay.
    if (Number(upd.numInsertedOrUpdatedRows ?? 0) === 0) return;
    await trx.insertInto('packuments').values({ name, doc: r.doc, abbrev: r.abbrev, readme: r.readme })
      .onConflict((oc) => oc.column('name').doUpdateSet({ doc: r.doc, abbrev: r.abbrev, readme: r.readme })).execute();
    await bumpCounter(trx, 'packages');
  });
  return packageHead(ctx.store.db, name);
}

export async function proxyTarball(ctx: Ctx, name: string, version: string): Promise<Buffer | undefined> {
  if (await scopeIsLocal(ctx, name)) return undefined;
  let head = await packageHead(ctx.store.db, name);
  if (!head) head = await proxyPackument(ctx, name, undefined);
  if (head?.origin !== 'proxy') return undefined;
  const row = await ctx.store.db.selectFrom('packages').select('meta').where('name', '=', name).executeTakeFirst();
  const source = (JSON.parse(row?.meta ?? '{}') as { tarballs?: Record<string, { url: string; integrity?: string }> }).tarballs?.[version];
  if (!source) return undefined;
  const res = await fetchUpstream(ctx, source.url, '*/*');
  if (res.status === 404) return undefined;
  if (!res.ok) throw new Refusal('upstream-unavailable', { detail: `upstream answered ${res.status} for the tarball` });
  const data = Buffer.from(await res.arrayBuffer());
  if (source.integrity && !ssri.checkData(data, source.integrity)) {
    throw new Refusal('upstream-unavailable', { detail: `the upstream tarball of ${name}@${version} fails its integrity check` });
  }
  const blob = await ctx.store.blobs.put(data);
  const integrity = ssri.fromData(data, { algorithms: ['sha512'] }).toString();
  await ctx.store.db.insertInto('versions').values({
    package: name, version, manifest: '{}', integrity, shasum: '', size: data.length, blob, published_by: null,
    published_at: ctx.clock.now(), unpublished_at: null, deprecated: null,
  }).onConflict((oc) => oc.columns(['package', 'version']).doNothing()).execute();
  return data;
}
