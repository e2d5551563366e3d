// Periodic jobs on several nodes (LDAP sync, company sign-in refresh): each run first takes the job's lease
// (store/leases.ts) for the job's interval, so one node runs it per interval; if that node dies, the lease
// lapses and another takes the job over.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { takeLease } from '../store/leases.ts';
import type { Ctx } from './context.ts';

/** One holder name per registry context: a process may run several (tests run nodes side by side). */
const holders = new WeakMap<Ctx, string>();

function holderOf(ctx: Ctx): string {
  let h = holders.get(ctx);
  if (!h) {
    h = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    holders.set(ctx, h);
  }
  return h;
}

/** Runs `job` if this node holds (or now takes) the lease `name` for the next `everyMs`; else does nothing.
 *  The holder renews at once: a caller runs this once per interval (its own timer), not more often. */
export async function whileLeased(
  ctx: Ctx,
  name: string,
  everyMs: number,
  job: () => Promise<unknown>,
): Promise<boolean> {
  if (!(await takeLease(ctx.store.db, name, holderOf(ctx), ctx.clock.now(), everyMs))) return false;
  await job();
  return true;
}
