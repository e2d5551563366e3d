// Change counters in the meta table. Every server process watches them (Store.counter) to drop what it
// cached: `revocations` for tokens and users, `packages` for anything the read path keeps in memory.
import { PostgresAdapter, sql } from 'kysely';
import type { Counter, Db } from './store.ts';
import { BUMP_MARK } from './postgres/dialect.ts';
import { COUNTERS_CHANNEL } from './postgres/counter-watch.ts';

let localWriteAt = 0;

/**
 * Moves a counter inside the caller's transaction, so watchers see it exactly when the change commits.
 * Each value is new (a count and a random suffix): this process's watchers read through the writing
 * connection and may see a bump before it commits, so a rolled-back bump must never be followed by a
 * committed one with the same value.
 */
export async function bumpCounter(db: Db, name: Counter): Promise<void> {
  localWriteAt = Date.now();
  if (db.getExecutor().adapter instanceof PostgresAdapter) {
    // NOTIFY is delivered to other nodes at commit; this node's driver sees the bump itself (postgres/dialect.ts).
    await sql`${sql.raw(BUMP_MARK)} WITH b AS (UPDATE meta
      SET value = (split_part(value, '-', 1)::bigint + 1)::text || '-' || substr(md5(random()::text), 1, 12)
      WHERE key = ${name} RETURNING key, value)
      SELECT key, value, pg_notify(${COUNTERS_CHANNEL}, key || ' ' || value) FROM b`.execute(db);
    return;
  }
  await sql`UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) || '-' || lower(hex(randomblob(6))) WHERE key = ${name}`.execute(
    db,
  );
}

/** When this process last moved a counter: watchers check on every read for a while after, so this
 *  process's own writes are seen at once; otherwise a poll every few milliseconds is enough. */
export function lastLocalWrite(): number {
  return localWriteAt;
}
