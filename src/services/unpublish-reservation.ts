// After a whole unpublish the name is reserved for `unpublish.reserveFor` (npm: 24 hours), from everyone:
// its former maintainers and administrators too, as on npm's registry. The reservation is the package
// row's `deleted_at`, which only a whole unpublish (or that of its last version) sets.
import { canRead } from '../domain/policy.ts';
import { Refusal } from '../domain/reasons.ts';
import { packageFacts, packageHead } from '../store/packages.ts';
import { maintainerIdsOf, userRowById } from '../store/maintainers.ts';
import type { Db } from '../store/store.ts';
import { toUser } from './authenticate.ts';
import type { Ctx } from './context.ts';

/** When a name unpublished at `deletedAt` may be published again. */
export function reservedUntil(ctx: Ctx, deletedAt: number): number {
  return deletedAt + ctx.config.unpublish.reserveForMs;
}

/**
 * Refuses re-creating a name still reserved. A restricted package's reservation is told only to callers
 * who could read the package before it went; anyone else gets the plain not-found that the package
 * itself gave them, so the refusal never reveals that it existed.
 */
export async function refuseReservedName(
  trx: Db,
  ctx: Ctx,
  name: string,
  deletedAt: number,
  publisherId: number,
  now: number,
): Promise<void> {
  const until = reservedUntil(ctx, deletedAt);
  if (now >= until) return;
  const reserved = new Refusal('name-reserved', {
    package: name,
    unpublished: new Date(deletedAt).toISOString(),
    until: new Date(until).toISOString(),
  });
  const pkg = await packageHead(trx, name);
  if (!pkg) throw new Error(`${name} vanished inside its own publish`);
  if (pkg.access !== 'restricted') throw reserved;
  // The package as it was: its maintainers stay recorded until the name is published again.
  const facts = await packageFacts(trx, name, publisherId);
  const maintainerIds = await maintainerIdsOf(trx, name);
  const row = await userRowById(trx, publisherId);
  const before = { ...facts, exists: true, access: 'restricted' as const, maintainerIds };
  throw canRead({ user: toUser(row), credential: { type: 'password' } }, before) ? reserved : new Refusal('not-found');
}
