// Administration in real Chromium: to a user who is not an administrator (and to nobody signed in) the pages
// are the not-found page of a package never published; an administrator adds a user, verifies an e-mail,
// disables an account (its sessions end), reads the audit log through its filters and creates an organization.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type TestServer } from '../helpers/server.ts';
import { makeNpm } from '../helpers/npm.ts';
import { assertAccessible, launch, screenshot, signIn, signedIn, type TestBrowser } from '../helpers/browser.ts';

describe('web pages: administration', () => {
  let s: TestServer;
  let b: TestBrowser;

  before(async () => {
    s = await startServer();
    await s.addUser('root', { admin: true });
    await s.addUser('alice');
    b = await launch();
  });
  after(async () => {
    await b?.close();
    await s?.close();
  });

  test('to others the administration pages are the not-found page', async () => {
    const ctx = await b.browser.newContext();
    const page = await ctx.newPage();
    const absent = await page.goto(`${s.url}-/web/package/never-published`);
    const absentText = await page.locator('main').textContent();
    assert.equal(absent?.status(), 404);
    for (const who of ['anonymous', 'alice']) {
      if (who === 'alice') await signIn(page, s.url, 'alice', 'alice-password');
      for (const path of ['-/web/admin', '-/web/admin/users', '-/web/admin/audit?user=root', '-/web/admin/orgs']) {
        const r = await page.goto(`${s.url}${path}`);
        assert.equal(r?.status(), 404, `${who} ${path}`);
        assert.equal(r?.headers()['x-tessera-reason'], 'not-found', `${who} ${path}`);
        assert.equal(await page.locator('main').textContent(), absentText, `${who} ${path}`);
      }
    }
    assert.equal(await page.getByRole('link', { name: 'Administration' }).count(), 0, 'no link to it either');
    // A form posted by a non-administrator changes nothing.
    await page.goto(`${s.url}-/web/account`);
    const csrf = await page.locator('input[name=_csrf]').first().inputValue();
    const r = await page.request.post(`${s.url}-/web/admin/users`, {
      form: { _csrf: csrf, name: 'mallory', email: 'm@example.com', password: 'mallory-password', admin: 'on' },
    });
    assert.equal(r.status(), 404);
    const mallory = await s.ctx.store.db
      .selectFrom('users')
      .select('name')
      .where('name', '=', 'mallory')
      .executeTakeFirst();
    assert.equal(mallory, undefined);
    await ctx.close();
  });

  test('an administrator adds, verifies and disables users, filters the audit log, creates an org', async () => {
    const dave = await b.browser.newContext();
    const { ctx, page } = await signedIn(b, s.url, 'root');
    await page.getByRole('link', { name: 'Administration' }).click();
    await assertAccessible(page, 'admin users');

    await page.getByLabel('User name').fill('dave');
    await page.getByLabel('E-mail', { exact: true }).fill('dave@example.com');
    await page.getByLabel('Password').fill('dave-password');
    await page.getByLabel('E-mail address verified').check();
    await page.getByRole('button', { name: 'Add user' }).click();
    assert.match((await page.getByRole('status').textContent()) ?? '', /dave is added/);
    assert.match((await page.getByRole('row', { name: /dave/ }).textContent()) ?? '', /dave@example\.com\s*verified/);
    // The same rules as `tessera user add`: a name taken is refused, and the form keeps what was typed.
    await page.getByLabel('User name').fill('dave');
    await page.getByLabel('E-mail', { exact: true }).fill('dave2@example.com');
    const [taken] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST'),
      page.getByRole('button', { name: 'Add user' }).click(),
    ]);
    assert.equal(taken.headers()['x-tessera-reason'], 'user-exists');
    assert.equal(await page.getByLabel('E-mail', { exact: true }).inputValue(), 'dave2@example.com');

    await page.getByRole('button', { name: 'Verify the e-mail of alice' }).click();
    assert.match((await page.getByRole('row', { name: /alice/ }).textContent()) ?? '', /alice@example\.com\s*verified/);

    const davePage = await dave.newPage();
    await signIn(davePage, s.url, 'dave', 'dave-password');
    const daveNpm = makeNpm(s.url);
    daveNpm.setToken(s.host, await s.token({ user: 'dave' }));
    assert.equal((await daveNpm.run(['whoami'])).code, 0);
    await page.getByRole('button', { name: 'Disable dave' }).click();
    assert.match((await page.getByRole('row', { name: /dave/ }).textContent()) ?? '', /disabled/);
    await davePage.goto(`${s.url}-/web/account`);
    assert.match(davePage.url(), /\/-\/web\/signin/, "the disabled account's web session ended");
    const after = await daveNpm.run(['whoami']);
    assert.notEqual(after.code, 0, 'and its npm token');
    await screenshot(page, 'admin-users');

    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.getByLabel('User', { exact: true }).fill('alice');
    await page.getByLabel('Event').fill('denied');
    await page.getByLabel('Reason').fill('not-found');
    await page.getByLabel('Since').fill('1h');
    await page.getByRole('button', { name: 'Filter' }).click();
    const rows = page.locator('main tbody tr');
    assert.ok((await rows.count()) >= 4, "alice's looks at the administration pages were recorded");
    for (const text of await rows.allTextContents()) assert.match(text, /denied\s*alice\s*not-found/);
    await assertAccessible(page, 'audit log');
    await screenshot(page, 'admin-audit');
    await page.getByLabel('Until').fill('2000-01-01T00:00Z');
    await page.getByRole('button', { name: 'Filter' }).click();
    assert.equal(await rows.count(), 0, 'nothing before 2000');
    await page.getByLabel('Since').fill('yesterday-ish');
    const [bad] = await Promise.all([
      page.waitForResponse((r) => r.url().includes('/admin/audit')),
      page.getByRole('button', { name: 'Filter' }).click(),
    ]);
    assert.equal(bad.status(), 400);

    await page.goto(`${s.url}-/web/admin/orgs`);
    await page.getByLabel('Name (the scope @name)').fill('beta');
    await page.getByLabel('Owner (a user name)').fill('alice');
    await page.getByRole('button', { name: 'Create organization' }).click();
    assert.match((await page.getByRole('row', { name: /@beta/ }).textContent()) ?? '', /alice/);
    await assertAccessible(page, 'admin orgs');
    const aliceNpm = makeNpm(s.url);
    aliceNpm.setToken(s.host, await s.token({ user: 'alice' }));
    const ls = await aliceNpm.run(['org', 'ls', 'beta']);
    assert.match(ls.stdout, /alice - owner/);
    await dave.close();
    await ctx.close();
  });
});
