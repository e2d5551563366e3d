// A database that can still be read but no longer written (a file system remounted read-only after an
// error, a file whose permissions changed): SQLite says SQLITE_READONLY. Installs go on; a publish is the
// 503 `store-unavailable` naming the database, which npm retries and the log explains, never a bare 500;
// and once writes work again the same publish lands. (SQLite is told to refuse writes with `query_only`:
// the tests run as root, for whom file permissions change nothing.)
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { startServer, type TestServer } from '../helpers/server.ts';
import { makeNpm, makePackage, makeProject } from '../helpers/npm.ts';
import { clusterBackend, onceInSqlitePass } from '../helpers/cluster-data.ts';
import { connectionFailure, unavailablePart } from '../../src/store/outage.ts';

const skip = clusterBackend && 'SQLITE_READONLY is an SQLite answer (PostgreSQL read-only is a unit case of outage.ts)';

describe('the database turned read-only under a running registry', { skip }, () => {
  let s: TestServer;
  let token = '';
  before(async () => {
    s = await startServer();
    await s.addUser('olga', { password: 'olga-password-1' });
    token = await s.token({ user: 'olga' });
    const npm = makeNpm(s.url);
    npm.setToken(s.host, token);
    assert.equal((await npm.run(['publish'], { cwd: makePackage('ro-pkg', '1.0.0') })).code, 0);
  });
  after(async () => {
    await s.close();
  });

  test('installs go on, a publish is a 503 naming the database, and it lands once writes work again', async () => {
    await sql`PRAGMA query_only = 1`.execute(s.ctx.store.db);
    try {
      const npm = makeNpm(s.url);
      npm.setToken(s.host, token);
      const install = await npm.run(['install', '--prefer-online'], { cwd: makeProject({ 'ro-pkg': '1.0.0' }) });
      assert.equal(install.code, 0, install.output);
      assert.equal((await fetch(`${s.url}-/healthz`)).status, 200);

      const put = await fetch(`${s.url}-/package/ro-pkg/dist-tags/beta`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify('1.0.0'),
      });
      assert.equal(put.status, 503, await put.clone().text());
      assert.equal(put.headers.get('x-tessera-reason'), 'store-unavailable');
      assert.match(((await put.json()) as { error: string }).error, /database/);
      const publish = await npm.run(['publish', '--fetch-retries=0'], { cwd: makePackage('ro-pkg', '1.1.0') });
      assert.notEqual(publish.code, 0);
      assert.match(publish.output, /503/);
      assert.doesNotMatch(publish.output, /Internal error/);
    } finally {
      await sql`PRAGMA query_only = 0`.execute(s.ctx.store.db);
    }
    const npm = makeNpm(s.url);
    npm.setToken(s.host, token);
    const again = await npm.run(['publish'], { cwd: makePackage('ro-pkg', '1.1.0') });
    assert.equal(again.code, 0, again.output);
    const doc = (await (await fetch(`${s.url}ro-pkg`)).json()) as { versions: Record<string, unknown> };
    assert.deepEqual(Object.keys(doc.versions), ['1.0.0', '1.1.0'], 'nothing half-written by the refused one');
  });
});

describe('a read-only database, as each backend says it', { skip: onceInSqlitePass }, () => {
  test('SQLITE_READONLY and PostgreSQL 25006 (a standby after a failover) are the database unavailable', () => {
    const err = (props: Record<string, unknown>) => Object.assign(new Error('read-only'), props);
    assert.equal(unavailablePart(err({ code: 'ERR_SQLITE_ERROR', errcode: 8 })), 'database');
    assert.ok(connectionFailure(err({ code: '25006' })), 'cannot execute INSERT in a read-only transaction');
    assert.ok(!connectionFailure(err({ code: '25P02' })), 'an aborted transaction is a statement failure');
  });
});
