// Kysely's PostgreSQL dialect over a bounded pg.Pool, with one addition: the driver sees each counter bump
// (counters.ts) and tells the CounterWatch when the bump's transaction commits or rolls back, which is what
// lets this process read its own writes at once.
import pg from 'pg';
import {
  PostgresDialect,
  type CompiledQuery,
  type DatabaseConnection,
  type Driver,
  type QueryResult,
  type TransactionSettings,
} from 'kysely';
import type { CounterWatch } from './counter-watch.ts';
import { connectionFailure, StoreUnavailable } from '../outage.ts';

/** Marks the statement counters.ts sends for a bump, so the driver can recognise it. */
export const BUMP_MARK = '/* tessera:bump */';

const POOL_SIZE = 10;
const STATEMENT_TIMEOUT_MS = 30_000;
const INT8 = 20;
const NUMERIC = 1700;

/** BIGINT and NUMERIC (count(*), sums, times in ms) come back as numbers, as they do from SQLite. */
const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === INT8 || oid === NUMERIC
      ? (v: string) => Number(v)
      : pg.types.getTypeParser(oid, format as 'text')) as pg.CustomTypesConfig['getTypeParser'],
};

/** A server that accepts connections and never answers (a partition, a hung host) must not hold requests: */
const CONNECT_TIMEOUT_MS = 10_000;

/** libpq's `connect_timeout` (seconds) when the URL sets it, else CONNECT_TIMEOUT_MS. */
export function connectTimeoutMs(connectionString: string): number {
  const seconds = Number(new URL(connectionString).searchParams.get('connect_timeout'));
  return seconds > 0 ? seconds * 1000 : CONNECT_TIMEOUT_MS;
}

export function openPool(connectionString: string): pg.Pool {
  // On the connection only: the pool's own option would also fail requests that wait for a free connection.
  const connectionTimeoutMillis = connectTimeoutMs(connectionString);
  class TimedClient extends pg.Client {
    constructor(config?: pg.ClientConfig) {
      super({ ...config, connectionTimeoutMillis });
    }
  }
  const pool = new pg.Pool({
    connectionString,
    Client: TimedClient,
    // Notices a peer that went away while a connection sat idle in the pool.
    keepAlive: true,
    max: POOL_SIZE,
    statement_timeout: STATEMENT_TIMEOUT_MS,
    // A connection that sits in an open transaction would hold row locks other nodes wait for.
    idle_in_transaction_session_timeout: STATEMENT_TIMEOUT_MS,
    types,
  });
  // An idle connection the server dropped must not crash the process; the pool replaces it on next use.
  pool.on('error', () => {});
  return pool;
}

type Bump = ReturnType<CounterWatch['bumped']>;

/** Rethrows a failure of the connection itself as the database being unavailable (a 503 at the HTTP edge). */
const outage = (e: unknown): never => {
  throw connectionFailure(e) ? new StoreUnavailable('database', e) : e;
};

class WatchedConnection implements DatabaseConnection {
  inTransaction = false;
  readonly bumps: { bump: Bump; value: string }[] = [];
  readonly inner: DatabaseConnection;
  readonly watch: CounterWatch;
  constructor(inner: DatabaseConnection, watch: CounterWatch) {
    this.inner = inner;
    this.watch = watch;
  }
  async executeQuery<R>(q: CompiledQuery): Promise<QueryResult<R>> {
    const result = await this.inner.executeQuery<R>(q).catch(outage);
    if (q.sql.startsWith(BUMP_MARK)) {
      for (const row of result.rows as { key: string; value: string }[]) {
        const bump = this.watch.bumped(row.key, row.value);
        if (this.inTransaction) this.bumps.push({ bump, value: row.value });
        else this.watch.committed(bump, row.value);
      }
    }
    return result;
  }
  streamQuery<R>(q: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    return this.inner.streamQuery<R>(q, chunkSize);
  }
}

class WatchedDriver implements Driver {
  readonly inner: Driver;
  readonly watch: CounterWatch;
  constructor(inner: Driver, watch: CounterWatch) {
    this.inner = inner;
    this.watch = watch;
  }
  init = () => this.inner.init();
  destroy = () => this.inner.destroy();
  acquireConnection = async () => {
    // Whatever the server said (refused, shutting down, not accepting connections), no connection is an outage.
    const inner = await this.inner.acquireConnection().catch((e: unknown) => {
      throw new StoreUnavailable('database', e);
    });
    return new WatchedConnection(inner, this.watch);
  };
  releaseConnection = (c: DatabaseConnection) => this.inner.releaseConnection((c as WatchedConnection).inner);
  async beginTransaction(c: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    await this.inner.beginTransaction((c as WatchedConnection).inner, settings).catch(outage);
    (c as WatchedConnection).inTransaction = true;
  }
  async commitTransaction(c: DatabaseConnection): Promise<void> {
    await this.#end(c as WatchedConnection, true);
  }
  async rollbackTransaction(c: DatabaseConnection): Promise<void> {
    await this.#end(c as WatchedConnection, false);
  }
  async #end(c: WatchedConnection, commit: boolean): Promise<void> {
    const bumps = c.bumps.splice(0);
    c.inTransaction = false;
    try {
      if (commit) await this.inner.commitTransaction(c.inner);
      else await this.inner.rollbackTransaction(c.inner);
    } catch (e) {
      // Whether the commit happened is unknown: let the next poll decide.
      for (const b of bumps) this.watch.unknown(b.bump);
      outage(e);
    }
    for (const b of bumps) {
      if (commit) this.watch.committed(b.bump, b.value);
      else this.watch.rolledBack(b.bump);
    }
  }
}

export class WatchedPostgresDialect extends PostgresDialect {
  readonly #watch: CounterWatch;
  constructor(pool: pg.Pool, watch: CounterWatch) {
    super({ pool });
    this.#watch = watch;
  }
  override createDriver(): Driver {
    return new WatchedDriver(super.createDriver(), this.#watch);
  }
}
