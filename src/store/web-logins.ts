// Pending web logins (`npm login --auth-type=web` and the web OTP flow), keyed by a digest of their secret.
// `kind` moves login|adduser → done when user_id is set; otp → otp-approved → otp-issued (a proof's digest).
import type { Db } from './store.ts';
import type { WebLoginRow } from './schema.ts';

export async function insertWebLogin(db: Db, row: WebLoginRow): Promise<void> {
  await db.insertInto('web_logins').values(row).execute();
}

export async function deleteExpiredWebLogins(db: Db, now: number): Promise<void> {
  await db.deleteFrom('web_logins').where('expires_at', '<', now).execute();
}

export async function webLoginById(db: Db, id: string): Promise<WebLoginRow | undefined> {
  return db.selectFrom('web_logins').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function setWebLoginKind(db: Db, id: string, kind: string): Promise<void> {
  await db.updateTable('web_logins').set({ kind }).where('id', '=', id).execute();
}

/** The browser finished: the login is now this user's, for the CLI to collect. */
export async function setWebLoginUser(db: Db, id: string, userId: number): Promise<void> {
  await db.updateTable('web_logins').set({ user_id: userId }).where('id', '=', id).execute();
}

/** Moves an approved OTP login to issued with its proof's digest; false if another poll did it first. */
export async function issueOtpProof(db: Db, id: string, proofHash: string): Promise<boolean> {
  const r = await db
    .updateTable('web_logins')
    .set({ kind: 'otp-issued', proof: proofHash })
    .where('id', '=', id)
    .where('kind', '=', 'otp-approved')
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** Deletes the login; true for the one caller that deleted it (the token is handed out exactly once). */
export async function deleteWebLogin(db: Db, id: string): Promise<boolean> {
  const r = await db.deleteFrom('web_logins').where('id', '=', id).executeTakeFirst();
  return Number(r.numDeletedRows) === 1;
}

/** Uses up an issued, unexpired OTP proof of this user: true exactly once per proof. */
export async function consumeOtpProof(db: Db, userId: number, proofHash: string, now: number): Promise<boolean> {
  const r = await db
    .deleteFrom('web_logins')
    .where('kind', '=', 'otp-issued')
    .where('user_id', '=', userId)
    .where('proof', '=', proofHash)
    .where('expires_at', '>', now)
    .executeTakeFirst();
  return Number(r.numDeletedRows) === 1;
}
