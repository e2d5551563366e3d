// Install-side reads: packuments and tarballs, visible only to callers who may read the package.
// Names that are not local may be proxied from the upstream registry (see proxy.ts).
import { Refusal } from '../domain/reasons.ts';
import { canRead, decidesWithoutFacts, type PackageFacts } from '../domain/policy.ts';
import { anonymous, tokenIdOf, type Principal } from '../domain/principal.ts';
import { packageFacts, type PackageHead } from '../store/packages.ts';
import { versionFromTarball } from '../domain/names.ts';
import type { Ctx } from './context.ts';
import { readCache, type ReadCache } from './read-cache.ts';
import { proxyPackument, mayProxy, mayServeProxied } from './proxy.ts';
import { proxyTarball } from './proxy-tarball.ts';
import { tarballBody, type TarballBody } from './tarball-body.ts';

export type Kind = 'full' | 'abbrev';

/** The read rule (policy's `canRead`) from memory alone: true or false when memory is enough, else undefined.
 *  The install fast path and `visibleHead` both ask it, so they cannot disagree. */
export function readableInMemory(
  cache: ReadCache,
  principal: Principal | undefined,
  head: PackageHead,
): boolean | undefined {
  const p = principal ?? anonymous;
  if (decidesWithoutFacts(p, head.access)) return canRead(p, { name: head.name, exists: true, access: head.access });
  // A token's decisions are remembered until something they rest on changes (read-cache.ts).
  const tokenId = tokenIdOf(p);
  return tokenId === undefined ? undefined : cache.peekReadable(tokenId, head.name);
}

/** Resolves a package the caller may read: its head row, or undefined — for a missing and a hidden name alike. */
export async function visibleHead(ctx: Ctx, principal: Principal, name: string): Promise<PackageHead | undefined> {
  const cache = readCache(ctx.store);
  const head = await cache.head(name);
  if (!head || head.deletedAt !== null) return undefined;
  const known = readableInMemory(cache, principal, head);
  if (known !== undefined) return known ? head : undefined;
  const seq = cache.seq;
  const readable = canRead(principal, await packageFacts(ctx.store.db, name, principal.user?.id));
  const tokenId = tokenIdOf(principal);
  if (tokenId !== undefined) cache.rememberReadable(tokenId, name, readable, seq);
  return readable ? head : undefined;
}

/** The facts the policy needs about `name`, for this caller. What an anonymous caller is told rests on the
 *  package's head alone, which comes from memory: a private package and a missing name cost the same. */
export async function factsFor(
  ctx: Ctx,
  principal: Principal,
  name: string,
): Promise<PackageFacts & { head?: PackageHead }> {
  if (principal.user !== null) return packageFacts(ctx.store.db, name, principal.user.id);
  const head = await readCache(ctx.store).head(name);
  const exists = head !== undefined && head.deletedAt === null && head.origin === 'local';
  return { name, exists, access: exists ? head.access : 'public', maintainerIds: [], head };
}

/** The names among `names` the caller may read, in their order: every package listing filters through this. */
export async function readableNames(ctx: Ctx, principal: Principal, names: Iterable<string>): Promise<string[]> {
  const out: string[] = [];
  for (const name of names) if (await visibleHead(ctx, principal, name)) out.push(name);
  return out;
}

export async function readPackument(
  ctx: Ctx,
  principal: Principal,
  name: string,
  kind: Kind,
  base: string,
): Promise<{ etag: string; body: Buffer; access: string }> {
  const cache = readCache(ctx.store);
  let head = await visibleHead(ctx, principal, name);
  if (!head || head.origin === 'proxy') {
    const local = await cache.head(name);
    if (local && local.origin === 'local') throw new Refusal('not-found');
    if (!mayProxy(ctx, name)) throw new Refusal('not-found');
    head = await proxyPackument(ctx, name, local);
    if (!head) throw new Refusal('not-found');
  }
  let doc = await cache.document(name, head.etag, kind, base);
  if (!doc) {
    // Removed between its head and its document: an upstream copy purged by another process is read as a
    // name not kept (fetched again), anything else as missing.
    if (head.origin !== 'proxy' || !mayProxy(ctx, name)) throw new Refusal('not-found');
    const fresh = await proxyPackument(ctx, name, undefined);
    doc = fresh && (await cache.document(name, fresh.etag, kind, base));
    if (!doc) throw new Refusal('not-found');
  }
  return { etag: doc.etag, body: doc.body, access: head.access };
}

/** A tarball's bytes, a stream of them (large ones on S3), or a presigned URL to send the caller to; and the
 *  package's access, which says who may keep a copy (a proxied package is public). */
export async function readTarball(
  ctx: Ctx,
  principal: Principal,
  name: string,
  filename: string,
): Promise<{ data: TarballBody; access: string }> {
  const version = versionFromTarball(name, filename);
  if (!version) throw new Refusal('not-found');
  const cache = readCache(ctx.store);
  const head = await visibleHead(ctx, principal, name);
  const local = head ?? (await cache.head(name));
  const proxied = local === undefined || local.origin === 'proxy';
  // Not readable here and not to be fetched: a hidden package and a missing name stop at the same point.
  // A cached upstream copy counts as fetched: it goes with the right to fetch it.
  const proxiable = proxied && (await mayServeProxied(ctx, name));
  if (proxied ? !proxiable : !head) throw new Refusal('not-found');
  const access = head && !proxied ? head.access : 'public';
  const blob = await cache.tarballBlob(name, version);
  if (blob) {
    const data = await tarballBody(ctx.store, cache, blob);
    if (data) return { data, access };
  }
  if (proxiable) {
    const data = await proxyTarball(ctx, name, version, local);
    if (data) return { data, access };
  }
  throw new Refusal('not-found');
}
