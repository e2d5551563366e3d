// Refusals on the account, 2FA, administration and hooks pages, in real Chromium: each is shown in the form
// that was posted (one message on the page, tied to a field), with what was typed kept — never a password,
// a one-time password or a hook's secret — and the refusal's status and reason, as the org and package
// settings pages already do (src/http/ui/refused.ts).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { onceInSqlitePass } from '../helpers/cluster-data.ts';
import type { Locator, Page } from 'playwright-core';
import { startServer, type TestServer } from '../helpers/server.ts';
import { assertAccessible, launch, signedIn, type TestBrowser } from '../helpers/browser.ts';
import { codeAt } from '../../src/domain/totp.ts';

/** Clicks `button` and waits for the page the post answers with: its status and reason. */
async function post(page: Page, button: Locator): Promise<{ status: number; reason: string | undefined }> {
  const [res] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), button.click()]);
  await page.waitForLoadState();
  return { status: res.status(), reason: res.headers()['x-tessera-reason'] };
}

const formOf = (page: Page, button: string) =>
  page.locator('form', { has: page.getByRole('button', { name: button, exact: true }) });

/** One message on the page, and it is in `form`. */
async function onlyIn(page: Page, form: Locator): Promise<void> {
  assert.equal(await form.getByRole('alert').count(), 1, 'the refusal is in the form posted');
  assert.equal(await page.getByRole('alert').count(), 1, 'one message, at the form');
}

describe('web pages: a refusal is shown in the form posted, with what was typed kept', {
  skip: onceInSqlitePass,
}, () => {
  let s: TestServer;
  let b: TestBrowser;

  before(async () => {
    s = await startServer();
    await s.addUser('ada');
    await s.addUser('ben');
    await s.addUser('root', { admin: true });
    b = await launch();
  });
  after(async () => {
    await b?.close();
    await s?.close();
  });

  test('account: a wrong current password is refused in the change-password form, both fields empty', async () => {
    const { ctx, page } = await signedIn(b, s.url, 'ada');
    await page.goto(`${s.url}-/web/account`);
    await page.getByLabel('Current password').fill('not-my-password');
    await page.getByLabel('New password').fill('a-new-password-1234');
    const r = await post(page, page.getByRole('button', { name: 'Change password' }));
    assert.deepEqual([r.status, r.reason], [401, 'password-wrong']);
    await onlyIn(page, formOf(page, 'Change password'));
    assert.equal(await page.getByLabel('Current password').getAttribute('aria-invalid'), 'true');
    assert.equal(await page.getByLabel('Current password').inputValue(), '', 'never a password');
    assert.equal(await page.getByLabel('New password').inputValue(), '', 'never a password');
    await assertAccessible(page, 'account with a refusal');
    await ctx.close();
  });

  test('2FA: the enable, mode, turn-off and sign-out-everywhere forms each show their own refusal', async () => {
    const { ctx, page } = await signedIn(b, s.url, 'ben');
    await page.goto(`${s.url}-/web/account/2fa`);
    await page.getByLabel('Ask for a code on').selectOption('auth-only');
    await page.getByLabel('Password', { exact: true }).fill('wrong');
    const on = page.getByRole('button', { name: 'Turn on two-factor authentication' });
    const bad = await post(page, on);
    assert.deepEqual([bad.status, bad.reason], [401, 'password-wrong']);
    await onlyIn(page, formOf(page, 'Turn on two-factor authentication'));
    assert.equal(await page.getByLabel('Ask for a code on').inputValue(), 'auth-only', 'the mode chosen is kept');
    assert.equal(await page.getByLabel('Password', { exact: true }).inputValue(), '');
    assert.equal(await page.getByLabel('Password', { exact: true }).getAttribute('aria-invalid'), 'true');
    await assertAccessible(page, '2fa with a refusal');

    // On, the same way as a person: the password, then the first code from the secret the page shows.
    await page.getByLabel('Password', { exact: true }).fill('ben-password');
    await page.getByRole('button', { name: 'Turn on two-factor authentication' }).click();
    const secret = await page.getByLabel('Secret', { exact: true }).inputValue();
    await page.getByLabel('Code from your authenticator').fill(codeAt(secret, s.clock.now()));
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.getByLabel('Recovery codes').waitFor();

    await page.goto(`${s.url}-/web/account/2fa`);
    const mode = formOf(page, 'Change mode');
    await mode.getByLabel('Ask for a code on').selectOption('auth-only');
    await mode.getByLabel('Password', { exact: true }).fill('ben-password');
    await mode.getByLabel('One-time password').fill('000000');
    const wrong = await post(page, mode.getByRole('button', { name: 'Change mode' }));
    assert.equal(wrong.reason, 'otp-wrong');
    await onlyIn(page, formOf(page, 'Change mode'));
    const again = formOf(page, 'Change mode');
    assert.equal(await again.getByLabel('Ask for a code on').inputValue(), 'auth-only', 'the mode chosen is kept');
    assert.equal(await again.getByLabel('One-time password').inputValue(), '', 'never the one-time password');
    assert.equal(await again.getByLabel('One-time password').getAttribute('aria-invalid'), 'true');
    assert.equal(await again.getByLabel('Password', { exact: true }).inputValue(), '');

    const off = formOf(page, 'Turn off two-factor authentication');
    await off.getByLabel('Password', { exact: true }).fill('wrong');
    await off.getByLabel('One-time password to turn it off').fill(codeAt(secret, s.clock.now()));
    const offBad = await post(page, off.getByRole('button', { name: 'Turn off two-factor authentication' }));
    assert.equal(offBad.reason, 'password-wrong');
    const offAgain = formOf(page, 'Turn off two-factor authentication');
    await onlyIn(page, offAgain);
    assert.equal(await offAgain.getByLabel('Password', { exact: true }).getAttribute('aria-invalid'), 'true');
    assert.equal(await offAgain.getByLabel('One-time password to turn it off').inputValue(), '');

    await page.goto(`${s.url}-/web/account`);
    await page.getByLabel('One-time password to sign out everywhere').fill('000000');
    const out = await post(page, page.getByRole('button', { name: 'End every session' }));
    assert.equal(out.reason, 'otp-wrong');
    await onlyIn(page, formOf(page, 'End every session'));
    const otp = page.getByLabel('One-time password to sign out everywhere');
    assert.equal(await otp.getAttribute('aria-invalid'), 'true');
    assert.equal(await otp.inputValue(), '');
    await ctx.close();
  });

  test('administration: add a user, create an organization and the audit filter keep what was typed', async () => {
    const { ctx, page } = await signedIn(b, s.url, 'root');
    await page.goto(`${s.url}-/web/admin/users`);
    await page.getByLabel('User name').fill('Not A Name');
    await page.getByLabel('E-mail', { exact: true }).fill('someone@example.test');
    await page.getByLabel('Password', { exact: true }).fill('a-password-1234');
    await page.getByLabel('Administrator').check();
    const r = await post(page, page.getByRole('button', { name: 'Add user' }));
    assert.deepEqual([r.status, r.reason], [400, 'invalid-request']);
    await onlyIn(page, formOf(page, 'Add user'));
    assert.equal(await page.getByLabel('User name').inputValue(), 'Not A Name');
    assert.equal(await page.getByLabel('User name').getAttribute('aria-invalid'), 'true');
    assert.equal(await page.getByLabel('E-mail', { exact: true }).inputValue(), 'someone@example.test');
    assert.equal(await page.getByLabel('Administrator').isChecked(), true);
    assert.equal(await page.getByLabel('Password', { exact: true }).inputValue(), '', 'never a password');
    await assertAccessible(page, 'admin users with a refusal');

    await page.goto(`${s.url}-/web/admin/orgs`);
    await page.getByLabel('Name (the scope @name)').fill('Not An Org!');
    await page.getByLabel('Owner (a user name)').fill('root');
    const o = await post(page, page.getByRole('button', { name: 'Create organization' }));
    assert.ok(o.status >= 400 && o.status < 500, `${o.status} ${o.reason}`);
    await onlyIn(page, formOf(page, 'Create organization'));
    assert.equal(await page.getByLabel('Name (the scope @name)').inputValue(), 'Not An Org!');
    assert.equal(await page.getByLabel('Owner (a user name)').inputValue(), 'root');

    const audit = await page.goto(`${s.url}-/web/admin/audit?user=root&since=yesterday`);
    assert.equal(audit?.status(), 400);
    assert.equal(audit?.headers()['x-tessera-reason'], 'invalid-request');
    await onlyIn(page, page.locator('form.filters'));
    assert.equal(await page.getByLabel('Since').inputValue(), 'yesterday');
    assert.equal(await page.getByLabel('Since').getAttribute('aria-invalid'), 'true');
    assert.equal(await page.getByLabel('User', { exact: true }).inputValue(), 'root');
    await assertAccessible(page, 'audit log with a refused filter');
    await ctx.close();
  });

  test('hooks: adding and changing a hook keep what was typed, never its secret', async () => {
    const { ctx, page } = await signedIn(b, s.url, 'ada');
    await page.goto(`${s.url}-/web/hooks`);
    await page.getByLabel('Watch').selectOption('scope');
    await page.getByLabel('Package, scope or user name').fill('@ada');
    await page.getByLabel('Endpoint').fill('http://user:pass@127.0.0.1:9/hook');
    await page.getByLabel('Secret').fill('hook-secret-1234');
    const r = await post(page, page.getByRole('button', { name: 'Add hook' }));
    assert.deepEqual([r.status, r.reason], [400, 'hook-endpoint-invalid']);
    await onlyIn(page, formOf(page, 'Add hook'));
    assert.equal(await page.getByLabel('Watch').inputValue(), 'scope');
    assert.equal(await page.getByLabel('Package, scope or user name').inputValue(), '@ada');
    assert.equal(await page.getByLabel('Endpoint').inputValue(), 'http://user:pass@127.0.0.1:9/hook');
    assert.equal(await page.getByLabel('Endpoint').getAttribute('aria-invalid'), 'true', 'the endpoint is the field');
    assert.equal(await page.getByLabel('Secret').inputValue(), '', 'never the secret');
    await assertAccessible(page, 'hooks with a refusal');

    await page.getByLabel('Endpoint').fill('http://127.0.0.1:9/hook');
    await page.getByLabel('Secret').fill('hook-secret-1234');
    await page.getByRole('button', { name: 'Add hook' }).click();
    await page.getByRole('link', { name: 'Change the hook on @ada' }).click();
    await page.getByLabel('Endpoint').fill('ftp://127.0.0.1/hook');
    await page.getByLabel(/New secret/).fill('another-secret-1234');
    // The browser takes any absolute URL in a url field; the registry refuses what is not http(s).
    const c = await post(page, page.getByRole('button', { name: 'Save' }));
    assert.deepEqual([c.status, c.reason], [400, 'hook-endpoint-invalid']);
    await onlyIn(page, formOf(page, 'Save'));
    assert.equal(await page.getByLabel('Endpoint').inputValue(), 'ftp://127.0.0.1/hook');
    assert.equal(await page.getByLabel('Endpoint').getAttribute('aria-invalid'), 'true');
    assert.equal(await page.getByLabel(/New secret/).inputValue(), '');
    await ctx.close();
  });
});
