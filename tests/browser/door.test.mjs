// Issue 12 in a real browser: the door page, /door/, served by the service with an operator
// token. The page asks for the token (a wrong one is refused), lists the service's today with
// the showtime it suggests chosen, and checks tickets in by typed code: "Checked in" (green),
// the same code again "Already checked in at HH:MM" (amber), a cancelled booking, a ticket for
// another showtime and an unknown code refused (red); a token that stops working asks for it
// again; "Sign out" forgets it; where the browser has BarcodeDetector (stood in for here), a
// scanned ticket checks in. Booker-supplied text stays text; axe; phone width; no request leaves
// the service; screenshots `door-*.png`.
//
//   cd tests/browser && node --test door.test.mjs
//
// One service, serving the site and the API, its clock set a few minutes before the horizon's
// first showtime (the pages are built at the real time; the service's today is that
// showtime's day), with the operator token and without the booking rate limit, both through a
// `.env` in its working folder.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  ARTIFACTS, axeSerious, bookThroughApi, buildSite, ensureArtifacts, launchBrowser, missingChromium, newContext,
  recordRequests, SCREENSHOT_WIDTHS, startServiceWithEnv, tearDown,
} from './lib/harness.mjs';

const STEP = { timeout: 60_000 };
const TOKEN = 'door-browser-test-token-0123456';
/** Where the page keeps the token (door.js). */
const TOKEN_KEY = 'tiketa-door-token';

const missing = missingChromium();
if (missing && process.env.CI) {
  test('Chromium is installed', () => assert.fail(`${missing} CI must install it (.ci/run does).`));
} else if (missing) {
  console.log(`# door browser tests skipped: ${missing}`);
}

describe('The door page in Chromium', { skip: missing ? 'no Chromium: apt-get install -y chromium' : false }, () => {
  let site;
  let service;
  let browser;
  let door; // the door's browser context
  let page;
  let requests;
  let first; // the horizon's first showtime (schedule.json): the one the door lets in
  let other; // a showtime of another day
  const bookings = {};

  /** The door's API as the test calls it, with the token. */
  async function doorApi(path) {
    const res = await fetch(service.origin + path, { headers: { Authorization: `Bearer ${TOKEN}` } });
    assert.equal(res.status, 200, await res.clone().text());
    return res.json();
  }

  async function book(showtime, seats, name) {
    const { status, json } = await bookThroughApi(service.origin, showtime.id, seats, name);
    assert.equal(status, 201, JSON.stringify(json));
    return json;
  }

  before(async () => {
    site = buildSite();
    first = site.schedule.showtimes[0];
    other = site.schedule.showtimes.find((s) => s.starts_at.slice(0, 10) !== first.starts_at.slice(0, 10));
    assert.ok(first && other, 'the roll created showtimes on two days at least');
    const serviceNow = new Date(Date.parse(first.starts_at) - 5 * 60_000).toISOString();
    service = await startServiceWithEnv(site, { TIKETA_NOW: serviceNow, TIKETA_OPERATOR_TOKEN: TOKEN, TIKETA_POST_LIMIT: '0' });
    bookings.ana = await book(first, ['C3', 'C4'], 'Ana <b>Lima</b>');
    bookings.cancelled = await book(first, ['D5'], 'Citra Dewi');
    const cancel = await fetch(`${service.origin}/api/bookings/${bookings.cancelled.reference}`, {
      method: 'DELETE', headers: { 'X-Manage-Token': bookings.cancelled.manage_token },
    });
    assert.equal(cancel.status, 200);
    bookings.elsewhere = await book(other, ['E1'], 'Dian Sari');
    browser = await launchBrowser();
    door = await newContext(browser, service.origin);
    page = await door.newPage();
    requests = recordRequests(page);
  });

  after(() => tearDown({ browser, service, site }));

  function assertNoScriptErrors() {
    assert.deepEqual(door.problems, [], 'script errors in the page');
  }

  const result = () => page.locator('#result');
  const headline = async () => (await page.locator('#result .result__text').textContent()).trim();

  /** Types a code and presses Enter; waits for the answer to change. */
  async function typeCode(code) {
    const before = await page.locator('#result').evaluate((r) => r.textContent);
    await page.getByLabel('Check-in code').fill(code);
    await page.getByLabel('Check-in code').press('Enter');
    await page.waitForFunction((old) => document.querySelector('#result').textContent !== old && document.querySelector('#result').dataset.tone !== 'none', before);
  }

  test('1. the page is static, same-origin, camera-only-here, and asks for the token', STEP, async () => {
    const res = await fetch(`${service.origin}/door/`);
    assert.equal(res.status, 200);
    const html = await res.text();
    assert.ok(!html.includes(TOKEN), 'no token in the page');
    assert.match(res.headers.get('content-security-policy'), /default-src 'self'/);
    assert.match(res.headers.get('permissions-policy'), /camera=\(self\)/);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.match(res.headers.get('x-robots-tag'), /noindex/);
    assert.equal((await fetch(`${service.origin}/`)).headers.get('permissions-policy').includes('camera=()'), true, 'no camera elsewhere');
    const bare = await fetch(`${service.origin}/door`, { redirect: 'manual' });
    assert.equal(bare.headers.get('location'), '/door/');

    await page.goto('/door/');
    await page.getByLabel('Operator token').waitFor();
    assert.equal(await page.locator('#door').isVisible(), false, 'nothing of the door before the token');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'token', 'the token field has focus');
    for (const width of SCREENSHOT_WIDTHS) {
      await page.setViewportSize({ width, height: width < 600 ? 844 : 900 });
      await page.screenshot({ path: join(ensureArtifacts(), `door-sign-in-${width}.png`), fullPage: true });
    }
    assert.deepEqual(await axeSerious(page, 'sign in'), []);
  });

  test('2. a wrong token is refused and the page stays shut', STEP, async () => {
    await page.getByLabel('Operator token').fill('not-the-operator-token');
    await page.getByLabel('Operator token').press('Enter');
    await assert.doesNotReject(page.locator('#sign-in-error', { hasText: 'That token was refused' }).waitFor());
    assert.equal(await page.locator('#door').isVisible(), false);
    assert.equal(await page.evaluate((key) => sessionStorage.getItem(key), TOKEN_KEY), null, 'a refused token is not kept');
    assertNoScriptErrors();
  });

  test('3. with the token: the service\'s today, its suggested showtime chosen', STEP, async () => {
    await page.getByLabel('Operator token').fill(TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#door').waitFor();
    const day = await doorApi('/api/door/showtimes?limit=300'); // the whole day, as the page asks for it
    assert.ok(day.showtimes.some((s) => s.id === first.id), 'the first showtime is on the door\'s today');
    assert.equal(await page.locator('#showtime').inputValue(), day.suggested, 'the suggested showtime is chosen');
    assert.match(await page.locator('#day-label').textContent(), /^Today, /);
    const options = await page.locator('#showtime option').allTextContents();
    assert.equal(options.length, day.showtimes.length);
    assert.ok(options.some((o) => o.includes(first.title)), options.join(' | '));
    await page.locator('#showtime').selectOption(first.id);
    assert.match(await page.locator('#attendance').textContent(), /^0 of 2 booked seats in/);
    assert.equal(await page.evaluate((key) => sessionStorage.getItem(key), TOKEN_KEY), TOKEN, 'kept for this tab');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'code', 'ready to type a code');
  });

  test('4. a typed code checks in: big, green, with film, showtime, seats and name', STEP, async () => {
    await typeCode(bookings.ana.check_in_code.replaceAll('-', '').toLowerCase());
    assert.equal(await headline(), 'Checked in');
    assert.equal(await result().getAttribute('data-tone'), 'ok');
    assert.equal(await result().getAttribute('aria-live'), 'assertive');
    const details = await result().locator('dd').allTextContents();
    assert.ok(details.includes(first.title), details.join(' | '));
    assert.ok(details.includes('C3, C4'), details.join(' | '));
    assert.ok(details.includes('Ana <b>Lima</b>'), 'the name is shown as text');
    assert.equal(await result().locator('b').count(), 0, 'no markup from a booker');
    assert.equal(await page.getByLabel('Check-in code').inputValue(), '', 'cleared for the next ticket');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'code');
    await page.waitForFunction(() => /^2 of 2 booked seats in/.test(document.querySelector('#attendance').textContent));
    for (const width of SCREENSHOT_WIDTHS) {
      await page.setViewportSize({ width, height: width < 600 ? 844 : 900 });
      await page.screenshot({ path: join(ARTIFACTS, `door-checked-in-${width}.png`), fullPage: true });
    }
    assert.deepEqual(await axeSerious(page, 'checked in'), []);
  });

  test('5. the same code again: "Already checked in at HH:MM", the first time', STEP, async () => {
    const list = await doorApi(`/api/door/showtimes/${first.id}/bookings`);
    const line = list.bookings.find((b) => b.reference === bookings.ana.reference);
    assert.match(line.checked_in_at_local, /^\d\d:\d\d$/);
    await typeCode(bookings.ana.check_in_code);
    assert.equal(await headline(), `Already checked in at ${line.checked_in_at_local}`);
    assert.equal(await result().getAttribute('data-tone'), 'again');
    await page.screenshot({ path: join(ARTIFACTS, 'door-already-1440.png') });
  });

  test('6. refusals are red and say why: cancelled, another showtime, unknown, not a code', STEP, async () => {
    await typeCode(bookings.cancelled.check_in_code);
    assert.equal(await headline(), 'Cancelled booking');
    assert.equal(await result().getAttribute('data-tone'), 'bad');
    assert.match(await result().locator('.result__message').textContent(), new RegExp(bookings.cancelled.reference));
    await page.screenshot({ path: join(ARTIFACTS, 'door-refused-1440.png') });

    await typeCode(bookings.elsewhere.check_in_code);
    assert.match(await headline(), new RegExp(`^This ticket is for ${other.title} at \\d\\d:\\d\\d `));
    assert.equal(await result().getAttribute('data-tone'), 'bad');

    await typeCode('2222-3333-4444-5555');
    assert.equal(await headline(), 'No ticket with this code');
    assert.equal(await page.getByLabel('Check-in code').inputValue(), '2222-3333-4444-5555', 'kept to correct it');

    await typeCode('hello');
    assert.equal(await headline(), 'Not a check-in code');
    assert.deepEqual(await axeSerious(page, 'refused'), []);
    assertNoScriptErrors();
  });

  test('7. the door list shows who has come in', STEP, async () => {
    await page.locator('#door-list summary').click();
    const row = page.locator('#door-list-rows tr', { hasText: bookings.ana.reference });
    await row.waitFor();
    const cells = await row.locator('td').allTextContents();
    assert.equal(cells[0], 'Ana <b>Lima</b>');
    assert.match(cells[2], /^\d\d:\d\d$/);
    assert.equal(await page.locator('#door-list-rows tr', { hasText: bookings.cancelled.reference }).count(), 0, 'no cancelled booking');
  });

  test('8. at phone width nothing overflows and the answer is on screen', STEP, async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `the page is ${overflow}px wider than a phone`);
    const box = await page.locator('#result .result__text').boundingBox();
    assert.ok(box.height >= 28, `the answer is big: ${box.height}px`);
    await page.setViewportSize({ width: 1440, height: 900 });
  });

  test('9. a token that stops working asks for it again; Sign out forgets it', STEP, async () => {
    await page.evaluate((key) => sessionStorage.setItem(key, 'a-token-no-longer-valid'), TOKEN_KEY);
    await page.reload();
    await assert.doesNotReject(page.locator('#sign-in-error', { hasText: 'refused' }).waitFor());
    assert.equal(await page.locator('#door').isVisible(), false);

    await page.getByLabel('Operator token').fill(TOKEN);
    await page.getByLabel('Operator token').press('Enter');
    await page.locator('#door').waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Operator token').waitFor();
    assert.equal(await page.locator('#door').isVisible(), false);
    assert.equal(await page.evaluate((key) => sessionStorage.getItem(key), TOKEN_KEY), null);
    assertNoScriptErrors();
  });

  test('10. scanning, where the browser can: a Tiketa QR code checks in and the camera stops', STEP, async () => {
    // Chromium on Linux has no BarcodeDetector and headless has no camera: both stand-ins are
    // put in before the page's script, so the page's own scanning runs as on a phone. The
    // "camera" is a canvas's stream; the detector reads another QR code, then the ticket.
    const ticket = await book(first, ['J7'], 'Eka Putra');
    const scanner = await newContext(browser, service.origin);
    await scanner.addInitScript((payloads) => {
      window.scanned = payloads;
      window.BarcodeDetector = class {
        static async getSupportedFormats() { return ['qr_code', 'ean_13']; }
        constructor(options) { window.detectorFormats = options.formats; }
        async detect() {
          const next = window.scanned.shift();
          return next ? [{ format: 'qr_code', rawValue: next }] : [];
        }
      };
      // about:blank, the tab's first document, has no mediaDevices: only the door page needs it.
      if (!navigator.mediaDevices) return;
      navigator.mediaDevices.getUserMedia = async (constraints) => {
        window.cameraAsked = constraints;
        const canvas = document.createElement('canvas');
        canvas.getContext('2d').fillRect(0, 0, 10, 10);
        window.cameraStream = canvas.captureStream(5);
        return window.cameraStream;
      };
    }, [null, 'https://example.com/not-a-ticket', `TIKETA:${ticket.reference}:${ticket.check_in_code}`]);
    const tab = await scanner.newPage();
    await tab.goto('/door/');
    await tab.getByLabel('Operator token').fill(TOKEN);
    await tab.getByLabel('Operator token').press('Enter');
    await tab.locator('#door').waitFor();
    await tab.locator('#showtime').selectOption(first.id);
    await tab.getByRole('button', { name: 'Scan ticket' }).click();
    await tab.locator('#result[data-tone="ok"]').waitFor();
    assert.equal((await tab.locator('#result .result__text').textContent()).trim(), 'Checked in');
    assert.ok((await tab.locator('#result dd').allTextContents()).includes('Eka Putra'));
    assert.deepEqual(await tab.evaluate(() => window.detectorFormats), ['qr_code']);
    assert.equal(await tab.evaluate(() => window.cameraAsked.video.facingMode.ideal), 'environment');
    assert.deepEqual(await tab.evaluate(() => window.cameraStream.getTracks().map((t) => t.readyState)), ['ended'], 'the camera is off');
    assert.equal(await tab.locator('#camera').isVisible(), false);
    const again = tab.getByRole('button', { name: 'Scan next ticket' });
    assert.equal(await tab.evaluate(() => document.activeElement.textContent), 'Scan next ticket', 'ready for the next');
    assert.ok(await again.isVisible());
    assert.deepEqual(scanner.problems, []);
    await scanner.close();
  });

  test('11. every request stayed on the service, and the token travelled in no URL', STEP, async () => {
    assert.ok(requests.length > 0);
    for (const r of requests) {
      assert.equal(new URL(r.url).origin, service.origin, r.url);
      assert.ok(!r.url.includes(TOKEN), r.url);
    }
  });
});
