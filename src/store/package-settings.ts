// The reads of a package's settings page and of `npm deprecate`'s document (services/web-settings.ts):
// here, not in store/packages.ts, while another engineer moves that aggregate; the lead may fold them in.
import type { Db } from './store.ts';

/** The package's maintainers' names, sorted. */
export async function maintainerNames(db: Db, name: string): Promise<string[]> {
  const rows = await db
    .selectFrom('maintainers')
    .innerJoin('users', 'users.id', 'maintainers.user_id')
    .select('users.name')
    .where('maintainers.package', '=', name)
    .orderBy('users.name')
    .execute();
  return rows.map((r) => r.name);
}

/** How many versions are published and not unpublished: a count, not rows, for a package of thousands of
 *  versions (one look at the versions_published index). */
export async function liveVersionCount(db: Db, name: string): Promise<number> {
  const r = await db
    .selectFrom('versions')
    .where('package', '=', name)
    .where('unpublished_at', 'is', null)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/** Every live version with its deprecation message (null when none). */
export async function liveVersionDeprecations(
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

/** The package's revision (undefined for an unknown package). */
export async function packageRev(db: Db, name: string): Promise<number | undefined> {
  return (await db.selectFrom('packages').select('rev').where('name', '=', name).executeTakeFirst())?.rev;
}
