// A package's maintainers. Callers re-render the packuments after a change.
import type { Db } from './store.ts';
import type { Selectable } from 'kysely';
import type { UserRow } from './schema.ts';

export async function maintainerIdsOf(db: Db, name: string): Promise<number[]> {
  const rows = await db.selectFrom('maintainers').select('user_id').where('package', '=', name).execute();
  return rows.map((r) => r.user_id);
}

/** The maintainers' user names, sorted. */
export async function maintainerNamesOf(db: Db, name: string): Promise<string[]> {
  const rows = await db
    .selectFrom('maintainers')
    .innerJoin('users', 'users.id', 'maintainers.user_id')
    .select('users.name')
    .where('maintainers.package', '=', name)
    .orderBy('users.name')
    .execute();
  return rows.map((r) => r.name);
}

/** Makes `userIds` the package's maintainers, and nobody else. */
export async function replaceMaintainers(db: Db, name: string, userIds: number[]): Promise<void> {
  await db.deleteFrom('maintainers').where('package', '=', name).execute();
  if (userIds.length === 0) return;
  await db
    .insertInto('maintainers')
    .values(userIds.map((id) => ({ package: name, user_id: id })))
    .execute();
}

export async function addMaintainer(db: Db, name: string, userId: number): Promise<void> {
  await db.insertInto('maintainers').values({ package: name, user_id: userId }).execute();
}

export async function removeMaintainersOf(db: Db, name: string): Promise<void> {
  await db.deleteFrom('maintainers').where('package', '=', name).execute();
}

/** A user's row by id. A users query (store-accounts' aggregate), here for the name reservation's check;
 *  to be folded into the users store. */
export async function userRowById(db: Db, id: number): Promise<Selectable<UserRow>> {
  return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}
