// Hooks that users make over npm's hooks API. Their deliveries share the queue of config hooks
// (store/hooks.ts), keyed `user-hook:<id>` there so they never meet a config hook's name.
import { randomBytes } from 'node:crypto';
import type { Db } from './store.ts';
import type { HookRow } from './schema.ts';
import { scopeOf } from '../domain/names.ts';
import { lockUser } from './locks.ts';
import { orgRoleOf } from './orgs.ts';

export type HookType = HookRow['type'];

const PREFIX = 'user-hook:';

/** The `hook` of this hook's rows in hook_deliveries. */
export const deliveryKey = (id: string): string => `${PREFIX}${id}`;

/** The hook id a delivery row names, or undefined for a config hook. */
export function hookIdOf(key: string): string | undefined {
  return key.startsWith(PREFIX) ? key.slice(PREFIX.length) : undefined;
}

export const DELIVERY_KEY_PATTERN = `${PREFIX}%`;

export async function insertHook(
  db: Db,
  h: Pick<HookRow, 'user_id' | 'type' | 'name' | 'endpoint' | 'secret'>,
  now: number,
): Promise<HookRow> {
  const row: HookRow = {
    ...h,
    id: randomBytes(8).toString('hex'),
    created_at: now,
    updated_at: now,
    last_delivery: null,
    response_code: null,
  };
  await db.insertInto('hooks').values(row).execute();
  return row;
}

/** insertHook, unless the user has `limit` hooks already (then null): counted and written under the user's
 *  row lock (store/locks.ts), so creates racing on several nodes never pass the limit together. */
export async function insertHookWithinLimit(
  db: Db,
  h: Pick<HookRow, 'user_id' | 'type' | 'name' | 'endpoint' | 'secret'>,
  now: number,
  limit: number,
): Promise<HookRow | null> {
  return db.transaction().execute(async (trx) => {
    await lockUser(trx, h.user_id);
    if ((await countHooks(trx, h.user_id)) >= limit) return null;
    return insertHook(trx, h, now);
  });
}

export async function countHooks(db: Db, userId: number): Promise<number> {
  const r = await db
    .selectFrom('hooks')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('user_id', '=', userId)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/** A user's hooks, oldest first; `name` keeps those watching exactly that package, scope or owner. */
export async function listHooks(
  db: Db,
  userId: number,
  page: { name?: string; limit: number; offset: number },
): Promise<{ rows: HookRow[]; total: number }> {
  let q = db.selectFrom('hooks').where('user_id', '=', userId);
  if (page.name !== undefined) q = q.where('name', '=', page.name);
  const total = Number((await q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
  const rows = await q.selectAll().orderBy('created_at').orderBy('id').limit(page.limit).offset(page.offset).execute();
  return { rows, total };
}

/** The hook `id`, when `userId` owns it (or any owner's, without `userId`). */
export async function hookById(db: Db, id: string, userId?: number): Promise<HookRow | undefined> {
  let q = db.selectFrom('hooks').selectAll().where('id', '=', id);
  if (userId !== undefined) q = q.where('user_id', '=', userId);
  return q.executeTakeFirst();
}

export async function updateHook(db: Db, id: string, endpoint: string, secret: string, now: number): Promise<void> {
  await db.updateTable('hooks').set({ endpoint, secret, updated_at: now }).where('id', '=', id).execute();
}

/** Deletes the hook and whatever of its deliveries still waits: nobody would sign them any more. */
export async function deleteHook(db: Db, id: string): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx.deleteFrom('hook_deliveries').where('hook', '=', deliveryKey(id)).execute();
    await trx.deleteFrom('hooks').where('id', '=', id).execute();
  });
}

/** The hooks watching `name`: on the package itself, on its scope, or on one of its maintainers. */
export async function hooksWatching(db: Db, name: string): Promise<HookRow[]> {
  const scope = scopeOf(name);
  const owners = db
    .selectFrom('maintainers')
    .innerJoin('users', 'users.id', 'maintainers.user_id')
    .select('users.name')
    .where('maintainers.package', '=', name);
  return db
    .selectFrom('hooks')
    .selectAll()
    .where((eb) =>
      eb.or([
        eb.and([eb('type', '=', 'package'), eb('name', '=', name)]),
        ...(scope ? [eb.and([eb('type', '=', 'scope'), eb('name', '=', scope)])] : []),
        eb.and([eb('type', '=', 'owner'), eb('name', 'in', owners)]),
      ]),
    )
    .orderBy('id')
    .execute();
}

/** What the last delivery attempt got: a status, or 0 when the receiver never answered. */
export async function recordDelivery(db: Db, id: string, status: number, at: number): Promise<void> {
  await db.updateTable('hooks').set({ last_delivery: at, response_code: status }).where('id', '=', id).execute();
}

/** The organization owning `scope` (`@acme`), and the role `userId` has in it. */
export async function scopeOrg(
  db: Db,
  scope: string,
  userId: number,
): Promise<{ name: string; role: string | null } | null> {
  const org = await db.selectFrom('orgs').select('name').where('name', '=', scope.slice(1)).executeTakeFirst();
  if (!org) return null;
  return { name: org.name, role: await orgRoleOf(db, org.name, userId) };
}
