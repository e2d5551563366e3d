// Periodic jobs on several nodes (LDAP sync, company sign-in refresh): each run first takes the job's lease
// (store/leases.ts) for the job's interval, so one node runs it per interval; if that node dies, the lease
// lapses and another takes the job over.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { takeLease } from '../store/leases.ts';
import type { Store } from '../store/store.ts';
import type { Ctx } from './context.ts';

/** One holder name per open store: a process may hold several (tests run nodes side by side). */
const holders = new WeakMap<Store, string>();

export function holderOf(store: Store): string {
  let h = holders.get(store);
  if (!h) {
    h = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    holders.set(store, h);
  }
  return h;
}

/** Runs `job` if this node holds (or now takes) the lease `name` for the next `everyMs`; else does nothing. */
export async function whileLeased(
  ctx: Ctx,
  name: string,
  everyMs: number,
  job: () => Promise<unknown>,
): Promise<boolean> {
  if (!(await takeLease(ctx.store.db, name, holderOf(ctx.store), ctx.clock.now(), everyMs))) return false;
  await job();
  return true;
}
