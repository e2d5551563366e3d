// Session 9 sweep of organizations (#6): `npm org rm <org> <me>`, leaving an organization, as npm 11 runs it:
// the DELETE of the membership, then a GET of the roster to say how many members are left (lib/commands/org.js).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type TestServer } from '../helpers/server.ts';
import { makeNpm, type NpmEnv } from '../helpers/npm.ts';
import { onceInSqlitePass } from '../helpers/cluster-data.ts';
import { createOrg } from '../../src/services/orgs.ts';

describe('npm org rm <org> <me>: leaving an organization', { skip: onceInSqlitePass }, () => {
  let s: TestServer;
  const npm: Record<string, NpmEnv> = {};

  before(async () => {
    s = await startServer();
    for (const u of ['olivia', 'otto', 'adam', 'dev1']) {
      await s.addUser(u);
      npm[u] = makeNpm(s.url);
      npm[u].setToken(s.host, await s.token({ user: u, expiresInMs: 86_400_000 }));
    }
    await createOrg(s.ctx, 'acme', 'olivia');
    for (const [u, role] of [
      ['otto', 'owner'],
      ['adam', 'admin'],
      ['dev1', 'developer'],
    ]) {
      const r = await npm.olivia.run(['org', 'set', 'acme', u, role]);
      assert.equal(r.code, 0, r.output);
    }
  });
  after(async () => {
    await s.close();
  });

  test('an admin, an owner and a developer leave; npm reports it; the last owner is told why not', async () => {
    let r = await npm.adam.run(['org', 'rm', 'acme', 'adam']);
    assert.equal(r.code, 0, r.output);
    assert.match(r.stdout, /Successfully removed adam from acme\. You now have 3 members in this org\./);
    r = await npm.otto.run(['org', 'rm', 'acme', 'otto', '--json']);
    assert.equal(r.code, 0, r.output);
    assert.deepEqual(JSON.parse(r.stdout), { user: 'otto', org: 'acme', userCount: 2, deleted: true });
    // A developer may not manage members, but may leave.
    r = await npm.dev1.run(['org', 'rm', 'acme', 'dev1']);
    assert.equal(r.code, 0, r.output);
    assert.match(r.stdout, /You now have 1 member in this org\./);
    r = await npm.olivia.run(['org', 'rm', 'acme', 'olivia']);
    assert.equal(r.code, 1);
    assert.match(r.output, /acme must keep at least one owner/);
    r = await npm.olivia.run(['org', 'ls', 'acme', '--json']);
    assert.deepEqual(JSON.parse(r.stdout), { olivia: 'owner' });
  });

  test('who left reads the roster only moments after; then, and for strangers, it is refused', async () => {
    let r = await npm.adam.run(['org', 'ls', 'acme']);
    assert.equal(r.code, 0, r.output);
    s.clock.advance(61_000);
    r = await npm.adam.run(['org', 'ls', 'acme']);
    assert.equal(r.code, 1);
    assert.match(r.output, /You are not a member of the acme organization/);
    // Leaving is one's own membership only: removing someone else still needs an admin.
    const set = await npm.olivia.run(['org', 'set', 'acme', 'dev1', 'developer']);
    assert.equal(set.code, 0, set.output);
    r = await npm.dev1.run(['org', 'rm', 'acme', 'olivia']);
    assert.equal(r.code, 1);
    assert.match(r.output, /org-role-too-low/);
  });
});
