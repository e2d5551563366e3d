// 2FA in real Chromium: enrol with the QR page (the test is the authenticator, computing codes from the
// secret the page shows), confirm, see the recovery codes once; then the real npm CLI must give --otp to
// publish (EOTP without it); the mode change and turning it off ask for the password and a code.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type TestServer } from '../helpers/server.ts';
import { makeNpm, makePackage } from '../helpers/npm.ts';
import { assertAccessible, launch, screenshot, signedIn, type TestBrowser } from '../helpers/browser.ts';
import { codeAt } from '../../src/domain/totp.ts';
import { onceInSqlitePass } from '../helpers/cluster-data.ts';

describe('web pages: two-factor authentication', { skip: onceInSqlitePass }, () => {
  let s: TestServer;
  let b: TestBrowser;

  before(async () => {
    s = await startServer();
    await s.addUser('alice');
    b = await launch();
  });
  after(async () => {
    await b?.close();
    await s?.close();
  });

  test('enrol in the page, then npm publish needs --otp; mode change and disable ask again', async () => {
    const { ctx, page } = await signedIn(b, s.url, 'alice');
    await page.goto(`${s.url}-/web/account`);
    await page.getByRole('link', { name: 'Manage two-factor authentication' }).click();
    await assertAccessible(page, '2fa off');
    // A wrong password is the API's refusal.
    await page.getByLabel('Password').fill('wrong');
    const [bad] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST'),
      page.getByRole('button', { name: 'Turn on two-factor authentication' }).click(),
    ]);
    assert.equal(bad.headers()['x-tessera-reason'], 'password-wrong');
    await page.getByLabel('Ask for a code on').selectOption('auth-and-writes');
    await page.getByLabel('Password').fill('alice-password');
    await page.getByRole('button', { name: 'Turn on two-factor authentication' }).click();

    // The QR code is an inline SVG drawn by the registry; nothing is loaded from elsewhere.
    const qr = page.locator('.qr svg');
    assert.equal(await qr.getAttribute('role'), 'img');
    assert.ok((await qr.locator('path').getAttribute('d'))!.length > 100, 'the QR code has modules');
    const secret = await page.getByLabel('Secret', { exact: true }).inputValue();
    assert.match(secret, /^[A-Z2-7]{32}$/);
    await assertAccessible(page, '2fa enrol');
    await screenshot(page, '2fa-enrol');
    await page.getByLabel('Code from your authenticator').fill('000000');
    const [wrong] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST'),
      page.getByRole('button', { name: 'Confirm' }).click(),
    ]);
    assert.equal(wrong.headers()['x-tessera-reason'], 'otp-wrong');
    // A wrong code leaves the enrolment pending: start again (a new secret) and confirm with a good code.
    await page.getByLabel('Password', { exact: true }).first().fill('alice-password');
    await page.getByRole('button', { name: 'Turn on two-factor authentication' }).click();
    const secret2 = await page.getByLabel('Secret', { exact: true }).inputValue();
    assert.notEqual(secret2, secret);
    await page.getByLabel('Code from your authenticator').fill(codeAt(secret2, s.clock.now()));
    await page.getByRole('button', { name: 'Confirm' }).click();
    const codes = (await page.getByLabel('Recovery codes').inputValue()).split('\n');
    assert.equal(codes.length, 8);
    for (const c of codes) assert.match(c, /^[0-9a-f]{64}$/);
    await assertAccessible(page, 'recovery codes');
    await screenshot(page, '2fa-recovery');

    // The real npm CLI: publish without a code fails EOTP, with a fresh code it works.
    const npm = makeNpm(s.url);
    npm.setToken(s.host, await s.token({ user: 'alice' }));
    const no = await npm.run(['publish'], { cwd: makePackage('web-tfa', '1.0.0') });
    assert.notEqual(no.code, 0);
    assert.match(no.output, /EOTP/);
    s.clock.advance(30_000);
    const otp = `--otp=${codeAt(secret2, s.clock.now())}`;
    const yes = await npm.run(['publish', otp], { cwd: makePackage('web-tfa', '1.0.0') });
    assert.equal(yes.code, 0, yes.output);

    // Mode change: the password and a code (a recovery code works once in place of one).
    await page.goto(`${s.url}-/web/account/2fa`);
    assert.match((await page.locator('main').textContent()) ?? '', /sign-in and writes/);
    await assertAccessible(page, '2fa on');
    await page.getByLabel('Ask for a code on').selectOption('auth-only');
    await page.getByLabel('Password', { exact: true }).first().fill('alice-password');
    await page.getByLabel('One-time password', { exact: true }).fill(codes[0]);
    await page.getByRole('button', { name: 'Change mode' }).click();
    assert.match((await page.getByRole('status').textContent()) ?? '', /mode is changed/);
    assert.match((await page.locator('main').textContent()) ?? '', /sign-in only/);

    // Turning it off without a code is refused; with one it is off, and npm publishes without a code.
    await page.locator('#off-password').fill('alice-password');
    await page.locator('#off-otp').fill('123');
    const [noCode] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST'),
      page.getByRole('button', { name: 'Turn off two-factor authentication' }).click(),
    ]);
    assert.equal(noCode.headers()['x-tessera-reason'], 'otp-wrong');
    s.clock.advance(30_000);
    await page.locator('#off-password').fill('alice-password');
    await page.locator('#off-otp').fill(codeAt(secret2, s.clock.now()));
    await page.getByRole('button', { name: 'Turn off two-factor authentication' }).click();
    assert.match((await page.getByRole('status').textContent()) ?? '', /is off/);
    const free = await npm.run(['publish'], { cwd: makePackage('web-tfa', '1.1.0') });
    assert.equal(free.code, 0, free.output);
    await ctx.close();
  });
});
