// Counted login attempts, shared by every node (services/login-throttle.ts): one row per address or user
// name, counting within a window that starts again once it has passed.
import { sql } from 'kysely';
import type { Db } from './store.ts';

/**
 * Counts one attempt against `key` and returns the count with it; or null, counting nothing, when `limit`
 * attempts are counted in the window already. One statement (an upsert with its condition), so attempts
 * on several nodes at once never pass the limit together.
 */
export async function countAttempt(
  db: Db,
  key: string,
  now: number,
  windowMs: number,
  limit: number | null,
): Promise<number | null> {
  const expired = sql<boolean>`login_throttles.since <= ${now - windowMs}`;
  const set = {
    count: sql<number>`CASE WHEN ${expired} THEN 1 ELSE login_throttles.count + 1 END`,
    since: sql<number>`CASE WHEN ${expired} THEN ${now} ELSE login_throttles.since END`,
  };
  const row = await db
    .insertInto('login_throttles')
    .values({ key, count: 1, since: now })
    .onConflict((oc) => {
      const update = oc.column('key').doUpdateSet(set);
      return limit === null ? update : update.where((eb) => eb.or([expired, eb('login_throttles.count', '<', limit)]));
    })
    .returning('count')
    .executeTakeFirst();
  return row ? row.count : null;
}

/** Gives one counted attempt back (the password was right). */
export async function giveBackAttempt(db: Db, key: string): Promise<void> {
  await db
    .updateTable('login_throttles')
    .set((eb) => ({ count: eb('count', '-', 1) }))
    .where('key', '=', key)
    .where('count', '>', 0)
    .execute();
}

export async function forgetAttempts(db: Db, key: string): Promise<void> {
  await db.deleteFrom('login_throttles').where('key', '=', key).execute();
}

/** Rows whose window has passed: they count for nothing, and would otherwise pile up. */
export async function dropPastAttempts(db: Db, before: number): Promise<void> {
  await db.deleteFrom('login_throttles').where('since', '<=', before).execute();
}
