// The account pages in real Chromium: sign in (with the registry's throttling), create a granular token
// in the page and use it with the real npm CLI, revoke it; a form posted from another origin is refused;
// a password change ends npm login sessions and other web sessions; axe finds no serious violation.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startServer, type TestServer } from '../helpers/server.ts';
import { makeNpm, makePackage } from '../helpers/npm.ts';
import { assertAccessible, launch, screenshot, signIn, signedIn, type TestBrowser } from '../helpers/browser.ts';
import { onceInSqlitePass } from '../helpers/cluster-data.ts';

describe('web pages: account and tokens', { skip: onceInSqlitePass }, () => {
  let s: TestServer;
  let b: TestBrowser;
  let attacker: Server;
  let attackerUrl = '';

  before(async () => {
    s = await startServer();
    await s.addUser('alice');
    b = await launch();
    // Another origin (another port of the same host: same site, so SameSite alone would not stop it).
    attacker = createServer((req, res) => {
      const target = decodeURIComponent((req.url ?? '/').slice(1));
      res.setHeader('content-type', 'text/html');
      res.end(`<!doctype html><title>Win a prize</title><form method="post" action="${s.url}${target}">
<input name="old" value="alice-password"><input name="new" value="attacker-password-1">
<input name="name" value="stolen"><input name="password" value="alice-password"><button>Claim</button></form>`);
    });
    await new Promise<void>((r) => attacker.listen(0, '127.0.0.1', r));
    attackerUrl = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}/`;
  });
  after(async () => {
    attacker?.close();
    await b?.close();
    await s?.close();
  });

  test('sign in: a wrong password is refused; the cookie is HttpOnly, SameSite=Lax, no npm token', async () => {
    const ctx = await b.browser.newContext();
    const page = await ctx.newPage();
    await page.goto(`${s.url}-/web/signin`);
    await assertAccessible(page, 'sign-in');
    await page.getByLabel('Username').fill('alice');
    await page.getByLabel('Password', { exact: true }).fill('wrong');
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST'),
      page.getByRole('button', { name: 'Sign in' }).click(),
    ]);
    assert.equal(res.status(), 401);
    assert.equal(res.headers()['x-tessera-reason'], 'password-wrong');
    assert.match((await page.getByRole('alert').textContent()) ?? '', /Incorrect username or password/);
    await signIn(page, s.url, 'alice', 'alice-password');
    const cookie = (await ctx.cookies()).find((c) => c.name === 'tessera-session');
    assert.ok(cookie, 'a session cookie');
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, 'Lax');
    const whoami = await fetch(`${s.url}-/whoami`, { headers: { authorization: `Bearer ${cookie.value}` } });
    assert.equal(whoami.status, 401, 'the web session is not an npm credential');
    await page.goto(`${s.url}-/web/account`);
    assert.match((await page.locator('main').textContent()) ?? '', /alice@example\.com\s+not verified/);
    await assertAccessible(page, 'account');
    await screenshot(page, 'account');
    await ctx.close();
  });

  test('a granular token created in the page works with the real npm CLI, within its limits', async () => {
    const { ctx, page } = await signedIn(b, s.url, 'alice');
    await page.goto(`${s.url}-/web/tokens/new`);
    await assertAccessible(page, 'new token');
    await page.getByLabel('Name', { exact: true }).fill('ci for web-made');
    await page.getByLabel('Expires in days').fill('7');
    await page.getByLabel('Permission').first().selectOption('read-write');
    await page.getByLabel('Packages', { exact: true }).fill('web-made');
    await page.getByLabel('Password', { exact: true }).fill('alice-password');
    await page.getByRole('button', { name: 'Create token' }).click();
    const token = await page.getByLabel('Token', { exact: true }).inputValue();
    assert.match(token, /^tsr_/);
    const line = await page.getByLabel('Line for .npmrc').inputValue();
    assert.equal(line, `//${s.host}/:_authToken=${token}`);
    const copy = page.getByRole('button', { name: 'Copy' }).first();
    assert.equal(await copy.isVisible(), true, 'the copy button is shown');
    await assertAccessible(page, 'token created');
    await screenshot(page, 'token-created');

    const npm = makeNpm(s.url);
    npm.setToken(s.host, token);
    const ok = await npm.run(['publish'], { cwd: makePackage('web-made', '1.0.0') });
    assert.equal(ok.code, 0, ok.output);
    const other = await npm.run(['publish'], { cwd: makePackage('not-covered', '1.0.0') });
    assert.notEqual(other.code, 0);
    assert.match(other.output, /token-package-restricted/);

    await page.goto(`${s.url}-/web/tokens`);
    const row = page.getByRole('row', { name: /ci for web-made/ });
    assert.match((await row.textContent()) ?? '', /package: read-write/);
    assert.match((await row.textContent()) ?? '', /web-made/);
    await assertAccessible(page, 'tokens');
    await screenshot(page, 'tokens');
    await row.getByRole('button', { name: /Revoke/ }).click();
    assert.match((await page.getByRole('status').textContent()) ?? '', /revoked/);
    const after = await npm.run(['whoami']);
    assert.notEqual(after.code, 0, 'the revoked token no longer works');
    await ctx.close();
  });

  test('the token form refuses as the API does (an expiry out of range)', async () => {
    const { ctx, page } = await signedIn(b, s.url, 'alice');
    await page.goto(`${s.url}-/web/tokens/new`);
    await page.getByLabel('Expires in days').fill('100000');
    await page.getByLabel('Password', { exact: true }).fill('alice-password');
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST'),
      page.getByRole('button', { name: 'Create token' }).click(),
    ]);
    assert.equal(res.headers()['x-tessera-reason'], 'token-expiry-out-of-range');
    assert.equal(await page.getByLabel('Expires in days').inputValue(), '100000', 'the form keeps what was typed');
    await ctx.close();
  });

  test('CSRF: forms posted from another origin are refused, and change nothing', async () => {
    const { ctx, page } = await signedIn(b, s.url, 'alice');
    for (const target of ['-/web/account/password', '-/web/tokens', '-/web/signout']) {
      await page.goto(`${attackerUrl}${encodeURIComponent(target)}`);
      const [res] = await Promise.all([
        page.waitForResponse((r) => r.url().startsWith(s.url)),
        page.getByRole('button', { name: 'Claim' }).click(),
      ]);
      assert.equal(res.status(), 403, target);
      assert.equal(res.headers()['x-tessera-reason'], 'csrf-failed', target);
    }
    await assertAccessible(page, 'csrf refusal');
    await screenshot(page, 'csrf-refused');
    // Still signed in, the password unchanged, no token made.
    const res = await page.goto(`${s.url}-/web/tokens`);
    assert.equal(res?.url(), `${s.url}-/web/tokens`);
    assert.doesNotMatch((await page.locator('main').textContent()) ?? '', /stolen/);
    const again = await b.browser.newContext();
    await signIn(await again.newPage(), s.url, 'alice', 'alice-password');
    await again.close();
    await ctx.close();
  });

  test('a password change in the page ends npm login sessions and other web sessions, not this one', async () => {
    const npmSession = await s.token({ user: 'alice' });
    const { ctx: other, page: op } = await signedIn(b, s.url, 'alice');
    const { ctx, page } = await signedIn(b, s.url, 'alice');
    await page.goto(`${s.url}-/web/account`);
    assert.ok((await page.getByRole('row', { name: /npm login/ }).count()) >= 1, 'the npm session is listed');
    await page.getByLabel('Current password').fill('alice-password');
    await page.getByLabel('New password').fill('a-new-password-2');
    await page.getByRole('button', { name: 'Change password' }).click();
    assert.match((await page.getByRole('status').textContent()) ?? '', /Password changed/);
    const whoami = await fetch(`${s.url}-/whoami`, { headers: { authorization: `Bearer ${npmSession}` } });
    assert.equal(whoami.status, 401);
    assert.equal(whoami.headers.get('x-tessera-reason'), 'token-revoked');
    await op.goto(`${s.url}-/web/account`);
    assert.match(op.url(), /\/-\/web\/signin/, 'the other web session was ended');
    await page.goto(`${s.url}-/web/account`);
    assert.match(page.url(), /\/-\/web\/account$/, 'this one goes on');
    // Signing out ends it on the server.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.goto(`${s.url}-/web/account`);
    assert.match(page.url(), /\/-\/web\/signin/);
    await other.close();
    await ctx.close();
  });
});
