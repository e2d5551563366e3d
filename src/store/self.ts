// What the web pages show a signed-in person about themselves (services/web-self.ts): reads of the audit
// log and of org memberships, here while other engineers move those aggregates; the lead may fold them in.
import type { Db } from './store.ts';

/** The user's newest audit rows of these events that carry a reason, newest first. */
export async function refusalsOf(db: Db, userName: string, events: readonly string[], limit: number) {
  return db
    .selectFrom('audit')
    .select(['at', 'reason', 'token_id', 'detail'])
    .where('user_name', '=', userName)
    .where('event', 'in', events)
    .where('reason', 'is not', null)
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
}

/** The organizations the user is a member of, with the role as stored, by org name. */
export async function membershipsOf(db: Db, userId: number): Promise<{ org: string; role: string }[]> {
  return db.selectFrom('org_members').select(['org', 'role']).where('user_id', '=', userId).orderBy('org').execute();
}
