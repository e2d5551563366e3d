// Sweep of organizations with the real npm 11 (issue #6): what a member who published into the org's scope
// keeps when taken out of it, who may become a maintainer of an org package, and `npm access list packages
// <org>` for packages no team was granted.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type TestServer } from '../helpers/server.ts';
import { npmUsers, makePackage, makeProject, type NpmEnv } from '../helpers/npm.ts';
import { createOrg } from '../../src/services/orgs.ts';

describe('org sweep: membership governs the org packages a member published', () => {
  let s: TestServer;
  let npm: Record<string, NpmEnv>;

  before(async () => {
    s = await startServer();
    ({ npm } = await npmUsers(s, ['olivia', 'dora', 'erin', 'outsider']));
    await createOrg(s.ctx, 'acme', 'olivia');
    for (const u of ['dora', 'erin']) assert.equal((await npm.olivia.run(['org', 'set', 'acme', u])).code, 0);
    // A developer publishes into the scope and so maintains these packages: a private one and a public one.
    let r = await npm.dora.run(['publish'], { cwd: makePackage('@acme/dora-lib', '1.0.0') });
    assert.equal(r.code, 0, r.output);
    r = await npm.dora.run(['publish', '--access', 'public'], { cwd: makePackage('@acme/dora-pub', '1.0.0') });
    assert.equal(r.code, 0, r.output);
  });
  after(async () => {
    await s.close();
  });

  test('npm access list packages <org> lists packages no team was granted, with the caller access', async () => {
    let r = await npm.olivia.run(['access', 'list', 'packages', 'acme', '--json']);
    assert.equal(r.code, 0, r.output);
    assert.deepEqual(JSON.parse(r.stdout), { '@acme/dora-lib': 'read-write', '@acme/dora-pub': 'read-write' });
    // erin, a developer without a grant, sees the public package (read) and nothing of the private one.
    r = await npm.erin.run(['access', 'list', 'packages', '@acme']);
    assert.equal(r.code, 0, r.output);
    assert.match(r.stdout, /@acme\/dora-pub: read-only/);
    assert.doesNotMatch(r.stdout, /dora-lib/);
  });

  test('npm access list packages, for oneself or a user, includes what their teams were granted', async () => {
    let r = await npm.olivia.run(['team', 'create', 'acme:readers']);
    assert.equal(r.code, 0, r.output);
    r = await npm.olivia.run(['team', 'add', 'acme:readers', 'erin']);
    assert.equal(r.code, 0, r.output);
    r = await npm.olivia.run(['access', 'grant', 'read-only', 'acme:readers', '@acme/dora-lib']);
    assert.equal(r.code, 0, r.output);
    // With no argument npm asks whoami first, then lists erin's packages: the grant, not only what she maintains.
    r = await npm.erin.run(['access', 'list', 'packages', '--json']);
    assert.equal(r.code, 0, r.output);
    assert.deepEqual(JSON.parse(r.stdout), { '@acme/dora-lib': 'read-only' });
    r = await npm.olivia.run(['access', 'list', 'packages', 'erin']);
    assert.match(r.stdout, /^@acme\/dora-lib: read-only$/m);
    // Someone outside the org learns nothing of erin's teams, nor of the private package.
    r = await npm.outsider.run(['access', 'list', 'packages', 'erin', '--json']);
    assert.deepEqual(JSON.parse(r.stdout || '{}'), {});
  });

  test('a team that does not exist is named as such by npm access revoke and npm access list packages', async () => {
    for (const args of [
      ['access', 'revoke', 'acme:nosuch', '@acme/dora-pub'],
      ['access', 'list', 'packages', 'acme:nosuch'],
    ]) {
      const r = await npm.olivia.run(args);
      assert.notEqual(r.code, 0, args.join(' '));
      assert.match(r.output, /There is no team acme:nosuch/);
    }
  });

  test('npm owner add of someone outside the org is refused, saying how to add them', async () => {
    let r = await npm.dora.run(['owner', 'add', 'outsider', '@acme/dora-lib']);
    assert.notEqual(r.code, 0);
    assert.match(
      r.output,
      /EOWNERMUTATE[\s\S]*400 Bad Request[\s\S]*outsider is not a member of the acme organization, so they cannot maintain @acme\/dora-lib\. Add them first \(npm org set acme outsider\)/,
    );
    r = await npm.outsider.run(['view', '@acme/dora-lib']);
    assert.match(r.output, /E404/);
    // A member is added as usual, and may then publish.
    r = await npm.dora.run(['owner', 'add', 'erin', '@acme/dora-lib']);
    assert.equal(r.code, 0, r.output);
    assert.match(r.stdout, /\+ erin \(@acme\/dora-lib\)/);
    r = await npm.erin.run(['publish'], { cwd: makePackage('@acme/dora-lib', '1.1.0') });
    assert.equal(r.code, 0, r.output);
  });

  test('a member taken out of the org loses the packages they published, at once, then gets them back', async () => {
    // Installed (and cached by npm and by the registry's read path) just before the removal.
    let r = await npm.dora.run(['install', '@acme/dora-lib'], { cwd: makeProject() });
    assert.equal(r.code, 0, r.output);
    r = await npm.olivia.run(['org', 'rm', 'acme', 'dora']);
    assert.equal(r.code, 0, r.output);
    r = await npm.dora.run(['install', '@acme/dora-lib'], { cwd: makeProject() });
    assert.notEqual(r.code, 0);
    assert.match(r.output, /E404/);
    r = await npm.dora.run(['publish'], { cwd: makePackage('@acme/dora-lib', '1.2.0') });
    assert.match(r.output, /E403[\s\S]*You are not a member of the acme organization, so you cannot publish/);
    // The public package stays readable, but is no longer hers to change: the reason names the org.
    r = await npm.dora.run(['publish'], { cwd: makePackage('@acme/dora-pub', '1.1.0') });
    assert.match(
      r.output,
      /E403[\s\S]*You are not a member of the acme organization, so you cannot publish @acme\/dora-pub/,
    );
    r = await npm.dora.run(['access', 'set', 'status=private', '@acme/dora-pub']);
    assert.match(r.output, /E403[\s\S]*not a member of the acme organization/);
    r = await npm.dora.run(['owner', 'add', 'outsider', '@acme/dora-pub']);
    assert.notEqual(r.code, 0);
    r = await npm.dora.run(['access', 'list', 'packages', 'dora', '--json']);
    assert.deepEqual(JSON.parse(r.stdout || '{}'), {});
    // Nor is she listed as a collaborator of it any more.
    r = await npm.olivia.run(['access', 'list', 'collaborators', '@acme/dora-lib', '--json']);
    assert.deepEqual(JSON.parse(r.stdout), { erin: 'read-write' });
    // Her former colleagues still manage the package she maintained with them.
    r = await npm.erin.run(['publish'], { cwd: makePackage('@acme/dora-lib', '1.2.0') });
    assert.equal(r.code, 0, r.output);
    r = await npm.olivia.run(['owner', 'rm', 'dora', '@acme/dora-lib']);
    assert.equal(r.code, 0, r.output);
    // Added again, she has the package she still maintains back.
    r = await npm.olivia.run(['org', 'set', 'acme', 'dora']);
    assert.equal(r.code, 0, r.output);
    r = await npm.dora.run(['publish'], { cwd: makePackage('@acme/dora-pub', '1.1.0') });
    assert.equal(r.code, 0, r.output);
    r = await npm.dora.run(['view', '@acme/dora-lib', 'version']);
    assert.match(r.output, /E404/, 'she no longer maintains dora-lib');
  });
});
