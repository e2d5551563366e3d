// Sweep of the company sign-in through OpenID Connect (#16) as a company's developers meet it, with the real
// oidc-provider, Chromium and npm: two `npm login`s at once in one browser, a login abandoned at the provider
// and started again, names the provider spells with capitals or characters npm encodes, and a provider that
// is down when someone signs in.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { onceInSqlitePass } from '../helpers/cluster-data.ts';
import { bindAccount } from '../../src/services/signin-oidc.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import { makeNpm, type NpmEnv, type NpmResult } from '../helpers/npm.ts';
import { freePort } from '../helpers/ports.ts';
import { codeAt } from '../../src/domain/totp.ts';
import type { TestBrowser } from '../helpers/browser.ts';
import { startCompanySignIn, oidcAuth, signInAtProvider, type TestProvider } from '../helpers/oidc-provider.ts';

/** At the provider's own form: the person types their company credentials. */
/** Starts `npm login` (web flow); `url` resolves with the address npm prints, `done` with npm's result. */
function startNpmLogin(npm: NpmEnv): { url: Promise<string>; done: Promise<NpmResult> } {
  let found: (u: string) => void = () => {};
  const url = new Promise<string>((r) => {
    found = r;
  });
  const done = npm.run(['login'], {
    onStdout: (chunk) => {
      const u = /(http:\/\/\S+\/-\/v1\/login\/cli\/\S+)/.exec(chunk)?.[1];
      if (u) found(u);
    },
  });
  return { url, done };
}

/** What `npm login` asks first: the page to open (for a login nobody finishes, without an npm left polling). */
async function loginUrl(s: TestServer): Promise<string> {
  const start = await fetch(`${s.url}-/v1/login`, { method: 'POST' });
  return ((await start.json()) as { loginUrl: string }).loginUrl;
}

describe('company sign-in through OpenID Connect, swept', { skip: onceInSqlitePass }, () => {
  let op: TestProvider;
  let s: TestServer;
  let b: TestBrowser;
  let close = async () => {};

  before(async () => {
    ({ op, s, b, close } = await startCompanySignIn({
      nina: { password: 'nina-pw', email: 'nina@acme.test', groups: [] },
      'Pat.Smith': { password: 'pat-pw', email: 'pat.smith@acme.test', groups: [] },
      'quinn smith': { password: 'quinn-pw', email: 'quinn@acme.test', groups: [] },
      sam: { password: 'sam-pw', email: 'sam@acme.test', groups: [] },
    }));
  });
  after(() => close());

  test('two npm logins at once for one user, in one browser: both finish', async () => {
    const ctx = await b.browser.newContext();
    const [one, two] = [startNpmLogin(makeNpm(s.url)), startNpmLogin(makeNpm(s.url))];
    const [p1, p2] = [await ctx.newPage(), await ctx.newPage()];
    await p1.goto(await one.url);
    await p2.goto(await two.url);
    // Both leave for the provider before either comes back: two terminals, two tabs.
    await p1.getByRole('link', { name: 'Sign in with Acme SSO' }).click();
    await p2.getByRole('link', { name: 'Sign in with Acme SSO' }).click();
    await signInAtProvider(p1, 'nina', 'nina-pw');
    await p1.getByRole('heading', { name: 'Signed in as nina' }).waitFor();
    await signInAtProvider(p2, 'nina', 'nina-pw');
    await p2.getByRole('heading', { name: 'Signed in as nina' }).waitFor();
    for (const r of [await one.done, await two.done]) assert.equal(r.code, 0, r.output);
    await ctx.close();
  });

  test('a login abandoned at the provider and started again finishes', async () => {
    const ctx = await b.browser.newContext();
    const npm = makeNpm(s.url);
    const first = await ctx.newPage();
    await first.goto(await loginUrl(s));
    await first.getByRole('link', { name: 'Sign in with Acme SSO' }).click();
    await first.getByLabel('Company username').waitFor();
    await first.close();
    const again = startNpmLogin(npm);
    const page = await ctx.newPage();
    await page.goto(await again.url);
    await page.getByRole('link', { name: 'Sign in with Acme SSO' }).click();
    await signInAtProvider(page, 'nina', 'nina-pw');
    await page.getByRole('heading', { name: 'Signed in as nina' }).waitFor();
    const r = await again.done;
    assert.equal(r.code, 0, r.output);
    assert.equal((await npm.run(['whoami'])).stdout.trim(), 'nina');
    await ctx.close();
  });

  test('a provider name with capitals is the lower-case account, the same at every sign-in', async () => {
    for (let i = 0; i < 2; i++) {
      const ctx = await b.browser.newContext();
      const npm = makeNpm(s.url);
      const login = startNpmLogin(npm);
      const page = await ctx.newPage();
      await page.goto(await login.url);
      await page.getByRole('link', { name: 'Sign in with Acme SSO' }).click();
      await signInAtProvider(page, 'Pat.Smith', 'pat-pw');
      await page.getByRole('heading', { name: 'Signed in as pat.smith' }).waitFor();
      assert.equal((await login.done).code, 0);
      assert.equal((await npm.run(['whoami'])).stdout.trim(), 'pat.smith');
      await ctx.close();
    }
    const rows = await s.ctx.store.db.selectFrom('users').select('name').where('name', 'like', 'pat%').execute();
    assert.deepEqual(
      rows.map((r) => r.name),
      ['pat.smith'],
    );
  });

  test('a provider name the registry cannot use is a page that says so, and makes no account', async () => {
    const ctx = await b.browser.newContext();
    const page = await ctx.newPage();
    await page.goto(`${s.url}-/web/signin`);
    await page.getByRole('link', { name: 'Sign in with Acme SSO' }).click();
    const [answer] = await Promise.all([
      page.waitForResponse((r) => r.url().includes('/-/signin/oidc/callback')),
      signInAtProvider(page, 'quinn smith', 'quinn-pw'),
    ]);
    assert.equal(answer.status(), 409);
    assert.equal(answer.headers()['x-tessera-reason'], 'sso-name-conflict');
    const body = (await page.textContent('body')) ?? '';
    assert.match(body, /quinn smith/);
    assert.match(body, /not a space/, 'the rule the name breaks');
    assert.match(body, /auth\.oidc\.userClaim/, 'what the administrator can change');
    const rows = await s.ctx.store.db.selectFrom('users').select('name').where('name', 'like', 'quinn%').execute();
    assert.deepEqual(rows, []);
    await ctx.close();
  });

  test('a provider that is down: the sign-in link and npm login answer a clear refusal, not a 5xx', async () => {
    const down = await startServer({ auth: oidcAuth(op, { issuer: `http://127.0.0.1:${await freePort()}` }) });
    try {
      const ctx = await b.browser.newContext();
      const page = await ctx.newPage();
      await page.goto(`${down.url}-/web/signin`);
      const [answer] = await Promise.all([
        page.waitForResponse((r) => r.url().includes('/-/web/signin/oidc')),
        page.getByRole('link', { name: 'Sign in with Acme SSO' }).click(),
      ]);
      assert.equal(answer.headers()['x-tessera-reason'], 'sso-provider-unavailable');
      assert.ok(answer.status() < 500, `status ${answer.status()}`);
      assert.match((await page.textContent('body')) ?? '', /Acme SSO cannot be reached/);
      await page.goto(await loginUrl(down));
      const [cli] = await Promise.all([
        page.waitForResponse((r) => /\/-\/v1\/login\/cli\/[^/]+\/oidc/.test(r.url())),
        page.getByRole('link', { name: 'Sign in with Acme SSO' }).click(),
      ]);
      assert.equal(cli.headers()['x-tessera-reason'], 'sso-provider-unavailable');
      assert.ok(cli.status() < 500, `status ${cli.status()}`);
      await ctx.close();
    } finally {
      await down.close();
    }
  });

  test('a first sign-in in two browsers at once makes one account, and both are signed in', async () => {
    const [c1, c2] = [await b.browser.newContext(), await b.browser.newContext()];
    const pages = [await c1.newPage(), await c2.newPage()];
    for (const page of pages) {
      await page.goto(`${s.url}-/web/signin`);
      await page.getByRole('link', { name: 'Sign in with Acme SSO' }).click();
      await page.getByLabel('Company username').fill('sam');
      await page.getByLabel('Company password').fill('sam-pw');
    }
    await Promise.all(pages.map((page) => page.getByRole('button', { name: 'Continue' }).click()));
    for (const page of pages) {
      await page.waitForURL(/\/-\/web\/$/);
      assert.match((await page.getByRole('navigation', { name: 'Account' }).textContent()) ?? '', /sam/);
    }
    // The same race without a browser's timing: two bindings of one new subject at once.
    const o = s.ctx.config.auth.oidc!;
    const claims = { sub: 'tess', preferred_username: 'tess', email: 'tess@acme.test', email_verified: true };
    const both = await Promise.all([bindAccount(s.ctx, o, claims, 'one'), bindAccount(s.ctx, o, claims, 'two')]);
    assert.equal(both[0].id, both[1].id);
    const rows = await s.ctx.store.db.selectFrom('users').select('name').where('name', 'in', ['sam', 'tess']).execute();
    assert.deepEqual(rows.map((r) => r.name).sort(), ['sam', 'tess']);
    await c1.close();
    await c2.close();
  });

  test("npm profile enable-2fa for a company account: any password at npm's prompt, then the code", async () => {
    const o = s.ctx.config.auth.oidc!;
    await bindAccount(s.ctx, o, { sub: 'uma', preferred_username: 'uma', email: 'uma@acme.test' }, undefined);
    const npm = makeNpm(s.url);
    npm.setToken(s.host, await s.token({ user: 'uma', kind: 'session' }));
    const plain = (out: string) => out.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '');
    const r = await npm.runTty(
      ['profile', 'enable-2fa', 'auth-and-writes'],
      [
        // npm asks for a password whatever the account; it has none here, so whatever is typed.
        [/password:/, 'no-password-here'],
        [
          /OTP code from your authenticator:/,
          (out) => codeAt(/Or enter code:\s*([A-Z2-7]+)/.exec(plain(out))![1], s.clock.now()),
        ],
      ],
    );
    assert.equal(r.code, 0, r.output);
    const row = await s.ctx.store.db
      .selectFrom('users')
      .select('tfa')
      .where('name', '=', 'uma')
      .executeTakeFirstOrThrow();
    assert.match(String(row.tfa), /"mode":"auth-and-writes"/);
  });

  test('sign-ins started again and again keep a few pending cookies, and the last one finishes', async () => {
    const ctx = await b.browser.newContext();
    const page = await ctx.newPage();
    for (let i = 0; i < 8; i++) {
      await page.goto(`${s.url}-/web/signin/oidc?next=%2F-%2Fweb%2F`);
      await page.getByLabel('Company username').waitFor();
    }
    const pending = (await ctx.cookies(s.url)).filter((c) => c.name.startsWith('tessera-sso-'));
    assert.ok(pending.length <= 5, `${pending.length} pending sign-in cookies`);
    await signInAtProvider(page, 'nina', 'nina-pw');
    await page.waitForURL(/\/-\/web\/$/);
    await ctx.close();
  });
});
