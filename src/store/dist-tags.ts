// Writes of a package's dist-tags (reads: distTagsOf in packages.ts). Callers re-render the packuments after.
import type { Db } from './store.ts';

/** Points `tag` at `version`, moving it if it exists. */
export async function putDistTag(db: Db, name: string, tag: string, version: string): Promise<void> {
  await db
    .insertInto('dist_tags')
    .values({ package: name, tag, version })
    .onConflict((oc) => oc.columns(['package', 'tag']).doUpdateSet({ version }))
    .execute();
}

/** Removes one tag; false when the package had no such tag. */
export async function deleteDistTag(db: Db, name: string, tag: string): Promise<boolean> {
  const r = await db.deleteFrom('dist_tags').where('package', '=', name).where('tag', '=', tag).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

export async function hasDistTag(db: Db, name: string, tag: string): Promise<boolean> {
  const row = await db
    .selectFrom('dist_tags')
    .select('tag')
    .where('package', '=', name)
    .where('tag', '=', tag)
    .executeTakeFirst();
  return row !== undefined;
}

/** Removes the tags pointing at any of `versions` (they were unpublished). */
export async function removeDistTagsOn(db: Db, name: string, versions: string[]): Promise<void> {
  if (versions.length === 0) return;
  await db.deleteFrom('dist_tags').where('package', '=', name).where('version', 'in', versions).execute();
}

/** Removes every tag of a package (it was unpublished whole). */
export async function removeDistTagsOf(db: Db, name: string): Promise<void> {
  await db.deleteFrom('dist_tags').where('package', '=', name).execute();
}
