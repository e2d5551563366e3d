// Change counters in the meta table. Every server process watches them (Store.counter) to drop what it
// cached: `revocations` for tokens and users, `packages` for anything the read path keeps in memory.
import { sql } from 'kysely';
import type { Counter, Db } from './store.ts';

/** Moves a counter inside the caller's transaction, so watchers see it exactly when the change commits. */
export async function bumpCounter(db: Db, name: Counter): Promise<void> {
  await sql`UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE key = ${name}`.execute(db);
}
