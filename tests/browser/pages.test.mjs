// A catalog too big for one page, in a real browser: the index in numbered pages that a
// keyboard user reaches and follows with Tab and Enter alone, and a film page whose "seats
// left" come from the paged `/api/showtimes` (issue 13). A synthetic catalog of 60 films, 24
// studios a page: three pages.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  axeSerious, buildSite, launchBrowser, missingChromium, newContext, startService, tearDown,
} from './lib/harness.mjs';

const STEP = { timeout: 60_000 };
const FILMS = 60;

const missing = missingChromium();
if (missing && process.env.CI) {
  test('Chromium is installed', () => assert.fail(`${missing} CI must install it (.ci/run does).`));
} else if (missing) {
  console.log(`# browser tests skipped: ${missing}`);
}

describe('The index of a big catalog in Chromium', { skip: missing ? 'no Chromium: apt-get install -y chromium' : false }, () => {
  let site;
  let service;
  let browser;
  let context;

  before(async () => {
    site = buildSite({ films: FILMS });
    service = await startService(site);
    browser = await launchBrowser();
    context = await newContext(browser, service.origin);
  });

  after(() => tearDown({ browser, service, site }));

  /** Presses Tab until the focused element is `link` (at most `limit` times); false if never. */
  async function tabTo(page, name, limit = 200) {
    for (let i = 0; i < limit; i += 1) {
      await page.keyboard.press('Tab');
      const focused = await page.evaluate(() => document.activeElement && document.activeElement.textContent.trim());
      if (focused === name) return true;
    }
    return false;
  }

  test('a keyboard user tabs to "Next page", follows it, and lands on page 2 of 3', STEP, async () => {
    const page = await context.newPage();
    await page.goto(`${service.origin}/`);
    assert.equal(await page.locator('.studio-card').count(), 24);
    const nav = page.getByRole('navigation', { name: 'Pages' });
    assert.equal(await nav.locator('[aria-current="page"]').innerText(), '1');

    assert.ok(await tabTo(page, 'Next page'), 'Tab reaches the "Next page" link');
    await Promise.all([page.waitForURL(`${service.origin}/page/2/#studios`), page.keyboard.press('Enter')]);
    assert.match(await page.locator('h2#studios-title').innerText(), /page 2 of 3/);
    assert.equal(await nav.locator('[aria-current="page"]').innerText(), '2');
    assert.equal(await page.locator('.studio-card').count(), 24);
    assert.deepEqual(await axeSerious(page, 'index page 2'), []);

    // On to the last page, then back by "Previous page".
    assert.ok(await tabTo(page, 'Next page'));
    await Promise.all([page.waitForURL(`${service.origin}/page/3/#studios`), page.keyboard.press('Enter')]);
    assert.equal(await page.locator('.studio-card').count(), FILMS - 48);
    assert.equal(await page.getByRole('link', { name: 'Next page' }).count(), 0, 'no next page after the last');
    await page.keyboard.press('Shift+Tab'); // from wherever Tab left off, back into the page
    await page.locator('a[rel="prev"]').focus();
    await Promise.all([page.waitForURL(`${service.origin}/page/2/#studios`), page.keyboard.press('Enter')]);
    await page.close();
  });

  test("a film's seats left come from the paged showtimes list", STEP, async () => {
    const page = await context.newPage();
    const film = site.schedule.showtimes.at(-1).film;
    await page.goto(`${service.origin}/films/${film}/`);
    await page.locator('.schedule[data-live="on"]').waitFor();
    const open = page.locator('.schedule .showtime[data-seats="open"]');
    assert.ok(await open.count() > 0, 'the live numbers are shown');
    assert.equal(await page.locator('.schedule .showtime[data-seats="closed"]').count(), 0, 'none missed by a page cut');
    await page.close();
  });
});
