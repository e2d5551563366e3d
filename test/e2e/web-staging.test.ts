// The staging queue in real Chromium: a version staged with the real `npm stage publish` is listed with who
// staged it, reviewed against the latest published version (dependencies, scripts, files) and approved with
// a one-time password the test computes, after which `npm view` shows it; another is rejected. A staged id
// the caller may not see is the not-found page of an unknown id. axe finds no serious violation.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startServer, type TestServer } from '../helpers/server.ts';
import { makeNpm, makePackage, type NpmEnv } from '../helpers/npm.ts';
import { assertAccessible, launch, screenshot, signedIn, submitted, type TestBrowser } from '../helpers/browser.ts';
import { tabTo } from '../helpers/keyboard.ts';
import { userWith2fa } from '../helpers/two-factor.ts';

const LONG = 30 * 86_400_000;

function stageIdOf(output: string): string {
  const m = /\(staged with id ([0-9a-f-]{36})\)/.exec(output);
  assert.ok(m, `no stage id in:\n${output}`);
  return m[1];
}

describe('web pages: the staging queue', () => {
  let s: TestServer;
  let b: TestBrowser;
  let alice: NpmEnv;
  let code: () => string;
  const anon = () => makeNpm(s.url);

  const session = (name: string, otp?: string) => signedIn(b, s.url, name, otp);

  async function stage(version: string, extra: Record<string, unknown>): Promise<string> {
    const r = await alice.run(['stage', 'publish'], { cwd: makePackage('sw-pkg', version, extra) });
    assert.equal(r.code, 0, r.output);
    return stageIdOf(r.output);
  }

  before(async () => {
    s = await startServer();
    b = await launch();
    ({ npm: alice, code } = await userWith2fa(s, 'alice', 'auth-only', LONG));
    await s.addUser('bob');
    const r = await alice.run(['publish'], {
      cwd: makePackage('sw-pkg', '1.0.0', {
        dependencies: { 'left-pad': '^1.0.0' },
        scripts: { test: 'node test.js' },
      }),
    });
    assert.equal(r.code, 0, r.output);
  });
  after(async () => {
    await b?.close();
    await s?.close();
  });

  test('a staged version is reviewed against the latest and approved with a code; npm view then shows it', async () => {
    const id = await stage('1.1.0', {
      dependencies: { 'left-pad': '^2.0.0', 'is-even': '^1.0.0' },
      scripts: { test: 'node test.js', postinstall: 'node setup.js' },
      bin: { sw: 'index.js' },
    });
    const { ctx, page } = await session('alice', code());
    await page.goto(`${s.url}-/web/staged`);
    const row = page.getByRole('row', { name: /sw-pkg/ });
    const cells = (await row.locator('td').allTextContents()).map((c) => c.trim());
    assert.deepEqual(cells.slice(1, 4), ['1.1.0', 'latest', 'alice user']);
    await assertAccessible(page, 'staging queue');
    await screenshot(page, 'staging-queue');
    await row.getByRole('link', { name: 'Review sw-pkg@1.1.0' }).click();
    assert.equal(page.url(), `${s.url}-/web/staged/${id}`);
    const diff = async (field: string) =>
      (await page.getByRole('row', { name: field, exact: false }).first().locator('th, td').allTextContents()).map(
        (c) => c.trim(),
      );
    assert.deepEqual(await diff('version'), ['version', '1.0.0', '1.1.0']);
    assert.deepEqual(await diff('dependencies.left-pad'), ['dependencies.left-pad', '^1.0.0', '^2.0.0']);
    assert.deepEqual(await diff('dependencies.is-even'), ['dependencies.is-even', '—', '^1.0.0']);
    assert.deepEqual(await diff('scripts.postinstall'), ['scripts.postinstall', '—', 'node setup.js']);
    assert.deepEqual(await diff('bin.sw'), ['bin.sw', '—', 'index.js']);
    assert.equal(await page.getByRole('row', { name: 'scripts.test' }).count(), 0, 'unchanged entries are left out');
    const [, filesBefore, filesAfter] = await diff('files');
    assert.equal(filesBefore, filesAfter, 'the same files, three of them');
    await page.getByText('Files in the staged tarball').click();
    const files = (await page.locator('details ul').textContent()) ?? '';
    for (const f of ['README.md', 'index.js', 'package.json']) assert.match(files, new RegExp(f.replace('.', '\\.')));
    await assertAccessible(page, 'staged version');
    await screenshot(page, 'staged-version');

    await page.getByLabel('One-time password to approve').fill('000000');
    const [bad] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST'),
      page.getByRole('button', { name: 'Approve and publish' }).click(),
    ]);
    assert.equal(bad.headers()['x-tessera-reason'], 'otp-wrong');
    assert.notEqual((await anon().run(['view', 'sw-pkg', 'versions', '--json'])).stdout.includes('1.1.0'), true);

    // By keyboard alone: Tab to the code field, type it, Enter submits.
    await tabTo(page, page.getByLabel('One-time password to approve'));
    await page.keyboard.type(code());
    const ok = await submitted(page, () => page.keyboard.press('Enter'));
    assert.equal(ok.status(), 200);
    assert.equal(new URL(ok.url()).pathname, '/-/web/staged', 'the post was redirected to the queue');
    assert.match((await page.getByRole('status').textContent()) ?? '', /sw-pkg@1\.1\.0 is published with tag latest/);
    const versions = JSON.parse((await anon().run(['view', 'sw-pkg', 'versions', '--json'])).stdout) as string[];
    assert.deepEqual(versions, ['1.0.0', '1.1.0']);
    await ctx.close();
  });

  test('another is rejected with a code: its number is free, the queue is empty', async () => {
    const id = await stage('1.2.0', {});
    const { ctx, page } = await session('alice', code());
    await page.goto(`${s.url}-/web/staged/${id}`);
    await page.getByLabel('One-time password to reject').fill(code());
    await page.getByRole('button', { name: 'Reject' }).click();
    assert.match((await page.getByRole('status').textContent()) ?? '', /sw-pkg@1\.2\.0 is rejected/);
    assert.match((await page.locator('main').textContent()) ?? '', /No staged versions of your packages/);
    const list = await alice.run(['stage', 'list']);
    assert.match(list.stdout, /No staged packages found/);
    await ctx.close();
  });

  test('someone else gets the not-found page of an unknown id, and an empty queue', async () => {
    const id = await stage('1.3.0', {});
    const { ctx, page } = await session('bob');
    const answer = async (path: string) => {
      const res = await page.goto(`${s.url}${path}`);
      return { status: res?.status(), reason: res?.headers()['x-tessera-reason'], body: await res?.text() };
    };
    const hidden = await answer(`-/web/staged/${id}`);
    assert.equal(hidden.status, 404);
    assert.deepEqual(hidden, await answer(`-/web/staged/${randomUUID()}`));
    assert.doesNotMatch(hidden.body ?? '', /sw-pkg/);
    await page.goto(`${s.url}-/web/staged`);
    assert.match((await page.locator('main').textContent()) ?? '', /No staged versions of your packages/);
    const res = await fetch(`${s.url}-/web/staged`, { redirect: 'manual' });
    assert.equal(res.status, 303, 'anonymous callers are sent to sign in');
    await ctx.close();
  });
});
