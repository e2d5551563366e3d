// Known open points of the web pages, in real Chromium: a form sent from a tab whose session has ended lands
// on the sign-in page (told why, and back on the form's page afterwards) while forged posts stay refused; a
// page that shows a secret once (a new token, the authenticator key, recovery codes) is reached by
// POST-redirect-GET, so reload and back make no second one, and the secret is in no URL and no readable cookie;
// the explain page, when it understands nothing, says what `tessera explain` says; a README cut when rendered
// says so at its end and links the whole one.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type TestServer } from '../helpers/server.ts';
import { assertAccessible, launch, signIn, submitted, type TestBrowser } from '../helpers/browser.ts';
import { onceInSqlitePass } from '../helpers/cluster-data.ts';
import { webSignIn } from '../helpers/web-session.ts';
import { codeAt } from '../../src/domain/totp.ts';
import { tessera } from '../helpers/cli.ts';
import { makeNpm, makePackage } from '../helpers/npm.ts';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const csrfOf = (text: string) => /name="_csrf" value="([^"]+)"/.exec(text)?.[1] ?? '';

describe('web pages: known open points', { skip: onceInSqlitePass }, () => {
  let s: TestServer;
  let b: TestBrowser;
  const posts = (path: string) => s.requests.filter((r) => r.startsWith(`POST ${path}`)).length;
  const tokensOf = async (user: string) => {
    const row = await s.ctx.store.db
      .selectFrom('tokens')
      .innerJoin('users', 'users.id', 'tokens.user_id')
      .select((e) => e.fn.countAll<number>().as('n'))
      .where('users.name', '=', user)
      .where('tokens.kind', '!=', 'web-session')
      .executeTakeFirstOrThrow();
    return Number(row.n);
  };

  before(async () => {
    s = await startServer({}, { recordRequests: true });
    for (const n of ['alice', 'bob', 'carol', 'dave', 'erin']) await s.addUser(n);
    b = await launch();
  });
  after(async () => {
    await b?.close();
    await s?.close();
  });

  test('a form sent after the session ended: sign in again, told why, and back on the form page', async () => {
    const ctx = await b.browser.newContext();
    const page = await ctx.newPage();
    const other = await ctx.newPage();
    await signIn(page, s.url, 'alice', 'alice-password');
    await page.goto(`${s.url}-/web/tokens/new`);
    await other.goto(`${s.url}-/web/account`);
    await page.getByLabel('Name', { exact: true }).fill('left-open');
    await page.getByLabel('Password', { exact: true }).fill('alice-password');
    const before = await tokensOf('alice');
    s.clock.advance(s.ctx.config.sessionTtlMs + 60_000);

    const res = await submitted(page, () => page.getByRole('button', { name: 'Create token' }).click());
    assert.equal(res.status(), 200);
    const at = new URL(page.url());
    assert.equal(at.pathname, '/-/web/signin');
    assert.equal(at.searchParams.get('next'), '/-/web/tokens/new', 'next is the page the form was on');
    assert.match(
      (await page.getByRole('status').textContent()) ?? '',
      /session has ended.*form you sent was not carried out/,
    );
    assert.equal(await tokensOf('alice'), before, 'the post made nothing');

    // Another tab of the same browser, sent before signing in again: the same, not a forged-form refusal.
    await other.getByLabel('Current password').fill('alice-password');
    await other.getByLabel('New password').fill('alice-password-2');
    await submitted(other, () => other.getByRole('button', { name: 'Change password' }).click());
    assert.equal(new URL(other.url()).searchParams.get('next'), '/-/web/account');
    assert.match(
      (await other.getByRole('status').textContent()) ?? '',
      /session has ended.*form you sent was not carried out/,
    );

    // Signing in goes back to the form's page; the post is not replayed (the password is still the old one).
    const count = posts('/-/web/tokens');
    await page.getByLabel('Username').fill('alice');
    await page.getByLabel('Password', { exact: true }).fill('alice-password');
    await submitted(page, () => page.getByRole('button', { name: 'Sign in' }).click());
    assert.equal(new URL(page.url()).pathname, '/-/web/tokens/new');
    assert.equal(await page.getByRole('status').count(), 0, 'the notice was shown once');
    assert.equal(posts('/-/web/tokens'), count);
    assert.equal(await tokensOf('alice'), before);
    await ctx.close();
  });

  test('a session ended elsewhere: a page asked for says so too; forged posts are still refused', async () => {
    const ctx = await b.browser.newContext();
    const page = await ctx.newPage();
    await signIn(page, s.url, 'bob', 'bob-password');
    await page.goto(`${s.url}-/web/account`);
    const csrf = csrfOf(await page.content());
    const session = (await ctx.cookies()).find((c) => c.name === 'tessera-session');
    assert.ok(session);
    // Signed out everywhere from another browser.
    const elsewhere = await b.browser.newContext();
    const there = await elsewhere.newPage();
    await signIn(there, s.url, 'bob', 'bob-password');
    await there.goto(`${s.url}-/web/account`);
    await submitted(there, () => there.getByRole('button', { name: 'End every session' }).click());
    await elsewhere.close();

    await page.goto(`${s.url}-/web/tokens?x=1`);
    const at = new URL(page.url());
    assert.equal(at.pathname, '/-/web/signin');
    assert.equal(at.searchParams.get('next'), '/-/web/tokens?x=1');
    assert.match(
      (await page.getByRole('status').textContent()) ?? '',
      /^Your session has ended: sign in again to go on\.$/,
    );

    const stale = `tessera-session=${session.value}`;
    const post = (headers: Record<string, string>, form: Record<string, string>) =>
      fetch(`${s.url}-/web/account/password`, {
        method: 'POST',
        redirect: 'manual',
        headers: { ...FORM, ...headers },
        body: new URLSearchParams(form).toString(),
      });
    const pw = { old: 'bob-password', new: 'bob-password-2' };
    const refused: [string, Response][] = [
      ['no cookie at all', await post({}, { _csrf: csrf, ...pw })],
      ['another site', await post({ cookie: stale, origin: 'http://127.0.0.1:1' }, { _csrf: csrf, ...pw })],
      ['no form token', await post({ cookie: stale }, pw)],
      [
        'another form token',
        await post({ cookie: stale }, { _csrf: csrf.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')), ...pw }),
      ],
    ];
    for (const [what, res] of refused) {
      assert.equal(res.status, 403, what);
      assert.equal(res.headers.get('x-tessera-reason'), 'csrf-failed', what);
    }
    // The same post from the registry's own page, with the ended session's token: to sign-in, from the Referer.
    const ok = await post(
      { cookie: stale, origin: s.url.slice(0, -1), referer: `${s.url}-/web/account` },
      {
        _csrf: csrf,
        ...pw,
      },
    );
    assert.equal(ok.status, 303);
    assert.equal(ok.headers.get('location'), `/-/web/signin?next=${encodeURIComponent('/-/web/account')}`);
    // A Referer naming another site is no `next`.
    const away = await post({ cookie: stale, referer: 'http://127.0.0.1:1/-/web/account' }, { _csrf: csrf, ...pw });
    assert.equal(away.headers.get('location'), `/-/web/signin?next=${encodeURIComponent('/-/web/')}`);
    await ctx.close();
  });

  test('a new token is shown once after a redirect: reload and back make no second token', async () => {
    const ctx = await b.browser.newContext();
    const page = await ctx.newPage();
    await signIn(page, s.url, 'carol', 'carol-password');
    await page.goto(`${s.url}-/web/tokens/new`);
    await page.getByLabel('Name', { exact: true }).fill('shown-once');
    await page.getByLabel('Password', { exact: true }).fill('carol-password');
    const made = posts('/-/web/tokens');
    const res = await submitted(page, () => page.getByRole('button', { name: 'Create token' }).click());
    assert.equal(res.status(), 200);
    assert.equal(new URL(page.url()).pathname, '/-/web/tokens/created');
    const token = await page.getByLabel('Token', { exact: true }).inputValue();
    assert.match(token, /^tsr_\w{30,}$/);
    assert.equal(await tokensOf('carol'), 1);
    const once = (await ctx.cookies()).find((c) => c.name === 'tessera-once');
    assert.equal(once, undefined, 'the cookie that carried it is gone once read');

    await page.reload();
    assert.doesNotMatch(await page.content(), /tsr_\w{20,}/);
    assert.match((await page.getByRole('status').textContent()) ?? '', /shown once/);
    await assertAccessible(page, 'a token shown once already');
    await page.goBack();
    assert.equal(new URL(page.url()).pathname, '/-/web/tokens/new');
    await page.goForward();
    assert.doesNotMatch(await page.content(), /tsr_\w{20,}/);
    assert.equal(posts('/-/web/tokens'), made + 1, 'neither reload nor back nor forward posted again');
    assert.equal(await tokensOf('carol'), 1, 'one token');
    await ctx.close();

    // Without a browser: the secret is in no Location and no readable cookie; the sealed cookie is for that
    // page, that session and a few minutes only.
    const post = async (cookie: string) => {
      const form = await fetch(`${s.url}-/web/tokens/new`, { headers: { cookie } });
      return fetch(`${s.url}-/web/tokens`, {
        method: 'POST',
        redirect: 'manual',
        headers: { ...FORM, cookie },
        body: new URLSearchParams({ _csrf: csrfOf(await form.text()), name: 'raw', password: 'dave-password' }),
      });
    };
    const dave = await webSignIn(s.url, 'dave');
    const r = await post(dave);
    assert.equal(r.status, 303);
    assert.equal(r.headers.get('location'), '/-/web/tokens/created');
    const [set] = r.headers.getSetCookie().filter((c) => c.startsWith('tessera-once='));
    assert.match(set, /^tessera-once=[^;]+; Path=\/-\/web\/tokens\/created; HttpOnly; SameSite=Lax; Max-Age=300$/);
    const sealed = set.split(';')[0];
    const raw = decodeURIComponent(sealed);
    assert.doesNotMatch(raw, /tsr_/);
    for (const part of raw.split(/[.=]/)) assert.doesNotMatch(Buffer.from(part, 'base64').toString('latin1'), /tsr_/);
    const shown = async (cookie: string) =>
      /tsr_\w{20,}/.test(await (await fetch(`${s.url}-/web/tokens/created`, { headers: { cookie } })).text());
    const erin = await webSignIn(s.url, 'erin');
    assert.equal(await shown(`${erin}; ${sealed}`), false, "another session's sealed token does not open");
    assert.equal(await shown(`${dave}; tessera-once=${'A'.repeat(40)}`), false, 'a made-up cookie shows nothing');
    s.clock.advance(6 * 60_000);
    assert.equal(await shown(`${dave}; ${sealed}`), false, 'a late one shows nothing');
    const fresh = (await post(dave)).headers.getSetCookie().find((c) => c.startsWith('tessera-once='));
    assert.equal(await shown(`${dave}; ${fresh?.split(';')[0]}`), true);
  });

  test('2FA: the authenticator key and the recovery codes are shown once; a reload makes no new enrolment', async () => {
    const ctx = await b.browser.newContext();
    const page = await ctx.newPage();
    await signIn(page, s.url, 'erin', 'erin-password');
    await page.goto(`${s.url}-/web/account/2fa`);
    await page.getByLabel('Password').fill('erin-password');
    await submitted(page, () => page.getByRole('button', { name: 'Turn on two-factor authentication' }).click());
    assert.equal(new URL(page.url()).pathname, '/-/web/account/2fa/enrol');
    const secret = await page.getByLabel('Secret', { exact: true }).inputValue();
    assert.match(secret, /^[A-Z2-7]{32}$/);
    await page.reload();
    assert.equal(await page.getByLabel('Secret', { exact: true }).count(), 0, 'the key is shown once');
    assert.doesNotMatch(await page.content(), new RegExp(secret));
    assert.match((await page.getByRole('status').textContent()) ?? '', /shown once/);
    await assertAccessible(page, 'an authenticator key shown once already');
    // The first key still holds (the reload made no new one): its code confirms.
    await page.getByLabel('Code from your authenticator').fill(codeAt(secret, s.clock.now()));
    await submitted(page, () => page.getByRole('button', { name: 'Confirm' }).click());
    assert.equal(new URL(page.url()).pathname, '/-/web/account/2fa/recovery-codes');
    const codes = (await page.getByLabel('Recovery codes').inputValue()).split('\n');
    assert.equal(codes.length, 8);
    const confirms = posts('/-/web/account/2fa/confirm');
    await page.reload();
    await page.goBack();
    await page.goForward();
    assert.equal(await page.getByLabel('Recovery codes').count(), 0);
    assert.doesNotMatch(await page.content(), new RegExp(codes[0]));
    assert.match((await page.getByRole('status').textContent()) ?? '', /shown once/);
    assert.equal(posts('/-/web/account/2fa/confirm'), confirms);
    // The enrolment page once 2FA is on: back to the 2FA settings.
    await page.goto(`${s.url}-/web/account/2fa/enrol`);
    assert.equal(new URL(page.url()).pathname, '/-/web/account/2fa');
    await ctx.close();
  });

  test('the explain page, understanding nothing, says what `tessera explain` says, and what to paste', async () => {
    const ctx = await b.browser.newContext();
    const page = await ctx.newPage();
    const pastes = [
      'Done in 3.2s.\nsomething odd happened',
      'npm error A complete log of this run can be found in: /home/u/.npm/_logs/2026-01-01T00_00_00_000Z-debug-0.log',
    ];
    for (const paste of pastes) {
      await page.goto(`${s.url}-/web/explain`);
      await page.getByLabel('Output').fill(paste);
      await submitted(page, () => page.getByRole('button', { name: 'Explain' }).click());
      const shown = (await page.getByRole('status').locator('p').allTextContents()).join(' ').replace(/\s+/g, ' ');
      const cli = await tessera(['explain', '--no-config', '-'], { input: paste });
      assert.equal(cli.code, 0, cli.stderr);
      assert.equal(shown, cli.stdout.replaceAll('`', '').replace(/\s+/g, ' ').trim());
      assert.match(shown, /^No npm, pnpm, Yarn or bun error found in the input\./);
    }
    assert.match(
      (await page.locator('[role=status] code').first().textContent()) ?? '',
      /^tessera explain \/home\/u\/\.npm\/_logs\//,
    );
    await assertAccessible(page, 'explain: nothing understood');
    await ctx.close();
  });

  test('a README over 256 KiB: the page says it was shortened and links the whole README, for readers only', async () => {
    const npm = makeNpm(s.url);
    npm.setToken(s.host, await s.token({ user: 'dave' }));
    const lines = Array.from({ length: 30_000 }, (_, i) => `line ${i} of a long README`);
    const readme = `# Long\n\n${lines.join('\n')}\n\nTHE END <script>x</script>\n`;
    for (const [name, access] of [
      ['long-readme', 'public'],
      ['@dave/long-private', 'restricted'],
    ]) {
      const dir = makePackage(name, '1.0.0');
      writeFileSync(join(dir, 'README.md'), readme);
      const r = await npm.run(['publish', `--access=${access}`], { cwd: dir });
      assert.equal(r.code, 0, r.output);
    }
    const ctx = await b.browser.newContext();
    const page = await ctx.newPage();
    await signIn(page, s.url, 'dave', 'dave-password');
    for (const name of ['long-readme', '@dave/long-private']) {
      await page.goto(`${s.url}-/web/package/${name}`);
      assert.doesNotMatch((await page.locator('main').textContent()) ?? '', /THE END/);
      const note = page.locator('.readme-cut');
      assert.match(
        (await note.textContent()) ?? '',
        /longer than 256 KiB: the rest is in the package\. This page shows its start/,
      );
      if (name === 'long-readme') await assertAccessible(page, 'package page with a README cut');
      const link = note.getByRole('link', { name: 'read the whole README' });
      const [res] = await Promise.all([page.waitForResponse((r) => r.url().includes('/-/web/readme/')), link.click()]);
      assert.equal(res.status(), 200);
      assert.equal(res.headers()['content-type'], 'text/plain; charset=utf-8');
      // Compared whole, not by assert.equal: a diff of two 800 KB texts would take minutes to print.
      const body = await res.text();
      assert.ok(
        body === readme,
        `${name}: the whole README, as it is in the tarball (${body.length}/${readme.length})`,
      );
    }
    await ctx.close();
    // Another user and no one: the private package's README is the not-found of a name that does not exist.
    const bob = await webSignIn(s.url, 'bob');
    for (const cookie of [bob, '']) {
      const hidden = await fetch(`${s.url}-/web/readme/${encodeURIComponent('@dave/long-private')}/1.0.0`, {
        headers: { cookie },
      });
      const absent = await fetch(`${s.url}-/web/readme/${encodeURIComponent('@dave/long-absent')}/1.0.0`, {
        headers: { cookie },
      });
      assert.equal(hidden.status, 404);
      assert.equal(absent.status, 404);
      assert.equal(await hidden.text(), await absent.text());
    }
  });
});
