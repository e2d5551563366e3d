// Second sweep of organizations (issue #6): membership and team writes under concurrency. Two owners who each
// step down (or remove the other) at the same moment must leave the org one owner: the last-owner rule is
// decided in the store's transaction, under a lock on the org, not read before it. A team destroyed while
// someone grants it a package or adds a member must not leave that grant or member behind for a new team of
// the same name. Runs in both passes: on PostgreSQL the requests interleave, and that is where checks made
// outside the transaction let both writes through.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type TestServer } from '../helpers/server.ts';
import { makeNpm, makePackage } from '../helpers/npm.ts';
import { createOrg } from '../../src/services/orgs.ts';

describe('org sweep 2: an organization always keeps an owner', () => {
  let s: TestServer;
  const tokens: Record<string, string> = {};
  const member = (who: string, method: 'PUT' | 'DELETE', body: object) =>
    fetch(`${s.url}-/org/acme/user`, {
      method,
      headers: { authorization: `Bearer ${tokens[who]}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }).then((r) => r.status);
  const owners = async () =>
    (await s.ctx.store.db.selectFrom('org_members').select('user_id').where('role', '=', 'owner').execute()).length;

  before(async () => {
    s = await startServer();
    for (const u of ['o1', 'o2']) {
      await s.addUser(u);
      tokens[u] = await s.token({ user: u });
    }
    await createOrg(s.ctx, 'acme', 'o1');
  });
  after(async () => {
    await s.close();
  });

  test('two owners stepping down at once, or removing each other: one of them stays owner', async () => {
    for (let round = 0; round < 6; round++) {
      assert.equal(await member('o1', 'PUT', { user: 'o2', role: 'owner' }), 200);
      const statuses = await Promise.all(
        round % 2 === 0
          ? [member('o1', 'PUT', { user: 'o1', role: 'admin' }), member('o2', 'PUT', { user: 'o2', role: 'admin' })]
          : [member('o1', 'DELETE', { user: 'o2' }), member('o2', 'DELETE', { user: 'o1' })],
      );
      assert.equal(await owners(), 1, `round ${round}: ${statuses.join(', ')}`);
      assert.ok(statuses.includes(200), `round ${round}: ${statuses.join(', ')}`);
      // Back to o1 as the one owner and o2 as a member, whoever won.
      const o1 = (await s.ctx.store.db.selectFrom('users').select('id').where('name', '=', 'o1').executeTakeFirst())!;
      await s.ctx.store.db.deleteFrom('org_members').where('org', '=', 'acme').where('user_id', '!=', o1.id).execute();
      await s.ctx.store.db
        .insertInto('org_members')
        .values({ org: 'acme', user_id: o1.id, role: 'owner' })
        .onConflict((oc) => oc.columns(['org', 'user_id']).doUpdateSet({ role: 'owner' }))
        .execute();
    }
    // The one owner left is told why with npm, and stays.
    const npm = makeNpm(s.url);
    npm.setToken(s.host, tokens.o1);
    const r = await npm.run(['org', 'set', 'acme', 'o1', 'developer']);
    assert.notEqual(r.code, 0);
    assert.match(r.output, /E400[\s\S]*acme must keep at least one owner \(http:\S+\/-\/help\/last-org-owner\)/);
    assert.equal(await owners(), 1);
  });
});

describe('org sweep 2: a team destroyed while it is granted a package or given a member', () => {
  let s: TestServer;
  let token = '';
  const call = (method: string, path: string, body?: object) =>
    fetch(`${s.url}${path.slice(1)}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body && JSON.stringify(body),
    }).then(async (r) => (r.status >= 400 ? `${r.status} ${await r.text()}` : r.status));

  before(async () => {
    s = await startServer();
    for (const u of ['olivia', 'dev1']) await s.addUser(u);
    token = await s.token({ user: 'olivia' });
    await createOrg(s.ctx, 'acme', 'olivia');
    const npm = makeNpm(s.url);
    npm.setToken(s.host, token);
    let r = await npm.run(['org', 'set', 'acme', 'dev1']);
    assert.equal(r.code, 0, r.output);
    r = await npm.run(['publish'], { cwd: makePackage('@acme/widget', '1.0.0') });
    assert.equal(r.code, 0, r.output);
  });
  after(async () => {
    await s.close();
  });

  test('a new team of the same name starts with no grants and no members', async () => {
    for (let round = 0; round < 6; round++) {
      assert.equal(await call('PUT', '/-/org/acme/team', { name: 'ops' }), 201);
      const statuses = await Promise.all([
        call('PUT', '/-/team/acme/ops/package', { package: '@acme/widget', permissions: 'read-write' }),
        call('PUT', '/-/team/acme/ops/user', { user: 'dev1' }),
        call('DELETE', '/-/team/acme/ops'),
      ]);
      assert.equal(statuses[2], 200, `round ${round}: ${statuses.join(', ')}`);
      const left = await s.ctx.store.db
        .selectFrom('team_packages')
        .select('package')
        .where('team', '=', 'ops')
        .unionAll(s.ctx.store.db.selectFrom('team_members').select('team as package').where('team', '=', 'ops'))
        .execute();
      assert.deepEqual(left, [], `round ${round}: ${statuses.join(', ')}`);
    }
    // What a user sees: the new acme:ops holds nothing, and dev1 reaches nothing through it.
    const npm = makeNpm(s.url);
    npm.setToken(s.host, token);
    let r = await npm.run(['team', 'create', 'acme:ops']);
    assert.equal(r.code, 0, r.output);
    r = await npm.run(['access', 'list', 'packages', 'acme:ops', '--json']);
    assert.deepEqual(JSON.parse(r.stdout || '{}'), {});
    r = await npm.run(['team', 'ls', 'acme:ops']);
    assert.match(r.stdout, /@acme:ops has 0 users/);
  });

  test('a member taken out of the org while being added to a team is in no team of it', async () => {
    assert.equal(await call('PUT', '/-/org/acme/team', { name: 'qa' }), 201);
    const dev1 = (await s.ctx.store.db.selectFrom('users').select('id').where('name', '=', 'dev1').executeTakeFirst())!;
    for (let round = 0; round < 6; round++) {
      assert.equal(await call('PUT', '/-/org/acme/user', { user: 'dev1', role: 'developer' }), 200);
      const statuses = await Promise.all([
        call('PUT', '/-/team/acme/qa/user', { user: 'dev1' }),
        call('DELETE', '/-/org/acme/user', { user: 'dev1' }),
      ]);
      assert.equal(statuses[1], 200, `round ${round}: ${statuses.join(', ')}`);
      const teams = await s.ctx.store.db
        .selectFrom('team_members')
        .select('team')
        .where('user_id', '=', dev1.id)
        .execute();
      assert.deepEqual(teams, [], `round ${round}: ${statuses.join(', ')}`);
    }
    // Added back, dev1 is in the developers team only, not in acme:qa as before the removal.
    assert.equal(await call('PUT', '/-/org/acme/user', { user: 'dev1', role: 'developer' }), 200);
    const npm = makeNpm(s.url);
    npm.setToken(s.host, token);
    const r = await npm.run(['team', 'ls', 'acme:qa']);
    assert.match(r.stdout, /@acme:qa has 0 users/);
  });
});
