// Change counters on a real PostgreSQL: kept in memory per store, fed by NOTIFY and a poll; this process
// reads its own bumps at once; a rolled-back bump leaves nothing behind; a dropped LISTEN comes back.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openStore, type Store } from '../../src/store/store.ts';
import { bumpCounter } from '../../src/store/counters.ts';
import { blobsDefaults } from '../../src/config/blobs.ts';
import { sharedPostgres } from '../helpers/postgres.ts';

let url = '';
const opened: Store[] = [];
const dirs: string[] = [];

async function open(): Promise<Store> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-pg-counters-'));
  dirs.push(dir);
  const store = await openStore(dir, { ...blobsDefaults, database: url });
  opened.push(store);
  return store;
}

async function until(what: string, ok: () => boolean, ms = 2_000): Promise<number> {
  const started = Date.now();
  while (!ok()) {
    if (Date.now() - started > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
  return Date.now() - started;
}

before(async () => {
  url = await (await sharedPostgres()).createDatabase();
});

after(async () => {
  for (const s of opened) await s.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  await (await sharedPostgres()).dropDatabase(url);
});

test('two stores on one database: migrations ran once, and BIGINT counts come back as numbers', async () => {
  const [a, b] = await Promise.all([open(), open()]);
  assert.equal(a.dialect, 'postgres');
  const versions = await a.db
    .selectFrom('schema_version' as never)
    .selectAll()
    .execute();
  const numbers = (versions as { version: number }[]).map((r) => r.version);
  assert.deepEqual(numbers, [...new Set(numbers)], 'no migration recorded twice');
  const row = await b.db
    .selectFrom('users')
    .select((e) => e.fn.countAll().as('n'))
    .executeTakeFirstOrThrow();
  assert.equal(row.n, 0);
});

test('a bump reads differently on every call until it commits, then as the committed value', async () => {
  const a = await open();
  const before = a.counter('packages');
  let inside: string[] = [];
  await a.transaction(async (trx) => {
    await bumpCounter(trx, 'packages');
    inside = [a.counter('packages'), a.counter('packages')];
  });
  assert.notEqual(inside[0], inside[1], 'no cache may keep anything while the bump is in flight');
  const committed = a.counter('packages');
  assert.notEqual(committed, before);
  assert.equal(a.counter('packages'), committed, 'steady once committed');
  assert.match(committed, /^\d+-[0-9a-f]{12}$/);
});

test('a rolled-back bump leaves the counter where it was, and steady', async () => {
  const a = await open();
  const before = a.counter('revocations');
  await assert.rejects(
    a.transaction(async (trx) => {
      await bumpCounter(trx, 'revocations');
      throw new Error('the write fails after its bump');
    }),
    /the write fails/,
  );
  assert.equal(a.counter('revocations'), before);
  assert.equal(a.counter('revocations'), before);
});

test("another store's bump arrives by NOTIFY well within a poll interval", async () => {
  const [a, b] = await Promise.all([open(), open()]);
  const seen = b.counter('revocations');
  await a.transaction((trx) => bumpCounter(trx, 'revocations'));
  const ms = await until('the notification', () => b.counter('revocations') !== seen);
  assert.equal(b.counter('revocations'), a.counter('revocations'));
  assert.ok(ms < 1_000, `took ${ms} ms`);
});

test('a bump made outside Tessera (no NOTIFY) is found by the poll', async () => {
  const b = await open();
  const seen = b.counter('packages');
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await c.query("UPDATE meta SET value = '999999-manual' WHERE key = 'packages'");
  await c.end();
  await until('the poll', () => b.counter('packages') !== seen);
  assert.equal(b.counter('packages'), '999999-manual');
});

test('after the LISTEN connection drops, it listens again', async () => {
  const [a, b] = await Promise.all([open(), open()]);
  // Kill the stores' LISTEN backends from the server side, as a network failure or a restart would.
  const listeners = async (kill: boolean) => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    const what = kill ? 'pg_terminate_backend(pid)' : 'pid';
    const r = await c.query(
      `SELECT ${what} FROM pg_stat_activity WHERE query LIKE 'LISTEN %' AND datname = current_database()`,
    );
    await c.end();
    return r.rows.map((row) => Object.values(row)[0]);
  };
  const before = await listeners(true);
  assert.ok(before.length >= 2, 'both stores were listening');
  const deadline = Date.now() + 3_000;
  let now: unknown[] = [];
  while (Date.now() < deadline) {
    now = await listeners(false);
    if (now.length >= before.length && !now.some((pid) => before.includes(pid))) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(now.length >= before.length, `listening again: ${now.length} of ${before.length}`);
  const seen = b.counter('revocations');
  await a.transaction((trx) => bumpCounter(trx, 'revocations'));
  await until('a change after re-LISTEN', () => b.counter('revocations') !== seen);
});
