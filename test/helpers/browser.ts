// Real Chromium (Debian's /usr/bin/chromium) driven by playwright-core, with the flags these closed
// networks need; axe-core run inside the page; screenshots to a temporary folder (never committed).
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { chromium, type Browser, type BrowserContext, type Page, type Response } from 'playwright-core';

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
export const SHOTS = process.env.TESSERA_SCREENSHOTS ?? join(tmpdir(), 'tessera-web-screenshots');

export type TestBrowser = { browser: Browser; close(): Promise<void> };

export async function launch(): Promise<TestBrowser> {
  // Playwright gives Chromium a fresh, empty profile folder of its own (it refuses --user-data-dir here).
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    browser,
    close: () => browser.close(),
  };
}

/** axe-core in the page (evaluated through the debugger, so the page's CSP still holds for the page itself):
 *  no serious or critical violation. */
export async function assertAccessible(page: Page, what: string): Promise<void> {
  await page.evaluate(AXE);
  const found = await page.evaluate(async () => {
    type Violation = { id: string; impact: string; help: string; nodes: { target: unknown }[] };
    const axe = (globalThis as unknown as { axe: { run(): Promise<{ violations: Violation[] }> } }).axe;
    const r = await axe.run();
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target) }));
  });
  const bad = found.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad, [], `${what}: axe found serious or critical violations`);
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/** Signs in through the sign-in form, as a person would. */
export async function signIn(page: Page, url: string, name: string, password: string, otp?: string): Promise<void> {
  await page.goto(`${url}-/web/signin`);
  await page.getByLabel('Username').fill(name);
  await page.getByLabel('Password', { exact: true }).fill(password);
  if (otp) await page.getByLabel(/One-time password/).fill(otp);
  await Promise.all([page.waitForURL(/\/-\/web\/$/), page.getByRole('button', { name: 'Sign in' }).click()]);
}

/** A browser context of its own (its own cookies) with a page signed in as `name` (the test password). */
export async function signedIn(
  b: TestBrowser,
  url: string,
  name: string,
  otp?: string,
): Promise<{ ctx: BrowserContext; page: Page }> {
  const ctx = await b.browser.newContext();
  const page = await ctx.newPage();
  await signIn(page, url, name, `${name}-password`, otp);
  return { ctx, page };
}

/** Submits a form by `act` (a click, a key) and returns the answer the page ends on: the post's own (a refusal
 *  drawn in the form) or, after a redirect (POST-redirect-GET), the page's it was sent to. */
export async function submitted(page: Page, act: () => Promise<unknown>): Promise<Response> {
  const landed = (r: Response) =>
    r.request().isNavigationRequest() &&
    r.request().frame() === page.mainFrame() &&
    (r.status() < 300 || r.status() > 399);
  const [res] = await Promise.all([page.waitForResponse(landed), act()]);
  await page.waitForLoadState();
  return res;
}
