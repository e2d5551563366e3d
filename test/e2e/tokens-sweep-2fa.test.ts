// Sweep of two-factor authentication (#4) as npm 11 users meet it, beyond two-factor.test.ts: commands
// that send several requests with one code (`npm unpublish <pkg>@<version>`), npm's interactive web OTP
// flow in a terminal, codes from the neighbouring time steps, npm's prompt after a used code, refusals that
// must not use up a code (a mistyped password, a version or expiry refused), npm login in the browser and
// npm logout, and `npm profile enable-2fa` for an account whose .npmrc holds its password.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type TestServer } from '../helpers/server.ts';
import { makeNpm, makePackage, type NpmEnv, type NpmResult } from '../helpers/npm.ts';
import { appendFileSync } from 'node:fs';
import { codeAt } from '../../src/domain/totp.ts';
import { npmEnable2fa } from '../helpers/two-factor.ts';

describe('npm 11 with two-factor authentication for writes', () => {
  let s: TestServer;
  let alice: NpmEnv;
  let secret = '';
  /** A code of a step not used yet: the server's clock moves on by one step first. */
  const code = () => {
    s.clock.advance(30_000);
    return codeAt(secret, s.clock.now());
  };
  const versions = async (name: string) => {
    const res = await fetch(`${s.url}${name}`, { headers: { authorization: `Bearer ${session}` } });
    return Object.keys(((await res.json()) as { versions: object }).versions);
  };
  let session = '';

  /** Runs npm in a terminal with npm's default web auth: the person types the code into the page npm names. */
  async function inBrowser(args: string[], cwd?: string) {
    let posted: Promise<Response> | undefined;
    const r = await alice.runTty(
      [...args, '--browser=false'],
      [
        [
          /Authenticate your account at:\s*http\S+/,
          (out) => {
            const url = /Authenticate your account at:\s*(http\S+)/.exec(out)![1];
            const body = `otp=${code()}`;
            const headers = { 'content-type': 'application/x-www-form-urlencoded' };
            posted = fetch(url, { method: 'POST', headers, body });
            return '';
          },
        ],
      ],
      { cwd },
    );
    assert.ok(posted, r.output);
    assert.equal((await posted).status, 200);
    return r;
  }

  before(async () => {
    s = await startServer();
    await s.addUser('alice');
    await s.addUser('bob');
    await s.addUser('carol');
    session = await s.token({ user: 'alice' });
    alice = makeNpm(s.url);
    alice.setToken(s.host, session);
    for (const v of ['1.0.0', '1.1.0', '1.2.0', '1.3.0']) {
      const r = await alice.run(['publish'], { cwd: makePackage('sweep-tfa', v) });
      assert.equal(r.code, 0, r.output);
    }
    const r = await npmEnable2fa(alice, 'auth-and-writes', 'alice-password', () => s.clock.now());
    secret = r.secret;
    assert.equal(r.code, 0, r.output);
  });
  after(async () => {
    await s.close();
  });

  test('npm unpublish <pkg>@<version> --otp: one code serves the whole command', async () => {
    const r = await alice.run(['unpublish', 'sweep-tfa@1.3.0', `--otp=${code()}`]);
    assert.equal(r.code, 0, r.output);
    assert.match(r.stdout, /- sweep-tfa@1\.3\.0/);
    assert.deepEqual(await versions('sweep-tfa'), ['1.0.0', '1.1.0', '1.2.0']);
    const again = await alice.run(['unpublish', 'sweep-tfa@1.2.0']);
    assert.equal(again.code, 1);
    assert.match(again.output, /EOTP/);
  });

  test('in a terminal, npm names a page for the code and carries on once it is entered', async () => {
    let r = await inBrowser(['unpublish', 'sweep-tfa@1.2.0']);
    assert.equal(r.code, 0, r.output);
    assert.deepEqual(await versions('sweep-tfa'), ['1.0.0', '1.1.0']);
    r = await inBrowser(['publish'], makePackage('sweep-tfa', '2.0.0'));
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /\+ sweep-tfa@2\.0\.0/);
    // npm dist-tag polls the page's doneUrl with its own PUT.
    r = await inBrowser(['dist-tag', 'add', 'sweep-tfa@1.0.0', 'web']);
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /\+web: sweep-tfa@1\.0\.0/);
  });

  test('codes of the step before and after are accepted; older ones and earlier steps are not', async () => {
    s.clock.advance(120_000);
    const at = (steps: number) => codeAt(secret, s.clock.now() + steps * 30_000);
    const tag = async (name: string, otp: string) =>
      alice.run(['dist-tag', 'add', 'sweep-tfa@1.0.0', name, `--otp=${otp}`]);
    let r = await tag('two-back', at(-2));
    assert.equal(r.code, 1);
    assert.match(r.output, /The one-time password you gave is wrong or expired/);
    r = await tag('one-back', at(-1));
    assert.equal(r.code, 0, r.output);
    r = await tag('one-ahead', at(1));
    assert.equal(r.code, 0, r.output);
    // The current step is older than the one just used: a replay, said as such.
    r = await tag('current', at(0));
    assert.equal(r.code, 1);
    assert.match(r.output, /That one-time password was already used/);
  });

  test('after a used code, npm asks again in a terminal and the next code goes through', async () => {
    s.clock.advance(60_000); // past the step ahead that the test before used
    const used = code();
    let r = await alice.run(['dist-tag', 'add', 'sweep-tfa@1.0.0', 'first', `--otp=${used}`]);
    assert.equal(r.code, 0, r.output);
    r = await alice.runTty(
      ['dist-tag', 'add', 'sweep-tfa@1.0.0', 'second', `--otp=${used}`, '--auth-type=legacy'],
      [[/Enter OTP:/, () => code()]],
    );
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /That one-time password was already used/);
    assert.match(r.output, /\+second: sweep-tfa@1\.0\.0/);
  });
  test('a mistyped password does not use up the one-time password sent with it', async () => {
    s.clock.advance(120_000);
    const c = code();
    let r = await alice.run([
      'token',
      'create',
      '--password',
      'not-her-password',
      '--packages',
      'sweep-tfa',
      `--otp=${c}`,
    ]);
    assert.equal(r.code, 1);
    assert.match(r.output, /Incorrect or missing password/);
    r = await alice.run(['token', 'create', '--password', 'alice-password', '--expires', '91', `--otp=${c}`]);
    assert.equal(r.code, 1);
    assert.match(r.output, /between 1 and 90 days/);
    r = await alice.run(['token', 'create', '--password', 'alice-password', '--packages', 'sweep-tfa', `--otp=${c}`]);
    assert.equal(r.code, 0, r.output);
    const other = code();
    r = await alice.runTty(
      ['profile', 'set', 'password', `--otp=${other}`],
      [
        [/Current password:/, 'not-her-password'],
        [/New password:/, 'new-password-1'],
        [/Again:/, 'new-password-1'],
      ],
    );
    assert.equal(r.code, 1);
    assert.match(r.output, /E401/);
    r = await alice.run(['profile', 'set', 'fullname', 'Alice', `--otp=${other}`]);
    assert.equal(r.code, 0, r.output);
    // Nor does a publish the registry refuses for its version (1.3.0 was unpublished above, and a version
    // is never used twice): the same code publishes the next one.
    const third = code();
    r = await alice.run(['publish', '--tag', 'old', `--otp=${third}`], { cwd: makePackage('sweep-tfa', '1.3.0') });
    assert.equal(r.code, 1);
    assert.match(r.output, /E403/);
    assert.match(r.output, /1\.3\.0/);
    r = await alice.run(['publish', `--otp=${third}`], { cwd: makePackage('sweep-tfa', '2.1.0') });
    assert.equal(r.code, 0, r.output);
    // Nor a dist-tag for a version that does not exist.
    const fourth = code();
    r = await alice.run(['dist-tag', 'add', 'sweep-tfa@9.9.9', 'typo', `--otp=${fourth}`]);
    assert.equal(r.code, 1);
    assert.match(r.output, /9\.9\.9/);
    r = await alice.run(['dist-tag', 'add', 'sweep-tfa@2.1.0', 'typo', `--otp=${fourth}`]);
    assert.equal(r.code, 0, r.output);
  });

  test('npm login in the browser asks for the code; npm logout really ends that session', async () => {
    const laptop = makeNpm(s.url);
    let signedIn: Promise<Response[]> | undefined;
    const r = await laptop.run(['login'], {
      onStdout: (chunk) => {
        const url = /(http:\/\/\S+\/-\/v1\/login\/cli\/\S+)/.exec(chunk)?.[1];
        if (!url || signedIn) return;
        const form = (extra: Record<string, string>) =>
          fetch(url, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams({ name: 'alice', password: 'alice-password', ...extra }).toString(),
          });
        signedIn = (async () => [await form({}), await form({ otp: code() })])();
      },
    });
    assert.equal(r.code, 0, r.output);
    const [without, withCode] = await signedIn!;
    assert.equal(without.status, 401, 'the password alone does not sign in');
    assert.equal(without.headers.get('x-tessera-reason'), 'otp-required');
    assert.equal(withCode.status, 200);
    const token = /_authToken=(tsr_\w+)/.exec(laptop.npmrc())![1];
    assert.equal((await laptop.run(['whoami'])).stdout.trim(), 'alice');
    const out = await laptop.run(['logout']);
    assert.equal(out.code, 0, out.output);
    assert.doesNotMatch(laptop.npmrc(), /_authToken/);
    const old = makeNpm(s.url);
    old.setToken(s.host, token);
    const w = await old.run(['whoami']);
    assert.equal(w.code, 1);
    assert.match(w.output, /npm notice access token expired or revoked/);
  });

  test('enable-2fa with a password in .npmrc (_auth) says to log in, not that a token is invalid', async () => {
    const carol = makeNpm(s.url);
    appendFileSync(carol.userconfig, `//${s.host}/:_auth=${Buffer.from('carol:carol-password').toString('base64')}\n`);
    const enable = () => npmEnable2fa(carol, 'auth-only', 'carol-password', () => s.clock.now());
    // npm first trades the password for a classic token, which this registry does not make.
    let r: NpmResult = await enable();
    assert.equal(r.code, 1);
    assert.match(r.output, /E403/);
    assert.match(r.output, /Classic tokens are turned off on this registry/);
    assert.match(r.output, /npm login/);
    assert.doesNotMatch(r.output, /token seems to be invalid/);
    r = await carol.runTty(
      ['login', '--auth-type=legacy'],
      [
        [/Username:/, 'carol'],
        [/Password:/, 'carol-password'],
      ],
    );
    assert.equal(r.code, 0, r.output);
    r = await enable();
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /2FA successfully enabled/);
  });
  test('a bypass-2FA token on a package that requires 2FA for every publish: npm says why it asks', async () => {
    s.clock.advance(120_000);
    let r = await alice.run(
      ['token', 'create', '--password', 'alice-password', '--packages', 'sweep-tfa', '--bypass-2fa'].concat(
        `--otp=${code()}`,
      ),
    );
    assert.equal(r.code, 0, r.output);
    const ci = makeNpm(s.url);
    ci.setToken(s.host, /Created token (tsr_\w+)/.exec(r.output)![1]);
    r = await alice.run(['access', 'set', 'mfa=publish', 'sweep-tfa', `--otp=${code()}`]);
    assert.equal(r.code, 0, r.output);
    r = await ci.run(['publish'], { cwd: makePackage('sweep-tfa', '3.0.0') });
    assert.equal(r.code, 1);
    assert.match(r.output, /EOTP/);
    assert.match(r.output, /npm notice This package requires a one-time password for every publish/);
    r = await ci.run(['publish', `--otp=${code()}`], { cwd: makePackage('sweep-tfa', '3.0.0') });
    assert.equal(r.code, 0, r.output);
  });
});
