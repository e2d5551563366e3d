// What every use case gets: the store, the configuration, the clock, and the audit log.
import type { Store } from '../store/store.ts';
import type { Config } from '../config/config.ts';
import type { Clock } from '../domain/clock.ts';

export type AuditEvent = {
  event: string;
  user?: string | null;
  tokenId?: string | null;
  reason?: string | null;
  detail?: Record<string, unknown>;
};

export type Ctx = {
  store: Store;
  config: Config;
  clock: Clock;
};

export async function audit(ctx: Ctx, e: AuditEvent): Promise<void> {
  await ctx.store.db.insertInto('audit').values({
    at: ctx.clock.now(),
    event: e.event,
    user_name: e.user ?? null,
    token_id: e.tokenId ?? null,
    reason: e.reason ?? null,
    detail: e.detail ? JSON.stringify(e.detail) : null,
  }).execute();
}
