// What the suite on PostgreSQL + S3 showed differs from SQLite, kept the same on both backends: a token id prefix
// matches whatever its case (SQLite's LIKE ignores ASCII case, PostgreSQL's does not), and backup and restore,
// which copy the embedded store only, say so when the records are in PostgreSQL.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type TestServer } from '../helpers/server.ts';
import { tessera } from '../helpers/cli.ts';

describe('the admin CLI on either backend', () => {
  let s: TestServer;
  const scratch = mkdtempSync(join(tmpdir(), 'tessera-pgb-'));
  before(async () => {
    s = await startServer();
    await s.addUser('ulla');
  });
  after(async () => {
    await s.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  test('tessera token revoke takes an id prefix in capitals', async () => {
    const created = await tessera(['token', 'create', '--user', 'ulla', '--json', '--data', s.dataDir]);
    assert.equal(created.code, 0, created.stderr);
    const { token, id } = JSON.parse(created.stdout) as { token: string; id: string };
    const whoami = () => fetch(`${s.url}-/whoami`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal((await whoami()).status, 200);
    const r = await tessera(['token', 'revoke', id.slice(0, 8).toUpperCase(), '--data', s.dataDir]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `revoked token ${id}\n`);
    // The CLI is another process: the server sees the revocation through the change counter, within a second.
    const t0 = Date.now();
    let status = 200;
    while (status === 200 && Date.now() - t0 < 2000) status = (await whoami()).status;
    assert.equal(status, 401);
  });

  test('backup and restore refuse a store whose records are in PostgreSQL, and say why', async () => {
    // Refused before anything is opened, so the database need not exist.
    const env = { TESSERA_DATABASE_URL: 'postgres://tessera@127.0.0.1:9/none' };
    const backup = await tessera(['backup', '--to', join(scratch, 'b'), '--data', s.dataDir], { env });
    assert.equal(backup.code, 1);
    assert.match(
      backup.stderr,
      /the records are in PostgreSQL: back them up with pg_dump; backup copies the embedded store only/,
    );
    const restore = await tessera(['restore', '--from', scratch, '--data', join(scratch, 'r')], { env });
    assert.equal(restore.code, 1);
    assert.match(restore.stderr, /the records are in PostgreSQL: restore writes an embedded store/);
  });
});
