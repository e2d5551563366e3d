// Accounts bound to a company OpenID Provider: one provider subject per account, its refresh token
// sealed with the data folder's key (secret-box.ts), and the groups last seen.
import type { Db } from './store.ts';
import type { SsoIdentityRow } from './schema.ts';

export async function identityBySubject(db: Db, issuer: string, subject: string): Promise<SsoIdentityRow | undefined> {
  return db
    .selectFrom('sso_identities')
    .selectAll()
    .where('issuer', '=', issuer)
    .where('subject', '=', subject)
    .executeTakeFirst();
}

export async function identityOfUser(db: Db, userId: number): Promise<SsoIdentityRow | undefined> {
  return db.selectFrom('sso_identities').selectAll().where('user_id', '=', userId).executeTakeFirst();
}

export async function saveIdentity(db: Db, row: SsoIdentityRow): Promise<void> {
  await db
    .insertInto('sso_identities')
    .values(row)
    .onConflict((oc) =>
      oc.column('user_id').doUpdateSet({
        issuer: row.issuer,
        subject: row.subject,
        refresh_token: row.refresh_token,
        groups: row.groups,
        signed_in_at: row.signed_in_at,
        refreshed_at: row.refreshed_at,
      }),
    )
    .execute();
}

export async function markRefreshed(
  db: Db,
  userId: number,
  set: { refresh_token: string | null; groups: string; refreshed_at: number },
): Promise<void> {
  await db.updateTable('sso_identities').set(set).where('user_id', '=', userId).execute();
}

/** Identities of enabled accounts holding a refresh token: the ones a refresh can follow. */
export async function refreshableIdentities(db: Db, issuer: string) {
  return db
    .selectFrom('sso_identities')
    .innerJoin('users', 'users.id', 'sso_identities.user_id')
    .select(['sso_identities.user_id', 'sso_identities.subject', 'sso_identities.refresh_token', 'users.name'])
    .where('sso_identities.issuer', '=', issuer)
    .where('users.disabled', '=', 0)
    .where('sso_identities.refresh_token', 'is not', null)
    .execute();
}
