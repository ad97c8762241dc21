// The door page on a big catalog's day, in a real browser (issue 13): more showtimes in a day
// than one door reply holds (300), so the page asks for the door's studio first instead of
// listing them all, refuses a studio that is no number, and then lists that studio's showtimes
// alone, the suggested one chosen. A synthetic catalog of 80 films: more than 400 showtimes a day.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  axeSerious, buildSite, launchBrowser, missingChromium, newContext, startServiceWithEnv, tearDown,
} from './lib/harness.mjs';

const STEP = { timeout: 60_000 };
const FILMS = 80;
const TOKEN = 'door-big-browser-test-token-0123';
/** The most showtimes one door reply holds (door.js's PAGE, the service's maximum). */
const PAGE = 300;

/** A showtime's day at the cinema: its start is written in the cinema's own offset. */
const localDate = (showtime) => showtime.starts_at.slice(0, 10);

const missing = missingChromium();
if (missing && process.env.CI) {
  test('Chromium is installed', () => assert.fail(`${missing} CI must install it (.ci/run does).`));
} else if (missing) {
  console.log(`# door browser tests skipped: ${missing}`);
}

describe('The door page of a big catalog in Chromium', { skip: missing ? 'no Chromium: apt-get install -y chromium' : false }, () => {
  let site;
  let service;
  let browser;
  let context;
  let day; // the second day of the horizon: every showtime of it is in the database

  before(async () => {
    site = buildSite({ films: FILMS });
    const days = [...new Set(site.schedule.showtimes.map(localDate))];
    assert.ok(days.length >= 2, `the roll made ${days.length} day(s)`);
    day = days[1];
    const first = site.schedule.showtimes.find((s) => localDate(s) === day);
    // Five minutes before the day's first showtime: the door's today is that whole day.
    const now = new Date(Date.parse(first.starts_at) - 5 * 60_000).toISOString();
    service = await startServiceWithEnv(site, { TIKETA_NOW: now, TIKETA_OPERATOR_TOKEN: TOKEN, TIKETA_POST_LIMIT: '0' });
    browser = await launchBrowser();
    context = await newContext(browser, service.origin);
  });

  after(() => tearDown({ browser, service, site }));

  test('a big day asks for the studio, refuses a bad one, then lists that studio alone', STEP, async () => {
    const ofTheDay = site.schedule.showtimes.filter((s) => localDate(s) === day);
    assert.ok(ofTheDay.length > PAGE, `${ofTheDay.length} showtimes that day: not a big day`);

    const page = await context.newPage();
    await page.goto('/door/');
    await page.getByLabel('Operator token').fill(TOKEN);
    await page.getByLabel('Operator token').press('Enter');
    const studio = page.getByLabel('Studio', { exact: true });
    await studio.waitFor({ state: 'visible' });
    assert.equal(await page.evaluate(() => document.activeElement.id), 'studio', 'the studio field has the focus');
    assert.equal(await page.locator('#showtime option').count(), 0, 'no list of the whole day');
    assert.ok(await page.locator('#showtime').isDisabled());
    assert.equal(await page.locator('#no-showtimes').isVisible(), false, 'a big day is not "no showtimes"');

    await studio.fill('0');
    await studio.press('Enter');
    await page.locator('#studio-error', { hasText: 'studio\'s number' }).waitFor();
    assert.equal(await studio.getAttribute('aria-invalid'), 'true');

    const film = ofTheDay.find((s) => s.studio === 1);
    const expected = ofTheDay.filter((s) => s.studio === 1);
    await studio.fill('1');
    await studio.press('Enter');
    await page.waitForFunction(() => document.querySelectorAll('#showtime option').length > 0);
    const options = await page.locator('#showtime option').evaluateAll((all) => all.map((o) => [o.value, o.textContent]));
    assert.deepEqual(options.map(([id]) => id), expected.map((s) => s.id), `studio 1's showtimes that day (${film.film})`);
    assert.ok(options.every(([, text]) => / · Studio 1( |$)/.test(text)), options.map(([, t]) => t).join(' | '));
    assert.equal(await studio.getAttribute('aria-invalid'), null, 'the error is gone');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'showtime', 'then the list has the focus');
    assert.match(await page.locator('#attendance').textContent(), /^0 of 0 booked seats in \(0 of 0 bookings\)$/);
    assert.deepEqual(await axeSerious(page, 'door, big day, studio 1'), []);
    assert.deepEqual(context.problems, [], 'no script errors');
  });
});
