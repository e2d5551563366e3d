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
import { payloadDocument } from './hook-payload.ts';
import { metricsOf } from './metrics.ts';
import { readCache } from './read-cache.ts';
import { visibleHead } from './read.ts';

export type PackageEvent = {
  event: HookEvent;
  name: string;
  version?: string;
  /** What changed, in npm's words (`dist-tag`, `maintainer`, `deprecated`, `user`); `version` is added. */
  change?: Record<string, unknown>;
  /** The user who made the change. */
  actor?: string | null;
};

/** A hook that may hear of a package: its key in the delivery queue, and what its payloads say of it. */
type Listener = { key: string; events: readonly HookEvent[]; hook: string; owner: string | null };

/** Who sees the event: the hooks that may, decided earlier (before an unpublish hides the package). */
export type Audience = Listener[];

/** npm's hook payloads say which envelope they are in; this is the one npm documents. */
const ENVELOPE_VERSION = '1.0.0';

/** Where the package document goes in a serialized envelope. */
const DOCUMENT_MARK = '\u0002tessera-document\u0002';
const MARK_JSON = JSON.stringify(DOCUMENT_MARK);

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

/** Whom a config hook reads as: its owner, or an anonymous caller (without one, or once the owner is gone or
 *  disabled: such a hook reads no more than anyone else). */
async function configReader(ctx: Ctx, h: HookConfig): Promise<Principal> {
  return h.owner === null ? anonymous : ((await ownerOf(ctx, h.owner)) ?? anonymous);
}

/** The hooks that may hear about `name` now, whatever the event. */
export async function hookAudience(ctx: Ctx, name: string): Promise<Audience> {
  const out: Audience = [];
  for (const h of ctx.config.hooks) {
    if (!matches(h, name)) continue;
    const reader = await configReader(ctx, h);
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
 * Whether a queued delivery about `name` may still go out: the hook's owner (an API hook's maker, `userId`,
 * or the config hook `config`'s) may read the package now. One who lost the right since the event (out of
 * the team or org, the package made restricted, the account disabled) hears nothing more of it, not even
 * what was queued while a receiver was down. A package gone since (unpublished) keeps the audience decided
 * while it stood.
 */
export async function stillHears(
  ctx: Ctx,
  hook: { userId: number } | { config: string },
  name: string,
): Promise<boolean> {
  const head = await readCache(ctx.store).head(name);
  if (!head || head.deletedAt !== null) return true;
  let reader: Principal | null;
  if ('userId' in hook) reader = await ownerOf(ctx, hook.userId);
  else {
    const h = ctx.config.hooks.find((c) => c.name === hook.config);
    reader = h ? await configReader(ctx, h) : null;
  }
  return reader !== null && (await visibleHead(ctx, reader, name)) !== undefined;
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
    const docs = new Map<string, Promise<string>>();
    // One document per package, holding every version these events are about, serialized once for every hook.
    const documentOf = (name: string) => {
      let d = docs.get(name);
      if (!d) {
        const about = events.flatMap((e) => (e.name === name && e.version ? [e.version] : []));
        d = payloadDocument(ctx, name, about).then(
          (doc) => JSON.stringify(doc),
          (err: Error) => {
            process.emitWarning(`webhooks: the document of ${name} was left out of a payload: ${err.message}`);
            return 'null';
          },
        );
        docs.set(name, d);
      }
      return d;
    };
    for (const e of events) {
      let who = audience ?? heard.get(e.name);
      if (!who) {
        who = await hookAudience(ctx, e.name);
        heard.set(e.name, who);
      }
      const hearing = who.filter((h) => h.events.includes(e.event));
      if (hearing.length === 0) continue;
      const doc = await documentOf(e.name);
      const change = e.version === undefined ? { ...e.change } : { version: e.version, ...e.change };
      for (const h of hearing) {
        const delivery = randomUUID();
        const owner = { username: h.owner };
        // npm's hook envelope, in npm's order (`version` is the envelope's, as npm's is); then ours.
        const payload = {
          event: e.event,
          name: e.name,
          type: 'package',
          version: ENVELOPE_VERSION,
          hookOwner: owner,
          payload: DOCUMENT_MARK,
          change,
          time: now,
          sender: owner,
          id: delivery,
          actor: e.actor ?? null,
          hook: h.hook,
        };
        rows.push({
          hook: h.key,
          package: e.name,
          event: e.event,
          delivery,
          payload: JSON.stringify(payload).replace(MARK_JSON, () => doc),
        });
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
