// 2FA on writes with the company sign-in (docs/signin.md, "2FA and writes"): a user in auth-and-writes mode
// runs `npm publish` in a terminal, npm opens the OTP challenge (authUrl), and the test follows it in
// Chromium. With auth.oidc.trustMfa, a fresh sign-in at the real provider (oidc-provider on loopback) whose
// amr shows a second factor stands for the code, even when the browser is still signed in there; with amr
// ["pwd"] the registry's own code is asked after the provider; with trustMfa off the provider is not offered.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { BrowserContext, Page } from 'playwright-core';
import type { AuthConfig } from '../../src/config/config.ts';
import { toUser } from '../../src/services/authenticate.ts';
import { confirmEnrolment, startEnrolment } from '../../src/services/two-factor.ts';
import { codeAt } from '../../src/domain/totp.ts';
import type { TestServer } from '../helpers/server.ts';
import { makeNpm, makePackage } from '../helpers/npm.ts';
import type { TestBrowser } from '../helpers/browser.ts';
import { startCompanySignIn, companySignIn, type TestProvider } from '../helpers/oidc-provider.ts';

const CHALLENGE = 'Confirm with your one-time password';

describe('company sign-in: the OTP of writes (auth.oidc.trustMfa)', () => {
  let op: TestProvider;
  let s: TestServer;
  let b: TestBrowser;
  /** Each user's authenticator secret. */
  const secrets = new Map<string, string>();
  let n = 0;
  let close = async () => {};

  before(async () => {
    const auth = (p: TestProvider): AuthConfig => ({
      local: false,
      groups: {},
      ldap: null,
      oidc: {
        issuer: p.issuer,
        clientId: p.clientId,
        clientSecret: p.clientSecret,
        scopes: 'openid profile email groups',
        userClaim: 'preferred_username',
        groupsClaim: 'groups',
        trustMfa: true,
        name: 'Acme SSO',
        refreshIntervalMs: 3_600_000,
      },
    });
    const users = {
      mira: { password: 'mira-pw', email: 'mira@acme.test', groups: [], mfa: true },
      pia: { password: 'pia-pw', email: 'pia@acme.test', groups: [], mfa: false },
    };
    ({ op, s, b, close } = await startCompanySignIn(users, auth));
  });
  after(() => close());

  /** The registry's code, from the next 30-second step (a code is used once). */
  const code = (user: string) => {
    s.clock.advance(30_000);
    return codeAt(secrets.get(user)!, s.clock.now());
  };

  /** A first sign-in through the provider in `ctx` (which keeps the provider's session), then 2FA for writes. */
  async function signUpWith2fa(ctx: BrowserContext, user: string): Promise<void> {
    const page = await ctx.newPage();
    await page.goto(`${s.url}-/web/signin`);
    await providerForm(page, user);
    await page.waitForURL(/\/-\/web\/$/);
    await page.close();
    const row = await s.ctx.store.db.selectFrom('users').selectAll().where('name', '=', user).executeTakeFirstOrThrow();
    const u = toUser(row);
    const { tfa } = await startEnrolment(s.ctx, { user: u, credential: { type: 'password' } }, 'auth-and-writes');
    const secret = new URL(String(tfa)).searchParams.get('secret')!;
    secrets.set(user, secret);
    await confirmEnrolment(s.ctx, u, code(user));
  }

  async function providerForm(page: Page, user: string): Promise<void> {
    await companySignIn(page, user, op.users.get(user)!.password);
  }

  /** `npm publish` in a terminal as `user`; `answer` meets the challenge page npm opens. */
  async function publish(ctx: BrowserContext, user: string, answer: (page: Page) => Promise<void>) {
    const npm = makeNpm(s.url);
    npm.setToken(s.host, await s.token({ user }));
    const name = `${user}-pkg-${++n}`;
    let opened: Promise<void> | undefined;
    const r = await npm.runTty(['publish'], [], {
      cwd: makePackage(name, '1.0.0'),
      onStdout: (chunk) => {
        const url = /(http:\/\/\S+\/-\/v1\/login\/cli\/\S+)/.exec(chunk)?.[1];
        if (!url || opened) return;
        opened = (async () => {
          const page = await ctx.newPage();
          await page.goto(url);
          await page.getByRole('heading', { name: CHALLENGE }).waitFor();
          await answer(page);
          await page.getByRole('heading', { name: `Signed in as ${user}` }).waitFor();
        })();
      },
    });
    assert.ok(opened, `npm printed the authUrl: ${r.output}`);
    await opened;
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, new RegExp(`\\+ ${name}@1\\.0\\.0`));
  }

  test('trustMfa and amr ["pwd","otp"]: a fresh provider sign-in stands for the code', async () => {
    const ctx = await b.browser.newContext();
    try {
      await signUpWith2fa(ctx, 'mira');
      await publish(ctx, 'mira', async (page) => {
        // The browser is still signed in at the provider: for a write, it asks for the password again.
        await providerForm(page, 'mira');
      });
    } finally {
      await ctx.close();
    }
  });

  test('trustMfa but amr ["pwd"]: after the provider, the registry asks for its own code', async () => {
    const ctx = await b.browser.newContext();
    try {
      await signUpWith2fa(ctx, 'pia');
      await publish(ctx, 'pia', async (page) => {
        await providerForm(page, 'pia');
        await page.getByRole('heading', { name: CHALLENGE }).waitFor();
        assert.match(page.url(), /\/-\/signin\/oidc\/callback/, "the registry's code, after the provider");
        await page.getByLabel('One-time password').fill(code('pia'));
        await page.getByRole('button', { name: 'Confirm' }).click();
      });
    } finally {
      await ctx.close();
    }
  });

  test('trustMfa off: the challenge does not offer the provider; the registry asks for its code', async () => {
    s.ctx.config.auth.oidc!.trustMfa = false;
    const ctx = await b.browser.newContext();
    try {
      await publish(ctx, 'mira', async (page) => {
        assert.equal(await page.getByRole('link', { name: 'Sign in with Acme SSO' }).count(), 0);
        await page.getByLabel('One-time password').fill(code('mira'));
        await page.getByRole('button', { name: 'Confirm' }).click();
      });
    } finally {
      s.ctx.config.auth.oidc!.trustMfa = true;
      await ctx.close();
    }
  });
});
