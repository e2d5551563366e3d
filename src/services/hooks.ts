// Package events: counted for metrics and queued for the webhooks that may hear them: `hooks:` in the
// config, and those users made over npm's hooks API (store/user-hooks.ts). A hook hears about a package
// only if its owner may read it (policy's read rule, through visibleHead), decided when the event happens;
// a config hook without an owner reads as an anonymous caller, an API hook of a disabled user hears nothing.
// Queuing is one insert; delivery is hook-delivery.ts's, in the background, so a receiver never slows a write.
import { randomUUID } from 'node:crypto';
import { HOOK_EVENTS, type HookConfig, type HookEvent } from '../config/ops.ts';
import { anonymous, type Principal } from '../domain/principal.ts';
import { scopeOf } from '../domain/names.ts';
import { enqueueDeliveries, type NewDelivery } from '../store/hooks.ts';
import { deliveryKey, hooksWatching } from '../store/user-hooks.ts';
import type { Store } from '../store/store.ts';
import { userRowBy } from '../store/user-reads.ts';
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

/** A hook that may hear of a package: its key in the delivery queue, and what its payloads say of it. */
type Listener = { key: string; events: readonly HookEvent[]; hook: string; owner: string | null };

/** Who sees the event: the hooks that may, decided earlier (before an unpublish hides the package). */
export type Audience = Listener[];

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

/** The user `owner` (a name or an id) as a reader with all their rights; null if gone or disabled. */
async function ownerOf(ctx: Ctx, owner: string | number): Promise<Principal | null> {
  const row = await userRowBy(ctx.store.db, typeof owner === 'string' ? { name: owner } : { id: owner });
  if (!row || row.disabled) return null;
  return { user: toUser(row), credential: { type: 'password' } };
}

/** The hooks that may hear about `name` now, whatever the event. */
export async function hookAudience(ctx: Ctx, name: string): Promise<Audience> {
  const out: Audience = [];
  for (const h of ctx.config.hooks) {
    if (!matches(h, name)) continue;
    // A config hook's owner that is gone or disabled reads no more than anyone else.
    const reader = h.owner === null ? anonymous : ((await ownerOf(ctx, h.owner)) ?? anonymous);
    if (await visibleHead(ctx, reader, name)) out.push({ key: h.name, events: h.events, hook: h.name, owner: h.owner });
  }
  for (const h of await hooksWatching(ctx.store.db, name)) {
    const reader = await ownerOf(ctx, h.user_id);
    if (reader?.user && (await visibleHead(ctx, reader, name))) {
      out.push({ key: deliveryKey(h.id), events: HOOK_EVENTS, hook: h.id, owner: reader.user.name });
    }
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
  if (events.length === 0) return;
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
      for (const h of who) {
        if (!h.events.includes(e.event)) continue;
        const delivery = randomUUID();
        const payload = {
          id: delivery,
          event: e.event,
          type: 'package',
          name: e.name,
          version: e.version ?? null,
          change: e.change ?? {},
          actor: e.actor ?? null,
          hook: h.hook,
          hookOwner: h.owner ? { username: h.owner } : null,
          time: new Date(now).toISOString(),
        };
        rows.push({ hook: h.key, package: e.name, event: e.event, delivery, payload: JSON.stringify(payload) });
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
