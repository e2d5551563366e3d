// What garbage collection of tarballs must keep: every blob a live version or a young staged version names.
import type { Db } from './store.ts';

/** Blob keys named by a version not unpublished or a version staged after `stagedAfter`, read in one snapshot. */
export async function blobsInUse(db: Db, stagedAfter: number): Promise<Set<string>> {
  return db.transaction().execute(async (trx) => {
    const live = await trx.selectFrom('versions').select('blob').where('unpublished_at', 'is', null).execute();
    const staged = await trx.selectFrom('staged').select('blob').where('created_at', '>', stagedAfter).execute();
    return new Set([...live, ...staged].map((r) => r.blob));
  });
}
