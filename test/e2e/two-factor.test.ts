// Two-factor authentication with the real npm CLI (registry scenario 6): enrolment through
// `npm profile enable-2fa` (the test is the authenticator, computing codes from the enrolment secret),
// EOTP without a code, --otp, replayed and wrong codes, token creation, bypass-2FA tokens, mfa=publish.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type TestServer } from '../helpers/server.ts';
import { makeNpm, makePackage, type NpmEnv } from '../helpers/npm.ts';
import { codeAt } from '../../src/domain/totp.ts';
import { npmEnable2fa } from '../helpers/two-factor.ts';

describe('two-factor authentication with npm 11', () => {
  let s: TestServer;
  let alice: NpmEnv;
  let secret = '';
  let recovery: string[] = [];
  /** The current code; advancing the server's clock by a step first gives a fresh one. */
  const code = (advance = true) => {
    if (advance) s.clock.advance(30_000);
    return codeAt(secret, s.clock.now());
  };

  before(async () => {
    s = await startServer();
    await s.addUser('alice');
    alice = makeNpm(s.url);
    const login = await alice.runTty(
      ['login', '--auth-type=legacy'],
      [
        [/Username:/, 'alice'],
        [/Password:/, 'alice-password'],
      ],
    );
    assert.equal(login.code, 0, login.output);
    const r = await alice.run(['publish'], { cwd: makePackage('tfa-pkg', '1.0.0') });
    assert.equal(r.code, 0, r.output);
  });
  after(async () => {
    await s.close();
  });

  test('enable-2fa: password, otpauth secret, first code, recovery codes', async () => {
    const r = await npmEnable2fa(alice, 'auth-and-writes', 'alice-password', () => s.clock.now());
    secret = r.secret;
    assert.equal(r.code, 0, r.output.slice(-2000));
    assert.match(r.output, /2FA successfully enabled/);
    recovery = [...r.output.matchAll(/\b([0-9a-f]{64})\b/g)].map((m) => m[1]);
    assert.equal(recovery.length, 8);
    const get = await alice.run(['profile', 'get', 'two-factor auth']);
    assert.match(get.stdout, /auth-and-writes/);
  });

  test('scenario 6: publish without a code fails with EOTP in CI', async () => {
    const r = await alice.run(['publish'], { cwd: makePackage('tfa-pkg', '1.1.0') });
    assert.equal(r.code, 1);
    assert.match(r.output, /npm error code EOTP/);
    assert.match(r.output, /This operation requires a one-time password/);
  });

  test('scenario 6: --otp succeeds; the same code again is refused', async () => {
    const c = code();
    let r = await alice.run(['publish', `--otp=${c}`], { cwd: makePackage('tfa-pkg', '1.1.0') });
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /\+ tfa-pkg@1\.1\.0/);
    r = await alice.run(['publish', `--otp=${c}`], { cwd: makePackage('tfa-pkg', '1.2.0') });
    assert.equal(r.code, 1);
    assert.match(r.output, /EOTP/);
    assert.match(r.output, /npm notice That one-time password was already used/);
  });

  test('a wrong code is refused, and says so', async () => {
    code();
    const r = await alice.run(['publish', '--otp=000000'], { cwd: makePackage('tfa-pkg', '1.2.0') });
    assert.equal(r.code, 1);
    assert.match(r.output, /npm notice The one-time password you gave is wrong or expired/);
  });

  test('npm token create needs a code', async () => {
    let r = await alice.run(['token', 'create', '--password', 'alice-password', '--packages-all']);
    assert.equal(r.code, 1);
    assert.match(r.output, /EOTP/);
    r = await alice.run(['token', 'create', '--password', 'alice-password', '--packages-all', `--otp=${code()}`]);
    assert.equal(r.code, 0, r.output);
  });

  test('a bypass-2FA token publishes without a code but cannot create tokens', async () => {
    const r0 = await alice.run([
      'token',
      'create',
      '--password',
      'alice-password',
      '--packages-all',
      '--bypass-2fa',
      `--otp=${code()}`,
    ]);
    assert.equal(r0.code, 0, r0.output);
    const ci = makeNpm(s.url);
    ci.setToken(s.host, /Created token (tsr_\w+)/.exec(r0.output)![1]);
    let r = await ci.run(['publish'], { cwd: makePackage('tfa-pkg', '1.3.0') });
    assert.equal(r.code, 0, r.output);
    r = await ci.run(['token', 'create', '--password', 'alice-password', '--packages-all', `--otp=${code()}`]);
    assert.notEqual(r.code, 0);
    assert.match(r.output, /Tokens that bypass two-factor authentication cannot create tokens/);
  });

  test('npm access set mfa=publish refuses the bypass token; mfa=automation lets it publish', async () => {
    let r = await alice.run(['access', 'set', 'mfa=publish', 'tfa-pkg', `--otp=${code()}`]);
    assert.equal(r.code, 0, r.output);
    const r0 = await alice.run([
      'token',
      'create',
      '--password',
      'alice-password',
      '--packages-all',
      '--bypass-2fa',
      `--otp=${code()}`,
    ]);
    const ci = makeNpm(s.url);
    ci.setToken(s.host, /Created token (tsr_\w+)/.exec(r0.output)![1]);
    r = await ci.run(['publish'], { cwd: makePackage('tfa-pkg', '1.4.0') });
    assert.equal(r.code, 1);
    assert.match(r.output, /EOTP/);
    r = await alice.run(['access', 'set', 'mfa=automation', 'tfa-pkg', `--otp=${code()}`]);
    assert.equal(r.code, 0, r.output);
    r = await ci.run(['publish'], { cwd: makePackage('tfa-pkg', '1.4.0') });
    assert.equal(r.code, 0, r.output);
  });

  test('login asks for the code in a terminal', async () => {
    const other = makeNpm(s.url);
    const r = await other.runTty(
      ['login', '--auth-type=legacy'],
      [
        [/Username:/, 'alice'],
        [/Password:/, 'alice-password'],
        [/Enter OTP:/, () => code()],
      ],
    );
    assert.equal(r.code, 0, r.output);
    assert.equal((await other.run(['whoami'])).stdout.trim(), 'alice');
  });

  test('a recovery code works once', async () => {
    code();
    let r = await alice.run(['dist-tag', 'add', 'tfa-pkg@1.0.0', 'old', `--otp=${recovery[0]}`]);
    assert.equal(r.code, 0, r.output);
    r = await alice.run(['dist-tag', 'add', 'tfa-pkg@1.0.0', 'older', `--otp=${recovery[0]}`]);
    assert.equal(r.code, 1);
  });

  test('the web OTP flow: the browser takes the code, npm collects a proof', async () => {
    code();
    // npm sends npm-auth-type: web by default, so the challenge carries authUrl/doneUrl.
    const session = /_authToken=(\S+)/.exec(alice.npmrc())![1];
    const res = await fetch(`${s.url}-/package/tfa-pkg/dist-tags/web`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${session}`, 'content-type': 'application/json', 'npm-auth-type': 'web' },
      body: '"1.0.0"',
    });
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), 'OTP');
    const { authUrl, doneUrl } = (await res.json()) as { authUrl: string; doneUrl: string };
    assert.equal((await fetch(doneUrl)).status, 202);
    const page = await fetch(authUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `otp=${code(false)}`,
    });
    assert.equal(page.status, 200, await page.clone().text());
    // npm polls with the method of the command that was challenged (here a PUT).
    const done = await fetch(doneUrl, { method: 'PUT' });
    const { token: proof } = (await done.json()) as { token: string };
    const retry = await fetch(`${s.url}-/package/tfa-pkg/dist-tags/web`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${session}`, 'content-type': 'application/json', 'npm-otp': proof },
      body: '"1.0.0"',
    });
    assert.equal(retry.status, 201);
    const again = await fetch(`${s.url}-/package/tfa-pkg/dist-tags/web2`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${session}`, 'content-type': 'application/json', 'npm-otp': proof },
      body: '"1.0.0"',
    });
    assert.equal(again.status, 401, 'a proof works once');
  });

  test('too many wrong codes are throttled', async () => {
    let last: Response | undefined;
    for (let i = 0; i < 6; i++) {
      last = await fetch(`${s.url}-/package/tfa-pkg/dist-tags/throttled`, {
        method: 'PUT',
        headers: {
          authorization: `Bearer ${/_authToken=(\S+)/.exec(alice.npmrc())![1]}`,
          'content-type': 'application/json',
          'npm-otp': '111111',
        },
        body: '"1.0.0"',
      });
    }
    assert.equal(last!.status, 403);
    assert.equal(last!.headers.get('x-tessera-reason'), 'otp-throttled');
    const r = await alice.run(['dist-tag', 'add', 'tfa-pkg@1.0.0', 'y', `--otp=${code()}`]);
    assert.match(r.output, /Too many wrong one-time passwords/);
  });

  test('disable-2fa needs the code', async () => {
    s.clock.advance(10 * 60_000);
    const r = await alice.runTty(
      ['profile', 'disable-2fa'],
      [
        [/npm password:/, 'alice-password'],
        [/Enter OTP:|one-time password/, () => code()],
      ],
      { env: { npm_config_auth_type: 'legacy' } },
    );
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /Two factor authentication disabled/);
    // The package still requires 2FA to publish, and alice has none now.
    let p = await alice.run(['publish'], { cwd: makePackage('tfa-pkg', '2.0.0') });
    assert.equal(p.code, 1);
    assert.match(
      p.output,
      /403 Forbidden - PUT .*tfa-pkg - tfa-pkg requires two-factor authentication to publish, and alice has none/,
    );
    // Nor may she lift the requirement without 2FA (npmjs: the policy protects the package's settings too).
    p = await alice.run(['access', 'set', 'mfa=none', 'tfa-pkg']);
    assert.equal(p.code, 1);
    assert.match(p.output, /requires two-factor authentication to publish or change its settings, and alice has none/);
  });
});
