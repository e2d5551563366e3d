// Two-factor authentication turned on as npm turns it on, for tests about what a user with 2FA can do.
import assert from 'node:assert/strict';
import type { TestServer } from './server.ts';
import { makeNpm, type NpmEnv, type NpmResult } from './npm.ts';
import { codeAt } from '../../src/domain/totp.ts';

export type TfaMode = 'auth-only' | 'auth-and-writes';

/** What `npm profile enable-2fa <mode>` sends to npm's profile API: the password, which answers with the
 *  authenticator's seed, then the first code from it (`code(seed)`), which confirms. Returns the seed. */
export async function enable2fa(
  url: string,
  authorization: string,
  o: { mode: TfaMode; password: string; code: (secret: string) => string | Promise<string> },
): Promise<string> {
  const post = (body: object) =>
    fetch(`${url}-/npm/v1/user`, {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const enrol = await post({ tfa: { mode: o.mode, password: o.password } });
  assert.equal(enrol.status, 200, await enrol.clone().text());
  const secret = new URL(((await enrol.json()) as { tfa: string }).tfa).searchParams.get('secret')!;
  const confirm = await post({ tfa: [await o.code(secret)] });
  assert.equal(confirm.status, 200, await confirm.text());
  return secret;
}

/** A new user with a session token of `expiresInMs` for npm and confirmed 2FA in `mode` (the test password).
 *  Each `code()` moves the server's clock one 30-second step on, so every code is fresh (codes work once). */
export async function userWith2fa(
  s: TestServer,
  name: string,
  mode: TfaMode,
  expiresInMs: number,
): Promise<{ npm: NpmEnv; token: string; code: () => string }> {
  await s.addUser(name);
  const token = await s.token({ user: name, kind: 'session', expiresInMs });
  const npm = makeNpm(s.url);
  npm.setToken(s.host, token);
  const password = `${name}-password`;
  const secret = await enable2fa(s.url, `Bearer ${token}`, { mode, password, code: (k) => codeAt(k, s.clock.now()) });
  return {
    npm,
    token,
    code: () => {
      s.clock.advance(30_000);
      return codeAt(secret, s.clock.now());
    },
  };
}

/** `npm profile enable-2fa <mode>` in a terminal: `password` at npm's prompt, then the first code (at `now()`)
 *  from the seed npm prints. npm's result, and the seed ('' if npm printed none). */
export async function npmEnable2fa(
  npm: NpmEnv,
  mode: TfaMode,
  password: string,
  now: () => number,
): Promise<NpmResult & { secret: string }> {
  let secret = '';
  const r = await npm.runTty(
    ['profile', 'enable-2fa', mode],
    [
      [/npm password:/, password],
      [
        /OTP code from your authenticator:/,
        (out) => {
          secret = /Or enter code: ([A-Z2-7]+)/.exec(out)![1];
          return codeAt(secret, now());
        },
      ],
    ],
  );
  return { ...r, secret };
}
