// Change counters in the meta table. Every server process watches them (Store.counter) to drop what it
// cached: `revocations` for tokens and users, `packages` for anything the read path keeps in memory.
import { sql } from 'kysely';
import type { Counter, Db } from './store.ts';

let localWriteAt = 0;

/**
 * Moves a counter inside the caller's transaction, so watchers see it exactly when the change commits.
 * Each value is new (a count and a random suffix): this process's watchers read through the writing
 * connection and may see a bump before it commits, so a rolled-back bump must never be followed by a
 * committed one with the same value.
 */
export async function bumpCounter(db: Db, name: Counter): Promise<void> {
  localWriteAt = Date.now();
  await sql`UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) || '-' || lower(hex(randomblob(6))) WHERE key = ${name}`.execute(
    db,
  );
}

/** When this process last moved a counter: watchers check on every read for a while after, so this
 *  process's own writes are seen at once; otherwise a poll every few milliseconds is enough. */
export function lastLocalWrite(): number {
  return localWriteAt;
}
