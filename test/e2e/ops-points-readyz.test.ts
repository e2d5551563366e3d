// Readiness notices a database that answers but takes no writes (a publish would be 503 `store-unavailable`):
// SQLite told `query_only` or opened read-only, PostgreSQL with default_transaction_read_only (as a hot standby
// answers). Ping and liveness stay 200, installs go on, and readiness comes back with writes. Another process
// holding SQLite's write lock is no failure, and the probe does not wait for it.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { sql } from 'kysely';
import { startServer, type TestServer } from '../helpers/server.ts';
import { clusterBackend } from '../helpers/cluster-data.ts';
import { admin } from '../helpers/database-away.ts';
import { sqliteTakesWrites } from '../../src/store/sqlite/node-sqlite.ts';

type Ready = { status: number; failing?: string[] };
const ready = async (s: TestServer): Promise<Ready> => {
  const r = await fetch(`${s.url}-/readyz`);
  const body = (await r.json()) as { failing?: string[] };
  return { status: r.status, failing: body.failing };
};
const NOT_WRITABLE: Ready = { status: 503, failing: ['database-writes'] };

describe('readiness: a database that takes no writes', () => {
  let s: TestServer;
  before(async () => {
    s = await startServer();
    await s.addUser('rita');
  });
  after(async () => {
    await s?.close();
  });

  const stillServes = async () => {
    assert.equal((await fetch(`${s.url}-/ping`)).status, 200, 'ping');
    assert.equal((await fetch(`${s.url}-/healthz`)).status, 200, 'liveness');
    const whoami = await fetch(`${s.url}-/whoami`, { headers: { authorization: `Bearer ${await token}` } });
    assert.equal(whoami.status, 200, 'reads go on');
  };
  let token: Promise<string>;

  test('SQLite: query_only fails readiness naming database-writes; writes back, ready again', {
    skip: clusterBackend && 'an SQLite case',
  }, async () => {
    token = s.token({ user: 'rita' });
    await token;
    assert.deepEqual(await ready(s), { status: 200, failing: undefined });
    await sql`PRAGMA query_only = 1`.execute(s.ctx.store.db);
    try {
      assert.deepEqual(await ready(s), NOT_WRITABLE);
      await stillServes();
    } finally {
      await sql`PRAGMA query_only = 0`.execute(s.ctx.store.db);
    }
    assert.equal((await ready(s)).status, 200);

    // Another process (the admin CLI) holding the write lock: a database that takes writes, answered at once.
    const other = new DatabaseSync(join(s.dataDir, 'tessera.db'));
    other.exec('BEGIN IMMEDIATE');
    try {
      assert.equal((await ready(s)).status, 200);
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    const [{ timeout }] = (await sql<{ timeout: number }>`PRAGMA busy_timeout`.execute(s.ctx.store.db)).rows;
    assert.equal(timeout, 10_000, 'requests still wait for a lock as before');
  });

  test('SQLite opened read-only (a read-only file, folder or mount) is SQLITE_READONLY to the probe', {
    skip: clusterBackend && 'an SQLite case',
  }, () => {
    const path = join(mkdtempSync(join(tmpdir(), 'tessera-ro-')), 'tessera.db');
    const rw = new DatabaseSync(path);
    rw.exec(
      'PRAGMA journal_mode = WAL; CREATE TABLE schema_version (version INTEGER); INSERT INTO schema_version VALUES (1)',
    );
    const ro = new DatabaseSync(path, { readOnly: true });
    try {
      assert.doesNotThrow(() => sqliteTakesWrites(rw));
      assert.throws(() => sqliteTakesWrites(ro), /readonly/);
    } finally {
      ro.close();
      rw.close();
    }
  });

  test('PostgreSQL with default_transaction_read_only (a hot standby answers alike) is not ready', {
    skip: !clusterBackend && 'a PostgreSQL case',
  }, async () => {
    token = s.token({ user: 'rita' });
    await token;
    const name = new URL(s.ctx.config.database ?? '').pathname.slice(1);
    assert.match(name, /^t_[0-9a-f]+$/);
    // New connections take the database's setting: end the pool's, which it opens again (a check that meets a
    // connection ended under it names `database`, as an outage does; the next one has a new connection).
    const setting = async (q: string, want: number) => {
      await admin(q);
      await admin(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${name}'`);
      let r = await ready(s);
      for (let i = 0; i < 50 && (r.status !== want || r.failing?.includes('database')); i++) r = await ready(s);
      return r;
    };
    assert.equal((await ready(s)).status, 200);
    try {
      assert.deepEqual(
        await setting(`ALTER DATABASE ${name} SET default_transaction_read_only = on`, 503),
        NOT_WRITABLE,
      );
      await stillServes();
    } finally {
      assert.equal((await setting(`ALTER DATABASE ${name} RESET default_transaction_read_only`, 200)).status, 200);
    }
  });
});
