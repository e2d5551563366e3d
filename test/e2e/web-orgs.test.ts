// Organizations and teams in real Chromium, with the rules of `npm org | team | access`: an owner adds a
// member, makes a team, puts the member in it and grants it a package, which the real npm CLI then
// publishes as that member; a developer is refused what npm refuses, and finds the refusal (with its help
// page and fix) on "Why was I refused?"; pasted npm output is explained as `tessera explain` does.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { startServer, type TestServer } from '../helpers/server.ts';
import { makeNpm, makePackage } from '../helpers/npm.ts';
import { assertAccessible, launch, screenshot, signedIn, type TestBrowser } from '../helpers/browser.ts';
import { createOrg } from '../../src/services/orgs.ts';
import { onceInSqlitePass } from '../helpers/cluster-data.ts';

describe('web pages: organizations, teams, refusals', { skip: onceInSqlitePass }, () => {
  let s: TestServer;
  let b: TestBrowser;
  let bobNpmOutput = '';

  before(async () => {
    s = await startServer();
    for (const u of ['alice', 'bob', 'carol']) await s.addUser(u);
    await createOrg(s.ctx, 'acme', 'alice');
    const npm = makeNpm(s.url);
    npm.setToken(s.host, await s.token({ user: 'alice' }));
    const r = await npm.run(['publish', '--access', 'restricted'], { cwd: makePackage('@acme/lib', '1.0.0') });
    assert.equal(r.code, 0, r.output);
    b = await launch();
  });
  after(async () => {
    await b?.close();
    await s?.close();
  });

  const post = async (page: Page, click: () => Promise<void>) => {
    const [res] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), click()]);
    return res;
  };

  test('an owner manages members, teams and grants; the member publishes with npm through the grant', async () => {
    const bobNpm = makeNpm(s.url);
    bobNpm.setToken(s.host, await s.token({ user: 'bob' }));
    const before = await bobNpm.run(['publish'], { cwd: makePackage('@acme/lib', '1.1.0') });
    assert.notEqual(before.code, 0, 'bob may not publish before he is granted the package');
    bobNpmOutput = before.output;

    const { ctx, page } = await signedIn(b, s.url, 'alice');
    await page.getByRole('link', { name: 'Organizations' }).click();
    assert.match((await page.getByRole('row', { name: /@acme/ }).textContent()) ?? '', /owner/);
    await page.getByRole('link', { name: '@acme' }).click();
    await assertAccessible(page, 'org');

    await page.getByLabel('User name', { exact: true }).fill('nobody');
    const unknown = await post(page, () => page.getByRole('button', { name: 'Set role' }).click());
    assert.equal(unknown.headers()['x-tessera-reason'], 'unknown-user');
    await page.getByLabel('User name', { exact: true }).fill('bob');
    await page.getByLabel('Role', { exact: true }).selectOption('developer');
    await page.getByRole('button', { name: 'Set role' }).click();
    assert.match((await page.getByRole('status').textContent()) ?? '', /bob is now developer of acme/);

    await page.getByLabel('Team name').fill('core');
    await page.getByRole('button', { name: 'Create team' }).click();
    await page.getByLabel('Add a member to core').fill('bob');
    await page.getByRole('button', { name: 'Add to team' }).click();
    assert.match((await page.getByRole('status').textContent()) ?? '', /bob is added to acme:core/);
    await page.getByLabel('Grant a package of @acme to core').fill('@acme/lib');
    await page
      .locator('section', { has: page.getByRole('heading', { name: 'acme:core' }) })
      .getByLabel('Permission')
      .selectOption('read-write');
    // Only the org's own packages: a name outside @acme is the API's refusal.
    const bad = await post(page, async () => {
      await page.getByLabel('Grant a package of @acme to core').fill('lodash');
      await page
        .locator('section', { has: page.getByRole('heading', { name: 'acme:core' }) })
        .getByRole('button', { name: 'Grant' })
        .click();
    });
    assert.equal(bad.headers()['x-tessera-reason'], 'invalid-request');
    await page.getByLabel('Grant a package of @acme to core').fill('@acme/lib');
    await page
      .locator('section', { has: page.getByRole('heading', { name: 'acme:core' }) })
      .getByLabel('Permission')
      .selectOption('read-write');
    await page
      .locator('section', { has: page.getByRole('heading', { name: 'acme:core' }) })
      .getByRole('button', { name: 'Grant' })
      .click();
    assert.match((await page.getByRole('status').textContent()) ?? '', /may now read and publish @acme\/lib/);
    const grants = page.getByRole('table', { name: 'Packages acme:core may reach' });
    assert.match((await grants.textContent()) ?? '', /@acme\/lib\s*read-write/);
    await assertAccessible(page, 'org with a team');
    await screenshot(page, 'org');

    const after = await bobNpm.run(['publish'], { cwd: makePackage('@acme/lib', '1.1.0') });
    assert.equal(after.code, 0, after.output);
    // npm's own view agrees with the page.
    const ls = await bobNpm.run(['team', 'ls', 'acme:core']);
    assert.match(ls.stdout, /bob/);
    await ctx.close();
  });

  test("a developer is refused as npm refuses, a stranger gets npm's answer, the refusal explained", async () => {
    const { ctx, page } = await signedIn(b, s.url, 'bob');
    await page.goto(`${s.url}-/web/org/acme`);
    await page.getByLabel('Team name').fill('mine');
    const res = await post(page, () => page.getByRole('button', { name: 'Create team' }).click());
    assert.equal(res.status(), 403);
    assert.equal(res.headers()['x-tessera-reason'], 'org-role-too-low');
    assert.match((await page.getByRole('alert').textContent()) ?? '', /needs an admin or an owner/);

    await page.getByRole('link', { name: 'Why was I refused?' }).click();
    const newest = page.locator('section.refusal').first();
    assert.match((await newest.getByRole('heading').textContent()) ?? '', /org-role-too-low/);
    assert.equal(
      await newest.getByRole('link', { name: /Help: org-role-too-low/ }).getAttribute('href'),
      '/-/help/org-role-too-low',
    );
    assert.ok((await newest.locator('.fix li').count()) > 0, 'the fix from the help article is shown');
    // The earlier npm publish refusal is there too, with its package.
    assert.match((await page.locator('main').textContent()) ?? '', /@acme\/lib/);
    await assertAccessible(page, 'refusals');
    await screenshot(page, 'refusals');

    await page.getByRole('link', { name: "paste npm's output" }).click();
    await page.getByLabel('Output').fill(bobNpmOutput);
    await page.getByRole('button', { name: 'Explain' }).click();
    assert.match((await page.getByRole('heading', { level: 2 }).first().textContent()) ?? '', /error E40[34]/);
    assert.ok((await page.locator('ol.causes li').count()) > 0, 'causes with fixes');
    await assertAccessible(page, 'explain');
    await screenshot(page, 'explain');
    await ctx.close();

    // Carol belongs to no organization: the page answers as `npm org ls acme` does.
    const { ctx: other, page: cp } = await signedIn(b, s.url, 'carol');
    const r = await cp.goto(`${s.url}-/web/org/acme`);
    assert.equal(r?.status(), 403);
    assert.equal(r?.headers()['x-tessera-reason'], 'not-org-member');
    const missing = await cp.goto(`${s.url}-/web/org/nothing-here`);
    assert.equal(missing?.status(), 404);
    await other.close();
  });
});
