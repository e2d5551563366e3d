// Organizations, teams and package access with the real npm CLI (issue: orgs and teams).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type TestServer } from '../helpers/server.ts';
import { makeNpm, npmUsers, makePackage, makeProject, type NpmEnv } from '../helpers/npm.ts';
import { grants } from '../helpers/grants.ts';
import { createOrg } from '../../src/services/orgs.ts';

describe('organizations and teams with npm 11', () => {
  let s: TestServer;
  let npm: Record<string, NpmEnv>;

  before(async () => {
    s = await startServer();
    ({ npm } = await npmUsers(s, ['olivia', 'adam', 'dev1', 'dev2', 'outsider']));
    await createOrg(s.ctx, 'acme', 'olivia');
  });
  after(async () => {
    await s.close();
  });

  test('npm org set adds members with each role; npm org ls shows them', async () => {
    let r = await npm.olivia.run(['org', 'set', 'acme', 'adam', 'admin']);
    assert.equal(r.code, 0, r.output);
    assert.match(r.stdout, /Added adam as admin to acme\. You now have 2 members in this org\./);
    r = await npm.olivia.run(['org', 'set', 'acme', 'dev1']);
    assert.match(r.stdout, /Added dev1 as developer to acme/);
    r = await npm.adam.run(['org', 'set', 'acme', 'dev2', 'developer']);
    assert.equal(r.code, 0, r.output);
    r = await npm.dev1.run(['org', 'ls', 'acme']);
    assert.equal(r.code, 0, r.output);
    for (const line of ['olivia - owner', 'adam - admin', 'dev1 - developer', 'dev2 - developer'])
      assert.match(r.stdout, new RegExp(line));
  });

  test('roles: a developer cannot manage members; an admin cannot make owners', async () => {
    let r = await npm.dev1.run(['org', 'set', 'acme', 'outsider']);
    assert.notEqual(r.code, 0);
    assert.match(r.output, /As developer of acme you cannot change the members of acme/);
    r = await npm.adam.run(['org', 'set', 'acme', 'dev2', 'owner']);
    assert.notEqual(r.code, 0);
    assert.match(r.output, /As admin of acme you cannot make or change an owner of acme/);
    r = await npm.outsider.run(['org', 'ls', 'acme']);
    assert.match(r.output, /You are not a member of the acme organization/);
  });

  test('teams: create, add, ls; a team grant lets a member publish', async () => {
    let r = await npm.olivia.run(['publish'], { cwd: makePackage('@acme/widget', '1.0.0') });
    assert.equal(r.code, 0, r.output);
    r = await npm.adam.run(['team', 'create', 'acme:frontend']);
    assert.equal(r.code, 0, r.output);
    assert.match(r.stdout, /\+@acme:frontend/);
    r = await npm.adam.run(['team', 'add', 'acme:frontend', 'dev1']);
    assert.equal(r.code, 0, r.output);
    r = await npm.dev1.run(['team', 'ls', 'acme']);
    assert.match(r.stdout, /@acme:developers/);
    assert.match(r.stdout, /@acme:frontend/);
    r = await npm.dev1.run(['team', 'ls', 'acme:frontend']);
    assert.match(r.stdout, /dev1/);
    // Before the grant, dev1 cannot see the restricted package at all.
    r = await npm.dev1.run(['publish'], { cwd: makePackage('@acme/widget', '1.1.0') });
    assert.match(r.output, /E404/);
    r = await npm.adam.run(['access', 'grant', 'read-write', 'acme:frontend', '@acme/widget']);
    assert.equal(r.code, 0, r.output);
    r = await npm.dev1.run(['publish'], { cwd: makePackage('@acme/widget', '1.1.0') });
    assert.equal(r.code, 0, r.output);
    r = await npm.adam.run(['access', 'list', 'packages', 'acme:frontend']);
    assert.match(r.stdout, /@acme\/widget: read-write/);
    r = await npm.olivia.run(['access', 'list', 'collaborators', '@acme/widget']);
    assert.match(r.stdout, /dev1: read-write/);
    assert.match(r.stdout, /olivia: read-write/);
  });

  test('a read-only grant: members install but cannot publish, and are told why', async () => {
    let r = await npm.olivia.run(['access', 'grant', 'read-only', 'acme:developers', '@acme/widget']);
    assert.equal(r.code, 0, r.output);
    r = await npm.dev2.run(['install', '@acme/widget'], { cwd: makeProject() });
    assert.equal(r.code, 0, r.output);
    r = await npm.dev2.run(['publish'], { cwd: makePackage('@acme/widget', '1.2.0') });
    assert.notEqual(r.code, 0);
    assert.match(r.output, /Your teams in acme may only read @acme\/widget/);
  });

  test('a non-member gets 404 on a private org package and cannot publish into the scope', async () => {
    let r = await npm.outsider.run(['view', '@acme/widget']);
    assert.match(r.output, /E404/);
    r = await npm.outsider.run(['publish', '--access', 'public'], { cwd: makePackage('@acme/evil', '1.0.0') });
    assert.notEqual(r.code, 0);
    assert.match(r.output, /You are not a member of the acme organization, so you cannot publish @acme\/evil/);
  });

  test('a removed member is refused at once', async () => {
    let r = await npm.olivia.run(['org', 'rm', 'acme', 'dev1']);
    assert.equal(r.code, 0, r.output);
    r = await npm.dev1.run(['publish'], { cwd: makePackage('@acme/widget', '1.3.0') });
    assert.notEqual(r.code, 0);
    // The scope answers first, as it would for a name that does not exist: nothing about the package is told.
    assert.match(r.output, /E403[\s\S]*not a member of the acme organization/);
    r = await npm.dev1.run(['view', '@acme/widget']);
    assert.match(r.output, /E404/);
  });

  test('scenario 10: an org-only token manages membership but cannot publish', async () => {
    const t = await s.token({
      user: 'olivia',
      kind: 'granular',
      grants: grants({ permission: 'no-access', orgs: ['acme'], orgsPermission: 'read-write' }),
    });
    const n = makeNpm(s.url);
    n.setToken(s.host, t);
    let r = await n.run(['org', 'set', 'acme', 'outsider', 'developer']);
    assert.equal(r.code, 0, r.output);
    r = await n.run(['publish'], { cwd: makePackage('@acme/x', '1.0.0') });
    assert.notEqual(r.code, 0);
    assert.match(
      r.output,
      /This token only manages the organizations acme; it grants no access to packages, so it cannot publish @acme\/x/,
    );
    // An existing private package gets the same answer as the new name: the token's own limit, nothing more.
    r = await n.run(['publish'], { cwd: makePackage('@acme/widget', '2.0.0') });
    assert.match(r.output, /E403[\s\S]*grants no access to packages, so it cannot publish @acme\/widget/);
    r = await n.run(['view', '@acme/widget']);
    assert.match(r.output, /E404/);
    const pkgOnly = makeNpm(s.url);
    pkgOnly.setToken(
      s.host,
      await s.token({
        user: 'olivia',
        kind: 'granular',
        grants: grants({ packagesAll: true }),
      }),
    );
    r = await pkgOnly.run(['org', 'rm', 'acme', 'outsider']);
    assert.notEqual(r.code, 0);
    assert.match(r.output, /This token cannot change the members of acme/);
  });

  test('the last owner cannot be removed; membership changes are audited', async () => {
    const r = await npm.olivia.run(['org', 'rm', 'acme', 'olivia']);
    assert.notEqual(r.code, 0);
    assert.match(r.output, /acme must keep at least one owner/);
    const events = await s.ctx.store.db
      .selectFrom('audit')
      .select(['event', 'detail'])
      .where('event', 'like', 'org-%')
      .execute();
    assert.ok(events.some((e) => e.event === 'org-member-added' && e.detail!.includes('"member":"adam"')));
    assert.ok(events.some((e) => e.event === 'org-member-removed' && e.detail!.includes('"member":"dev1"')));
  });
});
