// The browse pages in real Chromium: home, search and package pages; a README with a script tag, event
// handlers and javascript: links renders inert; a private package is, to anyone who may not read it,
// the very same "not found" page as a name never published; axe finds no serious violation.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { startServer, type TestServer } from '../helpers/server.ts';
import { makeNpm, makePackage } from '../helpers/npm.ts';
import { assertAccessible, launch, screenshot, signedIn, type TestBrowser } from '../helpers/browser.ts';

const EVIL_README = `# evil-readme

Hello <script>window.pwned = 1; alert('script')</script> world.

<img src="x" onerror="window.pwned = 2">
<img src="https://images.example/logo.png" alt="remote logo">
<img src="http://images.example/plain.png" alt="plain http">
<img src="docs/shot.png" alt="shot from the package">
<a href="javascript:window.pwned=3">click me</a> and [also me](javascript:alert(1)) and
<a href="https://example.org/ok" onclick="window.pwned=4">a fine link</a>
<iframe src="https://example.org"></iframe><form action="https://example.org"><button>go</button></form>

\`\`\`js
const x = '<b>not bold</b>';
\`\`\`
`;

describe('web pages: browse', () => {
  let s: TestServer;
  let b: TestBrowser;

  before(async () => {
    s = await startServer();
    await s.addUser('alice');
    await s.addUser('bob');
    b = await launch();
    const npm = makeNpm(s.url);
    npm.setToken(s.host, await s.token({ user: 'alice' }));
    const pub = makePackage('evil-readme', '1.0.0', {
      dependencies: { 'left-pad': '^1.0.0' },
      homepage: 'javascript:alert(1)',
    });
    writeFileSync(join(pub, 'README.md'), EVIL_README);
    writeFileSync(join(pub, 'shot.png'), 'not really a png');
    const r1 = await npm.run(['publish'], { cwd: pub });
    assert.equal(r1.code, 0, r1.output);
    const secret = makePackage('@alice/secret', '1.0.0');
    writeFileSync(join(secret, 'README.md'), '# The secret\n\nOnly for alice.\n');
    const r2 = await npm.run(['publish', '--access', 'restricted'], { cwd: secret });
    assert.equal(r2.code, 0, r2.output);
  });
  after(async () => {
    await b?.close();
    await s?.close();
  });

  test("a browser at / gets the home page; npm at / still gets the API's answer", async () => {
    const page = await b.browser.newPage();
    const res = await page.goto(s.url);
    assert.equal(res?.status(), 200);
    assert.match(res?.headers()['content-security-policy'] ?? '', /script-src 'self'/);
    const text = (await page.locator('main').textContent()) ?? '';
    assert.match(text, /evil-readme/);
    assert.doesNotMatch(text, /@alice\/secret/, 'a private package is not listed to anonymous callers');
    await assertAccessible(page, 'home');
    await screenshot(page, 'home');
    const api = await fetch(s.url, { headers: { 'npm-command': 'view', accept: 'application/json' } });
    assert.equal(api.status, 404);
    assert.equal(api.headers.get('x-tessera-reason'), 'route-not-found');
    await page.close();
  });

  test('a README with script, handlers and javascript: links renders inert', async () => {
    const page = await b.browser.newPage();
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    const res = await page.goto(`${s.url}-/web/package/evil-readme`);
    assert.equal(res?.status(), 200);
    const readme = page.locator('section.readme');
    assert.match((await readme.textContent()) ?? '', /Hello\s+world/);
    assert.equal(await readme.locator('script, iframe, form').count(), 0);
    const attrs = await readme.evaluate((el) =>
      [...el.querySelectorAll('*')].flatMap((n) => [...n.attributes].map((a) => `${a.name}=${a.value}`)),
    );
    assert.ok(!attrs.some((a) => /^on/i.test(a)), `no event handler attributes: ${attrs.join(' ')}`);
    assert.ok(!attrs.some((a) => /javascript:/i.test(a)), `no javascript: URLs: ${attrs.join(' ')}`);
    const imgs = await readme.locator('img').evaluateAll((els) => els.map((e) => e.getAttribute('src')));
    assert.ok(imgs.includes('https://images.example/logo.png'), `https image kept: ${imgs.join(' ')}`);
    assert.ok(!imgs.some((src) => src?.startsWith('http://')), 'plain-http images dropped');
    assert.ok(imgs.includes('/-/web/file/evil-readme/1.0.0/docs/shot.png'), 'relative images come from the package');
    for (const link of await readme.locator('a').all()) await link.click({ trial: true }).catch(() => {});
    await page.getByText('click me').click();
    assert.equal(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned), undefined);
    assert.deepEqual(dialogs, []);
    // The package's own data is escaped too: a javascript: homepage is no link.
    assert.equal(await page.locator('aside a[href^="javascript"]').count(), 0);
    assert.match((await page.locator('aside').textContent()) ?? '', /left-pad/);
    assert.match((await page.locator('aside').textContent()) ?? '', /npm install evil-readme --registry=/);
    await assertAccessible(page, 'package page');
    await screenshot(page, 'package-evil-readme');
    await page.close();
  });

  test('search finds what the caller may read', async () => {
    const page = await b.browser.newPage();
    await page.goto(`${s.url}-/web/search?q=readme`);
    assert.match((await page.locator('main').textContent()) ?? '', /1 package found/);
    await page.goto(`${s.url}-/web/search?q=secret`);
    assert.match((await page.locator('main').textContent()) ?? '', /0 packages found/);
    await assertAccessible(page, 'search');
    await page.close();
  });

  /** Status, reason header and HTML of the package page for `name`, in this browser context. */
  async function answer(ctx: BrowserContext, name: string) {
    const page = await ctx.newPage();
    const res = await page.goto(`${s.url}-/web/package/${name}`);
    const out = { status: res?.status(), reason: res?.headers()['x-tessera-reason'], body: await res?.text() };
    await page.close();
    return out;
  }

  test("a private package: its maintainer sees it; others and anonymous get the absent name's page", async () => {
    const { ctx: alice, page: ap } = await signedIn(b, s.url, 'alice');
    const mine = await answer(alice, '@alice/secret');
    assert.equal(mine.status, 200);
    assert.match(mine.body ?? '', /Only for alice/);
    await ap.goto(`${s.url}-/web/package/@alice/secret`);
    await assertAccessible(ap, 'private package, its maintainer');
    await screenshot(ap, 'package-private-maintainer');

    const { ctx: bob } = await signedIn(b, s.url, 'bob');
    const anon = await b.browser.newContext();
    for (const [who, ctx] of [
      ['bob', bob],
      ['anonymous', anon],
    ] as const) {
      const hidden = await answer(ctx, '@alice/secret');
      const absent = await answer(ctx, '@alice/sacret');
      assert.equal(hidden.status, 404, who);
      assert.equal(hidden.reason, 'not-found', who);
      assert.deepEqual(hidden, absent, `${who}: the hidden package's page is the absent name's`);
      assert.doesNotMatch(hidden.body ?? '', /secret/i, who);
    }
    const nf = await anon.newPage();
    await nf.goto(`${s.url}-/web/package/@alice/secret`);
    await assertAccessible(nf, 'not found');
    await screenshot(nf, 'not-found');
    await alice.close();
    await bob.close();
    await anon.close();
  });
});
