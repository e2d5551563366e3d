// Staged versions and the version numbers they hold. A package's version numbers live in version_claims,
// whose primary key both publish and stage insert into: that key, not a check, keeps them unique.
import type { Db } from './store.ts';
import type { StagedRow } from './schema.ts';

export type TakenBy = 'published' | 'staged';

/** Who holds `version` of `name` now: a published (or unpublished) version, a staged one, or nobody. */
export async function versionTakenBy(db: Db, name: string, version: string): Promise<TakenBy | null> {
  const published = await db
    .selectFrom('versions')
    .select('version')
    .where('package', '=', name)
    .where('version', '=', version)
    .executeTakeFirst();
  if (published) return 'published';
  const claim = await db
    .selectFrom('version_claims')
    .select('state')
    .where('package', '=', name)
    .where('version', '=', version)
    .executeTakeFirst();
  return claim?.state ?? null;
}

/** Takes a version number; throws the database's unique violation when it is taken. */
export async function claimVersion(trx: Db, name: string, version: string, state: TakenBy): Promise<void> {
  await trx.insertInto('version_claims').values({ package: name, version, state }).execute();
}

/** Deletes a staged row and gives its number back. Returns the row, or undefined if it was already gone. */
export async function dropStaged(trx: Db, id: string): Promise<StagedRow | undefined> {
  const row = await trx.deleteFrom('staged').where('id', '=', id).returningAll().executeTakeFirst();
  if (row) {
    await trx
      .deleteFrom('version_claims')
      .where('package', '=', row.package)
      .where('version', '=', row.version)
      .where('state', '=', 'staged')
      .execute();
  }
  return row;
}

/** Staged rows older than the TTL: dropped, numbers released. Optionally only one package's, or one version's. */
export async function dropExpired(
  trx: Db,
  cutoff: number,
  only: { name?: string; version?: string } = {},
): Promise<StagedRow[]> {
  let q = trx.selectFrom('staged').select('id').where('created_at', '<=', cutoff);
  if (only.name !== undefined) q = q.where('package', '=', only.name);
  if (only.version !== undefined) q = q.where('version', '=', only.version);
  const dropped: StagedRow[] = [];
  for (const { id } of await q.execute()) {
    const row = await dropStaged(trx, id);
    if (row) dropped.push(row);
  }
  return dropped;
}

/** Every staged version of a package, dropped (the package was unpublished). */
export async function dropStagedOf(trx: Db, name: string): Promise<StagedRow[]> {
  const dropped: StagedRow[] = [];
  for (const { id } of await trx.selectFrom('staged').select('id').where('package', '=', name).execute()) {
    const row = await dropStaged(trx, id);
    if (row) dropped.push(row);
  }
  return dropped;
}

export async function insertStaged(trx: Db, row: StagedRow): Promise<void> {
  await trx.insertInto('staged').values(row).execute();
}

export async function stagedById(db: Db, id: string): Promise<StagedRow | undefined> {
  return db.selectFrom('staged').selectAll().where('id', '=', id).executeTakeFirst();
}

export type StagedSummary = Pick<
  StagedRow,
  'id' | 'package' | 'version' | 'tag' | 'created_at' | 'actor' | 'actor_type' | 'access' | 'shasum' | 'integrity'
>;

/** Staged versions created after `since` (not expired), of one package or all; in no particular order. */
export async function stagedSince(db: Db, since: number, name?: string): Promise<StagedSummary[]> {
  let q = db
    .selectFrom('staged')
    .select(['id', 'package', 'version', 'tag', 'created_at', 'actor', 'actor_type', 'access', 'shasum', 'integrity'])
    .where('created_at', '>', since);
  if (name !== undefined) q = q.where('package', '=', name);
  return q.execute();
}

/** Deletes a staged row still younger than `since`, for its approval: false when it was already gone (approved,
 *  rejected or expired meanwhile). Its number stays claimed: publishClaim moves the claim. */
export async function takeStaged(trx: Db, id: string, since: number): Promise<boolean> {
  const gone = await trx.deleteFrom('staged').where('id', '=', id).where('created_at', '>', since).executeTakeFirst();
  return Number(gone.numDeletedRows) === 1;
}

/** Turns a staged version's claim on its number into a published one; false when there was no such claim. */
export async function publishClaim(trx: Db, name: string, version: string): Promise<boolean> {
  const moved = await trx
    .updateTable('version_claims')
    .set({ state: 'published' })
    .where('package', '=', name)
    .where('version', '=', version)
    .where('state', '=', 'staged')
    .executeTakeFirst();
  return Number(moved.numUpdatedRows) === 1;
}
