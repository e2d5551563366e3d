// Sweep of staged publishing with the real npm 11 (issue #7), on an organization's package: who may stage
// (a maintainer, a team with read-write, not a developer without a grant nor an outsider), who may approve
// (2FA), and the dist-tags an approval leaves, also when a higher version was published meanwhile.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type TestServer } from '../helpers/server.ts';
import { npmUsers, makePackage, type NpmEnv } from '../helpers/npm.ts';
import { createOrg } from '../../src/services/orgs.ts';
import { codeAt } from '../../src/domain/totp.ts';
import { enable2fa } from '../helpers/two-factor.ts';

function stageIdOf(output: string): string {
  const m = /\(staged with id ([0-9a-f-]{36})\)/.exec(output);
  assert.ok(m, `no stage id in:\n${output}`);
  return m[1];
}

describe('stage sweep: an org package staged by a team, approved by an owner with 2FA', () => {
  let s: TestServer;
  let npm: Record<string, NpmEnv>;
  let secret = '';
  const otp = () => {
    s.clock.advance(30_000);
    return `--otp=${codeAt(secret, s.clock.now())}`;
  };
  // What `npm dist-tag ls @acme/app` prints, one `tag: version` line each.
  const tags = async () => (await npm.outsider.run(['dist-tag', 'ls', '@acme/app'])).stdout.trim().split('\n').sort();

  before(async () => {
    s = await startServer();
    const users = await npmUsers(s, ['olivia', 'tina', 'rob', 'outsider']);
    npm = users.npm;
    await createOrg(s.ctx, 'acme', 'olivia');
    // olivia turns 2FA on (auth-only), as npm profile enable-2fa does over the profile API.
    secret = await enable2fa(s.url, `Bearer ${users.token.olivia}`, {
      mode: 'auth-only',
      password: 'olivia-password',
      code: (k) => codeAt(k, s.clock.now()),
    });
    for (const args of [
      ['org', 'set', 'acme', 'tina'],
      ['org', 'set', 'acme', 'rob'],
      ['team', 'create', 'acme:release'],
      ['team', 'add', 'acme:release', 'tina'],
    ]) {
      const r = await npm.olivia.run([...args, otp()]);
      assert.equal(r.code, 0, r.output);
    }
    let r = await npm.olivia.run(['publish', '--access', 'public'], { cwd: makePackage('@acme/app', '1.0.0') });
    assert.equal(r.code, 0, r.output);
    r = await npm.olivia.run(['access', 'grant', 'read-write', 'acme:release', '@acme/app', otp()]);
    assert.equal(r.code, 0, r.output);
  });
  after(async () => {
    await s.close();
  });

  test('a read-write team stages; a developer without a grant and an outsider may not', async () => {
    let r = await npm.tina.run(['stage', 'publish'], { cwd: makePackage('@acme/app', '1.1.0') });
    assert.equal(r.code, 0, r.output);
    const id = stageIdOf(r.output);
    for (const who of ['rob', 'outsider']) {
      r = await npm[who].run(['stage', 'publish'], { cwd: makePackage('@acme/app', '1.2.0') });
      assert.notEqual(r.code, 0);
      assert.match(r.output, /E403[\s\S]*not a maintainer of @acme\/app, so you cannot stage versions of it/);
      r = await npm[who].run(['stage', 'list', '@acme/app']);
      assert.match(r.stdout, /No staged versions of package name "@acme\/app"/, `${who} sees no staged versions`);
    }
    r = await npm.olivia.run(['stage', 'list', '@acme/app']);
    assert.match(r.stdout, new RegExp(`id: ${id}[\\s\\S]*staged by: tina \\(user\\)`));
    // tina has no 2FA: she may stage but not approve; olivia approves with a code, and latest moves.
    r = await npm.tina.run(['stage', 'approve', id]);
    assert.match(r.output, /E403[\s\S]*Turn on two-factor authentication before you approve or reject staged/);
    r = await npm.olivia.run(['stage', 'approve', id]);
    assert.match(r.output, /EOTP/);
    r = await npm.olivia.run(['stage', 'approve', id, otp()]);
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, new RegExp(`Staged package ${id} approved and published successfully`));
    assert.deepEqual(await tags(), ['latest: 1.1.0']);
  });

  test('approving after a higher version was published leaves latest on the higher one', async () => {
    let r = await npm.olivia.run(['stage', 'publish'], { cwd: makePackage('@acme/app', '1.3.0') });
    assert.equal(r.code, 0, r.output);
    const id = stageIdOf(r.output);
    r = await npm.olivia.run(['stage', 'publish', '--tag', 'next'], { cwd: makePackage('@acme/app', '2.0.0-rc.0') });
    const next = stageIdOf(r.output);
    r = await npm.tina.run(['publish'], { cwd: makePackage('@acme/app', '1.3.0') });
    assert.match(r.output, /E409[\s\S]*Cannot publish over previously staged version "1\.3\.0"/);
    r = await npm.tina.run(['publish'], { cwd: makePackage('@acme/app', '1.4.0') });
    assert.equal(r.code, 0, r.output);
    for (const stage of [id, next]) {
      r = await npm.olivia.run(['stage', 'approve', stage, otp()]);
      assert.equal(r.code, 0, r.output);
    }
    assert.deepEqual(await tags(), ['latest: 1.4.0', 'next: 2.0.0-rc.0']);
    r = await npm.outsider.run(['view', '@acme/app', 'versions', '--json']);
    assert.deepEqual(JSON.parse(r.stdout), ['1.0.0', '1.1.0', '1.3.0', '1.4.0', '2.0.0-rc.0']);
  });
});
