// Package events: counted for metrics and queued for the webhooks (`hooks:` in the config) that may hear
// them. A hook hears about a package only if its owner may read it (policy's read rule, through
// visibleHead), decided when the event happens; a hook without an owner reads as an anonymous caller.
// Queuing is one insert; delivery is hook-delivery.ts's, in the background, so a receiver never slows a write.
import { randomUUID } from 'node:crypto';
import type { HookConfig, HookEvent } from '../config/ops.ts';
import { anonymous, type Principal } from '../domain/principal.ts';
import { scopeOf } from '../domain/names.ts';
import { enqueueDeliveries, type NewDelivery } from '../store/hooks.ts';
import type { Store } from '../store/store.ts';
import { toUser } from './authenticate.ts';
import type { Ctx } from './context.ts';
import { metricsOf } from './metrics.ts';
import { visibleHead } from './read.ts';

export type PackageEvent = {
  event: HookEvent;
  name: string;
  version?: string;
  /** What changed, in the event's own words: the tag, the maintainer, the deprecation message, the stage id. */
  change?: Record<string, unknown>;
  /** The user who made the change. */
  actor?: string | null;
};

/** Who sees the event: the hooks named, decided earlier (before an unpublish hides the package). */
export type Audience = string[];

const workers = new WeakMap<Store, () => void>();

/** hook-delivery.ts registers how to wake it when something is queued. */
export function onQueued(store: Store, wake: (() => void) | undefined): void {
  if (wake) workers.set(store, wake);
  else workers.delete(store);
}

function matches(h: HookConfig, name: string): boolean {
  if (h.package !== null) return h.package === name;
  if (h.scope !== null) return scopeOf(name) === h.scope;
  return true;
}

async function ownerOf(ctx: Ctx, h: HookConfig): Promise<Principal> {
  if (h.owner === null) return anonymous;
  const row = await ctx.store.db.selectFrom('users').selectAll().where('name', '=', h.owner).executeTakeFirst();
  // An owner that is gone or disabled reads no more than anyone else.
  if (!row || row.disabled) return anonymous;
  return { user: toUser(row), credential: { type: 'password' } };
}

/** The hooks that may hear about `name` now, whatever the event. */
export async function hookAudience(ctx: Ctx, name: string): Promise<Audience> {
  const out: Audience = [];
  for (const h of ctx.config.hooks) {
    if (matches(h, name) && (await visibleHead(ctx, await ownerOf(ctx, h), name))) out.push(h.name);
  }
  return out;
}

/**
 * Records events that happened (their write is committed): counts them and queues a delivery for each
 * hook that listens and may read the package. Never throws: the write it reports has already succeeded.
 */
export async function emit(ctx: Ctx, events: PackageEvent[], audience?: Audience): Promise<void> {
  const metrics = metricsOf(ctx.store);
  for (const e of events) metrics?.packageEvents.inc({ event: e.event.slice('package:'.length) });
  if (ctx.config.hooks.length === 0 || events.length === 0) return;
  try {
    const now = ctx.clock.now();
    const rows: NewDelivery[] = [];
    const heard = new Map<string, Audience>();
    for (const e of events) {
      let who = audience ?? heard.get(e.name);
      if (!who) {
        who = await hookAudience(ctx, e.name);
        heard.set(e.name, who);
      }
      for (const h of ctx.config.hooks) {
        if (!who.includes(h.name) || !h.events.includes(e.event)) continue;
        const delivery = randomUUID();
        const payload = {
          id: delivery,
          event: e.event,
          type: 'package',
          name: e.name,
          version: e.version ?? null,
          change: e.change ?? {},
          actor: e.actor ?? null,
          hook: h.name,
          hookOwner: h.owner ? { username: h.owner } : null,
          time: new Date(now).toISOString(),
        };
        rows.push({ hook: h.name, package: e.name, event: e.event, delivery, payload: JSON.stringify(payload) });
      }
    }
    await enqueueDeliveries(ctx.store.db, rows, Date.now());
    if (rows.length) workers.get(ctx.store)?.();
  } catch (err) {
    process.emitWarning(
      `webhooks: events for ${events.map((e) => e.name).join(', ')} were not queued: ${(err as Error).message}`,
    );
  }
}
