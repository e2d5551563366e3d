// Second sweep of what users write that the pages show: package fields and READMEs with raw HTML in the forms
// a sanitizer is known to miss (mixed-case and entity-encoded javascript:, SVG and MathML, base and meta,
// styles), token names and e-mail addresses, each shown as text; a CSP on every page with no inline script;
// a README too large or too deep to render still leaves the version its page and its file list (and, rendered
// in a thread of its own, stalls nothing).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { startServer, type TestServer } from '../helpers/server.ts';
import { makeNpm, makePackage } from '../helpers/npm.ts';
import { launch, signIn, submitted, type TestBrowser } from '../helpers/browser.ts';
import { onceInSqlitePass } from '../helpers/cluster-data.ts';

const HOSTILE = `# hostile

<svg onload="window.pwned=1"><circle r="1"/></svg>
<a href="JaVaScRiPt:window.pwned=2">mixed case</a>
<a href="&#106;avascript:window.pwned=3">entity</a>
<a href=" javascript:window.pwned=4">leading space</a>
[markdown entity](&#x6A;avascript:window.pwned=5)
<img src="data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=" alt="data image">
<img src="//images.invalid/x.png" alt="protocol relative">
<math><mi xlink:href="javascript:window.pwned=6">m</mi></math>
<style>main { display: none }</style>
<div style="position:fixed;inset:0;background:red">overlay</div>
<base href="https://elsewhere.invalid/">
<meta http-equiv="refresh" content="0;url=https://elsewhere.invalid/">
<object data="x.swf"></object><embed src="x.swf">
<details open ontoggle="window.pwned=7"><summary>toggle</summary>inside</details>
<input type="checkbox" onfocus="window.pwned=8" autofocus>
<noscript><p title="</noscript><img src=x onerror=window.pwned=9>"></p></noscript>

${'long-line-'.repeat(20_000)}
`;

const FIELD = '<img src=x onerror="window.pwned=20">';

/** What the page did that it must not have: a hostile value run, a dialog, a CSP violation, a navigation. */
async function watch(page: Page) {
  const seen: string[] = [];
  page.on('dialog', (d) => {
    seen.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) seen.push(`csp: ${m.text()}`);
  });
  return seen;
}

async function inert(page: Page, what: string, seen: string[]) {
  assert.equal(await page.evaluate(() => (globalThis as { pwned?: unknown }).pwned), undefined, `${what}: ran`);
  assert.deepEqual(seen, [], `${what}: dialogs or CSP violations`);
}

describe('web pages: what users write is shown as text, swept again', { skip: onceInSqlitePass }, () => {
  let s: TestServer;
  let b: TestBrowser;

  before(async () => {
    s = await startServer();
    await s.addUser('alice', { email: `o'brien+"<b>x</b>"@example.com` });
    b = await launch();
    const npm = makeNpm(s.url);
    npm.setToken(s.host, await s.token({ user: 'alice' }));
    const pub = async (dir: string) => {
      const r = await npm.run(['publish'], { cwd: dir });
      assert.equal(r.code, 0, r.output);
    };
    const hostile = makePackage('hostile-readme', '1.0.0', {
      description: FIELD,
      license: '<b>MIT</b>',
      keywords: ['<script>window.pwned=21</script>'],
      homepage: 'JaVaScRiPt:window.pwned=22',
      repository: { type: 'git', url: ' javascript:window.pwned=23' },
      dependencies: { 'left-pad': `^1.0.0 ${FIELD}` },
    });
    writeFileSync(join(hostile, 'README.md'), HOSTILE);
    await pub(hostile);
    // A README nested deeper than the markdown parser's stack, and one of 5 MB: the page keeps its files.
    const deep = makePackage('deep-readme', '1.0.0');
    writeFileSync(join(deep, 'README.md'), `# deep\n\n${`${'>'.repeat(120_000)} quoted\n`.repeat(3)}`);
    await pub(deep);
    const big = makePackage('big-readme', '1.0.0');
    writeFileSync(
      join(big, 'README.md'),
      `# The big one\n\nFirst paragraph.\n\n${'lorem ipsum dolor\n'.repeat(300_000)}`,
    );
    await pub(big);
    const r = await npm.run(['deprecate', 'hostile-readme@1.0.0', `old ${FIELD}`]);
    assert.equal(r.code, 0, r.output);
  });
  after(async () => {
    await b?.close();
    await s?.close();
  });

  test('a README and package fields with hostile HTML: nothing runs, nothing restyles the page', async () => {
    const page = await b.browser.newPage();
    const seen = await watch(page);
    const res = await page.goto(`${s.url}-/web/package/hostile-readme`);
    assert.equal(res?.status(), 200);
    const csp = res?.headers()['content-security-policy'] ?? '';
    assert.match(csp, /script-src 'self'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/, 'no inline script may run, whatever the page holds');
    await page.locator('details summary').first().click();
    await page
      .locator('section.readme')
      .focus()
      .catch(() => {});
    await inert(page, 'package page', seen);
    assert.equal(new URL(page.url()).pathname, '/-/web/package/hostile-readme', 'no meta refresh');
    // The README: no element, attribute or link the sanitizer should have taken out.
    const leftovers = await page.evaluate(() => {
      const readme = document.querySelector('section.readme') as Element;
      const out: string[] = [];
      for (const el of readme.querySelectorAll('*')) {
        if (/^(script|style|svg|math|base|meta|object|embed|iframe|form|noscript)$/i.test(el.localName))
          out.push(el.localName);
        for (const a of el.getAttributeNames()) if (/^on|^style$|href$/i.test(a) && a !== 'href') out.push(a);
      }
      for (const a of readme.querySelectorAll('a[href]')) {
        const href = (a as HTMLAnchorElement).href;
        if (!/^(https?|mailto):/.test(href) && !href.startsWith(location.origin)) out.push(`link ${href}`);
        if (/^javascript:/i.test(href.trim())) out.push(`link ${href}`);
      }
      for (const i of readme.querySelectorAll('img')) {
        // An image whose address was taken out stays as its text alternative.
        const src = (i as HTMLImageElement).src;
        if (src && !src.startsWith('https:') && !src.startsWith(`${location.origin}/-/web/file/`))
          out.push(`img ${src}`);
      }
      return out;
    });
    assert.deepEqual(leftovers, []);
    assert.equal(await page.evaluate(() => document.baseURI), page.url(), 'no <base> took effect');
    assert.equal(await page.locator('main').isVisible(), true, 'no README style hid the page');
    // Package fields: shown as the text they are, links only for http(s).
    const main = (await page.locator('main').textContent()) ?? '';
    assert.ok(main.includes(FIELD), 'the description is shown as text');
    assert.ok(main.includes(`old ${FIELD}`), `the deprecation message is shown as text: ${main.slice(0, 300)}`);
    assert.ok(main.includes('<b>MIT</b>'), 'the license is shown as text');
    const hrefs = await page.locator('aside a').evaluateAll((as) => as.map((a) => (a as HTMLAnchorElement).href));
    assert.deepEqual(
      hrefs.filter((h) => !h.startsWith('http')),
      [],
      'no javascript: homepage or repository link',
    );
    // The long line wraps or scrolls inside the README; the page itself does not grow sideways.
    const wide = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(wide <= 0, `the page scrolls sideways by ${wide}px`);
    await page.close();
  });

  test('search, home and the account page show names, descriptions and e-mail addresses as text', async () => {
    const page = await b.browser.newPage();
    const seen = await watch(page);
    await page.goto(`${s.url}-/web/search?q=hostile`);
    assert.ok(((await page.locator('main').textContent()) ?? '').includes(FIELD), 'search shows the description');
    await page.goto(`${s.url}-/web/`);
    await inert(page, 'search and home', seen);
    await signIn(page, s.url, 'alice', 'alice-password');
    await page.goto(`${s.url}-/web/account`);
    assert.ok(((await page.locator('main').textContent()) ?? '').includes(`o'brien+"<b>x</b>"@example.com`));
    assert.equal(await page.locator('main b').count(), 0, 'the e-mail address made no element');
    // A token's name and description typed with HTML: the list and the revoke button name it as text.
    await page.goto(`${s.url}-/web/tokens/new`);
    await page.getByLabel('Name', { exact: true }).fill(`<i>ci</i> "quoted" ${FIELD}`);
    await page.getByLabel('Description').fill('<script>window.pwned=30</script>');
    await page.getByLabel('Password', { exact: true }).fill('alice-password');
    await page.getByRole('button', { name: 'Create token' }).click();
    await page.goto(`${s.url}-/web/tokens`);
    const list = (await page.locator('main').textContent()) ?? '';
    assert.ok(list.includes(`<i>ci</i> "quoted" ${FIELD}`), list);
    assert.equal(await page.locator('main i').count(), 0);
    await page.getByRole('button', { name: `Revoke <i>ci</i> "quoted" ${FIELD}` }).waitFor();
    await inert(page, 'account and tokens', seen);
    await page.close();
  });

  test("npm login's page: a CSP with no script at all, not framed; a refused name is shown as text", async () => {
    const start = await fetch(`${s.url}-/v1/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'npm-command': 'login' },
      body: '{}',
    });
    const { loginUrl } = (await start.json()) as { loginUrl: string };
    const page = await b.browser.newPage();
    const seen = await watch(page);
    const res = await page.goto(loginUrl);
    const csp = res?.headers()['content-security-policy'] ?? '';
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /script-src/, 'no script of any kind');
    await page.getByLabel('Username').fill(FIELD);
    await page.getByLabel('Password', { exact: true }).fill('wrong');
    const refused = await submitted(page, () => page.getByRole('button', { name: 'Sign in' }).click());
    assert.equal(refused.status(), 401);
    assert.match(refused.headers()['content-security-policy'] ?? '', /default-src 'none'/);
    assert.equal(await page.getByLabel('Username').inputValue(), FIELD, 'the name typed, as text');
    await inert(page, "npm login's page", seen);
    await page.close();
  });

  test('a README too deep to parse or of 5 MB: the version keeps its page, README start and files', async () => {
    const page = await b.browser.newPage();
    for (const [name, start] of [
      ['deep-readme', 'deep'],
      ['big-readme', 'The big one'],
    ]) {
      const res = await page.goto(`${s.url}-/web/package/${name}`);
      assert.equal(res?.status(), 200);
      const readme = (await page.locator('section.readme').textContent()) ?? '';
      assert.match(readme, new RegExp(start), name);
      assert.match(readme, /longer than \d+ KiB: the rest is in the package/, `${name}: says it was cut`);
      assert.match((await page.locator('aside').textContent()) ?? '', /Files \(3\)/, `${name}: the file list`);
      assert.match(
        (await page.locator('aside').textContent()) ?? '',
        /README\.md/,
        `${name}: the README among the files`,
      );
    }
    await page.close();
  });
});
