// Delivers queued webhook events (store/hooks.ts): a signed JSON POST per event, retried with exponential
// backoff until the receiver answers 2xx or the attempts run out, each outcome in the audit log.
// Retries are timed by the wall clock (Date.now), not ctx.clock: they wait for a real receiver, not for
// registry time. Delivery is at least once: a receiver dedupes by the `id` in the body. Hooks made over the
// API are read from their table at each delivery, so a changed endpoint or secret applies to what is queued.
import { createHmac } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { BASE_PLACEHOLDER_JSON } from '../domain/packument.ts';
import {
  claimDelivery,
  deliveryDone,
  deliveryFailed,
  dropUnknownHooks,
  dueDeliveries,
  nextDueAt,
  unclaimDelivery,
  type Due,
} from '../store/hooks.ts';
import { open } from '../store/secret-box.ts';
import { hookById, hookIdOf, recordDelivery } from '../store/user-hooks.ts';
import { audit, type Ctx } from './context.ts';
import { onQueued, stillHears } from './hooks.ts';
import { metricsOf } from './metrics.ts';
import { VERSION } from '../config/version.ts';

/** Rows queued by another process are found within this, even without a wake-up. */
const IDLE_POLL_MS = 30_000;
const MAX_BACKOFF_MS = 3_600_000;
const MAX_IN_FLIGHT = 32;
/** How long a claim outlives the delivery's timeout: past it, a row whose node died is due again. */
const CLAIM_SLACK_MS = 60_000;

/** `sha256=` and the hex HMAC-SHA256 of the body with the hook's secret (docs/operations.md). */
export function signature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

type Log = { warn(obj: object, msg: string): void };

/** Where and how a delivery goes: a config hook, or one made over the API (`id`, made by `userId`). */
type Target = { name: string; url: string; secret: string; id?: string; userId?: number };

export class HookDelivery {
  readonly #ctx: Ctx;
  readonly #log: Log;
  readonly #hooks: Map<string, Target>;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  /** Moves with every look and every wake-up: a look whose answer comes after a newer one is not used (on
   *  PostgreSQL two looks may answer out of order, and an old one would put the next delivery off). */
  #looks = 0;
  #stopped = true;
  /** Deliveries under way, by queue row: each goes its own pace, so a slow receiver holds up only itself. */
  readonly #busy = new Map<number, Promise<void>>();
  readonly #inflight = new Set<AbortController>();
  /** Where payloads' tarball URLs point without `publicUrl`: the address the server listens on. */
  #listening = 'http://localhost';

  constructor(ctx: Ctx, log: Log) {
    this.#ctx = ctx;
    this.#log = log;
    this.#hooks = new Map(ctx.config.hooks.map((h) => [h.name, { name: h.name, url: h.url, secret: h.secret }]));
  }

  /** The server's own address, once it listens: the base of payloads' URLs when `publicUrl` is not set. */
  listening(address: AddressInfo | string | null): void {
    if (!address || typeof address === 'string') return;
    const wildcard = address.address === '0.0.0.0' || address.address === '::';
    const host = wildcard ? hostname() : address.family === 'IPv6' ? `[${address.address}]` : address.address;
    this.#listening = `http://${host}:${address.port}`;
  }

  /** The payload as sent: its package document's URLs made absolute with this registry's base URL. */
  #body(payload: string): string {
    const base = (this.#ctx.config.publicUrl ?? this.#listening).replace(/\/+$/, '');
    return payload.split(BASE_PLACEHOLDER_JSON).join(JSON.stringify(base).slice(1, -1));
  }

  start(): void {
    this.#stopped = false;
    onQueued(this.#ctx.store, () => this.wake());
    void this.#dropUnknown()
      .catch(() => {})
      .then(() => this.wake());
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    onQueued(this.#ctx.store, undefined);
    clearTimeout(this.#timer);
    // What is in flight is abandoned, not lost: its row stays pending and goes out after the restart.
    for (const c of this.#inflight) c.abort();
    await this.#running;
    await Promise.all(this.#busy.values());
  }

  /** Looks for due deliveries now, or right after the look under way. */
  wake(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    clearTimeout(this.#timer);
    this.#looks++;
    this.#running = this.#pass()
      .catch((err: Error) => this.#log.warn({ err: err.message }, 'webhook delivery pass failed'))
      .finally(() => {
        this.#running = undefined;
        if (this.#again) {
          this.#again = false;
          this.wake();
        } else void this.#schedule();
      });
  }

  async #schedule(): Promise<void> {
    if (this.#stopped) return;
    const look = ++this.#looks;
    const at = await nextDueAt(this.#ctx.store.db, [...this.#busy.keys()]).catch(() => undefined);
    if (look !== this.#looks || this.#stopped) return;
    const wait = at === undefined ? IDLE_POLL_MS : Math.min(IDLE_POLL_MS, Math.max(0, at - Date.now()));
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.wake(), wait);
    this.#timer.unref();
  }

  async #dropUnknown(): Promise<void> {
    const dropped = await dropUnknownHooks(this.#ctx.store.db, [...this.#hooks.keys()]);
    for (const r of dropped) await this.#auditDropped(r);
  }

  async #auditDropped(r: Due): Promise<void> {
    await audit(this.#ctx, {
      event: 'hook-dropped',
      detail: { hook: r.hook, event: r.event, package: r.package, id: r.delivery },
    });
  }

  /** The config hook, or the API hook as it is now; undefined when it was deleted (its row is dropped). */
  async #target(d: Due): Promise<Target | undefined> {
    const id = hookIdOf(d.hook);
    if (id === undefined) return this.#hooks.get(d.hook);
    const row = await hookById(this.#ctx.store.db, id);
    if (row) {
      const secret = open(this.#ctx.store.dataDir, row.secret);
      return { name: d.hook, url: row.endpoint, secret, id, userId: row.user_id };
    }
    await deliveryDone(this.#ctx.store.db, d.id);
    await this.#auditDropped(d);
    return undefined;
  }

  /** Starts a delivery for every due head (one per hook and package) not already under way. */
  async #pass(): Promise<void> {
    if (this.#stopped || this.#busy.size >= MAX_IN_FLIGHT) return;
    const due = await dueDeliveries(this.#ctx.store.db, Date.now(), MAX_IN_FLIGHT - this.#busy.size, [
      ...this.#busy.keys(),
    ]);
    for (const d of due) {
      // Other nodes may have read the same row: only the one whose claim lands sends it.
      const until = Date.now() + this.#ctx.config.hookDelivery.timeoutMs + CLAIM_SLACK_MS;
      if (!(await claimDelivery(this.#ctx.store.db, d.id, d.next_at, until))) continue;
      const hook = await this.#target(d);
      if (!hook) continue;
      // Read access is asked again as it goes out: an owner who lost it since the event hears nothing more.
      const owner = hook.userId === undefined ? { config: hook.name } : { userId: hook.userId };
      if (!(await stillHears(this.#ctx, owner, d.package))) {
        await deliveryDone(this.#ctx.store.db, d.id);
        await this.#auditDropped(d);
        continue;
      }
      const done = this.#deliver(d, hook, until)
        .catch((err: Error) => this.#log.warn({ err: err.message, hook: d.hook }, 'webhook delivery failed'))
        .finally(() => {
          this.#busy.delete(d.id);
          this.wake();
        });
      this.#busy.set(d.id, done);
    }
  }

  async #deliver(d: Due, hook: Target, claimedUntil: number): Promise<void> {
    const { timeoutMs, attempts: maxAttempts, backoffMs } = this.#ctx.config.hookDelivery;
    const attempts = d.attempts + 1;
    const abort = new AbortController();
    this.#inflight.add(abort);
    let error: string | undefined;
    let status: number | undefined;
    const body = this.#body(d.payload);
    const signed = signature(hook.secret, body);
    try {
      const res = await fetch(hook.url, {
        method: 'POST',
        body,
        redirect: 'manual',
        headers: {
          'content-type': 'application/json',
          'user-agent': `tessera/${VERSION}`,
          'x-tessera-event': d.event,
          'x-tessera-delivery': d.delivery,
          'x-tessera-signature': signed,
          // The same, where npm's hook receivers look for it (hooks are made over npm's hooks API).
          'x-npm-signature': signed,
        },
        signal: AbortSignal.any([abort.signal, AbortSignal.timeout(timeoutMs)]),
      });
      status = res.status;
      await res.arrayBuffer().catch(() => undefined);
      if (status < 200 || status >= 300) error = `the receiver answered ${status}`;
    } catch (e) {
      error = (e as Error).name === 'TimeoutError' ? `no answer in ${timeoutMs} ms` : (e as Error).message;
    } finally {
      this.#inflight.delete(abort);
    }
    if (this.#stopped && error) {
      // Shutting down: the row is given back, for another node now or this one after the restart.
      return unclaimDelivery(this.#ctx.store.db, d.id, claimedUntil, Date.now());
    }
    if (hook.id) await recordDelivery(this.#ctx.store.db, hook.id, status ?? 0, Date.now());
    const detail = {
      hook: hook.name,
      event: d.event,
      package: d.package,
      id: d.delivery,
      attempts,
      status: status ?? null,
    };
    const metrics = metricsOf(this.#ctx.store);
    if (!error) {
      await deliveryDone(this.#ctx.store.db, d.id);
      metrics?.hookDeliveries.inc({ outcome: 'delivered' });
      return audit(this.#ctx, { event: 'hook-delivered', detail });
    }
    const last = attempts >= maxAttempts;
    const nextAt = last ? null : Date.now() + Math.min(MAX_BACKOFF_MS, backoffMs * 2 ** (attempts - 1));
    await deliveryFailed(this.#ctx.store.db, d.id, attempts, error, nextAt);
    metrics?.hookDeliveries.inc({ outcome: last ? 'failed' : 'retry' });
    await audit(this.#ctx, { event: last ? 'hook-failed' : 'hook-retry', reason: null, detail: { ...detail, error } });
    if (last) this.#log.warn(detail, `webhook ${hook.name}: gave up after ${attempts} attempts (${error})`);
  }
}
