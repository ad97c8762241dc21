// Issue 11 in a real browser: a booking its owner cannot lose. The ticket (QR code, check-in
// code, calendar link) on the confirmation and the manage page; "My tickets" on this device
// (a booking made here is listed on /booking/ after its tab is closed, opens, can be
// forgotten, says when it is cancelled or past, and its token shows in no text and travels in
// no URL but its manage link); the manage page printed as one page; "Lost your link?"; axe;
// screenshots.
//
//   cd tests/browser && node --test tickets.test.mjs

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import jsQR from 'jsqr';
import { PNG } from 'pngjs';

import {
  axeSerious,
  ARTIFACTS, api, buildSite, ensureArtifacts, launchBrowser, missingChromium, newContext, screenshotContext, SCREENSHOT_WIDTHS,
  recordRequests, startService,
} from './lib/harness.mjs';

const STEP = { timeout: 60_000 };
/** Where the pages keep "my tickets" (booking-ui.js). */
const TICKETS_KEY = 'tiketa-my-tickets-v1';

const missing = missingChromium();
if (missing && process.env.CI) {
  test('Chromium is installed', () => assert.fail(`${missing} CI must install it (.ci/run does).`));
} else if (missing) {
  console.log(`# tickets browser tests skipped: ${missing}`);
}

describe('Tickets in Chromium: the ticket, my tickets, print, lost link', { skip: missing ? 'no Chromium: apt-get install -y chromium' : false }, () => {
  let site;
  let service;
  let browser;
  let visitor; // one visitor's browser: its tabs share localStorage
  let client;
  let showtime; // days ahead: it cannot start while the test runs
  const first = {}; // the booking made through the picker: reference, token, manageUrl, json

  before(async () => {
    site = buildSite();
    // One client (loopback) books many times here; the booking rate limit is the service's test.
    service = await startService(site, 3, { args: ['--post-limit', '0'] });
    client = api(service.origin);
    showtime = site.schedule.showtimes.at(-1);
    assert.ok(showtime, 'the roll created showtimes');
    browser = await launchBrowser();
    visitor = await newContext(browser, service.origin);
  });

  after(async () => {
    await browser?.close();
    await service?.stop();
    site?.remove();
  });

  function assertNoScriptErrors(context) {
    assert.deepEqual(context.problems, [], 'script errors in the pages');
  }

  const seat = (page, id) => page.locator(`.seat[data-seat="${id}"]`);
  const listed = (page, reference) => page.locator(`.my-ticket[data-reference="${reference}"]`);

  /** Books through the API, with an email: the booking's JSON (with its manage token). */
  async function book(seats, name = 'API booker') {
    const res = await fetch(`${service.origin}/api/showtimes/${encodeURIComponent(showtime.id)}/bookings`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ name, email: 'booker@example.com', seats }),
    });
    assert.equal(res.status, 201, await res.clone().text());
    return res.json();
  }

  /** The href of every link on the page that holds `text`. */
  const linksWith = (page, text) => page.locator('a[href]').evaluateAll(
    (links, t) => links.map((a) => a.getAttribute('href')).filter((h) => h.includes(t)),
    text,
  );

  const manageUrl = (json) => `/booking/?ref=${encodeURIComponent(json.reference)}&token=${encodeURIComponent(json.manage_token)}`;

  /** "7Q4M 2XHD K9PA RT3W" for "7Q4M-2XHD-K9PA-RT3W". */
  const grouped = (code) => code.replace(/[^0-9A-Z]/gi, '').toUpperCase().match(/.{1,4}/g).join(' ');

  /** The ticket on screen is the booking's own: its check-in code, its QR code and its
   * calendar link (the API base is the page's origin here). */
  async function assertTicket(scope, json) {
    assert.match(json.check_in_code, /^[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$/, 'the service sends the check-in code');
    assert.ok(json.ticket_svg && json.calendar_url, 'the service sends the QR code and the calendar URL');
    assert.equal((await scope.locator('.ticket__code-value').textContent()).trim(), grouped(json.check_in_code));
    assert.equal(await scope.locator('.ticket__qr svg[role="img"]').count(), 1, 'the QR code');
    assert.equal(await scope.locator('a.ticket-calendar').getAttribute('href'), json.calendar_url);
  }

  test('1. book with an email, close the tab: /booking/ in a new tab lists the booking, and it opens', STEP, async () => {
    const page = await visitor.newPage();
    await page.goto(showtime.url);
    await page.locator('#seat-picker.is-live').waitFor();
    await seat(page, 'D5').click();
    await seat(page, 'D6').click();
    await page.getByLabel('Name').fill('Ana Lima');
    await page.getByLabel(/^Email/).fill('ana@example.com');
    await page.getByRole('button', { name: 'Book 2 seats' }).click();
    const confirmation = page.locator('.booking-confirmation');
    await confirmation.locator('.booking-ref').waitFor();
    first.reference = (await confirmation.locator('.booking-ref').textContent()).trim();
    const manage = new URL(await confirmation.locator('a.manage-link').getAttribute('href'), service.origin);
    first.token = manage.searchParams.get('token');
    first.manageUrl = manage.pathname + manage.search;
    assert.equal(manage.pathname, '/booking/');
    first.json = (await client.booking(first.reference, first.token)).json;
    assert.equal(first.json.email, 'ana@example.com');
    await assertTicket(confirmation, first.json);
    assert.match(await confirmation.textContent(), /This browser remembers this booking under My tickets/);
    await page.close();

    const tab = await visitor.newPage();
    const requests = recordRequests(tab);
    await tab.goto('/booking/');
    const item = listed(tab, first.reference);
    await item.waitFor();
    const text = await item.textContent();
    assert.ok(text.includes(showtime.title), `the film is named: ${text}`);
    assert.match(text, /Seats D5 and D6/);
    assert.match(text, new RegExp(first.reference));
    // Its state comes back from the service (a GET with the token in its header).
    await tab.waitForFunction((ref) => document.querySelector(`.my-ticket[data-reference="${ref}"]`).dataset.state === 'active', first.reference);
    assert.equal((await item.locator('.my-ticket__state').textContent()).trim(), 'Confirmed');
    assert.equal(await tab.locator('h2', { hasText: 'Lost your link?' }).count(), 1, 'the recovery form is on the page');

    // The token: in the manage link's href and in storage, never in text or another URL.
    assert.ok(!(await tab.locator('body').innerText()).includes(first.token), 'no token in the visible text');
    assert.equal(await item.locator('a.my-ticket__open').getAttribute('href'), first.manageUrl);
    assert.deepEqual(await linksWith(tab, first.token), [first.manageUrl], 'only the manage link carries the token');
    await item.locator('a.my-ticket__open').click();
    await tab.waitForURL((url) => url.pathname + url.search === first.manageUrl);
    const card = tab.locator('.booking-card');
    await card.waitFor();
    assert.match(await card.textContent(), new RegExp(first.reference));
    assert.match(await card.textContent(), /D5 and D6/);
    await assertTicket(card, first.json);
    // The ticket's one link with the token is the service's calendar_url (the contract's).
    assert.deepEqual(await linksWith(tab, first.token), [first.json.calendar_url]);
    // "Add to calendar" downloads the booking's .ics from the service.
    const [download] = await Promise.all([tab.waitForEvent('download'), card.locator('a.ticket-calendar').click()]);
    assert.equal(download.suggestedFilename(), `${first.reference}.ics`);
    const ics = await new Promise((ok, fail) => download.createReadStream().then((stream) => {
      let text = '';
      stream.on('data', (d) => { text += d; });
      stream.on('end', () => ok(text));
      stream.on('error', fail);
    }, fail));
    assert.match(ics, /^BEGIN:VCALENDAR/);
    assert.ok(ics.includes(first.reference), 'the event names the booking');
    const leaks = requests.filter((r) => r.url.includes(first.token) && r.path !== first.manageUrl);
    assert.deepEqual(leaks.map((r) => `${r.method} ${r.path}`), [], 'the token travels in no other URL');
    const gets = requests.filter((r) => r.path.startsWith(`/api/bookings/${first.reference}`));
    assert.ok(gets.length >= 2, `the list and the ticket asked the service: ${gets.map((r) => r.path)}`);
    await tab.close();
    assertNoScriptErrors(visitor);
  });

  test('2. a manage link opened here is remembered; Forget and Forget all remove bookings, and only from this device', STEP, async () => {
    const second = await book(['E5']);
    const page = await visitor.newPage();
    await page.goto(manageUrl(second));
    await page.locator('.booking-card').waitFor();
    await page.getByRole('link', { name: 'All my tickets on this device' }).click();
    await listed(page, second.reference).waitFor();
    const order = await page.locator('.my-ticket').evaluateAll((items) => items.map((li) => li.dataset.reference));
    assert.deepEqual(order, [second.reference, first.reference], 'newest first');

    await page.getByRole('button', { name: `Forget booking ${second.reference}` }).click();
    assert.equal(await listed(page, second.reference).count(), 0);
    assert.match(await page.locator('.my-tickets .booking-status').textContent(), new RegExp(`Forgot booking ${second.reference}`));
    // Focus goes to the booking that took its place, not to the top of the page.
    assert.equal(await page.evaluate(() => document.activeElement.closest('.my-ticket')?.dataset.reference), first.reference);
    await page.reload();
    await listed(page, first.reference).waitFor();
    assert.equal(await listed(page, second.reference).count(), 0, 'still forgotten after a reload');
    assert.equal((await client.booking(second.reference, second.manage_token)).json.status, 'active', 'forgetting does not cancel');

    await page.getByRole('button', { name: 'Forget all' }).click();
    await page.getByRole('button', { name: 'Keep them' }).click();
    assert.equal(await page.locator('.my-ticket').count(), 1, '"Keep them" keeps them');
    await page.getByRole('button', { name: 'Forget all' }).click();
    await page.getByRole('button', { name: 'Yes, forget all' }).click();
    assert.equal(await page.locator('.my-ticket').count(), 0);
    assert.equal(await page.evaluate(() => document.activeElement.id), 'my-tickets-title');
    await page.reload();
    await page.locator('.my-tickets__empty').waitFor();
    assert.equal(await page.evaluate((key) => localStorage.getItem(key), TICKETS_KEY), null, 'nothing left in storage');

    // Opening the first booking's link again brings it back.
    await page.goto(first.manageUrl);
    await page.locator('.booking-card').waitFor();
    await page.goto('/booking/');
    await listed(page, first.reference).waitFor();
    await page.close();
    assertNoScriptErrors(visitor);
  });

  test('3. a booking cancelled elsewhere says so in the list; a past one says so too', STEP, async () => {
    const third = await book(['E7']);
    const page = await visitor.newPage();
    await page.goto(manageUrl(third));
    await page.locator('.booking-card').waitFor();
    // Cancelled from another device, straight through the API.
    const cancelled = await fetch(`${service.origin}/api/bookings/${third.reference}`, {
      method: 'DELETE',
      headers: { Accept: 'application/json', 'X-Manage-Token': third.manage_token },
    });
    assert.equal(cancelled.status, 200);
    await page.goto('/booking/');
    const item = listed(page, third.reference);
    await page.waitForFunction((ref) => document.querySelector(`.my-ticket[data-reference="${ref}"]`)?.dataset.state === 'cancelled', third.reference);
    assert.equal((await item.locator('.my-ticket__state').textContent()).trim(), 'Cancelled');
    // It opens as cancelled, with no ticket to scan and nothing to print.
    await item.locator('a.my-ticket__open').click();
    await page.locator('.booking-card.is-cancelled').waitFor();
    assert.equal(await page.locator('.booking-card .ticket').count(), 0);
    assert.equal(await page.locator('.ticket-print').count(), 0);
    await page.close();

    // The same bookings an hour after the showtime started, in a browser whose clock says so
    // (a clock is per context): opened from their links, then listed.
    const laterContext = await newContext(browser, service.origin);
    await laterContext.clock.setFixedTime(new Date(Date.parse(showtime.starts_at) + 3_600_000));
    const later = await laterContext.newPage();
    await later.goto(manageUrl(third));
    await later.locator('.booking-card.is-cancelled').waitFor();
    await later.goto(first.manageUrl);
    await later.locator('.booking-card').waitFor();
    assert.equal((await later.locator('.booking-card__state').textContent()).trim(), 'Past');
    assert.match(await later.locator('.booking-card__note').textContent(), /has started/);
    await later.goto('/booking/');
    await listed(later, first.reference).waitFor();
    assert.equal(await listed(later, first.reference).getAttribute('data-state'), 'past');
    assert.equal((await listed(later, first.reference).locator('.my-ticket__state').textContent()).trim(), 'Past');
    assert.equal(await listed(later, third.reference).getAttribute('data-state'), 'cancelled', 'cancelled wins over past');
    await laterContext.close();
    assertNoScriptErrors(laterContext);
    assertNoScriptErrors(visitor);
  });

  test('4. storage that holds junk or refuses to store: the pages still work and say so', STEP, async () => {
    const context = await newContext(browser, service.origin);
    const page = await context.newPage();
    await page.goto('/booking/');
    const survivor = { reference: first.reference, token: first.token, film: 'Kept', seats: ['D5'], saved_at: '2020-01-01T00:00:00Z' };
    await page.evaluate(([key, entry]) => localStorage.setItem(key, JSON.stringify([null, 7, 'x', { reference: '<b>', token: 't' }, { reference: 'TK-1' }, entry])), [TICKETS_KEY, survivor]);
    await page.reload();
    await listed(page, first.reference).waitFor();
    assert.equal(await page.locator('.my-ticket').count(), 1, 'only the well-formed entry is listed');
    await page.evaluate((key) => localStorage.setItem(key, '{not json'), TICKETS_KEY);
    await page.reload();
    await page.locator('.my-tickets__empty').waitFor();
    await page.close();

    // A browser whose storage is full: the booking is made and the visitor told to keep the link.
    const full = await context.newPage();
    await full.addInitScript(() => {
      Storage.prototype.setItem = function () { throw new DOMException('full', 'QuotaExceededError'); };
    });
    await full.goto(showtime.url);
    await full.locator('#seat-picker.is-live').waitFor();
    await seat(full, 'E9').click();
    await full.getByLabel('Name').fill('Full storage');
    await full.getByRole('button', { name: 'Book 1 seat' }).click();
    await full.locator('.booking-confirmation .booking-ref').waitFor();
    assert.match(await full.locator('.booking-confirmation__keep').textContent(), /only way to see or cancel this booking \(this browser could not remember it\)/);
    await context.close();
    assertNoScriptErrors(context);
  });

  test('5. the ticket page prints on one page, black on white, with no header, footer, forms or buttons', STEP, async () => {
    const page = await visitor.newPage();
    await page.goto(first.manageUrl);
    await page.locator('.booking-card').waitFor();
    // "Print ticket" asks the browser to print.
    await page.evaluate(() => { window.printed = 0; window.print = () => { window.printed += 1; }; });
    await page.getByRole('button', { name: 'Print ticket' }).click();
    assert.equal(await page.evaluate(() => window.printed), 1);

    await page.emulateMedia({ media: 'print' });
    for (const hidden of ['.site-header', '.site-footer', '.page-hero', '.ticket-print', '.booking-cancel', '.manage-booking__mine']) {
      assert.equal(await page.locator(hidden).first().isVisible(), false, `${hidden} is not printed`);
    }
    assert.equal(await page.locator('.booking-card').isVisible(), true);
    const colours = await page.evaluate(() => {
      const style = (sel) => getComputedStyle(document.querySelector(sel));
      return { body: style('body').backgroundColor, text: style('.booking-card__title').color };
    });
    assert.deepEqual(colours, { body: 'rgb(255, 255, 255)', text: 'rgb(0, 0, 0)' });
    // 5 cm wide on paper (its quiet zone included): about 189 CSS px.
    const box = await page.locator('.ticket__qr').boundingBox();
    assert.ok(box.width >= 180, `the printed QR code is ${box.width} px wide`);
    assert.equal(await page.locator('.ticket__code-value').isVisible(), true, 'the check-in code is printed');
    const dir = ensureArtifacts();
    await page.screenshot({ path: join(dir, 'ticket-print.png'), fullPage: true });
    for (const format of ['A4', 'Letter']) {
      const pdf = (await page.pdf({ format, printBackground: true })).toString('latin1');
      const pages = (pdf.match(/\/Type\s*\/Page\b(?!s)/g) || []).length;
      assert.equal(pages, 1, `the ticket prints on ${pages} ${format} pages`);
    }
    await page.close();
    assertNoScriptErrors(visitor);
  });

  test('5b. a booking from a service without the ticket fields shows no ticket box and no calendar link', STEP, async () => {
    const page = await visitor.newPage();
    // An older booking service: the real reply, less the three fields.
    await page.route('**/api/bookings/*', async (route) => {
      const res = await route.fetch();
      const json = await res.json();
      delete json.check_in_code;
      delete json.ticket_svg;
      delete json.calendar_url;
      await route.fulfill({ response: res, json });
    });
    await page.goto(first.manageUrl);
    const card = page.locator('.booking-card');
    await card.waitFor();
    assert.match(await card.textContent(), /D5 and D6/);
    assert.equal(await card.locator('.ticket, .ticket-pass').count(), 0, 'no empty ticket box');
    assert.equal(await card.locator('a.ticket-calendar').count(), 0, 'no calendar link to nowhere');
    assert.equal(await page.getByRole('button', { name: 'Print ticket' }).count(), 1);
    await page.close();
    assertNoScriptErrors(visitor);
  });

  test('6. the QR code on the ticket decodes to TIKETA:<reference>:<check-in code>', STEP, async () => {
    const context = await newContext(browser, service.origin, { deviceScaleFactor: 2 });
    const page = await context.newPage();
    await page.goto(first.manageUrl);
    const qr = page.locator('.ticket__qr');
    await qr.waitFor();
    const { width } = await qr.boundingBox();
    assert.ok(width >= 160, `the QR code is ${width} px wide on screen: big enough to scan off a phone`);
    const png = PNG.sync.read(await qr.screenshot());
    const found = jsQR(new Uint8ClampedArray(png.data), png.width, png.height);
    assert.ok(found, 'a QR code is found in the screenshot');
    assert.equal(found.data, `TIKETA:${first.reference}:${first.json.check_in_code}`);
    await context.close();
  });

  test('7. "Lost your link?": a malformed address is a field error, a valid one gets the service\'s words, too many are refused', STEP, async () => {
    const page = await visitor.newPage();
    await page.goto('/booking/');
    const form = page.locator('form.recover-form');
    const email = form.getByLabel('Email');
    const send = form.getByRole('button', { name: 'Send my links' });

    await send.click();
    assert.equal(await email.getAttribute('aria-invalid'), 'true', 'empty: a field error');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'recover-email');
    assert.match(await form.locator('#recover-email-error').textContent(), /Enter the email address/);

    await email.fill('not an address');
    await send.click();
    await page.waitForFunction(() => document.querySelector('#recover-email').getAttribute('aria-invalid') === 'true');
    assert.equal(await email.getAttribute('aria-describedby'), 'recover-email-error');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'recover-email');

    /** Sends the form; answers the service's reply once the page has shown it. */
    async function submit() {
      const answered = page.waitForResponse((res) => res.url().endsWith('/api/bookings/recover'));
      await send.click();
      const reply = await answered;
      await page.waitForFunction(() => !document.querySelector('form.recover-form').hasAttribute('aria-busy'));
      return reply;
    }
    await email.fill('ana@example.com');
    const reply = await submit();
    assert.equal(reply.status(), 202, `the service answered ${reply.status()}: ${await reply.text()}`);
    assert.equal(await email.getAttribute('aria-invalid'), null, 'the field error is gone');
    const body = await reply.json();
    assert.equal((await form.locator('.recover-status').textContent()).trim(), body.message, 'the service\'s message, as given');

    // The service limits requests per address: sooner or later it says no, and so do we.
    let last = reply;
    for (let i = 0; i < 30 && last.status() !== 429; i += 1) last = await submit();
    assert.equal(last.status(), 429, 'rate limited within 30 requests');
    await form.locator('.recover-alert').getByText('Too many requests, try again later').waitFor();
    await page.close();
    assertNoScriptErrors(visitor);
  });

  test('8. axe: the list, the recovery form with a field error, and the ticket have no serious violations', STEP, async () => {
    const page = await visitor.newPage();
    const found = [];
    await page.goto('/booking/');
    await listed(page, first.reference).waitFor();
    await page.locator('form.recover-form').getByRole('button', { name: 'Send my links' }).click();
    await page.locator('#recover-email[aria-invalid="true"]').waitFor();
    found.push(...(await axeSerious(page, 'my tickets and the recovery form')));
    await page.getByRole('button', { name: 'Forget all' }).click();
    found.push(...(await axeSerious(page, 'forget all, asking')));
    await page.goto(first.manageUrl);
    await page.locator('.booking-card').waitFor();
    found.push(...(await axeSerious(page, 'the ticket')));
    assert.deepEqual(found, [], `axe violations:\n${found.join('\n')}`);
    await page.close();
  });

  test('9. screenshots at 390 px and 1440 px: the confirmation, the list and the ticket', STEP, async () => {
    const dir = ensureArtifacts();
    for (const width of SCREENSHOT_WIDTHS) {
      const context = await screenshotContext(browser, service.origin, width);
      const page = await context.newPage();
      await page.goto(showtime.url);
      await page.locator('#seat-picker.is-live').waitFor();
      for (const id of width < 600 ? ['J5', 'J6'] : ['M5', 'M6']) await seat(page, id).click();
      await page.getByLabel('Name').fill('Screen Shot');
      await page.getByRole('button', { name: 'Book 2 seats' }).click();
      const confirmation = page.locator('.booking-confirmation');
      await confirmation.waitFor();
      await page.evaluate(() => window.scrollTo(0, 0)); // the sticky header at the top, where it belongs
      await page.screenshot({ path: join(dir, `ticket-confirmation-${width}.png`), fullPage: true });
      const manage = await confirmation.locator('a.manage-link').getAttribute('href');
      // A second booking in the list, cancelled.
      const other = await book([width < 600 ? 'J8' : 'M8'], 'Other');
      await page.goto(manageUrl(other));
      await page.locator('.booking-card').waitFor();
      await fetch(`${service.origin}/api/bookings/${other.reference}`, { method: 'DELETE', headers: { 'X-Manage-Token': other.manage_token } });
      await page.goto('/booking/');
      await page.waitForFunction(() => document.querySelector('.my-ticket[data-state="cancelled"]'));
      await page.screenshot({ path: join(dir, `tickets-list-${width}.png`), fullPage: true });
      await page.goto(manage);
      await page.locator('.booking-card').waitFor();
      const qr = await page.locator('.ticket__qr').boundingBox();
      assert.ok(qr.width >= 160, `the QR code is ${qr.width} px wide at ${width} px`);
      await page.screenshot({ path: join(dir, `ticket-${width}.png`), fullPage: true });
      await context.close();
      assertNoScriptErrors(context);
    }
    console.log(`# screenshots in ${ARTIFACTS}`);
  });
});
