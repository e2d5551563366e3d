// Backup and restore of the embedded store (SQLite + filesystem blobs). A backup folder has the shape of
// a data folder (tessera.db, blobs/) plus tessera-backup.json, written last, so an unfinished backup is
// never taken for a finished one. PostgreSQL and S3 will be backed up by their own tools.
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { copyFile, mkdir, rename, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { DatabaseSync, backup } from 'node:sqlite';
import { Kysely, SqliteDialect, sql } from 'kysely';
import type { Database } from './schema.ts';
import { openSqlite } from './sqlite/node-sqlite.ts';
import { filesystemBlobs } from './blobs/filesystem.ts';
import { openStore } from './store.ts';

export const MANIFEST = 'tessera-backup.json';
const DB = 'tessera.db';
/** The key the database's sealed secrets (2FA seeds, hook secrets) open with: a backup without it loses them. */
const KEY = 'secret.key';
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

/**
 * Whether another process has the data folder's database open (a registry still running on it, an admin
 * command): every WAL connection holds a shared lock, so an exclusive one is refused at once. Replacing the
 * file under such a process would lose what it writes next, into a database nobody opens again.
 */
export function databaseInUse(dataDir: string): boolean {
  if (!hasDatabase(dataDir)) return false;
  const db = new DatabaseSync(join(dataDir, DB), { timeout: 0 });
  try {
    db.exec('PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE; COMMIT;');
    return false;
  } catch (e) {
    if ((e as { errcode?: number }).errcode === 5 || (e as { errcode?: number }).errcode === 6) return true;
    throw e;
  } finally {
    db.close();
  }
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
    if (existsSync(join(dataDir, KEY))) await copyFile(join(dataDir, KEY), join(toDir, KEY));
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
 * The whole backup is checked first (its database by SQLite, every tarball it names by its hash), so a
 * damaged one is refused with the data folder untouched. Then tarballs go first, the sealing key next and
 * the database last, so no row ever names a tarball or a secret that cannot be read; a tarball already in
 * the folder is kept (same key, same bytes), and ones nothing names are left to `tessera gc`.
 */
export async function restoreStore(fromDir: string, dataDir: string): Promise<RestoreReport> {
  const from = filesystemBlobs(join(fromDir, 'blobs'));
  const keys = await checkBackup(fromDir, from);
  const wasEmpty = isEmptyFolder(dataDir);
  try {
    return await restoreChecked(fromDir, dataDir, from, keys);
  } catch (e) {
    // Nothing half-restored: a folder that was empty is left empty, so the restore can simply be run again.
    if (wasEmpty) for (const f of readdirSync(dataDir)) rmSync(join(dataDir, f), { recursive: true, force: true });
    throw e;
  }
}

/** The tarballs the backup's database names, each present in its blobs with the bytes of its hash. */
async function checkBackup(fromDir: string, from: ReturnType<typeof filesystemBlobs>): Promise<Set<string>> {
  const path = join(fromDir, DB);
  let named: { live: Set<string>; other: Set<string> };
  let sealed: string[];
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    const ok = db.prepare('PRAGMA quick_check').get() as { quick_check: string };
    if (ok.quick_check !== 'ok') throw new Error(ok.quick_check);
    const blobs = (q: string) => (db.prepare(q).all() as { blob: string }[]).map((r) => r.blob);
    const live = new Set(blobs('SELECT blob FROM versions WHERE unpublished_at IS NULL'));
    const gone = blobs('SELECT blob FROM versions WHERE unpublished_at IS NOT NULL');
    // A backup of an older schema (migrated as it is restored) may have no staging yet.
    const staging = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'staged'").get();
    const staged = staging ? blobs('SELECT blob FROM staged') : [];
    named = { live, other: new Set([...gone, ...staged].filter((b) => !live.has(b))) };
    sealed = sealedKinds(db);
  } catch (e) {
    throw new Error(`the backup's database ${path} is damaged (${(e as Error).message}); nothing was restored`);
  } finally {
    db.close();
  }
  // Restored without it, a new key would be made and every sealed secret would fail to open, one by one, later.
  if (sealed.length > 0 && !existsSync(join(fromDir, KEY))) {
    throw new Error(
      `the backup has no ${KEY}, and its database holds secrets sealed with it (${sealed.join(', ')}); ` +
        `copy the data folder's ${KEY} into ${fromDir} and restore again; nothing was restored`,
    );
  }
  const keys = new Set<string>();
  for (const key of [...named.live, ...named.other]) {
    const data = await from.get(key);
    // As in backupStore: the tarballs of unpublished and staged versions may have been collected.
    if (!data && !named.live.has(key)) continue;
    if (!data) throw new Error(`the backup has no tarball ${key}, which a version names; nothing was restored`);
    if (createHash('sha512').update(data).digest('hex') !== key)
      throw new Error(`the backup's tarball ${key} is corrupt (its hash differs); nothing was restored`);
    keys.add(key);
  }
  return keys;
}

/** What in a backup's database only the data folder's key opens (tables an older schema lacks are skipped). */
function sealedKinds(db: DatabaseSync): string[] {
  const kinds: [string, string, string][] = [
    ['2FA seeds', 'users', 'tfa IS NOT NULL'],
    ['webhook secrets', 'hooks', '1 = 1'],
    ['sign-in refresh tokens', 'sso_identities', 'refresh_token IS NOT NULL'],
  ];
  const has = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?");
  return kinds
    .filter(([, table, where]) => has.get(table) && db.prepare(`SELECT 1 FROM ${table} WHERE ${where} LIMIT 1`).get())
    .map(([kind]) => kind);
}

async function restoreChecked(
  fromDir: string,
  dataDir: string,
  from: ReturnType<typeof filesystemBlobs>,
  keys: Set<string>,
): Promise<RestoreReport> {
  await mkdir(join(dataDir, 'blobs'), { recursive: true });
  const to = filesystemBlobs(join(dataDir, 'blobs'));
  let blobs = 0;
  let bytes = 0;
  for (const key of keys) {
    const data = await from.get(key);
    if (!data || (await to.put(data)) !== key) throw new Error(`the backup's tarball ${key} changed while restoring`);
    blobs++;
    bytes += data.length;
  }
  // The database's sealed secrets open only with the key they were sealed with (a backup before it had none).
  if (existsSync(join(fromDir, KEY))) {
    const partialKey = join(dataDir, `${KEY}.restoring`);
    await copyFile(join(fromDir, KEY), partialKey);
    await rename(partialKey, join(dataDir, KEY));
  }
  const partial = join(dataDir, `${DB}.restoring`);
  rmSync(partial, { force: true });
  const source = new DatabaseSync(join(fromDir, DB), { readOnly: true, timeout: 10_000 });
  try {
    await backup(source, partial, { rate: ALL_PAGES });
  } finally {
    source.close();
  }
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
