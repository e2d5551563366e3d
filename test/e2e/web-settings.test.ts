// Package settings in real Chromium: only those the policy allows see the link and the page (others get the
// not-found page of an absent name); access, the 2FA policy, maintainers, dist-tags and deprecation changed
// in the page are what the real npm CLI then sees; a one-time password is asked when the decision needs one;
// a generic-issuer trusted publisher added in the page lets a simulated CI job publish with no token, and
// once revoked there, no more. axe finds no serious violation; the forms are reachable by keyboard.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { BrowserContext, Page } from 'playwright-core';
import { startServer, type TestServer } from '../helpers/server.ts';
import { makeNpm, makePackage, type NpmEnv } from '../helpers/npm.ts';
import { startIssuer, type Issuer } from '../helpers/oidc-issuer.ts';
import { assertAccessible, launch, screenshot, signedIn, submitted, type TestBrowser } from '../helpers/browser.ts';
import { tabTo } from '../helpers/keyboard.ts';
import { userWith2fa, type TfaMode } from '../helpers/two-factor.ts';
import { defaults } from '../../src/config/config.ts';
import { onceInSqlitePass } from '../helpers/cluster-data.ts';

const AUD = 'npm:127.0.0.1';
const LONG = 30 * 86_400_000;

type Person = { npm: NpmEnv; code: () => string };

describe('web pages: package settings and trusted publishers', { skip: onceInSqlitePass }, () => {
  let s: TestServer;
  let b: TestBrowser;
  let forgejo: Issuer;
  let alice: Person;
  let dave: Person;
  let bob: NpmEnv;
  const anon = () => makeNpm(s.url);

  const with2fa = (name: string, mode: TfaMode): Promise<Person> => userWith2fa(s, name, mode, LONG);

  const session = (name: string, code?: () => string) => signedIn(b, s.url, name, code?.());

  const settings = (name: string) => `${s.url}-/web/settings/${name}`;

  /** Submits the form `button` is in and returns the page's answer. */
  async function submit(page: Page, button: string | ReturnType<Page['locator']>) {
    const b = typeof button === 'string' ? page.getByRole('button', { name: button, exact: true }) : button;
    const res = await submitted(page, () => b.click());
    const text = (await page.locator('main').textContent()) ?? '';
    return { status: res.status(), reason: res.headers()['x-tessera-reason'], text };
  }

  before(async () => {
    forgejo = await startIssuer();
    s = await startServer({
      oidc: {
        ...defaults.oidc,
        audience: AUD,
        issuers: [...defaults.oidc.issuers, { name: 'forgejo', type: 'generic', issuer: forgejo.url, jwksUri: null }],
      },
    });
    b = await launch();
    alice = await with2fa('alice', 'auth-only');
    dave = await with2fa('dave', 'auth-and-writes');
    await s.addUser('bob');
    bob = makeNpm(s.url);
    bob.setToken(s.host, await s.token({ user: 'bob', kind: 'session', expiresInMs: LONG }));
    for (const pkg of ['ws-pkg', '@alice/ws-scoped', '@alice/ws-private']) {
      const r = await alice.npm.run(['publish'], { cwd: makePackage(pkg, '1.0.0') });
      assert.equal(r.code, 0, r.output);
    }
    const r = await dave.npm.run(['publish', `--otp=${dave.code()}`], { cwd: makePackage('ws-dave', '1.0.0') });
    assert.equal(r.code, 0, r.output);
  });
  after(async () => {
    await b?.close();
    await s?.close();
    await forgejo?.close();
  });

  test("the settings link and page are for those the policy allows; others get an absent name's", async () => {
    const a = await session('alice', alice.code);
    await a.page.goto(`${s.url}-/web/package/ws-pkg`);
    await a.page.getByRole('link', { name: 'Package settings' }).click();
    assert.equal(a.page.url(), settings('ws-pkg'));
    assert.match((await a.page.locator('h1').textContent()) ?? '', /Settings of ws-pkg/);
    await assertAccessible(a.page, 'package settings');
    await screenshot(a.page, 'package-settings');

    const bo = await session('bob');
    await bo.page.goto(`${s.url}-/web/package/ws-pkg`);
    assert.equal(await bo.page.getByRole('link', { name: 'Package settings' }).count(), 0, 'no link for a reader');
    const answer = async (ctx: BrowserContext, name: string) => {
      const page = await ctx.newPage();
      const res = await page.goto(settings(name));
      const out = { status: res?.status(), reason: res?.headers()['x-tessera-reason'], body: await res?.text() };
      await page.close();
      return out;
    };
    const public404 = await answer(bo.ctx, 'ws-pkg');
    assert.equal(public404.status, 404, 'a reader who may not manage it');
    assert.deepEqual(public404, await answer(bo.ctx, 'ws-absent'));
    const hidden = await answer(bo.ctx, '@alice/ws-private');
    assert.deepEqual(hidden, await answer(bo.ctx, '@alice/ws-nothing'), 'private is absent');
    assert.doesNotMatch(hidden.body ?? '', /ws-private/);
    // Anonymous callers are sent to sign in, whatever the name.
    for (const name of ['ws-pkg', 'ws-absent']) {
      const res = await fetch(settings(name), { redirect: 'manual' });
      assert.equal(res.status, 303);
      assert.match(res.headers.get('location') ?? '', /^\/-\/web\/signin\?next=/);
    }
    await a.ctx.close();
    await bo.ctx.close();
  });

  test('access, 2FA policy, maintainers, dist-tags and deprecation changed in the page; npm sees each', async () => {
    const { ctx, page } = await session('alice', alice.code);
    await page.goto(settings('@alice/ws-scoped'));
    assert.notEqual((await anon().run(['view', '@alice/ws-scoped', 'version'])).code, 0, 'restricted at first');
    await page.getByLabel(/Public: anyone/).check();
    let r = await submit(page, 'Save access');
    assert.equal(r.status, 200, r.text);
    assert.match(r.text, /@alice\/ws-scoped is now public/);
    assert.equal((await anon().run(['view', '@alice/ws-scoped', 'version'])).stdout.trim(), '1.0.0');

    await page.goto(settings('ws-pkg'));
    assert.match((await page.locator('main').textContent()) ?? '', /Only scoped packages can be restricted/);
    await tabTo(page, page.locator('#owner-user'));
    await page.keyboard.type('bob');
    await page.keyboard.press('Enter');
    await page.waitForSelector('[role=status]');
    assert.match((await page.getByRole('status').textContent()) ?? '', /bob is a maintainer of ws-pkg/);
    assert.match((await alice.npm.run(['owner', 'ls', 'ws-pkg'])).stdout, /bob/);

    await page.getByLabel('Publishing needs').selectOption('publish');
    r = await submit(page, 'Save 2FA policy');
    assert.match(r.text, /now "publish"/);
    const refused = await bob.run(['publish'], { cwd: makePackage('ws-pkg', '1.0.1') });
    assert.notEqual(refused.code, 0, 'bob has no 2FA: the package now requires it');
    assert.match(refused.output, /package-requires-2fa/);

    await page.locator('#tag-name').fill('beta');
    await page.locator('#tag-version').fill('9.9.9');
    r = await submit(page, 'Set tag');
    assert.equal(r.reason, 'version-missing', 'refused as the API refuses it');
    assert.equal(r.status, 404);
    await page.locator('#tag-name').fill('beta');
    await page.locator('#tag-version').fill('1.0.0');
    r = await submit(page, 'Set tag');
    assert.match(r.text, /beta now points to 1\.0\.0/);
    assert.match((await alice.npm.run(['dist-tag', 'ls', 'ws-pkg'])).stdout, /beta: 1\.0\.0/);
    r = await submit(page, page.getByRole('button', { name: 'Remove tag beta' }));
    assert.match(r.text, /The tag beta is removed/);
    assert.doesNotMatch((await alice.npm.run(['dist-tag', 'ls', 'ws-pkg'])).stdout, /beta/);

    await page.locator('#dep-version').fill('1.0.0');
    await page.locator('#dep-message').fill('use 2.x, which is faster');
    r = await submit(page, 'Deprecate');
    assert.match(r.text, /ws-pkg@1\.0\.0 is deprecated/);
    assert.equal((await anon().run(['view', 'ws-pkg@1.0.0', 'deprecated'])).stdout.trim(), 'use 2.x, which is faster');

    r = await submit(page, page.getByRole('button', { name: 'Remove bob' }));
    assert.match(r.text, /bob is no longer a maintainer/);
    assert.doesNotMatch((await alice.npm.run(['owner', 'ls', 'ws-pkg'])).stdout, /bob/);
    await assertAccessible(page, 'package settings after changes');
    await ctx.close();
  });

  test('with 2FA for writes, the forms ask for a one-time password and check it', async () => {
    const { ctx, page } = await session('dave', dave.code);
    await page.goto(settings('ws-dave'));
    assert.equal(await page.locator('#tag-add-otp').count(), 1, 'the dist-tag form asks for a code');
    await page.locator('#tag-name').fill('next');
    await page.locator('#tag-version').fill('1.0.0');
    await page.locator('#tag-add-otp').fill('000000');
    let r = await submit(page, 'Set tag');
    assert.equal(r.reason, 'otp-wrong');
    await page.locator('#tag-name').fill('next');
    await page.locator('#tag-version').fill('1.0.0');
    await page.locator('#tag-add-otp').fill(dave.code());
    r = await submit(page, 'Set tag');
    assert.match(r.text, /next now points to 1\.0\.0/);
    // Alice (2FA for sign-in only) is asked for none outside trusted publishers.
    const a = await session('alice', alice.code);
    await a.page.goto(settings('ws-pkg'));
    assert.equal(await a.page.locator('#tag-add-otp').count(), 0);
    await ctx.close();
    await a.ctx.close();
  });

  test('a generic-issuer trusted publisher added in the page lets a CI job publish; revoked, not', async () => {
    const { ctx, page } = await session('alice', alice.code);
    await page.goto(settings('ws-pkg'));
    const summary = page.locator('summary', { hasText: 'forgejo' });
    await tabTo(page, summary);
    await page.keyboard.press('Enter');
    await page.getByLabel('Claims').fill('repository=team/lib\nref=refs/heads/main');
    await page.locator('#trust-generic-0-otp').fill('000000');
    let r = await submit(page, 'Add forgejo publisher');
    assert.equal(r.reason, 'otp-wrong', 'trust changes always need a good code');
    // The refused form is open again, with the claims as typed.
    assert.equal(await page.getByLabel('Claims').inputValue(), 'repository=team/lib\nref=refs/heads/main');
    await page.locator('#trust-generic-0-otp').fill(alice.code());
    r = await submit(page, 'Add forgejo publisher');
    assert.equal(r.status, 200, r.text);
    assert.match(r.text, /The trusted publisher is added/);
    assert.match(r.text, /generic \(forgejo\)/);
    assert.match(r.text, /repository: team\/lib/);
    await assertAccessible(page, 'trusted publishers');
    await screenshot(page, 'trusted-publishers');

    // A Forgejo job hands npm its id token as NPM_ID_TOKEN; no token is configured anywhere.
    const job = async (version: string, ref: string) => {
      const jwt = await forgejo.sign({ aud: AUD, repository: 'team/lib', ref });
      const ci = makeNpm(s.url);
      const out = await ci.run(['publish', '--provenance=false'], {
        cwd: makePackage('ws-pkg', version),
        env: { GITLAB_CI: 'true', NPM_ID_TOKEN: jwt },
      });
      assert.doesNotMatch(ci.npmrc(), /_authToken/);
      return out;
    };
    let pub = await job('1.1.0', 'refs/heads/feature');
    assert.notEqual(pub.code, 0, 'another branch is refused');
    pub = await job('1.1.0', 'refs/heads/main');
    assert.equal(pub.code, 0, pub.output);
    assert.match((await anon().run(['view', 'ws-pkg', 'versions', '--json'])).stdout, /1\.1\.0/);

    // A GitHub publisher from its form, as `npm trust list` then shows it.
    await page.locator('summary', { hasText: 'GitHub Actions' }).click();
    await page.getByLabel('Repository (owner/name)').fill('acme/app');
    await page.getByLabel('Workflow file').fill('publish.yml');
    await page.locator('#trust-github-otp').fill(alice.code());
    r = await submit(page, 'Add GitHub Actions publisher');
    assert.equal(r.status, 200, r.text);
    const listed = await alice.npm.run(['trust', 'list', 'ws-pkg']);
    assert.match(listed.output, /acme\/app/);

    const row = page.getByRole('row', { name: /forgejo/ });
    await row.locator('input[name=otp]').fill(alice.code());
    r = await submit(page, row.getByRole('button', { name: /Revoke/ }));
    assert.match(r.text, /The trusted publisher is revoked/);
    assert.equal(await page.getByRole('row', { name: /forgejo/ }).count(), 0, 'no longer listed');
    pub = await job('1.2.0', 'refs/heads/main');
    assert.notEqual(pub.code, 0, 'revoked: the job may no longer publish');
    await ctx.close();
  });
});
