// Opens the embedded store: SQLite (WAL) + filesystem blobs in one data directory, created on first run;
// or, with `blobs: s3://…` in the config, tarballs in an S3-compatible bucket; or, with `database:
// postgres://…`, the records in PostgreSQL (postgres/), which several nodes may share.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Kysely, SqliteDialect, sql } from 'kysely';
import type { Database } from './schema.ts';
import { openSqlite, sqliteTakesWrites } from './sqlite/node-sqlite.ts';
import { migrate, type Dialect } from './migrations.ts';
import { filesystemBlobs, type BlobStore } from './blobs/filesystem.ts';
import { s3Blobs } from './blobs/s3.ts';
import { s3Options, type BlobsConfig } from '../config/blobs.ts';
import { openPool, WatchedPostgresDialect } from './postgres/dialect.ts';
import { CounterWatch } from './postgres/counter-watch.ts';
import { guardBlobs } from './outage.ts';

export type Db = Kysely<Database>;

/** Change counters every process watches: `revocations` (tokens, users) and `packages` (anything a read may cache). */
export type Counter = 'revocations' | 'packages';

/** Where the store reports how long its work took (metrics.ts sets it when metrics are on). */
export type StoreTimings = { query(op: string, ms: number): void; blob(op: string, ms: number): void };

export type Store = {
  db: Db;
  /** For the few store functions that need a dialect's own form of a statement. */
  dialect: Dialect;
  timings?: StoreTimings;
  /** The current value of a change counter: one cheap synchronous read, made on hot paths. */
  counter(name: Counter): string;
  /** Runs `work` in one transaction: store functions called with `trx` see and commit together. */
  transaction<T>(work: (trx: Db) => Promise<T>): Promise<T>;
  /** Throws when the database answers but takes no writes (read-only file or mount, a hot standby). */
  takesWrites(): Promise<void>;
  blobs: BlobStore;
  dataDir: string;
  close(): Promise<void>;
};

/** What openStore reads of the configuration: where tarballs go, and the database if it is not SQLite. */
export type StoreConfig = BlobsConfig & { database?: string | null };

/** The statement's verb only (select, insert…): bounded, and never a value from the query. */
const verbOf = (query: string) => /^\s*(?:\/\*.*?\*\/\s*)?(\w+)/.exec(query)?.[1]?.toLowerCase() ?? 'other';

export async function openStore(dataDir: string, config?: StoreConfig): Promise<Store> {
  mkdirSync(join(dataDir, 'blobs'), { recursive: true });
  if (config?.database) return openPostgresStore(dataDir, config.database, config);
  const blobsConfig = config;
  const { kysely, raw } = openSqlite(join(dataDir, 'tessera.db'));
  let readCounter: ReturnType<typeof raw.prepare> | undefined;
  const store: Store = {
    db: new Kysely<Database>({
      dialect: new SqliteDialect({ database: kysely }),
      log: (e) => store.timings?.query(verbOf(e.query.sql), e.queryDurationMillis),
    }),
    dialect: 'sqlite',
    transaction: (work) => store.db.transaction().execute(work),
    // Holding Kysely's one connection, so the probe never runs inside a transaction of a request.
    takesWrites: () => store.db.connection().execute(async () => sqliteTakesWrites(raw)),
    counter: (name) => (readCounter!.get(name) as { value: string } | undefined)?.value ?? '0',
    blobs: timedBlobs(openBlobs(dataDir, blobsConfig), () => store.timings),
    dataDir,
    close: () => store.db.destroy(),
  };
  await migrate(store.db);
  readCounter = raw.prepare('SELECT value FROM meta WHERE key = ?');
  return store;
}

async function openPostgresStore(dataDir: string, url: string, blobsConfig: BlobsConfig): Promise<Store> {
  const pool = openPool(url);
  const watch = new CounterWatch(pool, url);
  const store: Store = {
    db: new Kysely<Database>({
      dialect: new WatchedPostgresDialect(pool, watch),
      log: (e) => store.timings?.query(verbOf(e.query.sql), e.queryDurationMillis),
    }),
    dialect: 'postgres',
    transaction: (work) => store.db.transaction().execute(work),
    // A hot standby, or default_transaction_read_only, answers 25006 to any write, even one matching no row.
    takesWrites: async () => {
      await sql`UPDATE schema_version SET version = version WHERE 1 = 0`.execute(store.db);
    },
    // In memory, fed by LISTEN and a poll (postgres/counter-watch.ts): hot paths never wait for the database.
    counter: (name) => watch.read(name),
    blobs: timedBlobs(openBlobs(dataDir, blobsConfig), () => store.timings),
    dataDir,
    close: async () => {
      await watch.close();
      await store.db.destroy();
    },
  };
  try {
    await migrate(store.db, 'postgres');
    await watch.start();
  } catch (e) {
    await store.close();
    throw e;
  }
  return store;
}

function openBlobs(dataDir: string, config: BlobsConfig | undefined): BlobStore {
  const s3 = config && s3Options(config);
  return guardBlobs(s3 ? s3Blobs(s3) : filesystemBlobs(join(dataDir, 'blobs')));
}

/** Reports the time of each blob read and write, when someone listens. */
function timedBlobs(blobs: BlobStore, timings: () => StoreTimings | undefined): BlobStore {
  const timed =
    <A extends unknown[], R>(op: string, f: (...a: A) => Promise<R>) =>
    async (...a: A): Promise<R> => {
      const t = timings();
      if (!t) return f(...a);
      const started = performance.now();
      try {
        return await f(...a);
      } finally {
        t.blob(op, performance.now() - started);
      }
    };
  const check = blobs.check && timed('check', blobs.check);
  const open = blobs.open && timed('get', blobs.open);
  return { ...blobs, put: timed('put', blobs.put), get: timed('get', blobs.get), check, open };
}
