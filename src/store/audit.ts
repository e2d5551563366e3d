// The audit log: one row per event, `detail` as JSON text. Rows are only added, and changed only to count
// repeats of an aggregated refusal (services/context.ts).
import type { Selectable } from 'kysely';
import type { Db } from './store.ts';
import type { AuditRow } from './schema.ts';

export type AuditEntryRow = Selectable<AuditRow>;
export type NewAuditEntry = Omit<AuditRow, 'id'>;

export async function auditInsert(db: Db, e: NewAuditEntry): Promise<void> {
  await db.insertInto('audit').values(e).execute();
}

/** The aggregated row of anonymous refusals for this reason and minute, if one was started. */
export async function anonymousRefusalRow(
  db: Db,
  minute: number,
  reason: string,
): Promise<{ id: number; detail: string | null } | undefined> {
  return db
    .selectFrom('audit')
    .select(['id', 'detail'])
    .where('at', '=', minute)
    .where('event', '=', 'denied')
    .where('reason', '=', reason)
    .where('user_name', 'is', null)
    .where('token_id', 'is', null)
    .where('detail', 'like', '{"anonymous":true,%')
    .executeTakeFirst();
}

export async function setAuditDetail(db: Db, id: number, detail: string): Promise<void> {
  await db.updateTable('audit').set({ detail }).where('id', '=', id).execute();
}

export type AuditQuery = {
  user?: string;
  event?: string;
  reason?: string;
  /** From this time on (epoch ms, inclusive). */
  since?: number;
  /** Before this time (epoch ms). */
  until?: number;
  order: 'newest-first' | 'oldest-first';
  limit?: number;
};

export async function auditEntries(db: Db, f: AuditQuery): Promise<AuditEntryRow[]> {
  let q = db
    .selectFrom('audit')
    .selectAll()
    .orderBy('id', f.order === 'newest-first' ? 'desc' : 'asc');
  if (f.limit !== undefined) q = q.limit(f.limit);
  if (f.user) q = q.where('user_name', '=', f.user);
  if (f.event) q = q.where('event', '=', f.event);
  if (f.reason) q = q.where('reason', '=', f.reason);
  if (f.since !== undefined) q = q.where('at', '>=', f.since);
  if (f.until !== undefined) q = q.where('at', '<', f.until);
  return q.execute();
}
