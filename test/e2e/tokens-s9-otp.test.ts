// Session 9 sweep of two-factor authentication (#4, #6, #7): a write refused for what it asks (a user who does
// not exist, a duplicate team, a package that is not there, the last owner, a second trust configuration)
// gives back the one-time password it was sent with, so npm 11's retry with the same code works; and who may
// weaken a package's 2FA requirement (`npm access set mfa=…`).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type TestServer } from '../helpers/server.ts';
import { makeNpm, makePackage, type NpmEnv } from '../helpers/npm.ts';
import { onceInSqlitePass } from '../helpers/cluster-data.ts';
import { createOrg } from '../../src/services/orgs.ts';
import { codeAt } from '../../src/domain/totp.ts';
import { enable2fa, type TfaMode } from '../helpers/two-factor.ts';

/** Turns on 2FA for `user` over npm's own profile API; returns the seed. */
function enrol(s: TestServer, token: string, user: string, mode: TfaMode): Promise<string> {
  const code = (seed: string) => codeAt(seed, s.clock.now());
  return enable2fa(s.url, `Bearer ${token}`, { mode, password: `${user}-password`, code });
}

describe('a refused write gives back its one-time password (npm 11)', { skip: onceInSqlitePass }, () => {
  let s: TestServer;
  const npm: Record<string, NpmEnv> = {};
  let secret = '';
  let carolSecret = '';
  /** A code of a time step not used yet. */
  const otp = (seed = secret) => {
    s.clock.advance(30_000);
    return `--otp=${codeAt(seed, s.clock.now())}`;
  };
  /** The refused command, then the right one with the same code. */
  async function refusedThenRight(wrong: string[], right: string[], said: RegExp) {
    const code = otp();
    let r = await npm.olivia.run([...wrong, code]);
    assert.equal(r.code, 1, r.output);
    assert.match(r.output, said);
    assert.doesNotMatch(r.output, /one-time password/i);
    r = await npm.olivia.run([...right, code]);
    assert.equal(r.code, 0, r.output);
    return r;
  }

  const session: Record<string, string> = {};
  before(async () => {
    s = await startServer();
    for (const u of ['olivia', 'bob', 'carol']) {
      await s.addUser(u);
      session[u] = await s.token({ user: u, expiresInMs: 86_400_000 });
      npm[u] = makeNpm(s.url);
      npm[u].setToken(s.host, session[u]);
    }
    await createOrg(s.ctx, 'acme', 'olivia');
    for (const pkg of ['otp-last', '@acme/lib', 'mfa-guard']) {
      const r = await npm.olivia.run(['publish', '--access', 'public'], { cwd: makePackage(pkg, '1.0.0') });
      assert.equal(r.code, 0, r.output);
    }
    for (const u of ['bob', 'carol']) {
      const r = await npm.olivia.run(['owner', 'add', u, 'mfa-guard']);
      assert.equal(r.code, 0, r.output);
    }
    secret = await enrol(s, session.olivia, 'olivia', 'auth-and-writes');
    carolSecret = await enrol(s, session.carol, 'carol', 'auth-only');
  });
  after(async () => {
    await s.close();
  });

  test('owners, org members, teams and grants: refused, then done with the same code', async () => {
    await refusedThenRight(['owner', 'add', 'nobody', 'otp-last'], ['owner', 'add', 'bob', 'otp-last'], /nobody/);
    await refusedThenRight(
      ['org', 'set', 'acme', 'olivia', 'developer'],
      ['org', 'set', 'acme', 'bob', 'developer'],
      /at least one owner/,
    );
    await refusedThenRight(['team', 'create', '@acme:developers'], ['team', 'create', '@acme:devs'], /already exists/);
    await refusedThenRight(['team', 'add', '@acme:devs', 'carol'], ['team', 'add', '@acme:devs', 'bob'], /carol/);
    await refusedThenRight(
      ['access', 'grant', 'read-write', '@acme:devs', '@acme/missing'],
      ['access', 'grant', 'read-write', '@acme:devs', '@acme/lib'],
      /404|not found/i,
    );
    const r = await npm.olivia.run(['access', 'list', 'collaborators', '@acme/lib', '--json']);
    assert.equal(JSON.parse(r.stdout).bob, 'read-write');
    // A hook (npm's hooks API, as libnpmhook sends it) whose endpoint is refused.
    const code = otp().slice('--otp='.length);
    const hook = (endpoint: string) =>
      fetch(`${s.url}-/npm/v1/hooks/hook`, {
        method: 'POST',
        headers: { authorization: `Bearer ${session.olivia}`, 'content-type': 'application/json', 'npm-otp': code },
        body: JSON.stringify({ type: 'package', name: 'otp-last', endpoint, secret: 'a-long-enough-secret' }),
      });
    const bad = await hook('ftp://127.0.0.1/hook');
    assert.equal(bad.headers.get('x-tessera-reason'), 'hook-endpoint-invalid');
    assert.equal((await hook('http://127.0.0.1:9/hook')).status, 201);
  });

  test('a second GitHub configuration is refused; the same code then configures another package', async () => {
    const gha = ['--repository', 'acme/lib', '--file', 'release.yml', '--allow-publish', '--yes'];
    const code = otp();
    let r = await npm.olivia.run(['trust', 'github', 'otp-last', ...gha, code]);
    assert.equal(r.code, 0, r.output);
    await refusedThenRight(
      ['trust', 'github', 'otp-last', ...gha],
      ['trust', 'github', '@acme/lib', ...gha],
      /github/i,
    );
    // A code that did work stays used.
    r = await npm.olivia.run(['dist-tag', 'add', 'otp-last@1.0.0', 'next', code]);
    assert.equal(r.code, 1);
    assert.match(r.output, /already used/);
  });

  test('a package that requires 2FA: a co-maintainer without 2FA cannot weaken it', async () => {
    let r = await npm.olivia.run(['access', 'set', 'mfa=publish', 'mfa-guard', otp()]);
    assert.equal(r.code, 0, r.output);
    const refused = /mfa-guard requires two-factor authentication to publish or change its settings, and bob has none/;
    for (const args of [
      ['access', 'set', 'mfa=none', 'mfa-guard'],
      ['access', 'set', 'mfa=automation', 'mfa-guard'],
    ]) {
      r = await npm.bob.run(args);
      assert.equal(r.code, 1, r.output);
      assert.match(r.output, /403 Forbidden/);
      assert.match(r.output, refused);
    }
    r = await npm.bob.run(['publish'], { cwd: makePackage('mfa-guard', '1.0.1') });
    assert.match(r.output, /mfa-guard requires two-factor authentication to publish, and bob has none/);
    // A co-maintainer with 2FA for sign-in only still gives a code for the package's settings, then may change them.
    r = await npm.carol.run(['access', 'set', 'mfa=automation', 'mfa-guard']);
    assert.equal(r.code, 1, r.output);
    assert.match(r.output, /EOTP/);
    r = await npm.carol.run(['access', 'set', 'mfa=none', 'mfa-guard', otp(carolSecret)]);
    assert.equal(r.code, 0, r.output);
    // Without the requirement, bob changes settings as before (and may turn it on).
    r = await npm.bob.run(['access', 'set', 'mfa=publish', 'mfa-guard']);
    assert.equal(r.code, 0, r.output);
    r = await npm.bob.run(['access', 'set', 'mfa=none', 'mfa-guard']);
    assert.equal(r.code, 1, r.output);
    assert.match(r.output, refused);
  });
});
