// The webhook delivery queue. A row waits until its receiver answers 2xx (then it is deleted) or its
// attempts run out (then it stays, `failed`, for the administrator). Only the oldest pending row of a
// hook and package is ever due, so one package's events reach a receiver in the order they happened.
import type { Db } from './store.ts';
import type { HookDeliveryRow } from './schema.ts';
import { DELIVERY_KEY_PATTERN } from './user-hooks.ts';

export type NewDelivery = Pick<HookDeliveryRow, 'hook' | 'package' | 'event' | 'delivery' | 'payload'>;

export async function enqueueDeliveries(db: Db, rows: NewDelivery[], now: number): Promise<void> {
  if (rows.length === 0) return;
  await db
    .insertInto('hook_deliveries')
    .values(
      rows.map((r) => ({
        ...r,
        state: 'pending' as const,
        attempts: 0,
        next_at: now,
        created_at: now,
        last_error: null,
      })),
    )
    .execute();
}

export type Due = Omit<HookDeliveryRow, 'id'> & { id: number };

const heads = (db: Db) =>
  db
    .selectFrom('hook_deliveries')
    .select((eb) => eb.fn.min('id').as('id'))
    .where('state', '=', 'pending')
    .groupBy(['hook', 'package']);

/** The head of each hook and package's queue, when it is due, oldest first; `busy` rows are left out. */
export async function dueDeliveries(db: Db, now: number, limit: number, busy: number[]): Promise<Due[]> {
  let q = db.selectFrom('hook_deliveries').selectAll().where('id', 'in', heads(db)).where('next_at', '<=', now);
  if (busy.length) q = q.where('id', 'not in', busy);
  return q.orderBy('id').limit(limit).execute() as Promise<Due[]>;
}

/** When the next head that is not `busy` falls due, if any (rows behind a head wait for it, not for a time). */
export async function nextDueAt(db: Db, busy: number[]): Promise<number | undefined> {
  let q = db
    .selectFrom('hook_deliveries')
    .select((eb) => eb.fn.min('next_at').as('at'))
    .where('id', 'in', heads(db));
  if (busy.length) q = q.where('id', 'not in', busy);
  const row = await q.executeTakeFirst();
  return row?.at ?? undefined;
}

/**
 * Claims a due row for this node until `until`: its `next_at` moves there, if it is still the `seenAt` this
 * node read. When several nodes read the same due row, one update wins; the others change nothing. A node
 * that dies while delivering leaves the row to fall due again at `until` (delivery is at least once).
 */
export async function claimDelivery(db: Db, id: number, seenAt: number, until: number): Promise<boolean> {
  const r = await db
    .updateTable('hook_deliveries')
    .set({ next_at: until })
    .where('id', '=', id)
    .where('state', '=', 'pending')
    .where('next_at', '=', seenAt)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** Gives a claimed row back, due now (this node stops before it could deliver it). */
export async function unclaimDelivery(db: Db, id: number, until: number, now: number): Promise<void> {
  await db
    .updateTable('hook_deliveries')
    .set({ next_at: now })
    .where('id', '=', id)
    .where('next_at', '=', until)
    .execute();
}

export async function deliveryDone(db: Db, id: number): Promise<void> {
  await db.deleteFrom('hook_deliveries').where('id', '=', id).execute();
}

export async function deliveryFailed(
  db: Db,
  id: number,
  attempts: number,
  error: string,
  nextAt: number | null,
): Promise<void> {
  await db
    .updateTable('hook_deliveries')
    .set({
      attempts,
      last_error: error.slice(0, 500),
      ...(nextAt === null ? { state: 'failed' as const } : { next_at: nextAt }),
    })
    .where('id', '=', id)
    .execute();
}

/** Rows of hooks no longer in the configuration: nobody will deliver them. (Hooks made over the API are
 *  not the configuration's: deleting one deletes its rows, store/user-hooks.ts.) */
export async function dropUnknownHooks(db: Db, known: string[]): Promise<Due[]> {
  let q = db
    .selectFrom('hook_deliveries')
    .selectAll()
    .where('state', '=', 'pending')
    .where('hook', 'not like', DELIVERY_KEY_PATTERN);
  if (known.length) q = q.where('hook', 'not in', known);
  const rows = (await q.execute()) as Due[];
  if (rows.length)
    await db
      .deleteFrom('hook_deliveries')
      .where(
        'id',
        'in',
        rows.map((r) => r.id),
      )
      .execute();
  return rows;
}
