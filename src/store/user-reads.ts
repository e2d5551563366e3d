// Reads of user accounts that administration, webhooks, the explain endpoint and the importer make. They
// belong to the users aggregate; they live here while that aggregate's own file is being made elsewhere,
// and may be folded into it.
import type { Selectable } from 'kysely';
import type { Db } from './store.ts';
import type { UserRow } from './schema.ts';

export type UserListRow = Pick<
  Selectable<UserRow>,
  'name' | 'email' | 'admin' | 'disabled' | 'email_verified' | 'created_at'
>;

/** Every account, by name: what `tessera user list` and the admin page show. */
export async function userList(db: Db): Promise<UserListRow[]> {
  return db
    .selectFrom('users')
    .select(['name', 'email', 'admin', 'disabled', 'email_verified', 'created_at'])
    .orderBy('name')
    .execute();
}

/** One account's row, by name or by id, disabled or not. */
export async function userRowBy(
  db: Db,
  by: { name: string } | { id: number },
): Promise<Selectable<UserRow> | undefined> {
  const q = db.selectFrom('users').selectAll();
  return ('name' in by ? q.where('name', '=', by.name) : q.where('id', '=', by.id)).executeTakeFirst();
}
