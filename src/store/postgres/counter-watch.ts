// Change counters on PostgreSQL, kept in this process's memory so that Store.counter stays a synchronous
// read on hot paths. Other nodes' bumps arrive by NOTIFY (sent at their commit) and, should a notification
// be missed or the LISTEN connection be down, by a poll of the meta table every 250 ms.
//
// Read-your-writes: from this process's bump until its commit (or a committed value at least as new), the
// counter reads differently on every call, so no cache keeps anything meanwhile. Values are "count-random"
// and the UPDATE holds the row's lock, so a committed count ≥ the bumped one means that bump has ended.
import pg from 'pg';
import { connectTimeoutMs } from './dialect.ts';

export const COUNTERS_CHANNEL = 'tessera_counters';
const POLL_MS = 250;
const RELISTEN_MS = 250;

type Pending = { name: string; count: number; endedAt: number | null };

const countOf = (value: string): number => Number.parseInt(value, 10) || 0;

export class CounterWatch {
  readonly #values = new Map<string, string>();
  readonly #pending = new Set<Pending>();
  #ticks = 0;
  #closed = false;
  #listener: pg.Client | null = null;
  #poller: NodeJS.Timeout | null = null;
  #polling = false;
  readonly #pool: pg.Pool;
  readonly #connectionString: string;

  constructor(pool: pg.Pool, connectionString: string) {
    this.#pool = pool;
    this.#connectionString = connectionString;
  }

  /** Loads the counters once, then follows them (LISTEN, and a poll as the fallback). */
  async start(): Promise<void> {
    await this.poll();
    this.#poller = setInterval(() => void this.poll(), POLL_MS);
    this.#poller.unref();
    await this.#listen().catch(() => this.#relisten());
  }

  read(name: string): string {
    const value = this.#values.get(name) ?? '0';
    for (const p of this.#pending) if (p.name === name) return `${value}~${++this.#ticks}`;
    return value;
  }

  /** This process moved `name` to `value` in a transaction that has not committed yet. */
  bumped(name: string, value: string): Pending {
    const p: Pending = { name, count: countOf(value), endedAt: null };
    this.#pending.add(p);
    return p;
  }

  /** The bump's transaction committed: its value is the counter's now, unless a newer one was seen. */
  committed(p: Pending, value: string): void {
    this.#pending.delete(p);
    this.seen(p.name, value);
  }

  /** The bump's transaction rolled back: nothing changed. */
  rolledBack(p: Pending): void {
    this.#pending.delete(p);
  }

  /** The commit's outcome is unknown (the connection failed): the next poll that starts after now ends it. */
  unknown(p: Pending): void {
    p.endedAt = Date.now();
  }

  /** A committed value, from a notification, a poll or this process's own commit. */
  seen(name: string, value: string): void {
    const current = this.#values.get(name);
    // A poll that began before a notification arrived may answer an older value: keep the newest count.
    if (current === undefined || countOf(value) >= countOf(current)) this.#values.set(name, value);
    for (const p of this.#pending) if (p.name === name && countOf(value) >= p.count) this.#pending.delete(p);
  }

  async poll(): Promise<void> {
    if (this.#polling || this.#closed) return;
    this.#polling = true;
    const startedAt = Date.now();
    try {
      const { rows } = await this.#pool.query<{ key: string; value: string }>('SELECT key, value FROM meta');
      for (const r of rows) this.seen(r.key, r.value);
      for (const p of this.#pending) if (p.endedAt !== null && p.endedAt < startedAt) this.#pending.delete(p);
    } catch {
      // The database is unreachable or closing: keep the last values, try again at the next tick.
    } finally {
      this.#polling = false;
    }
  }

  async #listen(): Promise<void> {
    const connectionTimeoutMillis = connectTimeoutMs(this.#connectionString);
    const client = new pg.Client({
      connectionString: this.#connectionString,
      connectionTimeoutMillis,
      keepAlive: true,
    });
    this.#listener = client;
    client.on('notification', (n) => {
      const [name, value] = (n.payload ?? '').split(' ');
      if (n.channel === COUNTERS_CHANNEL && name && value) this.seen(name, value);
    });
    client.on('error', () => this.#relisten());
    client.on('end', () => this.#relisten());
    await client.connect();
    await client.query(`LISTEN ${COUNTERS_CHANNEL}`);
    // What changed while no one listened.
    await this.poll();
  }

  #relisten(): void {
    const old = this.#listener;
    this.#listener = null;
    if (old) {
      old.removeAllListeners();
      old.on('error', () => {});
      void old.end().catch(() => {});
    }
    if (this.#closed || old === null) return;
    setTimeout(() => {
      if (!this.#closed && this.#listener === null) void this.#listen().catch(() => this.#relisten());
    }, RELISTEN_MS).unref();
  }

  /** True while a LISTEN connection is open (for tests and diagnostics). */
  get listening(): boolean {
    return this.#listener !== null;
  }

  /** Drops the LISTEN connection as a network failure would (tests). */
  dropListener(): void {
    this.#relisten();
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#poller) clearInterval(this.#poller);
    const l = this.#listener;
    this.#listener = null;
    if (l) {
      l.removeAllListeners();
      l.on('error', () => {});
      await l.end().catch(() => {});
    }
  }
}
