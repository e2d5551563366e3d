// Accounts: the users table. Services turn a row into the request's User (authenticate.ts toUser).
import type { Insertable, Selectable } from 'kysely';
import type { Db } from './store.ts';
import type { UserRow } from './schema.ts';
import { bumpRevocations } from './tokens.ts';

/** A users row as stored (password hash, 2FA state and profile JSON included). */
export type UserRecord = Selectable<UserRow>;

export async function userByName(db: Db, name: string): Promise<UserRecord | undefined> {
  return db.selectFrom('users').selectAll().where('name', '=', name).executeTakeFirst();
}

export async function userById(db: Db, id: number): Promise<UserRecord | undefined> {
  return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
}

/** A user the caller knows exists (signed in, or named by a row): a missing one is a bug, and throws. */
export async function existingUser(db: Db, id: number): Promise<UserRecord> {
  return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

/** Whether an organization holds `name` (a user's name is also their scope). An orgs query, here for
 *  sign-up; the lead may fold it into the orgs store. */
export async function orgHoldsName(db: Db, name: string): Promise<boolean> {
  return (await db.selectFrom('orgs').select('name').where('name', '=', name).executeTakeFirst()) !== undefined;
}

export async function insertUser(db: Db, row: Insertable<UserRow>): Promise<UserRecord> {
  return db.insertInto('users').values(row).returningAll().executeTakeFirstOrThrow();
}

export async function setPasswordHash(db: Db, userId: number, hash: string, now: number): Promise<void> {
  await db.updateTable('users').set({ password_hash: hash, updated_at: now }).where('id', '=', userId).execute();
}

/** Replaces the hash only if it is still `old` (another sign-in may have re-hashed it first). */
export async function replacePasswordHash(
  db: Db,
  userId: number,
  old: string,
  hash: string,
  now: number,
): Promise<boolean> {
  const r = await db
    .updateTable('users')
    .set({ password_hash: hash, updated_at: now })
    .where('id', '=', userId)
    .where('password_hash', '=', old)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function setUserDisabled(db: Db, userId: number, disabled: boolean, now: number): Promise<void> {
  await db
    .updateTable('users')
    .set({ disabled: disabled ? 1 : 0, updated_at: now })
    .where('id', '=', userId)
    .execute();
}

/** Marks the address verified (by id or by name); the number of accounts changed. Leaves updated_at alone. */
export async function markEmailVerified(db: Db, user: { id: number } | { name: string }): Promise<number> {
  const q = db.updateTable('users').set({ email_verified: 1 });
  const r = await ('id' in user ? q.where('id', '=', user.id) : q.where('name', '=', user.name)).executeTakeFirst();
  return Number(r.numUpdatedRows);
}

export async function setEmailVerified(db: Db, userId: number, verified: number, now: number): Promise<void> {
  await db.updateTable('users').set({ email_verified: verified, updated_at: now }).where('id', '=', userId).execute();
}

/** A profile change: any of address, verified flag, password hash and profile JSON. */
export async function updateUser(
  db: Db,
  userId: number,
  changes: { email?: string; email_verified?: number; password_hash?: string; profile?: string },
  now: number,
): Promise<void> {
  await db
    .updateTable('users')
    .set({ ...changes, updated_at: now })
    .where('id', '=', userId)
    .execute();
}

/** The account's 2FA state as stored (JSON, services/two-factor.ts), null when off. */
export async function tfaOf(db: Db, userId: number): Promise<string | null> {
  return (await db.selectFrom('users').select('tfa').where('id', '=', userId).executeTakeFirstOrThrow()).tfa;
}

/**
 * Writes the 2FA state only if it is still `expected`, as read: false when another request (on any node)
 * changed it first. A code used twice at once is accepted by one write only; the other reads again.
 */
export async function replaceTfa(
  db: Db,
  userId: number,
  expected: string,
  tfa: string | null,
  now: number,
  invalidate: boolean,
): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const r = await trx
      .updateTable('users')
      .set({ tfa, updated_at: now })
      .where('id', '=', userId)
      .where('tfa', '=', expected)
      .executeTakeFirst();
    const replaced = Number(r.numUpdatedRows) === 1;
    if (replaced && invalidate) await bumpRevocations(trx);
    return replaced;
  });
}

/** Writes the 2FA state; `invalidate` moves the revocation counter in the same transaction, because cached
 *  principals carry the 2FA mode. */
export async function setTfa(db: Db, userId: number, tfa: string | null, now: number, invalidate: boolean) {
  await db.transaction().execute(async (trx) => {
    await trx.updateTable('users').set({ tfa, updated_at: now }).where('id', '=', userId).execute();
    if (invalidate) await bumpRevocations(trx);
  });
}
