// Version rows and what hangs on them (provenance attachments, the blobs they name). Callers that change
// what a packument shows re-render it after (packages.ts rerender).
import type { Db } from './store.ts';
import type { VersionRow } from './schema.ts';

export async function insertVersion(db: Db, row: VersionRow): Promise<void> {
  await db.insertInto('versions').values(row).execute();
}

/** The versions of a package not unpublished, in no particular order. */
export async function liveVersionsOf(db: Db, name: string): Promise<string[]> {
  const rows = await db
    .selectFrom('versions')
    .select('version')
    .where('package', '=', name)
    .where('unpublished_at', 'is', null)
    .execute();
  return rows.map((r) => r.version);
}

/** How many versions of a package are not unpublished: a count, not rows (one look at versions_published). */
export async function liveVersionCount(db: Db, name: string): Promise<number> {
  const counts = await db
    .selectFrom('versions')
    .where('package', '=', name)
    .where('unpublished_at', 'is', null)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(counts.n);
}

/** Every version not unpublished with its deprecation message (null when none), in no particular order. */
export async function liveDeprecations(
  db: Db,
  name: string,
): Promise<{ version: string; deprecated: string | null }[]> {
  return db
    .selectFrom('versions')
    .select(['version', 'deprecated'])
    .where('package', '=', name)
    .where('unpublished_at', 'is', null)
    .execute();
}

export async function isLiveVersion(db: Db, name: string, version: string): Promise<boolean> {
  const row = await db
    .selectFrom('versions')
    .select('version')
    .where('package', '=', name)
    .where('version', '=', version)
    .where('unpublished_at', 'is', null)
    .executeTakeFirst();
  return row !== undefined;
}

/** Sets or (with null) clears a version's deprecation message. */
export async function setDeprecated(db: Db, name: string, version: string, message: string | null): Promise<void> {
  await db
    .updateTable('versions')
    .set({ deprecated: message })
    .where('package', '=', name)
    .where('version', '=', version)
    .execute();
}

/** Marks versions unpublished: their rows stay, so their numbers stay taken. */
export async function markUnpublished(db: Db, name: string, versions: string[], now: number): Promise<void> {
  for (const v of versions) {
    await db
      .updateTable('versions')
      .set({ unpublished_at: now })
      .where('package', '=', name)
      .where('version', '=', v)
      .execute();
  }
}

/** Deletes every version row of a package (a cached upstream copy giving way to a local package). */
export async function deleteVersionsOf(db: Db, name: string): Promise<void> {
  await db.deleteFrom('versions').where('package', '=', name).execute();
}

/** The blob of a version's tarball and whether the version was unpublished, or undefined if there is no such row. */
export async function tarballOf(
  db: Db,
  name: string,
  version: string,
): Promise<{ blob: string; unpublishedAt: number | null } | undefined> {
  const row = await db
    .selectFrom('versions')
    .select(['blob', 'unpublished_at'])
    .where('package', '=', name)
    .where('version', '=', version)
    .executeTakeFirst();
  return row && { blob: row.blob, unpublishedAt: row.unpublished_at };
}

export type Attachment = { name: string; contentType: string; data: string };

/** A version's provenance bundles (npm publish --provenance). */
export async function attachmentsOf(db: Db, name: string, version: string): Promise<Attachment[]> {
  const rows = await db
    .selectFrom('attachments')
    .select(['name', 'content_type', 'data'])
    .where('package', '=', name)
    .where('version', '=', version)
    .execute();
  return rows.map((r) => ({ name: r.name, contentType: r.content_type, data: r.data }));
}

export async function insertAttachment(db: Db, name: string, version: string, a: Attachment): Promise<void> {
  await db
    .insertInto('attachments')
    .values({ package: name, version, name: a.name, content_type: a.contentType, data: a.data })
    .execute();
}

/** The blobs a live version or a staged version created after `stagedSince` names. Call inside a transaction,
 *  so both are read in one snapshot. */
export async function blobsInUse(db: Db, stagedSince: number): Promise<Set<string>> {
  const live = await db.selectFrom('versions').select('blob').where('unpublished_at', 'is', null).execute();
  const staged = await db.selectFrom('staged').select('blob').where('created_at', '>', stagedSince).execute();
  return new Set([...live, ...staged].map((r) => r.blob));
}

/** Whether any version (unpublished ones too) or staged version names the blob. */
export async function blobIsNamed(db: Db, key: string): Promise<boolean> {
  const named =
    (await db.selectFrom('versions').select('blob').where('blob', '=', key).executeTakeFirst()) ??
    (await db.selectFrom('staged').select('blob').where('blob', '=', key).executeTakeFirst());
  return named !== undefined;
}
