// Opens the embedded store: SQLite (WAL) + filesystem blobs in one data directory, created on first run.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Kysely, SqliteDialect } from 'kysely';
import type { Database } from './schema.ts';
import { openSqlite } from './sqlite/node-sqlite.ts';
import { migrate } from './migrations.ts';
import { filesystemBlobs, type BlobStore } from './blobs/filesystem.ts';

export type Db = Kysely<Database>;

/** Change counters every process watches: `revocations` (tokens, users) and `packages` (anything a read may cache). */
export type Counter = 'revocations' | 'packages';

export type Store = {
  db: Db;
  /** The current value of a change counter: one cheap synchronous read, made on hot paths. */
  counter(name: Counter): string;
  blobs: BlobStore;
  dataDir: string;
  close(): Promise<void>;
};

export async function openStore(dataDir: string): Promise<Store> {
  mkdirSync(join(dataDir, 'blobs'), { recursive: true });
  const { kysely, raw } = openSqlite(join(dataDir, 'tessera.db'));
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: kysely }) });
  await migrate(db);
  const readCounter = raw.prepare('SELECT value FROM meta WHERE key = ?');
  return {
    db,
    counter: (name) => (readCounter.get(name) as { value: string } | undefined)?.value ?? '0',
    blobs: filesystemBlobs(join(dataDir, 'blobs')),
    dataDir,
    close: () => db.destroy(),
  };
}
