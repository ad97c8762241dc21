// Tiketa in a real browser, end to end: the scenarios of issue 4, in order, against the real
// `tiketa-gen` site and the real `tiketa-booking` service on loopback.
//
//   cd tests/browser && npm ci && node --test
//
// The scenarios share one site, one service and one booking: each picks up where the last one
// left off (book -> see it taken -> lose a race -> cancel), as a visitor would.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  api, ARTIFACTS, axeSerious, buildSite, ensureArtifacts, launchBrowser, missingChromium, newContext,
  SCREENSHOT_WIDTHS, screenshotContext, startService, tearDown,
} from './lib/harness.mjs';


// No step waits on anything but loopback; a hung one fails instead of hanging the run.
const STEP = { timeout: 60_000 };

const missing = missingChromium();
if (missing && process.env.CI) {
  // Under CI the browser tests are required: a missing browser is a failure, never a skip.
  test('Chromium is installed', () => assert.fail(`${missing} CI must install it (.ci/run does).`));
} else if (missing) {
  console.log(`# browser tests skipped: ${missing}`);
}

describe('Tiketa in Chromium', { skip: missing ? `no Chromium: apt-get install -y chromium` : false }, () => {
  let site;
  let service;
  let browser;
  let visitor; // the first visitor's browser context
  let other; // a second, separate visitor
  let client;
  let showtime; // the showtime booked through the picker
  let film; // its film's page URL
  const booking = {}; // what the confirmation said: reference, token, seats
  let otherPage; // the second visitor's booking page, left open from scenario 3 to 4

  before(async () => {
    site = buildSite();
    service = await startService(site);
    client = api(service.origin);
    // The last showtime of the horizon is days ahead: it cannot start while the test runs.
    showtime = site.schedule.showtimes.at(-1);
    assert.ok(showtime, 'the roll created showtimes');
    film = `/films/${showtime.film}/`;
    browser = await launchBrowser();
    visitor = await newContext(browser, service.origin);
    other = await newContext(browser, service.origin);
  });

  after(() => tearDown({ browser, service, site }));

  /** No uncaught exception or console error in any page of a context so far. */
  function assertNoScriptErrors(context) {
    assert.deepEqual(context.problems, [], 'script errors in the pages');
  }

  /** Ready for a full-page screenshot: lazy images loaded (a visitor scrolling down would see
   * them; a full-page capture does not scroll), the pointer off any hover state. Waits at most
   * a few seconds for images, so a slow one cannot hang the run. */
  async function settle(page) {
    await page.mouse.move(0, 0);
    await page.evaluate(async () => {
      const pending = Array.from(document.images).filter((img) => {
        img.loading = 'eager';
        return !img.complete;
      });
      const loaded = Promise.all(pending.map((img) => new Promise((ok) => {
        img.addEventListener('load', ok, { once: true });
        img.addEventListener('error', ok, { once: true });
      })));
      await Promise.race([loaded, new Promise((ok) => setTimeout(ok, 5_000))]);
    });
  }

  const seat = (page, id) => page.locator(`.seat[data-seat="${id}"]`);

  async function openPicker(page) {
    await page.goto(showtime.url);
    // Live: the seats are enabled once the service's seat state is in.
    await page.locator('#seat-picker.is-live').waitFor();
  }

  test('1. index -> studio card -> film page; the trailer modal opens and closes', STEP, async () => {
    const page = await visitor.newPage();
    await page.goto('/');
    const card = page.locator('.studio-card').filter({ has: page.locator(`a[href="${film}"]`) });
    await card.locator(`a[href="${film}"]`).first().click();
    await page.waitForURL(`**${film}`);
    await assert.doesNotReject(page.locator('h1').first().waitFor());

    const trigger = page.locator('[data-trailer-id]').first();
    const youtubeId = await trigger.getAttribute('data-trailer-id');
    const iframe = page.locator('#trailer-modal iframe');
    assert.equal(await iframe.count(), 0, 'no iframe before the trailer is opened');

    await trigger.click();
    await page.locator('#trailer-modal').waitFor({ state: 'visible' });
    assert.equal(await iframe.count(), 1, 'one iframe while open');
    const src = await iframe.getAttribute('src');
    assert.ok(src.startsWith(`https://www.youtube-nocookie.com/embed/${youtubeId}`), src);

    await page.keyboard.press('Escape');
    await page.locator('#trailer-modal').waitFor({ state: 'hidden' });
    assert.equal(await iframe.count(), 0, 'the iframe is gone after closing');
    assert.equal(await trigger.evaluate((el) => el === document.activeElement), true, 'focus returns to the trailer button');

    // Once more, closed with the close button this time.
    await trigger.click();
    assert.equal(await iframe.count(), 1);
    await page.locator('#trailer-modal .modal-close').click();
    assert.equal(await iframe.count(), 0);
    await page.close();
    assertNoScriptErrors(visitor);
  });

  test('2. pick two seats with the mouse and one with the keyboard, book, read the reference', STEP, async () => {
    const page = await visitor.newPage();
    await page.goto(film);
    await page.locator(`a[href="${showtime.url}"]`).first().click();
    await page.waitForURL(`**${showtime.url}`);
    await page.locator('#seat-picker.is-live').waitFor();

    await seat(page, 'F7').click();
    await seat(page, 'F8').click();
    assert.equal(await seat(page, 'F7').getAttribute('aria-pressed'), 'true');
    assert.equal(await seat(page, 'F8').getAttribute('aria-pressed'), 'true');

    // Keyboard alone from here: the grid's tab stop is the last seat touched (F8). Down a row,
    // right, back up: F9. Enter or Space toggles.
    await page.keyboard.press('ArrowDown');
    assert.equal(await page.evaluate(() => document.activeElement.dataset.seat), 'G8');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowUp');
    assert.equal(await page.evaluate(() => document.activeElement.dataset.seat), 'F9');
    // Across the centre aisle: F9 -> F10.
    await page.keyboard.press('ArrowRight');
    assert.equal(await page.evaluate(() => document.activeElement.dataset.seat), 'F10');
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('Space');
    const f9 = seat(page, 'F9');
    assert.equal(await f9.getAttribute('aria-pressed'), 'true');
    assert.equal(await f9.getAttribute('aria-label'), 'Row F, seat 9 (F9), selected');
    assert.equal(await page.locator('.seat[tabindex="0"]').count(), 1, 'one tab stop in the grid');
    assert.match(await page.locator('#booking-summary').textContent(), /3 seats chosen: F7, F8 and F9/);

    await page.getByLabel('Name').fill('Ana Lima');
    await page.getByRole('button', { name: 'Book 3 seats' }).click();

    const reference = page.locator('.booking-confirmation .booking-ref');
    await reference.waitFor();
    booking.reference = (await reference.textContent()).trim();
    assert.match(booking.reference, /^TK-[A-Z0-9]{4}-[A-Z0-9]{4}$/);
    const confirmation = await page.locator('.booking-confirmation').textContent();
    assert.match(confirmation, /F7, F8 and F9/);
    assert.ok(confirmation.includes(showtime.title), 'the film is named');
    assert.match(confirmation, /shown only this once/);
    const manage = new URL(await page.locator('.booking-confirmation a.manage-link').getAttribute('href'), service.origin);
    assert.equal(manage.pathname, '/booking/');
    assert.equal(manage.searchParams.get('ref'), booking.reference);
    booking.token = manage.searchParams.get('token');
    booking.manageUrl = manage.pathname + manage.search;
    assert.ok(booking.token, 'the manage link carries the token');

    // What the service holds agrees.
    const held = await client.booking(booking.reference, booking.token);
    assert.equal(held.status, 200, held.text);
    assert.deepEqual(held.json.seats, ['F7', 'F8', 'F9']);
    assert.equal(held.json.name, 'Ana Lima');
    await page.close();
    assertNoScriptErrors(visitor);
  });

  test('3. after a reload the seats are taken; a second visitor who tries one is told it went', STEP, async () => {
    const page = await visitor.newPage();
    await openPicker(page);
    for (const id of ['F7', 'F8', 'F9']) {
      assert.equal(await seat(page, id).getAttribute('aria-disabled'), 'true', `${id} taken`);
      assert.match(await seat(page, id).getAttribute('class'), /\bis-taken\b/);
      assert.equal(await seat(page, id).getAttribute('aria-label'), `Row F, seat ${id.slice(1)} (${id}), taken`);
    }
    // A taken seat does not toggle (it is aria-disabled, so Playwright needs force to click it).
    await seat(page, 'F8').click({ force: true });
    assert.equal(await seat(page, 'F8').getAttribute('aria-pressed'), 'false');
    await page.close();

    // The second visitor's page saw the map a moment before the booking: F8 still free there.
    // Its live stream is cut (so it polls the seat map), and the seat map it polls is stale
    // until the visitor's first POST (holding a seat); after that the real state comes through.
    otherPage = await other.newPage();
    const seatsPath = `/api/showtimes/${encodeURIComponent(showtime.id)}/seats`;
    let posted = false;
    otherPage.on('request', (req) => { if (req.method() === 'POST') posted = true; });
    await otherPage.route('**/events', (route) => route.abort('connectionrefused'));
    const stale = async (route) => {
      if (posted) return route.fallback();
      const res = await route.fetch();
      const body = await res.json();
      body.taken = body.taken.filter((id) => !['F7', 'F8', 'F9'].includes(id));
      await route.fulfill({ response: res, json: body });
    };
    await otherPage.route(`**${seatsPath}`, stale);
    await openPicker(otherPage);
    assert.equal(await seat(otherPage, 'F8').getAttribute('aria-disabled'), null, 'F8 looks free to the second visitor');
    // Choosing a seat holds it: the service refuses F8 at once, long before Book.
    await seat(otherPage, 'F8').click();
    const alert = otherPage.locator('.booking-bar .booking-alert');
    await alert.getByText('just booked by someone else').waitFor();
    assert.match(await alert.textContent(), /Sorry, F8 was just booked by someone else\. Choose another seat\./);
    assert.match(await seat(otherPage, 'F8').getAttribute('class'), /\bis-taken\b/);
    assert.equal(await seat(otherPage, 'F8').getAttribute('aria-pressed'), 'false', 'F8 unselected');
    await seat(otherPage, 'F11').click();
    await otherPage.waitForFunction(() => document.querySelector('.seat[data-seat="F11"]').getAttribute('aria-label').endsWith('selected'));
    assert.equal(await otherPage.locator('.booking-confirmation').count(), 0, 'no confirmation');
    await otherPage.unrouteAll({ behavior: 'wait' }); // let a poll in flight finish first

    // Nothing booked: the service holds the first booking's seats and no others.
    const seats = await client.seats(showtime.id);
    assert.equal(seats.status, 200);
    assert.deepEqual([...seats.json.taken].sort(), ['F7', 'F8', 'F9']);
    assert.equal(seats.json.showtime.seats_free, seats.json.showtime.seats_total - 3);
    const first = await client.booking(booking.reference, booking.token);
    assert.equal(first.json.status, 'active');
    assert.deepEqual(first.json.seats, ['F7', 'F8', 'F9']);

    // The second visitor lets F11 go again; the page stays open for the next scenario.
    await seat(otherPage, 'F11').click();
    assertNoScriptErrors(other);
  });

  test('4. cancel on the manage page; the seats are free again in the picker', STEP, async () => {
    const page = await visitor.newPage();
    await page.goto(booking.manageUrl);
    const card = page.locator('.booking-card');
    await card.waitFor();
    assert.match(await card.textContent(), new RegExp(booking.reference));
    assert.match(await card.textContent(), /F7, F8 and F9/);
    assert.ok((await card.textContent()).includes(showtime.title));

    await page.getByRole('button', { name: 'Cancel this booking' }).click();
    await page.getByRole('button', { name: 'Yes, cancel it' }).click();
    await page.locator('.booking-status').getByText('free again').waitFor();
    assert.match(await page.locator('.booking-status').textContent(), /Seats F7, F8 and F9 are free again/);
    assert.match(await page.locator('.booking-card__state').textContent(), /Cancelled/);

    // The second visitor's open picker catches up by itself (its stream, or polling while the
    // stream reconnects), within a few seconds.
    for (const id of ['F7', 'F8', 'F9']) {
      await otherPage.waitForFunction(
        (sel) => document.querySelector(sel).getAttribute('aria-label').endsWith('available'),
        `.seat[data-seat="${id}"]`,
        { timeout: 8_000 },
      );
    }
    // And a fresh page shows them free.
    await openPicker(page);
    for (const id of ['F7', 'F8', 'F9']) {
      assert.equal(await seat(page, id).getAttribute('aria-disabled'), null);
      assert.equal(await seat(page, id).getAttribute('aria-label'), `Row F, seat ${id.slice(1)} (${id}), available`);
    }

    // A wrong token reads as an unknown booking.
    await page.goto(`/booking/?ref=${booking.reference}&token=wrong`);
    await page.locator('.booking-alert').getByText('We found no booking').waitFor();
    await page.close();
    await otherPage.close();
    assertNoScriptErrors(visitor);
    assertNoScriptErrors(other);
  });

  test('5. axe-core: no serious or critical violations', STEP, async () => {
    const page = await visitor.newPage();
    const pages = [
      ['index', '/'],
      ['film page', film],
      ['booking page', showtime.url],
      ['manage page', '/booking/'],
    ];
    // And the manage page showing a booking, made straight through the API.
    const made = await fetch(`${service.origin}/api/showtimes/${showtime.id}/bookings`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'Axe', seats: ['M1'] }),
    }).then((r) => r.json());
    pages.push(['manage page with a booking', `/booking/?ref=${made.reference}&token=${made.manage_token}`]);
    const found = [];
    for (const [name, path] of pages) {
      await page.goto(path);
      if (path.startsWith('/booking/?')) await page.locator('.booking-card').waitFor();
      if (path === showtime.url) {
        await page.locator('#seat-picker.is-live').waitFor();
        await seat(page, 'L1').click(); // a wheelchair space, selected: every state on screen
      }
      found.push(...(await axeSerious(page, name)));
    }
    assert.deepEqual(found, [], `axe violations:\n${found.join('\n')}`);
    await page.close();
  });

  test('6. screenshots at 390 px and 1440 px', STEP, async () => {
    const dir = ensureArtifacts();
    for (const width of SCREENSHOT_WIDTHS) {
      const context = await screenshotContext(browser, service.origin, width);
      const page = await context.newPage();
      const shots = [
        ['index', '/'],
        ['film', film],
        ['book', showtime.url],
      ];
      for (const [name, path] of shots) {
        await page.goto(path);
        if (name === 'book') {
          await page.locator('#seat-picker.is-live').waitFor();
          // Other seats at each width: the first width's seats stay held (10 minutes) after
          // its page closes, and show held to the second.
          for (const id of width < 600 ? ['E9', 'E10'] : ['G9', 'G10']) await seat(page, id).click();
          await page.locator('.booking-bar__timer').waitFor();
        }
        await settle(page);
        await page.screenshot({ path: join(dir, `${name}-${width}.png`), fullPage: true });
      }
      await context.close();
      assertNoScriptErrors(context);
    }
    console.log(`# screenshots in ${ARTIFACTS}`);
  });

  test('7. a reply lost on the way: Retry re-sends the same Idempotency-Key and books once', STEP, async () => {
    const page = await visitor.newPage();
    await openPicker(page);
    await seat(page, 'H4').click();
    await seat(page, 'H5').click();
    await page.getByLabel('Name').fill('Chen');
    const keys = [];
    await page.route('**/bookings', async (route) => {
      keys.push(route.request().headers()['idempotency-key']);
      if (keys.length === 1) {
        await route.fetch(); // the service books it...
        return route.abort('connectionreset'); // ...and the reply never arrives
      }
      return route.fallback();
    });
    await page.getByRole('button', { name: 'Book 2 seats' }).click();
    await page.locator('.booking-alert').getByText('could not reach the booking service').waitFor();
    // The stream (or a poll) tells of H4 and H5 taken (by us) while the outcome is unknown:
    // they stay chosen.
    await page.waitForTimeout(3_500);
    assert.equal(await seat(page, 'H4').getAttribute('aria-pressed'), 'true');
    await page.getByRole('button', { name: 'Retry' }).click();
    await page.locator('.booking-confirmation .booking-ref').waitFor();
    assert.equal(keys.length, 2);
    assert.ok(keys[0] && keys[0] === keys[1], `the same key both times: ${keys}`);
    const taken = (await client.seats(showtime.id)).json.taken.filter((id) => id.startsWith('H'));
    assert.deepEqual(taken.sort(), ['H4', 'H5'], 'booked once');
    const ref = await page.locator('.booking-confirmation .booking-ref').textContent();
    const token = new URL(await page.locator('a.manage-link').getAttribute('href'), service.origin).searchParams.get('token');
    assert.deepEqual((await client.booking(ref.trim(), token)).json.seats, ['H4', 'H5']);
    await page.close();
    assertNoScriptErrors(visitor);
  });

  test('8. a screening that has started: the picker says booking is closed', STEP, async () => {
    const page = await visitor.newPage();
    // The service answers 410 once a showtime starts; this one starts in days, so the reply
    // is stood in for, in the service's own error shape.
    const closed = (route) => route.fulfill({
      status: 410,
      json: { error: { code: 'showtime_closed', message: `showtime ${showtime.id} has started or is archived; it can no longer be booked or changed` } },
    });
    await page.route('**/events', closed);
    await page.route('**/seats', closed);
    await page.goto(showtime.url);
    await page.locator('.booking-alert').getByText('booking is closed').waitFor();
    assert.equal(await seat(page, 'A1').isDisabled(), true, 'the seats are off');
    assert.equal(await page.locator('.booking-form').isVisible(), false);
    assert.equal(await page.getByRole('button', { name: /^Book/ }).count(), 0, 'no Book button');
    await page.close();
    assertNoScriptErrors(visitor);
  });
});
