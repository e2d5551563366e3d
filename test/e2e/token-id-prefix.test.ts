// `tessera token revoke ID-PREFIX` finds a token by the start of its id in any case, on both backends:
// SQLite's LIKE ignores case and PostgreSQL's does not, and an id read off a screen may be typed in capitals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../helpers/server.ts';
import { tessera } from '../helpers/cli.ts';

test('an id prefix in capitals revokes the token; one that matches none is refused', async () => {
  const s = await startServer();
  try {
    await s.addUser('ida');
    const token = await s.token({ user: 'ida' });
    const whoami = () => fetch(`${s.url}-/whoami`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal((await whoami()).status, 200);
    const [row] = await s.ctx.store.db.selectFrom('tokens').select('id').execute();
    const none = await tessera(['token', 'revoke', 'ffffffff-none', '--data', s.dataDir]);
    assert.equal(none.code, 1, none.stderr);
    assert.match(none.stderr, /Unknown token id/);
    const r = await tessera(['token', 'revoke', row.id.slice(0, 8).toUpperCase(), '--data', s.dataDir]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `revoked token ${row.id}\n`);
    // The server sees a revocation made by another process within a second (change counters).
    let status = 200;
    for (const t0 = Date.now(); status === 200 && Date.now() - t0 < 2_000; ) {
      status = (await whoami()).status;
      if (status === 200) await new Promise((res) => setTimeout(res, 50));
    }
    assert.equal(status, 401);
  } finally {
    await s.close();
  }
});
