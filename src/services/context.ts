// What every use case gets: the store, the configuration, the clock, and the audit log.
import type { Store } from '../store/store.ts';
import type { Config } from '../config/config.ts';
import type { Clock } from '../domain/clock.ts';
import { anonymousRefusalRow, auditInsert, setAuditDetail } from '../store/audit.ts';

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
  /** Where services write what an operator should see (the server's logger); absent in admin commands. */
  log?: { warn(details: object, message: string): void };
};

export async function audit(ctx: Ctx, e: AuditEvent): Promise<void> {
  await auditInsert(ctx.store.db, {
    at: ctx.clock.now(),
    event: e.event,
    user_name: e.user ?? null,
    token_id: e.tokenId ?? null,
    reason: e.reason ?? null,
    detail: e.detail ? JSON.stringify(e.detail) : null,
  });
}

/** Package names kept in one aggregated row: enough to see what a flood was aimed at, and bounded. */
const AGGREGATED_PACKAGES = 10;

/**
 * Refusals of anonymous callers cost them nothing to repeat, so they are counted, not logged one by one:
 * one `denied` row per reason and minute (at = the minute's start) with `detail.count` and the first
 * package names. A flood of anonymous writes adds at most one row per reason a minute.
 */
export async function auditAnonymousRefusal(ctx: Ctx, reason: string, pkg: string): Promise<void> {
  const minute = Math.floor(ctx.clock.now() / 60_000) * 60_000;
  await ctx.store.transaction(async (trx) => {
    const row = await anonymousRefusalRow(trx, minute, reason);
    if (!row) {
      await auditInsert(trx, {
        at: minute,
        event: 'denied',
        user_name: null,
        token_id: null,
        reason,
        detail: JSON.stringify({ anonymous: true, count: 1, packages: [pkg] }),
      });
      return;
    }
    const d = JSON.parse(row.detail ?? '{}') as { anonymous: true; count: number; packages: string[] };
    d.count += 1;
    if (d.packages.length < AGGREGATED_PACKAGES && !d.packages.includes(pkg)) d.packages.push(pkg);
    await setAuditDetail(trx, row.id, JSON.stringify(d));
  });
}
