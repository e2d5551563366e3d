// Stars: which users starred which packages. Callers re-render the packuments after a change.
import type { Db } from './store.ts';

export async function addStar(db: Db, name: string, userId: number): Promise<void> {
  await db
    .insertInto('stars')
    .values({ package: name, user_id: userId })
    .onConflict((oc) => oc.doNothing())
    .execute();
}

export async function removeStar(db: Db, name: string, userId: number): Promise<void> {
  await db.deleteFrom('stars').where('package', '=', name).where('user_id', '=', userId).execute();
}

export async function hasStar(db: Db, name: string, userId: number): Promise<boolean> {
  const row = await db
    .selectFrom('stars')
    .select('user_id')
    .where('package', '=', name)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return row !== undefined;
}

/** The names of the packages a user starred, sorted. */
export async function starredPackagesOf(db: Db, userName: string): Promise<string[]> {
  const rows = await db
    .selectFrom('stars')
    .innerJoin('users', 'users.id', 'stars.user_id')
    .select('stars.package')
    .where('users.name', '=', userName)
    .orderBy('stars.package')
    .execute();
  return rows.map((r) => r.package);
}
