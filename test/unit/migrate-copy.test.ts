// `tessera migrate` finds the tables to copy in SQLite's catalogue and copies parents first: PostgreSQL checks
// each foreign key as a row lands, and a table a later migration adds must not be forgotten.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { openStore } from '../../src/store/store.ts';
import { installId, tablesInOrder } from '../../src/store/migrate-copy.ts';

test('every table of the schema is copied, each after the tables its foreign keys name', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-migrate-order-'));
  const store = await openStore(dir);
  try {
    const order = await tablesInOrder(store.db);
    const all = await sql<{ name: string }>`SELECT name FROM sqlite_master WHERE type = 'table'`.execute(store.db);
    const expected = all.rows
      .map((r) => r.name)
      .filter((n) => !['meta', 'schema_version', 'sqlite_sequence'].includes(n));
    assert.deepEqual([...order].sort(), expected.sort());
    for (const table of order) {
      const fks = await sql<{ table: string }>`SELECT "table" FROM pragma_foreign_key_list(${table})`.execute(store.db);
      for (const { table: parent } of fks.rows) {
        assert.ok(order.indexOf(parent) < order.indexOf(table), `${parent} before ${table}`);
      }
    }
    assert.ok(order.indexOf('users') < order.indexOf('tokens'));
    assert.ok(order.indexOf('version_claims') < order.indexOf('staged'));
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("an install's id follows its sealing key", () => {
  const key = Buffer.alloc(32, 7);
  assert.equal(installId(key), installId(Buffer.from(key)));
  assert.notEqual(installId(key), installId(Buffer.alloc(32, 8)));
  assert.match(installId(key), /^[0-9a-f]{24}$/);
});
