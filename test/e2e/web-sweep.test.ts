// Sweep of the web pages (#13) as a company's people use them after the company sign-in (#16), in real
// Chromium against the real oidc-provider and npm: a private package one may read and one that is exactly
// like an absent one, a token made and revoked on the page and then refused to npm, a form posted without
// its form token, a session after the provider deprovisioned its user, and refusals shown next to the form
// that was posted, with what was typed kept.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { onceInSqlitePass } from '../helpers/cluster-data.ts';
import type { Page } from 'playwright-core';
import { refreshIdentities } from '../../src/services/signin-oidc.ts';
import { createOrg } from '../../src/services/orgs.ts';
import { toUser } from '../../src/services/authenticate.ts';
import { confirmEnrolment, startEnrolment } from '../../src/services/two-factor.ts';
import { codeAt } from '../../src/domain/totp.ts';
import type { TestServer } from '../helpers/server.ts';
import { makeNpm, makePackage } from '../helpers/npm.ts';
import { assertAccessible, signIn, signedIn, type TestBrowser } from '../helpers/browser.ts';
import {
  startCompanySignIn,
  companySignIn as providerSignIn,
  oidcAuth,
  type TestProvider,
} from '../helpers/oidc-provider.ts';

async function companySignIn(page: Page, url: string, user: string, password: string): Promise<void> {
  await page.goto(`${url}-/web/signin`);
  await providerSignIn(page, user, password);
  await page.waitForURL(/\/-\/web\/$/);
}

describe('web pages after the company sign-in, swept', { skip: onceInSqlitePass }, () => {
  let op: TestProvider;
  let s: TestServer;
  let b: TestBrowser;
  let close = async () => {};

  before(async () => {
    const users = {
      maya: { password: 'maya-pw', email: 'maya@acme.test', groups: [] },
      leon: { password: 'leon-pw', email: 'leon@acme.test', groups: [] },
      zoe: { password: 'zoe-pw', email: 'zoe@acme.test', groups: [] },
    };
    ({ op, s, b, close } = await startCompanySignIn(users, (p) => oidcAuth(p, { local: true })));
  });
  after(() => close());

  test('a private package: its maintainer reads its page; another user gets what an absent name gets', async () => {
    const mayaCtx = await b.browser.newContext();
    const maya = await mayaCtx.newPage();
    await companySignIn(maya, s.url, 'maya', 'maya-pw');
    const npm = makeNpm(s.url);
    npm.setToken(s.host, await s.token({ user: 'maya' }));
    const p = await npm.run(['publish', '--access', 'restricted'], { cwd: makePackage('@maya/notes', '1.0.0') });
    assert.equal(p.code, 0, p.output);
    const mine = await maya.goto(`${s.url}-/web/package/@maya/notes`);
    assert.equal(mine?.status(), 200);
    await maya.getByRole('heading', { name: '@maya/notes', exact: true }).waitFor();
    await mayaCtx.close();

    const leonCtx = await b.browser.newContext();
    const leon = await leonCtx.newPage();
    await companySignIn(leon, s.url, 'leon', 'leon-pw');
    const hidden = await leon.goto(`${s.url}-/web/package/@maya/notes`);
    const hiddenBody = await hidden?.text();
    const absent = await leon.goto(`${s.url}-/web/package/@maya/notez`);
    const absentBody = await absent?.text();
    assert.equal(hidden?.status(), 404);
    assert.equal(absent?.status(), 404);
    assert.equal(hiddenBody?.replaceAll('notes', 'notez'), absentBody);
    assert.equal(hidden?.headers()['x-tessera-reason'], absent?.headers()['x-tessera-reason']);
    await leonCtx.close();
  });

  test('a token made on the page works with npm; revoked on the page, npm is refused', async () => {
    const ctx = await b.browser.newContext();
    const page = await ctx.newPage();
    await companySignIn(page, s.url, 'maya', 'maya-pw');
    await page.goto(`${s.url}-/web/tokens/new`);
    await assertAccessible(page, 'new token after company sign-in');
    await page.getByLabel('Name', { exact: true }).fill('laptop');
    await page.getByLabel('Permission').first().selectOption('read-only');
    await page.getByLabel('All packages (--packages-all)').check();
    await page.getByRole('button', { name: 'Create token' }).click();
    const token = await page.getByLabel('Token', { exact: true }).inputValue();
    const npm = makeNpm(s.url);
    npm.setToken(s.host, token);
    const view = await npm.run(['view', '@maya/notes', 'version']);
    assert.equal(view.stdout.trim(), '1.0.0', view.output);
    await page.goto(`${s.url}-/web/tokens`);
    await page.getByRole('button', { name: 'Revoke laptop' }).click();
    assert.match((await page.getByRole('status').textContent()) ?? '', /revoked/);
    const after = await npm.run(['whoami']);
    assert.notEqual(after.code, 0);
    assert.match(after.output, /expired or revoked[\s\S]*E401/);
    await ctx.close();
  });

  test('a form posted without its form token is refused, and changes nothing', async () => {
    const ctx = await b.browser.newContext();
    const page = await ctx.newPage();
    await companySignIn(page, s.url, 'maya', 'maya-pw');
    const before = await s.ctx.store.db.selectFrom('tokens').select('id').execute();
    // The browser's own cookies go with it: only the form token is missing.
    const r = await ctx.request.post(`${s.url}-/web/tokens`, {
      form: { name: 'sneaky', packages_all: 'on', packages_and_scopes_permission: 'read-write' },
      headers: { origin: new URL(s.url).origin },
    });
    assert.equal(r.status(), 403);
    assert.equal(r.headers()['x-tessera-reason'], 'csrf-failed');
    assert.equal((await s.ctx.store.db.selectFrom('tokens').select('id').execute()).length, before.length);
    await ctx.close();
  });

  test('a web session of a user the provider deprovisioned is signed out', async () => {
    const ctx = await b.browser.newContext();
    const page = await ctx.newPage();
    await companySignIn(page, s.url, 'leon', 'leon-pw');
    await page.goto(`${s.url}-/web/account`);
    assert.match(page.url(), /\/-\/web\/account$/);
    op.users.delete('leon');
    const report = await refreshIdentities(s.ctx);
    assert.deepEqual(report.deprovisioned, ['leon']);
    await page.goto(`${s.url}-/web/account`);
    assert.match(page.url(), /\/-\/web\/signin\?next=/);
    assert.doesNotMatch((await page.textContent('body')) ?? '', /leon/, 'no longer shown as signed in');
    const live = await s.ctx.store.db
      .selectFrom('tokens')
      .innerJoin('users', 'users.id', 'tokens.user_id')
      .select('tokens.id')
      .where('users.name', '=', 'leon')
      .where('tokens.revoked_at', 'is', null)
      .execute();
    assert.deepEqual(live, [], 'every session of leon ended on the server, not only in this browser');
    await ctx.close();
  });

  test("an org page's refusal is shown next to the form posted, with what was typed kept", async () => {
    await s.addUser('root', { admin: true });
    await createOrg(s.ctx, 'acme', 'root');
    const { ctx, page } = await signedIn(b, s.url, 'root');
    await page.goto(`${s.url}-/web/org/acme`);
    await page.getByLabel('User name', { exact: true }).fill('nobody-here');
    await page.getByLabel('Role', { exact: true }).selectOption('admin');
    await page.getByLabel('Team name').fill('core');
    await page.getByLabel('Description').fill('kept');
    await page.getByRole('button', { name: 'Set role' }).click();
    const form = page.locator('form', { has: page.getByRole('button', { name: 'Set role' }) });
    assert.match((await form.getByRole('alert').textContent()) ?? '', /nobody-here/);
    assert.equal(await page.getByLabel('User name', { exact: true }).inputValue(), 'nobody-here');
    assert.equal(await page.getByLabel('Role', { exact: true }).inputValue(), 'admin');
    assert.equal(await page.getByRole('alert').count(), 1, 'one message, at the form');
    assert.equal(await page.getByLabel('User name', { exact: true }).getAttribute('aria-invalid'), 'true');
    await assertAccessible(page, 'org page with a refusal');

    await page.getByLabel('Team name').fill('Not A Team!');
    await page.getByLabel('Description').fill('what the team does');
    await page.getByRole('button', { name: 'Create team' }).click();
    const teamForm = page.locator('form', { has: page.getByRole('button', { name: 'Create team' }) });
    assert.equal(await teamForm.getByRole('alert').count(), 1);
    assert.equal(await page.getByLabel('Team name').inputValue(), 'Not A Team!');
    assert.equal(await page.getByLabel('Description').inputValue(), 'what the team does');
    await ctx.close();
  });

  test("a package settings page's refusal is shown in the form posted, with what was typed kept", async () => {
    const ctx = await b.browser.newContext();
    const page = await ctx.newPage();
    await companySignIn(page, s.url, 'maya', 'maya-pw');
    await page.goto(`${s.url}-/web/settings/@maya/notes`);
    const tagForm = page.getByRole('form', { name: 'Set a dist-tag' });
    await tagForm.getByLabel('Tag').fill('beta');
    await tagForm.getByLabel('Version').fill('9.9.9');
    await tagForm.getByRole('button', { name: 'Set tag' }).click();
    const refused = page.getByRole('form', { name: 'Set a dist-tag' });
    assert.equal(await refused.getByRole('alert').count(), 1, await page.content());
    assert.equal(await page.getByRole('alert').count(), 1, 'one message, in the form');
    assert.equal(await refused.getByLabel('Tag').inputValue(), 'beta');
    assert.equal(await refused.getByLabel('Version').inputValue(), '9.9.9');
    assert.equal(await refused.getByLabel('Tag').getAttribute('aria-invalid'), 'true');
    await assertAccessible(page, 'settings with a refusal');

    // Changing trusted publishers asks for a one-time password: maya turns 2FA on (its first step is the
    // registry's; the page is then drawn for an account with 2FA).
    const row = await s.ctx.store.db
      .selectFrom('users')
      .selectAll()
      .where('name', '=', 'maya')
      .executeTakeFirstOrThrow();
    const user = toUser(row);
    const { tfa } = await startEnrolment(s.ctx, { user, credential: { type: 'password' } }, 'auth-only');
    const secret = new URL(String(tfa)).searchParams.get('secret')!;
    await confirmEnrolment(s.ctx, user, codeAt(secret, s.clock.now()));
    await page.goto(`${s.url}-/web/settings/@maya/notes`);
    await page.getByText('GitHub Actions', { exact: true }).click();
    const gh = page.getByRole('form', { name: 'Add a GitHub Actions trusted publisher' });
    await gh.getByLabel('Repository (owner/name)').fill('not a repository');
    await gh.getByLabel('Workflow file').fill('release.yml');
    await gh.getByLabel('Stage versions for approval (createStagedPackage)').check();
    await gh.getByLabel('One-time password').fill(codeAt(secret, s.clock.now()));
    await gh.getByRole('button', { name: 'Add GitHub Actions publisher' }).click();
    const again = page.getByRole('form', { name: 'Add a GitHub Actions trusted publisher' });
    assert.equal(await again.getByRole('alert').count(), 1);
    assert.equal(await again.getByLabel('Repository (owner/name)').inputValue(), 'not a repository');
    assert.equal(await again.getByLabel('Workflow file').inputValue(), 'release.yml');
    assert.equal(await again.getByLabel('Stage versions for approval (createStagedPackage)').isChecked(), true);
    assert.equal(await again.getByLabel('Publish (createPackage)').isChecked(), true);
    assert.equal(await again.getByLabel('One-time password').inputValue(), '', 'never the one-time password');
    await ctx.close();
  });

  test('with 2FA on, every one-time password field on a page is its own, labelled, and none shares an id', async () => {
    await s.addUser('wren');
    const row = await s.ctx.store.db
      .selectFrom('users')
      .selectAll()
      .where('name', '=', 'wren')
      .executeTakeFirstOrThrow();
    const user = toUser(row);
    const { tfa } = await startEnrolment(s.ctx, { user, credential: { type: 'password' } }, 'auth-and-writes');
    const secret = new URL(String(tfa)).searchParams.get('secret')!;
    await confirmEnrolment(s.ctx, user, codeAt(secret, s.clock.now()));
    // Two npm login sessions and two tokens: each row of the pages has a form with a code field.
    for (let i = 0; i < 2; i++) {
      await s.token({ user: 'wren', kind: 'session' });
      await s.token({ user: 'wren', kind: 'granular', name: `ci-${i}` });
    }
    const ctx = await b.browser.newContext();
    const page = await ctx.newPage();
    s.clock.advance(30_000); // the enrolment's code is spent: the next one
    await signIn(page, s.url, 'wren', 'wren-password', codeAt(secret, s.clock.now()));
    for (const path of ['account', 'tokens']) {
      await page.goto(`${s.url}-/web/${path}`);
      const ids = await page.locator('[id]').evaluateAll((els) => els.map((e) => e.id));
      assert.deepEqual(
        ids.filter((id, i) => ids.indexOf(id) !== i),
        [],
        `${path}: ids used twice`,
      );
      // Each code field is named by its own label, inside the form it belongs to.
      for (const input of await page.locator('input[name="otp"]').all()) {
        const id = await input.getAttribute('id');
        assert.equal(await page.locator(`label[for="${id}"]`).count(), 1, `${path}: a label for ${id}`);
      }
      await assertAccessible(page, `${path} with 2FA`);
    }
    await ctx.close();
  });

  test('a company account (no password) turns 2FA on in the page, then publishes with a code from npm', async () => {
    const ctx = await b.browser.newContext();
    const page = await ctx.newPage();
    await companySignIn(page, s.url, 'zoe', 'zoe-pw');
    await page.goto(`${s.url}-/web/account`);
    assert.equal(await page.getByLabel('Current password').count(), 0, 'no password to change');
    assert.match((await page.textContent('main')) ?? '', /no password kept here/);
    await page.goto(`${s.url}-/web/account/2fa`);
    await page.getByLabel('Ask for a code on').selectOption('auth-and-writes');
    // There is no password to give: the field says so, and is left empty.
    assert.match((await page.textContent('main')) ?? '', /company sign-in have none/);
    await page.getByRole('button', { name: 'Turn on two-factor authentication' }).click();
    const secret = await page.getByLabel('Secret', { exact: true }).inputValue();
    await page.getByLabel('Code from your authenticator').fill(codeAt(secret, s.clock.now()));
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.getByRole('heading', { name: 'Two-factor authentication is on' }).waitFor();
    await assertAccessible(page, '2fa recovery codes after company sign-in');

    const npm = makeNpm(s.url);
    npm.setToken(s.host, await s.token({ user: 'zoe', kind: 'session' }));
    const dir = makePackage('@zoe/tool', '1.0.0');
    const without = await npm.run(['publish'], { cwd: dir });
    assert.notEqual(without.code, 0);
    assert.match(without.output, /EOTP|one-time password/);
    s.clock.advance(30_000); // the confirming code is spent: the next one
    const withCode = await npm.run(['publish', `--otp=${codeAt(secret, s.clock.now())}`], { cwd: dir });
    assert.equal(withCode.code, 0, withCode.output);
    await ctx.close();
  });

  test('sign out everywhere: npm login sessions and every browser signed out; access tokens stay', async () => {
    await s.addUser('yuki');
    const login = await fetch(`${s.url}-/user/org.couchdb.user:yuki`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ _id: 'org.couchdb.user:yuki', name: 'yuki', password: 'yuki-password', type: 'user' }),
    });
    const npmSession = ((await login.json()) as { token: string }).token;
    const granular = await s.token({ user: 'yuki', kind: 'granular' });
    const whoami = async (token: string) =>
      (await fetch(`${s.url}-/whoami`, { headers: { authorization: `Bearer ${token}` } })).status;
    assert.equal(await whoami(npmSession), 200);
    const [c1, c2] = [await b.browser.newContext(), await b.browser.newContext()];
    const [here, there] = [await c1.newPage(), await c2.newPage()];
    await signIn(here, s.url, 'yuki', 'yuki-password');
    await signIn(there, s.url, 'yuki', 'yuki-password');
    await here.goto(`${s.url}-/web/account`);
    assert.equal(await here.getByLabel('Current password').count(), 1, 'a local account changes its password');
    await assertAccessible(here, 'account with sign out everywhere');
    await here.getByRole('button', { name: 'End every session' }).click();
    await here.waitForURL(/\/-\/web\/signin$/);
    for (const page of [here, there]) {
      await page.goto(`${s.url}-/web/account`);
      assert.match(page.url(), /\/-\/web\/signin\?next=/);
    }
    assert.equal(await whoami(npmSession), 401);
    assert.equal(await whoami(granular), 200, 'an access token is not a sign-in');
    await c1.close();
    await c2.close();
  });
});
