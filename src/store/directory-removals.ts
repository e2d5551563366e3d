// Memberships a company directory took away, kept until it gives them back, so that a refusal can name
// the directory as the cause instead of a bare "not a maintainer".
import type { Db } from './store.ts';
import type { DirectoryRemovalRow } from './schema.ts';

export async function recordRemoval(db: Db, row: DirectoryRemovalRow): Promise<void> {
  await db
    .insertInto('directory_removals')
    .values(row)
    .onConflict((oc) => oc.columns(['user_id', 'org', 'team']).doUpdateSet({ source: row.source, at: row.at }))
    .execute();
}

/** The directory gave the membership back: the org-wide removal and, for a team, that team's. */
export async function clearRemoval(db: Db, userId: number, org: string, team: string | null): Promise<void> {
  await db
    .deleteFrom('directory_removals')
    .where('user_id', '=', userId)
    .where('org', '=', org)
    .where('team', 'in', team ? ['', team] : [''])
    .execute();
}

export async function latestRemoval(db: Db, userId: number, org: string): Promise<DirectoryRemovalRow | undefined> {
  return db
    .selectFrom('directory_removals')
    .selectAll()
    .where('user_id', '=', userId)
    .where('org', '=', org)
    .orderBy('at', 'desc')
    .executeTakeFirst();
}
