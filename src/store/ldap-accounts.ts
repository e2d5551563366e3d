// Accounts an LDAP sign-in made (services/ldap-sign-in.ts): the entry's DN, when the directory last
// vouched for it, and when it stopped (the account was then disabled).
import type { Db } from './store.ts';
import type { LdapAccountRow } from './schema.ts';

export async function ldapAccountOf(db: Db, userId: number): Promise<LdapAccountRow | undefined> {
  return db.selectFrom('ldap_accounts').selectAll().where('user_id', '=', userId).executeTakeFirst();
}

export async function insertLdapAccount(db: Db, row: LdapAccountRow): Promise<void> {
  await db.insertInto('ldap_accounts').values(row).execute();
}

/** What the directory said last: its DN and the time; `removed_at` set or cleared when given. */
export async function updateLdapAccount(
  db: Db,
  userId: number,
  set: Pick<LdapAccountRow, 'synced_at'> & Partial<Pick<LdapAccountRow, 'dn' | 'removed_at'>>,
): Promise<void> {
  await db.updateTable('ldap_accounts').set(set).where('user_id', '=', userId).execute();
}

/** The enabled directory accounts' users (the ones the directory has not removed), by id. */
export async function liveLdapAccounts(db: Db): Promise<{ id: number; name: string; disabled: number }[]> {
  return db
    .selectFrom('ldap_accounts')
    .innerJoin('users', 'users.id', 'ldap_accounts.user_id')
    .select(['users.id', 'users.name', 'users.disabled'])
    .where('ldap_accounts.removed_at', 'is', null)
    .orderBy('users.id')
    .execute();
}
