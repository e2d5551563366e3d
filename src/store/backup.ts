// Backup and restore of the embedded store (SQLite + filesystem blobs). A backup folder has the shape of
// a data folder (tessera.db, blobs/) plus tessera-backup.json, written last, so an unfinished backup is
// never taken for a finished one. PostgreSQL and S3 will be backed up by their own tools.
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DatabaseSync, backup } from 'node:sqlite';
import { Kysely, SqliteDialect, sql } from 'kysely';
import type { Database } from './schema.ts';
import { openSqlite } from './sqlite/node-sqlite.ts';
import { filesystemBlobs } from './blobs/filesystem.ts';
import { openStore } from './store.ts';

export const MANIFEST = 'tessera-backup.json';
const DB = 'tessera.db';
/** Pages per backup step: all of them, so the copy is one read transaction (a snapshot; WAL writers go on). */
const ALL_PAGES = 2 ** 31 - 1;

export type BackupManifest = {
  format: 'tessera-backup';
  version: 1;
  createdAt: string;
  source: string;
  schemaVersion: number;
  packages: number;
  versions: number;
  blobs: { count: number; bytes: number };
};

export type BackupReport = BackupManifest & {
  /** Tarballs of live versions that were not in the data folder (the backup is then incomplete). */
  missing: string[];
};

/** True when the folder does not exist or holds nothing. */
export function isEmptyFolder(dir: string): boolean {
  return !existsSync(dir) || readdirSync(dir).length === 0;
}

export function hasDatabase(dataDir: string): boolean {
  return existsSync(join(dataDir, DB));
}

/** Copies the database through SQLite's online backup (a snapshot), then the tarballs the snapshot names. */
export async function backupStore(dataDir: string, toDir: string, now = new Date()): Promise<BackupReport> {
  await mkdir(join(toDir, 'blobs'), { recursive: true });
  const source = new DatabaseSync(join(dataDir, DB), { readOnly: true, timeout: 10_000 });
  try {
    await backup(source, join(toDir, DB), { rate: ALL_PAGES });
  } finally {
    source.close();
  }
  const copy = openCopy(join(toDir, DB));
  try {
    const { live, other } = await namedBlobs(copy);
    const from = filesystemBlobs(join(dataDir, 'blobs'));
    const to = filesystemBlobs(join(toDir, 'blobs'));
    const missing: string[] = [];
    let count = 0;
    let bytes = 0;
    for (const key of [...live, ...other]) {
      const data = await from.get(key);
      // Unpublished and staged versions' tarballs may be collected (tessera gc): only live ones must be there.
      if (!data) {
        if (live.has(key)) missing.push(key);
        continue;
      }
      if ((await to.put(data)) !== key)
        throw new Error(`the tarball ${key} in ${dataDir} is corrupt (its hash differs)`);
      count++;
      bytes += data.length;
    }
    const manifest: BackupManifest = {
      format: 'tessera-backup',
      version: 1,
      createdAt: now.toISOString(),
      source: dataDir,
      ...(await counts(copy)),
      blobs: { count, bytes },
    };
    if (missing.length === 0) await writeFile(join(toDir, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
    return { ...manifest, missing };
  } finally {
    await copy.destroy();
  }
}

export function readManifest(fromDir: string): BackupManifest | undefined {
  try {
    const m = JSON.parse(readFileSync(join(fromDir, MANIFEST), 'utf8')) as BackupManifest;
    return m.format === 'tessera-backup' && existsSync(join(fromDir, DB)) ? m : undefined;
  } catch {
    return undefined;
  }
}

export type RestoreReport = { blobs: number; bytes: number; schemaVersion: number };

/**
 * Restores a backup into a data folder the caller has checked (empty, or --force with the server stopped).
 * Tarballs go first and the database last, so no row ever names a tarball that is not there; a tarball
 * already in the folder is kept (same key, same bytes), and ones nothing names are left to `tessera gc`.
 */
export async function restoreStore(fromDir: string, dataDir: string): Promise<RestoreReport> {
  await mkdir(join(dataDir, 'blobs'), { recursive: true });
  const from = filesystemBlobs(join(fromDir, 'blobs'));
  const to = filesystemBlobs(join(dataDir, 'blobs'));
  let blobs = 0;
  let bytes = 0;
  for await (const entry of from.list()) {
    if (entry.key === undefined) continue;
    const data = await readFile(entry.path);
    if ((await to.put(data)) !== entry.key)
      throw new Error(`the backup's tarball ${entry.key} is corrupt (its hash differs)`);
    blobs++;
    bytes += data.length;
  }
  const partial = join(dataDir, `${DB}.restoring`);
  rmSync(partial, { force: true });
  const source = new DatabaseSync(join(fromDir, DB), { readOnly: true, timeout: 10_000 });
  try {
    await backup(source, partial, { rate: ALL_PAGES });
  } finally {
    source.close();
  }
  const check = new DatabaseSync(partial);
  const ok = check.prepare('PRAGMA quick_check').get() as { quick_check: string };
  check.close();
  if (ok.quick_check !== 'ok') throw new Error(`the backup's database fails SQLite's check: ${ok.quick_check}`);
  for (const suffix of ['-wal', '-shm']) rmSync(join(dataDir, DB + suffix), { force: true });
  await rename(partial, join(dataDir, DB));
  // A backup made by an older Tessera is brought up to this one's schema now, not at the first request.
  const store = await openStore(dataDir);
  try {
    const row = await sql<{ v: number }>`SELECT max(version) AS v FROM schema_version`.execute(store.db);
    return { blobs, bytes, schemaVersion: row.rows[0]?.v ?? 0 };
  } finally {
    await store.close();
  }
}

function openCopy(path: string): Kysely<Database> {
  return new Kysely<Database>({ dialect: new SqliteDialect({ database: openSqlite(path).kysely }) });
}

/** The tarballs a database names: those of live versions, and those of unpublished or staged ones. */
export async function namedBlobs(db: Kysely<Database>): Promise<{ live: Set<string>; other: Set<string> }> {
  const live = new Set(
    (await db.selectFrom('versions').select('blob').where('unpublished_at', 'is', null).execute()).map((r) => r.blob),
  );
  const gone = await db.selectFrom('versions').select('blob').where('unpublished_at', 'is not', null).execute();
  const staged = await db.selectFrom('staged').select('blob').execute();
  const other = new Set([...gone, ...staged].map((r) => r.blob).filter((b) => !live.has(b)));
  return { live, other };
}

async function counts(db: Kysely<Database>): Promise<Pick<BackupManifest, 'schemaVersion' | 'packages' | 'versions'>> {
  const v = await sql<{ v: number }>`SELECT max(version) AS v FROM schema_version`.execute(db);
  const p = await db
    .selectFrom('packages')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  const n = await db
    .selectFrom('versions')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('unpublished_at', 'is', null)
    .executeTakeFirstOrThrow();
  return { schemaVersion: v.rows[0]?.v ?? 0, packages: Number(p.n), versions: Number(n.n) };
}
