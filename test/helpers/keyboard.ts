// Keyboard reachability, as a person without a mouse gets there: Tab from the top of the page until the
// control has focus (or fail), then act on it with the keyboard.
import assert from 'node:assert/strict';
import type { Locator, Page } from 'playwright-core';

export async function tabTo(page: Page, target: Locator, max = 200): Promise<void> {
  await page.locator('body').focus();
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    if (await target.evaluate((el) => el === document.activeElement)) return;
  }
  assert.fail(`not reachable with Tab in ${max} presses`);
}
