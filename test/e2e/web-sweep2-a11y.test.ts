// Second sweep of the pages' basic accessibility in real Chromium, on every page an administrator with 2FA
// sees (the most fields: one-time password fields on every sensitive form) and the pages of a signed-out
// visitor: every control labelled, every aria-describedby and label pointing at an element that exists, no id
// twice, one h1, a title of its own.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { startServer, type TestServer } from '../helpers/server.ts';
import { makeNpm, makePackage } from '../helpers/npm.ts';
import { launch, signIn, type TestBrowser } from '../helpers/browser.ts';
import { createOrg } from '../../src/services/orgs.ts';
import { userByName } from '../../src/services/accounts.ts';
import { toUser } from '../../src/services/authenticate.ts';
import { confirmEnrolment, startEnrolment } from '../../src/services/two-factor.ts';
import { codeAt } from '../../src/domain/totp.ts';
import { onceInSqlitePass } from '../helpers/cluster-data.ts';

/** What is wrong with the page's structure, as a list (empty when nothing is). */
function problems(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const out: string[] = [];
    const ids = new Map<string, number>();
    for (const el of document.querySelectorAll('[id]')) ids.set(el.id, (ids.get(el.id) ?? 0) + 1);
    for (const [id, n] of ids) if (n > 1) out.push(`id ${id} ×${n}`);
    for (const el of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
      const labelled = (el as HTMLInputElement).labels?.length || el.getAttribute('aria-label');
      if (!labelled) out.push(`no label: ${el.outerHTML.slice(0, 100)}`);
    }
    for (const el of document.querySelectorAll('[aria-describedby], [aria-labelledby]')) {
      const refs = `${el.getAttribute('aria-describedby') ?? ''} ${el.getAttribute('aria-labelledby') ?? ''}`;
      for (const id of refs.split(/\s+/).filter(Boolean)) {
        if (!document.getElementById(id)) out.push(`${el.localName} points at missing #${id}`);
      }
    }
    for (const l of document.querySelectorAll('label[for]')) {
      const f = l.getAttribute('for') ?? '';
      if (!document.getElementById(f)) out.push(`label for missing #${f}`);
    }
    // A README's own headings are the package's text, inside its section.
    const h1 = [...document.querySelectorAll('h1')].filter((h) => !h.closest('section.readme')).length;
    if (h1 !== 1) out.push(`${h1} h1`);
    for (const b of document.querySelectorAll('button')) {
      if (!(b.textContent ?? '').trim() && !b.getAttribute('aria-label')) out.push(`unnamed button ${b.outerHTML}`);
    }
    return out;
  });
}

describe('web pages: labels, references, ids, headings and titles, swept again', { skip: onceInSqlitePass }, () => {
  let s: TestServer;
  let b: TestBrowser;
  let secret = '';

  before(async () => {
    s = await startServer();
    await s.addUser('root', { admin: true });
    await createOrg(s.ctx, 'acme', 'root');
    const npm = makeNpm(s.url);
    npm.setToken(s.host, await s.token({ user: 'root' }));
    for (const [name, args] of [
      ['@acme/lib', ['--access', 'restricted']],
      ['plain-pkg', []],
    ] as const) {
      const r = await npm.run(['publish', ...args], { cwd: makePackage(name, '1.0.0') });
      assert.equal(r.code, 0, r.output);
    }
    const hook = await fetch(`${s.url}-/npm/v1/hooks/hook`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await s.token({ user: 'root' })}`, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'package', name: 'plain-pkg', endpoint: 'https://hooks.invalid/x', secret: 's' }),
    });
    assert.equal(hook.status, 201, await hook.text());
    await s.token({ user: 'root', kind: 'classic-automation', name: 'ci' });
    const user = toUser((await userByName(s.ctx, 'root'))!);
    const { tfa } = await startEnrolment(s.ctx, { user, credential: { type: 'password' } }, 'auth-and-writes');
    secret = new URL(String(tfa)).searchParams.get('secret')!;
    await confirmEnrolment(s.ctx, user, codeAt(secret, s.clock.now()));
    b = await launch();
  });
  after(async () => {
    await b?.close();
    await s?.close();
  });

  test('every page an administrator with 2FA sees', async () => {
    const ctx = await b.browser.newContext();
    const page = await ctx.newPage();
    s.clock.advance(30_000); // the code that confirmed the enrolment is used up
    await signIn(page, s.url, 'root', 'root-password', codeAt(secret, s.clock.now()));
    const titles = new Map<string, string>();
    for (const path of [
      '',
      'search?q=pkg',
      'package/plain-pkg',
      'package/@acme/lib',
      'settings/@acme/lib',
      'account',
      'account/2fa',
      'tokens',
      'tokens/new',
      'staged',
      'hooks',
      'orgs',
      'org/acme',
      'refusals',
      'explain',
      'admin/users',
      'admin/audit',
      'admin/orgs',
      'package/never-published',
    ]) {
      const res = await page.goto(`${s.url}-/web/${path}`);
      assert.ok(res, path);
      assert.deepEqual(await problems(page), [], `/-/web/${path}`);
      if (['tokens', 'tokens/new', 'account', 'settings/@acme/lib', 'hooks'].includes(path)) {
        assert.ok((await page.locator('input[name=otp]').count()) >= 1, `/-/web/${path}: one-time password fields`);
      }
      const title = await page.title();
      assert.match(title, /^\S.* · Tessera$/, `/-/web/${path}: a title`);
      titles.set(path, title);
    }
    // Pages of different things have different titles (a screen reader's first words on each page).
    const distinct = new Set(titles.values());
    assert.ok(distinct.size >= titles.size - 2, JSON.stringify([...titles]));
    await ctx.close();
  });

  test('the pages a signed-out visitor sees', async () => {
    const page = await b.browser.newPage();
    for (const path of ['', 'signin', 'explain', 'search?q=pkg', 'package/plain-pkg', 'package/@acme/lib']) {
      await page.goto(`${s.url}-/web/${path}`);
      assert.deepEqual(await problems(page), [], `/-/web/${path}`);
      assert.match(await page.title(), / · Tessera$/);
    }
    await page.close();
  });
});
