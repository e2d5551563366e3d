// Row locks that serialize writers across nodes. On PostgreSQL (READ COMMITTED) a write transaction locks
// the row it decides on first (`SELECT … FOR UPDATE`), so every read after it sees what the previous
// writer committed. SQLite has one writer at a time already: there these are no-ops.
import { PostgresAdapter } from 'kysely';
import type { Db } from './store.ts';

export const onPostgres = (db: Db) => db.getExecutor().adapter instanceof PostgresAdapter;

/**
 * Locks a package's row until the caller's transaction ends: publishes, unpublishes, dist-tag, owner,
 * access and staged-version writes on one package run one after another. A package not made yet has no
 * row to lock: its first INSERT's primary key decides between racing creators (the loser gets a unique
 * violation, which the service turns into npm's answer or tries again).
 */
export async function lockPackage(trx: Db, name: string): Promise<void> {
  if (!onPostgres(trx)) return;
  await trx.selectFrom('packages').select('name').where('name', '=', name).forUpdate().execute();
}

/** Locks a user's row until the caller's transaction ends: count-then-insert checks (the token limit) hold. */
export async function lockUser(trx: Db, userId: number): Promise<void> {
  if (!onPostgres(trx)) return;
  await trx.selectFrom('users').select('id').where('id', '=', userId).forUpdate().execute();
}

/** Locks an organization's row until the caller's transaction ends: membership changes that must leave the org
 *  an owner (count-then-write) run one after another. */
export async function lockOrg(trx: Db, org: string): Promise<void> {
  if (!onPostgres(trx)) return;
  await trx.selectFrom('orgs').select('name').where('name', '=', org).forUpdate().execute();
}

/** Locks a team's row until the caller's transaction ends: a grant or a new member and the team's removal run one
 *  after another, so nothing is written for a team that is gone (and revived by a new team of its name). */
export async function lockTeam(trx: Db, org: string, team: string): Promise<void> {
  if (!onPostgres(trx)) return;
  await trx.selectFrom('teams').select('name').where('org', '=', org).where('name', '=', team).forUpdate().execute();
}
