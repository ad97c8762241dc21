// Honest times and states, in Chromium against the real binaries: the film page's seats left
// (live from the service, dropping as seats are booked, "Sold out", "Booking closed"), the
// static schedule when the service cannot be reached, the cinema's zone and the (+1) of an end
// after midnight on screen, and an old booking link that offers the film's next showtimes.
//
//   cd tests/browser && node --test times.test.mjs
//
// One service, serving the site and the API, with two settings of its own: no booking rate
// limit (a sold-out showtime takes 27 bookings of 8 seats), and its clock set just after the
// film's first showtime started (the pages are built at the real time, so that showtime is
// on the static page while the service already counts it as started).

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  api, ARTIFACTS, axeSerious, bookThroughApi, buildSite, ensureArtifacts, launchBrowser, missingChromium,
  newContext, SCREENSHOT_WIDTHS, screenshotContext, startServiceWithEnv, tearDown,
} from './lib/harness.mjs';

const STEP = { timeout: 60_000 };

const missing = missingChromium();
if (missing && process.env.CI) {
  test('Chromium is installed', () => assert.fail(`${missing} CI must install it (.ci/run does).`));
} else if (missing) {
  console.log(`# browser tests skipped: ${missing}`);
}

/** The local date of an RFC 3339 time with an offset, as written: `2026-11-24`. */
const localDate = (rfc3339) => rfc3339.slice(0, 10);

describe('Honest times and states in Chromium', { skip: missing ? 'no Chromium: apt-get install -y chromium' : false }, () => {
  let site;
  let service;
  let browser;
  let visitor;
  let client;
  let film; // { slug, url, showtimes: [schedule.json items, in start order] }
  let started; // the film's first showtime: started, as far as the service knows
  let soldOut; // its second: every seat booked through the API
  let open; // its third: a few seats booked
  let seatsTotal;
  let serviceNow; // the service's clock (ms), just after `started` began

  before(async () => {
    site = buildSite();
    // The film of the horizon's last showtime: days of showtimes ahead of it.
    const slug = site.schedule.showtimes.at(-1).film;
    const showtimes = site.schedule.showtimes.filter((s) => s.film === slug);
    assert.ok(showtimes.length >= 4, 'the film has showtimes enough');
    film = { slug, url: `/films/${slug}/`, showtimes };
    [started, soldOut, open] = showtimes;
    serviceNow = Date.parse(started.starts_at) + 60_000;
    service = await startServiceWithEnv(site, { TIKETA_NOW: new Date(serviceNow).toISOString(), TIKETA_POST_LIMIT: '0' });
    client = api(service.origin);
    browser = await launchBrowser();
    visitor = await newContext(browser, service.origin);
  });

  after(() => tearDown({ browser, service, site }));

  function assertNoScriptErrors(context) {
    assert.deepEqual(context.problems, [], 'script errors in the pages');
  }

  const showtimeLink = (page, id) => page.locator(`.schedule .showtime[data-showtime-id="${id}"]`);
  const seatsLeft = (page, id) => showtimeLink(page, id).locator('.showtime__seats');

  /** Every bookable place of the room, from the service's seat map. */
  async function allSeats(showtimeId) {
    const { json } = await client.seats(showtimeId);
    seatsTotal = json.showtime.seats_total;
    return json.seat_map.rows.flatMap((r) => (r.cells || []).filter((c) => c.kind !== 'gap').map((c) => c.id));
  }

  test('1. the film page shows seats left from the service; a booking makes the number drop', STEP, async () => {
    const seats = await allSeats(open.id);
    assert.equal(seats.length, seatsTotal);
    const page = await visitor.newPage();
    await page.goto(film.url);
    await assert.doesNotReject(seatsLeft(page, open.id).getByText(`${seatsTotal} seats left`).waitFor());
    assert.equal(await showtimeLink(page, open.id).getAttribute('data-seats'), 'open');

    const booked = await bookThroughApi(service.origin, open.id, ['F7', 'F8', 'F9']);
    assert.equal(booked.status, 201, JSON.stringify(booked.json));
    await page.reload();
    await assert.doesNotReject(seatsLeft(page, open.id).getByText(`${seatsTotal - 3} seats left`).waitFor());
    await page.close();
    assertNoScriptErrors(visitor);
  });

  test('2. a sold-out showtime says "Sold out", a started one "Booking closed"', STEP, async () => {
    const seats = await allSeats(soldOut.id);
    for (let i = 0; i < seats.length; i += 8) {
      const booked = await bookThroughApi(service.origin, soldOut.id, seats.slice(i, i + 8));
      assert.equal(booked.status, 201, JSON.stringify(booked.json));
    }
    assert.equal((await client.seats(soldOut.id)).json.showtime.seats_free, 0);

    const page = await visitor.newPage();
    await page.goto(film.url);
    await assert.doesNotReject(seatsLeft(page, soldOut.id).getByText('Sold out').waitFor());
    assert.equal(await showtimeLink(page, soldOut.id).getAttribute('data-seats'), 'sold-out');
    await assert.doesNotReject(seatsLeft(page, started.id).getByText('Booking closed').waitFor());
    assert.equal(await showtimeLink(page, started.id).getAttribute('data-seats'), 'closed');
    // The others still count their seats.
    await assert.doesNotReject(seatsLeft(page, film.showtimes[3].id).getByText(`${seatsTotal} seats left`).waitFor());
    await page.close();
    assertNoScriptErrors(visitor);
  });

  test('3. without the service the film page is the static schedule: no numbers, no error', STEP, async () => {
    const context = await newContext(browser, service.origin);
    const page = await context.newPage();
    // The service unreachable (a CDN serving the pages while the booking service is down).
    const asked = [];
    await page.route('**/api/showtimes**', (route) => {
      asked.push(route.request().url());
      return route.abort('connectionrefused');
    });
    await page.goto(film.url);
    // The script has had the failure and settled on the static schedule.
    await page.locator('.schedule[data-live="off"]').waitFor({ state: 'attached' });
    assert.ok(asked.length >= 1, 'the page asked the service');
    const asking = new URL(asked[0]);
    assert.equal(asking.pathname, '/api/showtimes', asked[0]);
    assert.equal(asking.searchParams.get('film'), film.slug, asked[0]);
    const links = page.locator('.schedule .showtime');
    assert.equal(await links.count(), film.showtimes.length, 'every showtime is listed');
    assert.equal(await page.locator('.showtime__seats:visible').count(), 0, 'no numbers');
    assert.equal(await page.locator('.schedule [data-seats]').count(), 0, 'no states');
    const text = await page.locator('.schedule').innerText();
    assert.doesNotMatch(text, /error|unavailable|failed|try again/i);
    // The page logs nothing but Chromium's own note of the refused request.
    await context.close();
    assertNoScriptErrors(context);
  });

  test('4. every showtime names the zone, and an end after midnight is marked (+1)', STEP, async () => {
    // One the service still takes bookings for (its clock is ahead of the real one).
    const late = site.schedule.showtimes.find((s) => localDate(s.ends_at) > localDate(s.starts_at)
      && Date.parse(s.starts_at) > serviceNow);
    assert.ok(late, 'a showtime of the horizon ends after midnight');
    const page = await visitor.newPage();
    await page.goto(`/films/${late.film}/`);
    const time = showtimeLink(page, late.id).locator('.showtime__time');
    assert.equal(await time.isVisible(), true);
    const start = late.starts_at.slice(11, 16);
    const end = late.ends_at.slice(11, 16);
    assert.equal(await time.innerText(), `${start} – ${end} (+1) WIB`);
    // Read aloud: the long form.
    const name = await showtimeLink(page, late.id).evaluate((a) => a.querySelector('.sr-only').textContent);
    assert.match(name, new RegExp(`${start} to ${end} the next day, Jakarta time$`));
    // A same-day showtime names the zone too, without a mark.
    const same = film.showtimes.find((s) => localDate(s.ends_at) === localDate(s.starts_at));
    await page.goto(film.url);
    assert.match(await showtimeLink(page, same.id).locator('.showtime__time').innerText(), /^\d\d:\d\d – \d\d:\d\d WIB$/);
    // The booking page's heading.
    await page.goto(late.url);
    await assert.doesNotReject(page.locator('main').getByText(`${start} – ${end} (+1) WIB`).first().waitFor());
    // The manage page's "When", written by the script.
    const booked = await bookThroughApi(service.origin, late.id, ['A1']);
    assert.equal(booked.status, 201, JSON.stringify(booked.json));
    await page.goto(`/booking/?ref=${booked.json.reference}&token=${booked.json.manage_token}`);
    await page.locator('.booking-card').waitFor();
    assert.match(await page.locator('.booking-card').innerText(), new RegExp(`, ${start}–${end} \\(\\+1\\), Jakarta time`));
    await page.close();
    assertNoScriptErrors(visitor);
  });

  test('5. an old /book/<id>/ link says the screening has passed and offers the next ones', STEP, async () => {
    const page = await visitor.newPage();
    const old = `/book/${film.slug}-20200107-1800/`;
    const response = await page.goto(old);
    assert.equal(response.status(), 404, 'still a 404 for crawlers');
    const panel = page.locator('#passed-showtime');
    await panel.waitFor();
    assert.equal(await page.locator('h1:visible').innerText(), 'That screening has passed');
    assert.match(await panel.locator('.passed-showtime__lede').innerText(), /The 18:00 screening of .+ on Tuesday 7 January \(Jakarta time\) has started or is over/);
    assert.equal(await page.locator('.not-found__inner').isVisible(), false, 'the generic text is gone');
    // The film's next showtimes, in order: those that have not started by the browser's clock.
    const upcoming = film.showtimes.filter((s) => Date.parse(s.starts_at) > Date.now()).slice(0, 4);
    const offered = await panel.locator('.passed-showtime__list a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    assert.deepEqual(offered, upcoming.map((s) => s.url));
    const first = panel.locator('.passed-showtime__list a').first();
    assert.match(await first.innerText(), /WIB/);
    assert.equal(await panel.locator('.passed-showtime__film').getAttribute('href'), film.url);
    await first.click();
    await page.waitForURL(`**${upcoming[0].url}`);
    assert.equal(await page.locator('#seat-picker').getAttribute('data-showtime-id'), upcoming[0].id);

    // A time after the film's next showtimes that was never scheduled has not "passed".
    await page.goto(`/book/${film.slug}-20991231-0700/`);
    await panel.waitFor();
    assert.equal(await page.locator('h1:visible').innerText(), 'That screening is not on the schedule');
    assert.match(await panel.locator('.passed-showtime__lede').innerText(), /has no 07:00 screening on Thursday 31 December \(Jakarta time\)/);
    assert.equal(await panel.locator('.passed-showtime__list a').count(), upcoming.length);

    // A film that is not showing keeps the generic 404.
    await page.goto('/book/no-such-film-20200107-1800/');
    await page.waitForLoadState('networkidle');
    assert.equal(await page.locator('#passed-showtime').isVisible(), false);
    assert.equal(await page.locator('.not-found__title').isVisible(), true);
    await page.close();
    assertNoScriptErrors(visitor);
  });

  test('6. axe on the film page with its states, and on the passed-showtime page', STEP, async () => {
    const page = await visitor.newPage();
    const found = [];
    for (const [name, path, ready] of [
      ['film page', film.url, `.showtime[data-seats="sold-out"]`],
      ['passed showtime', `/book/${film.slug}-20200107-1800/`, '#passed-showtime:not([hidden])'],
    ]) {
      await page.goto(path);
      await page.locator(ready).first().waitFor();
      found.push(...(await axeSerious(page, name)));
    }
    assert.deepEqual(found, [], `axe violations:\n${found.join('\n')}`);
    await page.close();
  });

  test('7. screenshots of the film page and an old booking link at 390 px and 1440 px', STEP, async () => {
    const dir = ensureArtifacts();
    for (const width of SCREENSHOT_WIDTHS) {
      const context = await screenshotContext(browser, service.origin, width);
      const page = await context.newPage();
      await page.goto(film.url);
      await page.locator('.schedule[data-live="on"]').waitFor();
      await page.screenshot({ path: join(dir, `film-times-${width}.png`), fullPage: true });
      // The schedule alone, at full size, to read the tiles.
      await page.locator('#schedule').screenshot({ path: join(dir, `film-times-schedule-${width}.png`) });
      await page.goto(`/book/${film.slug}-20200107-1800/`);
      await page.locator('#passed-showtime').waitFor();
      await page.screenshot({ path: join(dir, `passed-showtime-${width}.png`), fullPage: true });
      await context.close();
      assertNoScriptErrors(context);
    }
    console.log(`# screenshots in ${ARTIFACTS}`);
  });

  test('8. an open film page asks again once a minute, not more, and shows the new number', STEP, async () => {
    const page = await visitor.newPage();
    // The page's timers on a clock the test moves: a minute passes in no time.
    await page.clock.install();
    let asked = 0;
    page.on('request', (r) => { if (r.url().includes('/api/showtimes')) asked += 1; });
    await page.goto(film.url);
    await seatsLeft(page, open.id).getByText(`${seatsTotal - 3} seats left`).waitFor();
    assert.equal(asked, 1);

    const booked = await bookThroughApi(service.origin, open.id, ['G1', 'G2']);
    assert.equal(booked.status, 201, JSON.stringify(booked.json));
    await page.clock.runFor(30_000);
    assert.equal(asked, 1, 'nothing asked within the minute');
    await page.clock.runFor(30_000);
    await assert.doesNotReject(seatsLeft(page, open.id).getByText(`${seatsTotal - 5} seats left`).waitFor());
    assert.equal(asked, 2, 'asked once more after a minute');
    await page.close();
    assertNoScriptErrors(visitor);
  });
});
