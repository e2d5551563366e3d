// Second sweep of organizations (issue #6): `npm org`, `npm team` and `npm access` with the tokens a user
// really holds (a classic read-only token, granular tokens limited to another org or to other packages), and
// the fix each refusal prints: the token to create must be one that can do what was refused. And `npm team rm`
// of someone who is not in the team says so, rather than reporting (and auditing) a removal.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type TestServer } from '../helpers/server.ts';
import { makeNpm, makePackage, type NpmEnv } from '../helpers/npm.ts';
import { onceInSqlitePass } from '../helpers/cluster-data.ts';
import { createOrg } from '../../src/services/orgs.ts';
import { defaults } from '../../src/config/config.ts';
import type { Grants } from '../../src/domain/principal.ts';
import { grants as granular } from '../helpers/grants.ts';

const grants = (g: Partial<Grants>): Grants => granular({ permission: 'no-access', ...g });

describe('org sweep 2: org commands with read-only and limited tokens', { skip: onceInSqlitePass }, () => {
  let s: TestServer;
  const npm: Record<string, NpmEnv> = {};
  const as = async (name: string, spec: Parameters<TestServer['token']>[0]) => {
    npm[name] = makeNpm(s.url);
    npm[name].setToken(s.host, await s.token(spec));
  };

  before(async () => {
    // Classic tokens on: a user's old read-only install token is the one at hand.
    s = await startServer({ tokens: { ...defaults.tokens, classic: true } });
    for (const u of ['olivia', 'dev1', 'other']) await s.addUser(u);
    await as('olivia', { user: 'olivia' });
    await createOrg(s.ctx, 'acme', 'olivia');
    assert.equal((await npm.olivia.run(['org', 'set', 'acme', 'dev1'])).code, 0);
    const r = await npm.olivia.run(['publish'], { cwd: makePackage('@acme/widget', '1.0.0') });
    assert.equal(r.code, 0, r.output);
    await as('readonly', { user: 'olivia', kind: 'classic-readonly', readonly: true });
    await as('zeta', {
      user: 'olivia',
      kind: 'granular',
      grants: grants({ orgs: ['zeta'], orgsPermission: 'read-write', packagesAll: true, permission: 'read-write' }),
    });
    await as('otherPkgs', {
      user: 'olivia',
      kind: 'granular',
      grants: grants({ scopes: ['@other'], permission: 'read-write', orgs: ['acme'], orgsPermission: 'read-write' }),
    });
  });
  after(async () => {
    await s.close();
  });

  test('a classic read-only token reads the org, and for a change is told to create a token for the org', async () => {
    let r = await npm.readonly.run(['org', 'ls', 'acme']);
    assert.equal(r.code, 0, r.output);
    assert.match(r.stdout, /dev1 - developer/);
    r = await npm.readonly.run(['team', 'ls', 'acme']);
    assert.match(r.stdout, /@acme:developers/);
    // A token for packages would not manage the org either: the fix names the org permission.
    const fix = 'Create a read-write token \\(npm token create --orgs acme --orgs-permission read-write\\)';
    for (const [args, action] of [
      [['org', 'set', 'acme', 'other'], 'change the members of acme'],
      [['org', 'rm', 'acme', 'dev1'], 'change the members of acme'],
      [['team', 'create', 'acme:ops'], 'manage the teams of acme'],
      [['access', 'grant', 'read-only', 'acme:developers', '@acme/widget'], 'change team access to packages of acme'],
    ] as const) {
      r = await npm.readonly.run([...args]);
      assert.notEqual(r.code, 0, args.join(' '));
      assert.match(r.output, new RegExp(`E403[\\s\\S]*This token is read-only and cannot ${action}\\. ${fix}`));
    }
    // A package change keeps the package fix.
    r = await npm.readonly.run(['access', 'set', 'status=public', '@acme/widget']);
    assert.match(
      r.output,
      /cannot change access to @acme\/widget\. Create a read-write token \(npm token create --packages-and-scopes/,
    );
    r = await npm.olivia.run(['org', 'ls', 'acme']);
    assert.doesNotMatch(r.stdout, /other/);
  });

  test("a token for another org manages none of acme, yet changes the org's package it may write", async () => {
    let r = await npm.zeta.run(['team', 'ls', 'acme']);
    assert.match(
      r.output,
      /E403[\s\S]*cannot see the members and teams of acme: it manages the organizations zeta\. Create a token with/,
    );
    r = await npm.zeta.run(['access', 'grant', 'read-only', 'acme:developers', '@acme/widget']);
    assert.match(r.output, /cannot change team access to packages of acme: it manages the organizations zeta/);
    r = await npm.zeta.run(['access', 'set', 'status=public', '@acme/widget']);
    assert.equal(r.code, 0, r.output);
    r = await npm.zeta.run(['access', 'set', 'status=private', '@acme/widget']);
    assert.equal(r.code, 0, r.output);
    r = await npm.zeta.run(['access', 'get', 'status', '@acme/widget']);
    assert.match(r.stdout, /@acme\/widget: private/);
  });

  test('a token for the org and other packages manages teams, not the packages themselves', async () => {
    let r = await npm.otherPkgs.run(['team', 'create', 'acme:ops']);
    assert.equal(r.code, 0, r.output);
    r = await npm.otherPkgs.run(['access', 'set', 'mfa=publish', '@acme/widget']);
    assert.match(r.output, /E403[\s\S]*This token is limited to @other\/\* and cannot change access to @acme\/widget/);
    r = await npm.otherPkgs.run(['publish'], { cwd: makePackage('@acme/widget', '1.1.0') });
    assert.notEqual(r.code, 0);
    assert.match(r.output, /This token is limited to @other\/\* and cannot publish @acme\/widget/);
  });

  test('npm team rm of a member of the org who is not in the team is refused, and nothing is audited', async () => {
    let r = await npm.olivia.run(['team', 'create', 'acme:qa']);
    assert.equal(r.code, 0, r.output);
    r = await npm.olivia.run(['team', 'rm', 'acme:qa', 'dev1']);
    assert.notEqual(r.code, 0, r.output);
    assert.match(r.output, /E400[\s\S]*dev1 is not a member of the team acme:qa/);
    assert.doesNotMatch(r.output, /removed from/);
    const audited = await s.ctx.store.db
      .selectFrom('audit')
      .select('detail')
      .where('event', '=', 'team-member-removed')
      .execute();
    assert.deepEqual(audited, []);
    // In the team, the same command removes them.
    r = await npm.olivia.run(['team', 'add', 'acme:qa', 'dev1']);
    assert.equal(r.code, 0, r.output);
    r = await npm.olivia.run(['team', 'rm', 'acme:qa', 'dev1']);
    assert.equal(r.code, 0, r.output);
    assert.match(r.stdout, /dev1 removed from @acme:qa/);
  });
});
