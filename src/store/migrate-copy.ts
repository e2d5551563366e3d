// `tessera migrate`: copies every table of an embedded store (SQLite) into a cluster store (PostgreSQL), rows
// with their own keys and ids, so tokens, grants and audit rows keep naming the same users. Tables are found
// in SQLite's catalogue, not listed here, so a table a later migration adds is copied too; they go parents
// first (by their foreign keys), because PostgreSQL checks each row as it lands. A row whose key is there
// already is skipped (ON CONFLICT DO NOTHING), so a run that stopped half way is finished by running again.
import { createHash } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.ts';

type Db = Kysely<Database>;

/** Tables that are not records: the schema's own bookkeeping, and the change counters each store keeps. */
const NOT_COPIED = new Set(['schema_version', 'sqlite_sequence', 'meta']);
/** Where a cluster database remembers which embedded install was copied into it. */
const MARK = 'migrated-from';
/** Rows per INSERT: well under PostgreSQL's 65,535 parameters, and few enough megabytes of packuments. */
const BATCH_ROWS = 200;
const BATCH_BYTES = 8 * 1024 * 1024;

export type TableCopy = {
  table: string;
  source: number;
  copied: number;
  /** Rows whose key was in the cluster already. */
  skipped: number;
  /** Keys (JSON) of skipped rows that are not the same in the cluster, or that clash with another row there. */
  differs: string[];
  target: number;
};

/** The tables to copy, parents before the tables whose foreign keys name them. */
export async function tablesInOrder(source: Db): Promise<string[]> {
  const names = (
    await sql<{ name: string }>`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`.execute(source)
  ).rows
    .map((r) => r.name)
    .filter((n) => !NOT_COPIED.has(n) && !n.startsWith('sqlite_'));
  const parents = new Map<string, Set<string>>();
  for (const name of names) {
    const fks = await sql<{ table: string }>`SELECT "table" FROM pragma_foreign_key_list(${name})`.execute(source);
    parents.set(name, new Set(fks.rows.map((r) => r.table).filter((t) => t !== name && names.includes(t))));
  }
  const ordered: string[] = [];
  while (ordered.length < names.length) {
    const ready = names.filter((n) => !ordered.includes(n) && [...parents.get(n)!].every((p) => ordered.includes(p)));
    if (ready.length === 0) throw new Error('the tables reference each other in a cycle; cannot order the copy');
    ordered.push(...ready);
  }
  return ordered;
}

async function count(db: Db, table: string): Promise<number> {
  const r = await sql<{ n: number }>`SELECT count(*) AS n FROM ${sql.table(table)}`.execute(db);
  return Number(r.rows[0]?.n ?? 0);
}

/**
 * Copies one table's rows, in batches. A row whose key is in the target already is skipped, and compared:
 * one that differs (a row written in the cluster, or changed here since the last run) is reported, never
 * overwritten.
 */
export async function copyTable(source: Db, target: Db, table: string): Promise<TableCopy> {
  const info = (
    await sql<{ name: string; pk: number }>`SELECT name, pk FROM pragma_table_info(${table}) ORDER BY cid`.execute(
      source,
    )
  ).rows;
  const columns = info.map((r) => r.name);
  const keys = info
    .filter((r) => r.pk > 0)
    .sort((a, b) => a.pk - b.pk)
    .map((r) => r.name);
  // Without a key, a second run could not tell a copied row from a new one.
  if (keys.length === 0) throw new Error(`table ${table} has no primary key; migrate cannot copy it twice safely`);
  const report: TableCopy = { table, source: 0, copied: 0, skipped: 0, differs: [], target: 0 };
  const keyOf = (row: Record<string, unknown>) => JSON.stringify(keys.map((k) => row[k]));
  const tuple = (row: Record<string, unknown>, of: string[]) => sql`(${sql.join(of.map((c) => row[c]))})`;
  const cols = sql.join(columns.map((c) => sql.id(c)));
  const keyCols = sql.join(keys.map((c) => sql.id(c)));
  let batch: Record<string, unknown>[] = [];
  let bytes = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    const rows = sql.join(batch.map((row) => tuple(row, columns)));
    const r = await sql<Record<string, unknown>>`INSERT INTO ${sql.table(table)} (${cols}) VALUES ${rows}
      ON CONFLICT DO NOTHING RETURNING ${keyCols}`.execute(target);
    const inserted = new Set(r.rows.map(keyOf));
    const skipped = batch.filter((row) => !inserted.has(keyOf(row)));
    report.copied += inserted.size;
    report.skipped += skipped.length;
    if (skipped.length > 0) {
      const there = await sql<Record<string, unknown>>`SELECT ${cols} FROM ${sql.table(table)}
        WHERE (${keyCols}) IN (${sql.join(skipped.map((row) => tuple(row, keys)))})`.execute(target);
      const byKey = new Map(there.rows.map((row) => [keyOf(row), row]));
      for (const row of skipped) {
        const other = byKey.get(keyOf(row));
        if (!other || columns.some((c) => String(row[c] ?? null) !== String(other[c] ?? null))) {
          report.differs.push(keyOf(row));
        }
      }
    }
    batch = [];
    bytes = 0;
  };
  // In SQLite's rowid order, the order the rows were written in, so audit and deliveries keep their sequence.
  for (let after = Number.MIN_SAFE_INTEGER; ; ) {
    const page = await sql<Record<string, unknown> & { _rowid: number }>`SELECT rowid AS _rowid, ${cols}
      FROM ${sql.table(table)} WHERE rowid > ${after} ORDER BY rowid LIMIT ${BATCH_ROWS}`.execute(source);
    for (const row of page.rows) {
      report.source++;
      batch.push(row);
      for (const c of columns) if (typeof row[c] === 'string') bytes += (row[c] as string).length;
      if (batch.length >= BATCH_ROWS || bytes >= BATCH_BYTES) await flush();
    }
    if (page.rows.length < BATCH_ROWS) break;
    after = page.rows[page.rows.length - 1]._rowid;
  }
  await flush();
  report.target = await count(target, table);
  return report;
}

/**
 * Moves each identity column's sequence past the highest id copied: rows came with their own ids, which
 * PostgreSQL's sequences did not hand out, and the next user or audit row must not take one of them.
 */
export async function resetSequences(target: Db): Promise<void> {
  const identities = await sql<{ table_name: string; column_name: string }>`
    SELECT table_name, column_name FROM information_schema.columns
    WHERE table_schema = current_schema() AND is_identity = 'YES'`.execute(target);
  for (const { table_name: table, column_name: column } of identities.rows) {
    const t = sql.table(table);
    const c = sql.id(column);
    await sql`SELECT setval(pg_get_serial_sequence(${table}, ${column}),
      coalesce((SELECT max(${c}) FROM ${t}), 1), (SELECT max(${c}) FROM ${t}) IS NOT NULL)`.execute(target);
  }
}

/** An install's name for the cluster's records: a fingerprint of its sealing key, which the cluster shares. */
export function installId(sealingKey: Buffer): string {
  return createHash('sha256').update('tessera-install\0').update(sealingKey).digest('hex').slice(0, 24);
}

export type TargetState = { kind: 'empty' } | { kind: 'ours' } | { kind: 'other'; from?: string; table?: string };

/** Whether the cluster database is new, an earlier copy of this install, or holds something else. */
export async function targetState(target: Db, tables: string[], id: string): Promise<TargetState> {
  const mark = await sql<{ value: string }>`SELECT value FROM meta WHERE key = ${MARK}`.execute(target);
  const from = mark.rows[0]?.value;
  if (from === id) return { kind: 'ours' };
  if (from !== undefined) return { kind: 'other', from };
  for (const table of tables) if ((await count(target, table)) > 0) return { kind: 'other', table };
  return { kind: 'empty' };
}

/** Written before the first row, so a run that stops half way is known as ours when it runs again. */
export async function markTarget(target: Db, id: string): Promise<void> {
  await sql`INSERT INTO meta (key, value) VALUES (${MARK}, ${id}) ON CONFLICT DO NOTHING`.execute(target);
}
