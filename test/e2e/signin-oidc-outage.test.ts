// Company sign-in (OpenID Connect) when the provider goes down after discovery: the person signed in at the
// provider, but its token endpoint, its keys (JWKS) or its UserInfo cannot be reached, answer 5xx, or never
// answer. Each is `sso-provider-unavailable` (not a 5xx, not "could not be verified"), within
// auth.oidc.timeout, on the web sign-in and on `npm login`'s page alike; once the provider is back, the same
// person signs in. A provider that is down at discovery is the same refusal.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { onceInSqlitePass } from '../helpers/cluster-data.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import { freePort } from '../helpers/ports.ts';
import type { TestBrowser } from '../helpers/browser.ts';
import { startCompanySignIn, oidcAuth, signInAtProvider, type TestProvider } from '../helpers/oidc-provider.ts';

describe('company sign-in when the provider goes down after discovery', { skip: onceInSqlitePass }, () => {
  let op: TestProvider;
  let s: TestServer;
  let b: TestBrowser;
  let close = async () => {};

  before(async () => {
    const nina = { password: 'nina-pw', email: 'nina@acme.test', groups: [] };
    ({ op, s, b, close } = await startCompanySignIn({ nina }, (p) => oidcAuth(p, { local: true, timeoutMs: 1_000 })));
  });
  after(() => close());

  /** Signs nina in at the provider from `start` (a page with the "Sign in with" link); the callback's answer. */
  async function signIn(start: string) {
    const ctx = await b.browser.newContext();
    const page = await ctx.newPage();
    await page.goto(start);
    await page.getByRole('link', { name: 'Sign in with Acme SSO' }).click();
    const [answer] = await Promise.all([
      page.waitForResponse((r) => r.url().includes('/-/signin/oidc/callback')),
      signInAtProvider(page, 'nina', 'nina-pw'),
    ]);
    await page.waitForLoadState();
    const text = (await page.textContent('body')) ?? '';
    await ctx.close();
    return { status: answer.status(), reason: answer.headers()['x-tessera-reason'], text };
  }

  const accounts = async () => (await s.ctx.store.db.selectFrom('users').select('name').execute()).length;

  test('token endpoint, keys or UserInfo down, failing or silent: sso-provider-unavailable on the web', async () => {
    const faults: [string, number | 'reset' | 'hang'][] = [
      ['/token', 503],
      ['/token', 'hang'],
      ['/jwks', 500],
      ['/me', 502],
    ];
    for (const [path, fault] of faults) {
      op.fault.clear();
      op.fault.set(path, fault);
      const r = await signIn(`${s.url}-/web/signin`);
      const what = `${path} ${fault}`;
      assert.deepEqual([r.status, r.reason], [403, 'sso-provider-unavailable'], `${what}: ${r.text}`);
      assert.match(r.text, /Acme SSO cannot be reached/, what);
      assert.match(r.text, new RegExp(path === '/jwks' ? 'keys' : path === '/me' ? 'UserInfo' : 'token'), what);
    }
    op.fault.clear();
    assert.equal(await accounts(), 0, 'no account is made from an answer that was never checked');
  });

  test("npm login's page: the same refusal in the browser, and npm is given no token", async () => {
    const start = (await (await fetch(`${s.url}-/v1/login`, { method: 'POST' })).json()) as Record<string, string>;
    op.fault.set('/token', 'reset');
    const r = await signIn(start.loginUrl);
    op.fault.clear();
    assert.deepEqual([r.status, r.reason], [403, 'sso-provider-unavailable'], r.text);
    assert.match(r.text, /Acme SSO cannot be reached/);
    const done = await fetch(start.doneUrl);
    assert.notEqual(done.status, 200, 'npm is given no token');
  });

  test('once the provider is back, the same person signs in', async () => {
    op.fault.clear();
    const r = await signIn(`${s.url}-/web/signin`);
    assert.ok(r.status < 400, `${r.status} ${r.reason}: ${r.text}`);
    assert.equal(await accounts(), 1);
  });

  test('a provider down at discovery is the same refusal, not a refusal by the provider', async () => {
    const down = await startServer({
      auth: oidcAuth(op, { issuer: `http://127.0.0.1:${await freePort()}`, local: true, timeoutMs: 1_000 }),
    });
    try {
      const res = await fetch(`${down.url}-/web/signin/oidc`, { redirect: 'manual' });
      assert.deepEqual([res.status, res.headers.get('x-tessera-reason')], [403, 'sso-provider-unavailable']);
      assert.match(await res.text(), /Acme SSO cannot be reached/);
    } finally {
      await down.close();
    }
  });
});
