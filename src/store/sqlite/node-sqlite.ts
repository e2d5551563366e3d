// Adapts Node's built-in SQLite (node:sqlite) to the better-sqlite3 shape Kysely's SqliteDialect uses,
// so the embedded default needs no native addon and no binary download at install time.
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import type { SqliteDatabase, SqliteStatement } from 'kysely';

type Param = null | number | bigint | string | NodeJS.ArrayBufferView;

class Statement implements SqliteStatement {
  readonly #stmt: StatementSync;
  readonly reader: boolean;
  constructor(stmt: StatementSync) {
    this.#stmt = stmt;
    this.reader = stmt.columns().length > 0;
  }
  all(parameters: ReadonlyArray<unknown>): unknown[] {
    return this.#stmt.all(...(parameters as Param[]));
  }
  run(parameters: ReadonlyArray<unknown>) {
    const r = this.#stmt.run(...(parameters as Param[]));
    return { changes: r.changes, lastInsertRowid: r.lastInsertRowid };
  }
  iterate(parameters: ReadonlyArray<unknown>): IterableIterator<unknown> {
    return this.#stmt.iterate(...(parameters as Param[])) as IterableIterator<unknown>;
  }
}

/** Another process (the admin CLI) may write while the server runs: wait this long for its lock, don't fail. */
const BUSY_TIMEOUT_MS = 10_000;

export function openSqlite(path: string): { kysely: SqliteDatabase; raw: DatabaseSync } {
  const raw = new DatabaseSync(path, { timeout: BUSY_TIMEOUT_MS });
  raw.exec(
    'PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 8000; PRAGMA foreign_keys = ON;',
  );
  const cache = new Map<string, Statement>();
  const kysely: SqliteDatabase = {
    close: () => raw.close(),
    prepare(sql: string) {
      let s = cache.get(sql);
      if (!s) {
        s = new Statement(raw.prepare(sql));
        if (cache.size > 500) cache.clear();
        cache.set(sql, s);
      }
      return s;
    },
  };
  return { kysely, raw };
}

/** Whether SQLite takes writes now: a write matching no row asks for the write lock and changes nothing, and a
 *  database it may not write (opened read-only: a read-only file, folder or mount; `query_only`) answers
 *  SQLITE_READONLY. Without waiting: the connection is synchronous, and another process holding the lock (busy,
 *  locked) is a database that takes writes. Call it holding the connection (no transaction of ours is open). */
export function sqliteTakesWrites(raw: DatabaseSync): void {
  raw.exec('PRAGMA busy_timeout = 0');
  try {
    raw.prepare('UPDATE schema_version SET version = version WHERE 1 = 0').run();
  } catch (e) {
    const code = (e as { errcode?: number }).errcode ?? 0;
    if ((code & 0xff) !== 5 && (code & 0xff) !== 6) throw e;
  } finally {
    raw.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
  }
}
