// Opens the embedded store: SQLite (WAL) + filesystem blobs in one data directory, created on first run.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Kysely, SqliteDialect } from 'kysely';
import type { DatabaseSync } from 'node:sqlite';
import type { Database } from './schema.ts';
import { openSqlite } from './sqlite/node-sqlite.ts';
import { migrate } from './migrations.ts';
import { filesystemBlobs, type BlobStore } from './blobs/filesystem.ts';

export type Db = Kysely<Database>;

export type Store = {
  db: Db;
  /** Synchronous handle for the few hot-path reads (packument freshness, token lookup). */
  raw: DatabaseSync;
  blobs: BlobStore;
  dataDir: string;
  close(): Promise<void>;
};

export async function openStore(dataDir: string): Promise<Store> {
  mkdirSync(join(dataDir, 'blobs'), { recursive: true });
  const { kysely, raw } = openSqlite(join(dataDir, 'tessera.db'));
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: kysely }) });
  await migrate(db);
  return {
    db,
    raw,
    blobs: filesystemBlobs(join(dataDir, 'blobs')),
    dataDir,
    close: () => db.destroy(),
  };
}
