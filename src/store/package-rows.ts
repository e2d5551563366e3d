// Writes of a package's own row: made by its first publish, started again after a whole unpublish or over
// a cached upstream copy, its settings, its deletion. Callers re-render the packuments after (packages.ts).
import type { Db } from './store.ts';
import { scopeOf } from '../domain/names.ts';

export type Access = 'public' | 'restricted';
export type PackageSettings = { access?: Access; mfa?: 'none' | 'publish' | 'automation' };

/** A new local package, not rendered yet. */
export async function insertLocalPackage(db: Db, name: string, access: Access, now: number): Promise<void> {
  await db
    .insertInto('packages')
    .values({
      name,
      scope: scopeOf(name) ?? null,
      access,
      origin: 'local',
      rev: 0,
      created_at: now,
      modified_at: now,
      deleted_at: null,
      etag: '""',
      fetched_at: null,
      meta: null,
    })
    .execute();
}

/** The `packages` row of an upstream copy of `name` (public, served from the cache), fetched at `at`. */
export function proxiedPackageRow(name: string, etag: string, meta: string, at: number) {
  return {
    name,
    scope: scopeOf(name) ?? null,
    access: 'public' as const,
    origin: 'proxy' as const,
    rev: 1,
    created_at: at,
    modified_at: at,
    deleted_at: null,
    etag,
    fetched_at: at,
    meta,
  };
}

/** A wholly unpublished or only cached name made a live local package again, created now. */
export async function restartLocalPackage(db: Db, name: string, access: Access, now: number): Promise<void> {
  await db
    .updateTable('packages')
    .set({ deleted_at: null, access, created_at: now, origin: 'local', fetched_at: null, meta: null })
    .where('name', '=', name)
    .execute();
}

/** `npm access set`: who may read the package, and when publishing it needs a second factor. */
export async function setPackageSettings(db: Db, name: string, change: PackageSettings): Promise<void> {
  await db.updateTable('packages').set(change).where('name', '=', name).execute();
}

/** Marks the package unpublished whole; `deleted_at` is also its name's reservation (unpublish-reservation.ts). */
export async function markPackageDeleted(db: Db, name: string, now: number): Promise<void> {
  await db.updateTable('packages').set({ deleted_at: now }).where('name', '=', name).execute();
}
