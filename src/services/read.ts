// Install-side reads: packuments and tarballs, visible only to callers who may read the package.
// Names that are not local may be proxied from the upstream registry (see proxy.ts).
import { Refusal } from '../domain/reasons.ts';
import { canRead } from '../domain/policy.ts';
import { tokenIdOf, type Principal } from '../domain/principal.ts';
import { packageFacts, type PackageHead } from '../store/packages.ts';
import { versionFromTarball } from '../domain/names.ts';
import type { Ctx } from './context.ts';
import { readCache } from './read-cache.ts';
import { proxyPackument, proxyTarball, mayProxy } from './proxy.ts';

export type Kind = 'full' | 'abbrev';

/** Resolves a package the caller may read: its head row, or a 404 that reveals nothing. */
export async function visibleHead(ctx: Ctx, principal: Principal, name: string): Promise<PackageHead | undefined> {
  const cache = readCache(ctx.store);
  const head = await cache.head(name);
  if (!head || head.deletedAt !== null) return undefined;
  if (head.access === 'public') return head;
  // A token's decisions are remembered until something they rest on changes (read-cache.ts).
  const tokenId = tokenIdOf(principal);
  const known = tokenId === undefined ? undefined : cache.peekReadable(tokenId, name);
  if (known !== undefined) return known ? head : undefined;
  const seq = cache.seq;
  const readable = canRead(principal, await packageFacts(ctx.store.db, name, principal.user?.id));
  if (tokenId !== undefined) cache.rememberReadable(tokenId, name, readable, seq);
  return readable ? head : undefined;
}

export async function readPackument(
  ctx: Ctx, principal: Principal, name: string, kind: Kind, base: string,
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
  const body = await cache.document(name, head.etag, kind, base);
  return { etag: head.etag, body, access: head.access };
}

export async function readTarball(ctx: Ctx, principal: Principal, name: string, filename: string): Promise<Buffer> {
  const version = versionFromTarball(name, filename);
  if (!version) throw new Refusal('not-found');
  const cache = readCache(ctx.store);
  const head = await visibleHead(ctx, principal, name);
  const local = head ?? (await cache.head(name));
  if (!head && local?.origin === 'local') throw new Refusal('not-found');
  const blob = await cache.tarballBlob(name, version);
  if (blob) {
    const data = await cache.blob(blob);
    if (data) return data;
  }
  if ((local === undefined || local.origin === 'proxy') && mayProxy(ctx, name)) {
    const data = await proxyTarball(ctx, name, version);
    if (data) return data;
  }
  throw new Refusal('not-found');
}
