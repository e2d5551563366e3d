// Company sign-in against a REAL OpenID Provider (oidc-provider on loopback, its own users and groups),
// through real Chromium and the real npm CLI: first and returning sign-in, groups → org roles and teams,
// a user removed from a group loses publish at the next refresh, a refused refresh deprovisions,
// state/nonce/PKCE tampering and another issuer's ID token refused, passwords off with a break-glass admin,
// and the registry's 2FA after the provider (unless its MFA is trusted).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BrowserContext } from 'playwright-core';
import { refreshIdentities } from '../../src/services/signin-oidc.ts';
import { toUser } from '../../src/services/authenticate.ts';
import { confirmEnrolment, startEnrolment } from '../../src/services/two-factor.ts';
import { codeAt } from '../../src/domain/totp.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import { makeNpm, makePackage, type NpmEnv } from '../helpers/npm.ts';
import { assertAccessible, launch, screenshot, type TestBrowser } from '../helpers/browser.ts';
import {
  startCompanySignIn,
  companySignIn,
  oidcAuth,
  startProvider,
  type TestProvider,
} from '../helpers/oidc-provider.ts';

const GROUPS = {
  'npm-acme-admins': 'acme:owner',
  'npm-acme-dev': 'acme:developers',
  'npm-acme-release': 'acme:release',
};

describe('company sign-in: OpenID Connect', () => {
  let op: TestProvider;
  let s: TestServer;
  let b: TestBrowser;
  let close = async () => {};

  before(async () => {
    const users = {
      olga: { password: 'olga-pw', email: 'olga@acme.test', groups: ['npm-acme-admins'] },
      dana: { password: 'dana-pw', email: 'dana@acme.test', groups: ['npm-acme-dev', 'npm-acme-release'] },
    };
    ({ op, s, b, close } = await startCompanySignIn(users, (p) => oidcAuth(p, { groups: GROUPS })));
    await s.addUser('root', { admin: true });
  });
  after(() => close());

  const userRow = (name: string) =>
    s.ctx.store.db.selectFrom('users').selectAll().where('name', '=', name).executeTakeFirst();
  const roleIn = async (org: string, name: string) =>
    (
      await s.ctx.store.db
        .selectFrom('org_members')
        .innerJoin('users', 'users.id', 'org_members.user_id')
        .select('role')
        .where('org', '=', org)
        .where('users.name', '=', name)
        .executeTakeFirst()
    )?.role;
  const teamsOf = async (name: string) =>
    (
      await s.ctx.store.db
        .selectFrom('team_members')
        .innerJoin('users', 'users.id', 'team_members.user_id')
        .select(['org', 'team'])
        .where('users.name', '=', name)
        .orderBy('team')
        .execute()
    ).map((r) => `${r.org}:${r.team}`);

  test('first sign-in in Chromium makes the account from the claims, e-mail verified, groups → roles', async () => {
    const ctx = await b.browser.newContext();
    const page = await ctx.newPage();
    await page.goto(`${s.url}-/web/signin`);
    await assertAccessible(page, 'sign-in with company sign-in');
    await companySignIn(page, 'olga', 'olga-pw');
    await page.waitForURL(/\/-\/web\/$/);
    assert.match((await page.getByRole('navigation', { name: 'Account' }).textContent()) ?? '', /olga/);
    await screenshot(page, 'signin-oidc-home');
    const olga = await userRow('olga');
    assert.equal(olga?.email, 'olga@acme.test');
    assert.equal(olga?.email_verified, 1, 'the provider said email_verified');
    assert.equal(olga?.password_hash, null, 'no local password');
    assert.equal(await roleIn('acme', 'olga'), 'owner', 'npm-acme-admins → acme:owner (the org is made)');
    await ctx.close();
  });

  test('returning sign-in: the same account, bound to the subject', async () => {
    const ctx = await b.browser.newContext();
    const page = await ctx.newPage();
    await page.goto(`${s.url}-/web/signin`);
    await companySignIn(page, 'olga', 'olga-pw');
    await page.waitForURL(/\/-\/web\/$/);
    const n = await s.ctx.store.db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('name', '=', 'olga')
      .executeTakeFirstOrThrow();
    assert.equal(Number(n.n), 1);
    const signIns = await s.ctx.store.db
      .selectFrom('audit')
      .select('id')
      .where('event', '=', 'sso-signed-in')
      .where('user_name', '=', 'olga')
      .execute();
    assert.equal(signIns.length, 2);
    await ctx.close();
  });

  test('a company account (no password) creates a token in the web page, and npm uses it', async () => {
    const ctx = await b.browser.newContext();
    const page = await ctx.newPage();
    await page.goto(`${s.url}-/web/signin`);
    await companySignIn(page, 'olga', 'olga-pw');
    await page.waitForURL(/\/-\/web\/$/);
    await page.goto(`${s.url}-/web/tokens/new`);
    await page.getByLabel('Name', { exact: true }).fill('olga ci');
    await page.getByLabel('Expires in days').fill('7');
    await page.getByLabel('Permission').first().selectOption('read-only');
    await page.getByLabel('All packages (--packages-all)').check();
    await page.getByRole('button', { name: 'Create token' }).click();
    const token = await page.getByLabel('Token', { exact: true }).inputValue();
    const npm = makeNpm(s.url);
    npm.setToken(s.host, token);
    assert.equal((await npm.run(['whoami'])).stdout.trim(), 'olga');
    await ctx.close();
  });

  let danaNpm: NpmEnv;

  test('npm login in the browser; groups → teams; out of a group, publish is lost at the next refresh', async () => {
    const ctx = await b.browser.newContext();
    danaNpm = makeNpm(s.url);
    const r = await npmLoginInBrowser(ctx, danaNpm, 'dana', 'dana-pw');
    assert.equal(r.code, 0, r.output);
    assert.equal((await danaNpm.run(['whoami'])).stdout.trim(), 'dana');
    assert.equal(await roleIn('acme', 'dana'), 'developer');
    assert.deepEqual(await teamsOf('dana'), ['acme:developers', 'acme:release']);

    // olga (owner) publishes @acme/lib and grants the release team write access, with the real npm.
    const olgaNpm = makeNpm(s.url);
    olgaNpm.setToken(s.host, await s.token({ user: 'olga' }));
    let p = await olgaNpm.run(['publish', '--access', 'public'], { cwd: makePackage('@acme/lib', '1.0.0') });
    assert.equal(p.code, 0, p.output);
    p = await olgaNpm.run(['access', 'grant', 'read-write', 'acme:release', '@acme/lib']);
    assert.equal(p.code, 0, p.output);

    p = await danaNpm.run(['publish'], { cwd: makePackage('@acme/lib', '1.0.1') });
    assert.equal(p.code, 0, `the release team may publish: ${p.output}`);

    // The directory takes dana out of npm-acme-release; the next refresh follows it.
    op.users.get('dana')!.groups = ['npm-acme-dev'];
    const report = await refreshIdentities(s.ctx);
    assert.ok(report.refreshed.includes('dana'), JSON.stringify(report));
    assert.deepEqual(await teamsOf('dana'), ['acme:developers']);
    p = await danaNpm.run(['publish'], { cwd: makePackage('@acme/lib', '1.0.2') });
    assert.notEqual(p.code, 0, "dana's npm token lost what dana lost");
    assert.match(
      p.output,
      /E403[\s\S]*The company directory removed you from acme:release on \S+, so you may no longer/,
    );
    assert.match(p.output, /add you to npm-acme-release again/);
    assert.match(p.output, /\/-\/help\/sso-group-removed/);
    assert.equal((await danaNpm.run(['whoami'])).stdout.trim(), 'dana', 'the session itself still stands');
    await ctx.close();
  });

  test('a user the provider refuses at refresh (invalid_grant) is disabled and their tokens revoked', async () => {
    op.users.delete('dana');
    const report = await refreshIdentities(s.ctx);
    assert.deepEqual(report.deprovisioned, ['dana']);
    assert.equal((await userRow('dana'))?.disabled, 1);
    const who = await danaNpm.run(['whoami']);
    assert.notEqual(who.code, 0);
    assert.match(who.output, /E401/);
    const token = /_authToken=(\S+)/.exec(danaNpm.npmrc())?.[1];
    const res = await fetch(`${s.url}-/whoami`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.headers.get('x-tessera-reason'), 'token-revoked');
    assert.match(await res.text(), /deprovisioned by oidc/);
  });

  test('passwords off: legacy npm login and the password form refused; the break-glass admin signs in', async () => {
    const npm = makeNpm(s.url);
    const r = await npm.runTty(
      ['login', '--auth-type=legacy'],
      [
        [/Username:/, 'olga\n'],
        [/Password:/, 'whatever\n'],
        [/Email:/, 'olga@acme.test\n'],
      ],
    );
    assert.notEqual(r.code, 0);
    assert.match(r.output, /E403[\s\S]*Passwords are turned off on this registry: sign in with Acme SSO/);

    const ctx = await b.browser.newContext();
    const page = await ctx.newPage();
    await page.goto(`${s.url}-/web/signin`);
    await page.getByLabel('Username').fill('olga');
    await page.getByLabel('Password', { exact: true }).fill('anything');
    const [res] = await Promise.all([
      page.waitForResponse((x) => x.request().method() === 'POST'),
      page.getByRole('button', { name: 'Sign in', exact: true }).click(),
    ]);
    assert.equal(res.status(), 403);
    assert.equal(res.headers()['x-tessera-reason'], 'local-login-disabled');
    await page.getByLabel('Username').fill('root');
    await page.getByLabel('Password', { exact: true }).fill('root-password');
    await Promise.all([
      page.waitForURL(/\/-\/web\/$/),
      page.getByRole('button', { name: 'Sign in', exact: true }).click(),
    ]);
    assert.match((await page.getByRole('navigation', { name: 'Account' }).textContent()) ?? '', /root/);
    await ctx.close();
  });

  test("2FA still applies after the provider, unless trustMfa and the provider's amr says it did MFA", async () => {
    op.users.set('mira', { password: 'mira-pw', email: 'mira@acme.test', groups: [], mfa: true });
    const signInAs = async () => {
      const ctx = await b.browser.newContext();
      const page = await ctx.newPage();
      await page.goto(`${s.url}-/web/signin`);
      await companySignIn(page, 'mira', 'mira-pw');
      return { ctx, page };
    };
    let { ctx, page } = await signInAs();
    await page.waitForURL(/\/-\/web\/$/);
    await ctx.close();
    const user = toUser((await userRow('mira'))!);
    const { tfa } = await startEnrolment(s.ctx, { user, credential: { type: 'password' } }, 'auth-and-writes');
    const secret = new URL(String(tfa)).searchParams.get('secret')!;
    await confirmEnrolment(s.ctx, user, codeAt(secret, s.clock.now()));

    ({ ctx, page } = await signInAs());
    await page.getByRole('heading', { name: 'Confirm with your one-time password' }).waitFor();
    await assertAccessible(page, 'company sign-in: one-time password');
    s.clock.advance(30_000);
    await page.getByLabel('One-time password').fill('000000');
    const [wrong] = await Promise.all([
      page.waitForResponse((x) => x.request().method() === 'POST'),
      page.getByRole('button', { name: 'Confirm' }).click(),
    ]);
    assert.equal(wrong.headers()['x-tessera-reason'], 'otp-wrong');
    assert.equal(
      (await ctx.cookies()).find((c) => c.name === 'tessera-session'),
      undefined,
      'no session yet',
    );
    await page.getByLabel('One-time password').fill(codeAt(secret, s.clock.now()));
    await Promise.all([page.waitForURL(/\/-\/web\/$/), page.getByRole('button', { name: 'Confirm' }).click()]);
    await ctx.close();

    s.ctx.config.auth.oidc!.trustMfa = true;
    try {
      ({ ctx, page } = await signInAs());
      await page.waitForURL(/\/-\/web\/$/);
      const session = (await ctx.cookies()).find((c) => c.name === 'tessera-session');
      assert.ok(session, "the provider's MFA stood for the code");
      await ctx.close();
      op.users.get('mira')!.mfa = false;
      ({ ctx, page } = await signInAs());
      await page.getByRole('heading', { name: 'Confirm with your one-time password' }).waitFor();
      await ctx.close();
    } finally {
      s.ctx.config.auth.oidc!.trustMfa = false;
    }
  });

  test("npm's OTP challenge (authUrl) is met by the company sign-in when its MFA is trusted", async () => {
    s.ctx.config.auth.oidc!.trustMfa = true;
    op.users.get('mira')!.mfa = true;
    const npm = makeNpm(s.url);
    npm.setToken(s.host, await s.token({ user: 'mira' }));
    const ctx = await b.browser.newContext();
    let opened: Promise<void> | undefined;
    try {
      // In a terminal npm opens the challenge's authUrl and polls doneUrl (without one it only prints them).
      const r = await npm.runTty(['publish'], [], {
        cwd: makePackage('mira-pkg', '1.0.0'),
        onStdout: (chunk) => {
          const url = /(http:\/\/\S+\/-\/v1\/login\/cli\/\S+)/.exec(chunk)?.[1];
          if (!url || opened) return;
          opened = (async () => {
            const page = await ctx.newPage();
            await page.goto(url);
            await page.getByRole('heading', { name: 'Confirm with your one-time password' }).waitFor();
            await companySignIn(page, 'mira', 'mira-pw');
            await page.getByRole('heading', { name: 'Signed in as mira' }).waitFor();
          })();
        },
      });
      await opened;
      assert.ok(opened, `npm printed the authUrl: ${r.output}`);
      assert.equal(r.code, 0, r.output);
      assert.match(r.output, /\+ mira-pkg@1\.0\.0/);
    } finally {
      s.ctx.config.auth.oidc!.trustMfa = false;
      await ctx.close();
    }
  });

  test('the provider refusing the sign-in (access_denied) is sso-provider-refused, with its reason', async () => {
    const ctx = await b.browser.newContext();
    const page = await ctx.newPage();
    await page.goto(`${s.url}-/web/signin`);
    await page.getByRole('link', { name: 'Sign in with Acme SSO' }).click();
    const callback = page.waitForResponse((x) => x.url().includes('/-/signin/oidc/callback'));
    await page.getByRole('button', { name: 'Cancel' }).click();
    const res = await callback;
    assert.equal(res.status(), 403);
    assert.equal(res.headers()['x-tessera-reason'], 'sso-provider-refused');
    assert.match(
      (await page.getByRole('alert').textContent()) ?? '',
      /Acme SSO refused the sign-in \(the user cancelled\)/,
    );
    await ctx.close();
  });

  test('state, nonce and PKCE tampering are refused', async () => {
    op.users.set('tess', { password: 'tess-pw', email: 'tess@acme.test', groups: [] });
    const set = (u: URL, key: string, value: string) => {
      u.searchParams.set(key, value);
      return true;
    };
    const cases: [string, TestProvider['tamper']][] = [
      ['state', { location: (u) => u.pathname.endsWith('/callback') && set(u, 'state', 'forged') }],
      ['nonce', { request: (u) => u.pathname === '/auth' && set(u, 'nonce', 'forged-nonce') }],
      [
        'code_challenge',
        {
          request: (u) =>
            u.pathname === '/auth' && set(u, 'code_challenge', 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'),
        },
      ],
    ];
    for (const [what, tamper] of cases) {
      let tampered = false;
      const spy = (f?: (u: URL) => boolean) =>
        f &&
        ((u: URL) => {
          const done = !tampered && f(u);
          tampered ||= done;
          return done;
        });
      op.tamper = { request: spy(tamper.request), location: spy(tamper.location) };
      const ctx = await b.browser.newContext();
      const page = await ctx.newPage();
      await page.goto(`${s.url}-/web/signin`);
      const callback = page.waitForResponse((x) => x.url().includes('/-/signin/oidc/callback'));
      await companySignIn(page, 'tess', 'tess-pw');
      const res = await callback;
      op.tamper = {};
      assert.ok(tampered, `${what} was tampered with`);
      assert.equal(res.status(), 400, what);
      assert.equal(res.headers()['x-tessera-reason'], 'sso-response-invalid', what);
      assert.match(await res.text(), /could not be verified/, what);
      assert.equal(
        (await ctx.cookies()).find((c) => c.name === 'tessera-session'),
        undefined,
        `${what}: no session`,
      );
      await ctx.close();
    }
    assert.equal(await userRow('tess'), undefined, 'no account was made');
  });
});

describe('company sign-in: another issuer', () => {
  test('its authorization response (RFC 9207 iss) and, without that, its ID token are refused', async () => {
    const op = await startProvider();
    op.users.set('ivan', { password: 'ivan-pw', email: 'ivan@acme.test', groups: [] });
    // An impostor issuer whose discovery document points at the real provider's endpoints and keys: every
    // answer then comes from the real provider, signed by it, with its own `iss`.
    let announceIss = true;
    const impostor: Server = createServer((_req, res) => {
      void (async () => {
        const real = await fetch(`${op.issuer}/.well-known/openid-configuration`);
        const doc = (await real.json()) as Record<string, unknown>;
        if (!announceIss) delete doc.authorization_response_iss_parameter_supported;
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ ...doc, issuer: impostorUrl }));
      })();
    });
    await new Promise<void>((r) => impostor.listen(0, '127.0.0.1', r));
    const impostorUrl = `http://127.0.0.1:${(impostor.address() as AddressInfo).port}`;
    const b = await launch();
    try {
      for (const [mode, check] of [
        ['iss parameter', /unexpected &quot;iss&quot; \(issuer\) response parameter/],
        ['ID token', /unexpected JWT &quot;iss&quot; \(issuer\) claim value/],
      ] as const) {
        announceIss = mode === 'iss parameter';
        // Without RFC 9207 the provider's `iss` parameter is dropped on the way, so the ID token is what is checked.
        const dropIss = (u: URL) => {
          if (!u.searchParams.has('iss')) return false;
          u.searchParams.delete('iss');
          return true;
        };
        op.tamper = announceIss ? {} : { location: dropIss };
        const s = await startServer({ auth: oidcAuth(op, { groups: GROUPS, issuer: impostorUrl }) });
        op.allowRedirect(`${s.url}-/signin/oidc/callback`);
        try {
          const page = await (await b.browser.newContext()).newPage();
          await page.goto(`${s.url}-/web/signin`);
          const callback = page.waitForResponse((x) => x.url().includes('/-/signin/oidc/callback'));
          await companySignIn(page, 'ivan', 'ivan-pw');
          const res = await callback;
          assert.equal(res.status(), 400, mode);
          assert.equal(res.headers()['x-tessera-reason'], 'sso-response-invalid', mode);
          assert.match(await res.text(), check, mode);
          const ivan = await s.ctx.store.db
            .selectFrom('users')
            .select('id')
            .where('name', '=', 'ivan')
            .executeTakeFirst();
          assert.equal(ivan, undefined, mode);
        } finally {
          await s.close();
        }
      }
    } finally {
      await b.close();
      impostor.closeAllConnections();
      impostor.close();
      await op.close();
    }
  });
});

/** `npm login` (web flow): the printed URL is opened in Chromium and the company sign-in done there. */
async function npmLoginInBrowser(ctx: BrowserContext, npm: NpmEnv, user: string, password: string) {
  let opened: Promise<void> | undefined;
  const r = await npm.run(['login'], {
    onStdout: (chunk) => {
      const url = /(http:\/\/\S+\/-\/v1\/login\/cli\/\S+)/.exec(chunk)?.[1];
      if (!url || opened) return;
      opened = (async () => {
        const page = await ctx.newPage();
        await page.goto(url);
        await companySignIn(page, user, password);
        await page.getByRole('heading', { name: `Signed in as ${user}` }).waitFor();
      })();
    },
  });
  await opened;
  return r;
}
