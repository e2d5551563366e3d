// The reads of the OIDC exchange (services/oidc.ts) on packages and trust configurations: here, not in
// those aggregates' files, while another engineer moves them; the lead may fold them in.
import type { Db } from './store.ts';

/** Whether `name` is a package published here (not a proxied one) and not deleted. */
export async function isLocalPackage(db: Db, name: string): Promise<boolean> {
  const row = await db
    .selectFrom('packages')
    .select('name')
    .where('name', '=', name)
    .where('origin', '=', 'local')
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
  return row !== undefined;
}

/** Who made the trust configuration `id` (the exchanged token is theirs); it must exist, else this throws. */
export async function trustConfigCreator(db: Db, id: string): Promise<number> {
  return (await db.selectFrom('trust_configs').select('created_by').where('id', '=', id).executeTakeFirstOrThrow())
    .created_by;
}
