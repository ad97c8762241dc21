// The booking page without JavaScript (issue 13): the page is small (the room drawn compactly,
// seat-grid.html) and still shows the room: every seat in its row, the centre aisle, the walkway,
// the wheelchair spaces, the screen and the row letters. With JavaScript the same page becomes
// the seat picker (the other test files); here only the picture is checked, plus the handover:
// with JavaScript no compact cell is left.
//
//   cd tests/browser && npm ci && node --test room.test.mjs

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  axeSerious, buildSite, ensureArtifacts, launchBrowser, missingChromium, newContext, startService, tearDown,
} from './lib/harness.mjs';

const STEP = { timeout: 60_000 };
/** The limit for a booking page before compression. */
const PAGE_LIMIT = 12 * 1024;

const missing = missingChromium();
if (missing && process.env.CI) {
  test('Chromium is installed', () => assert.fail(`${missing} CI must install it (.ci/run does).`));
} else if (missing) {
  console.log(`# browser tests skipped: ${missing}`);
}

describe('The booking page without JavaScript', { skip: missing ? 'no Chromium: apt-get install -y chromium' : false }, () => {
  let site;
  let service;
  let browser;
  let url; // a booking page

  before(async () => {
    site = buildSite();
    service = await startService(site);
    const showtime = site.schedule.showtimes.at(-1);
    assert.ok(showtime, 'the roll created showtimes');
    url = `/book/${showtime.id}/`;
    browser = await launchBrowser();
  });

  after(() => tearDown({ browser, service, site }));

  /** Where each compact cell of the room is drawn, by row letter (from the row's `data-row`,
   * which the style sheet writes at both ends of the row). */
  function layout(page) {
    return page.$$eval('.seat-grid > .seat-row', (rows) => rows.map((row) => {
      const box = (el) => { const r = el.getBoundingClientRect(); return { x: r.x, y: r.y, w: r.width, h: r.height }; };
      const style = (el) => getComputedStyle(el);
      return {
        walkway: row.classList.contains('seat-row--walkway'),
        label: row.getAttribute('data-row'),
        letters: [getComputedStyle(row, '::before').content, getComputedStyle(row, '::after').content],
        box: box(row),
        cells: Array.from(row.children).map((cell) => ({
          kind: cell.localName === 'i' ? (cell.classList.contains('w') ? 'wheelchair' : 'seat') : cell.localName,
          text: cell.textContent,
          box: box(cell),
          visible: style(cell).visibility === 'visible' && style(cell).display !== 'none',
          icon: cell.querySelector('svg') ? box(cell.querySelector('svg')) : null,
        })),
      };
    }));
  }

  test('the page is at most 12 KB and draws the room: rows, aisle, walkway, wheelchair spaces, screen', STEP, async () => {
    const context = await newContext(browser, service.origin, { javaScriptEnabled: false });
    try {
      const page = await context.newPage();
      const res = await page.goto(url);
      assert.equal(res.status(), 200);
      const body = await res.body();
      assert.ok(body.length <= PAGE_LIMIT, `${url} is ${body.length} bytes, over ${PAGE_LIMIT}`);

      // The script did not run: the room is the picture, with no seat buttons.
      assert.equal(await page.locator('.seat').count(), 0, 'no script, no buttons');
      const grid = page.locator('.seat-grid');
      await assert.doesNotReject(grid.waitFor({ state: 'visible' }));
      assert.equal(await grid.getAttribute('role'), 'img');
      assert.match(
        await grid.getAttribute('aria-label'),
        /^Seat map, screen at the front: rows A to M, a walkway between rows J and L; wheelchair spaces L1, L2, L17, L18\.$/,
      );
      await assert.doesNotReject(page.locator('.screen').waitFor({ state: 'visible' }));
      await assert.doesNotReject(page.getByText('Booking needs JavaScript').waitFor({ state: 'visible' }));

      const rows = await layout(page);
      const seated = rows.filter((r) => !r.walkway);
      // The screen right in front of row A (nothing between them, as with the picker).
      const screen = await page.locator('.screen').boundingBox();
      const gap = seated[0].box.y - (screen.y + screen.height);
      assert.ok(gap >= 0 && gap < 2 * seated[0].box.h, `row A is ${gap}px behind the screen`);
      assert.deepEqual(seated.map((r) => r.label), 'ABCDEFGHIJLM'.split(''));
      const cells = seated.flatMap((r) => r.cells);
      assert.equal(cells.filter((c) => c.kind !== 'b').length, 216, 'every place is drawn');
      for (const c of cells) {
        assert.ok(c.visible && c.box.w >= 24 && c.box.h >= 24, `a cell is drawn at least 24x24: ${JSON.stringify(c)}`);
      }
      // Rows front to back, each on one line, its letter written at both ends.
      for (let i = 0; i < seated.length; i += 1) {
        const row = seated[i];
        assert.deepEqual(row.letters, [`"${row.label}"`, `"${row.label}"`], `row ${row.label}'s letters`);
        assert.ok(row.cells.every((c) => Math.abs(c.box.y - row.cells[0].box.y) < 1), `row ${row.label} is one line`);
        if (i > 0) assert.ok(row.box.y > seated[i - 1].box.y, `row ${row.label} is behind row ${seated[i - 1].label}`);
      }
      // Row A: seats 1-9, the centre aisle (wider than the space between two seats), 10-18.
      const a = seated[0].cells;
      assert.deepEqual(a.map((c) => (c.kind === 'seat' ? c.text : '|')).join(' '), '1 2 3 4 5 6 7 8 9 | 10 11 12 13 14 15 16 17 18');
      assert.ok(a[10].box.x - a[8].box.x > 1.5 * (a[8].box.x - a[7].box.x), 'the aisle is a gap in the row');
      // The walkway between J and L, across the room.
      const walkway = rows.find((r) => r.walkway);
      assert.ok(walkway.box.h > 0 && walkway.box.w > 0, 'the walkway is drawn');
      assert.ok(walkway.box.y > seated[9].box.y && walkway.box.y < seated[10].box.y, 'between rows J and L');
      // Wheelchair spaces: L1, L2, L17, L18, each showing the wheelchair (the shared <symbol>).
      const wheelchairs = seated.flatMap((r) => r.cells.filter((c) => c.kind === 'wheelchair').map(() => r.label));
      assert.deepEqual(wheelchairs, ['L', 'L', 'L', 'L']);
      for (const c of cells.filter((x) => x.kind === 'wheelchair')) {
        assert.ok(c.icon && c.icon.w > 10 && c.icon.h > 10, `the wheelchair is drawn: ${JSON.stringify(c)}`);
      }
      const wheelchairDrawn = await page.$eval('.seat-row > i.w use', (use) => use.getBBox().width > 0);
      assert.ok(wheelchairDrawn, 'the <use> finds its <symbol>');

      assert.deepEqual(context.problems, []);
    } finally {
      await context.close();
    }
  });

  test('axe finds nothing serious in the room as drawn for a page without the picker', STEP, async () => {
    // axe needs JavaScript, so here the page has it but not the picker's scripts: the room is
    // the same picture a visitor without JavaScript gets.
    const context = await newContext(browser, service.origin);
    try {
      await context.route(/\/assets\/(seat-picker|booking-ui)\.[0-9a-f]+\.js$/, (route) => route.abort('blockedbyclient'));
      const page = await context.newPage();
      await page.goto(url);
      assert.equal(await page.locator('.seat-grid').getAttribute('role'), 'img', 'the picker did not run');
      assert.equal(await page.locator('.seat').count(), 0);
      assert.deepEqual(await axeSerious(page, 'booking page without the picker'), []);
    } finally {
      await context.close();
    }
  });

  test('with JavaScript the same cells become the labelled seat buttons', STEP, async () => {
    const context = await newContext(browser, service.origin);
    try {
      const page = await context.newPage();
      await page.goto(url);
      await page.locator('.seat[data-seat="F7"]').waitFor();
      assert.equal(await page.locator('.seat-row > i, .seat-row > b, .seat-row[data-row]').count(), 0, 'no compact cell left');
      assert.equal(await page.locator('.seat[data-seat]').count(), 216);
      assert.equal(await page.locator('.seat-grid').getAttribute('role'), 'group');
      assert.equal(await page.locator('.seat-grid').getAttribute('aria-label'), 'Seats, screen at the front');
      assert.equal(await page.locator('.seat-row[aria-label="Row F"] .row-label').count(), 2);
      assert.match(await page.locator('.seat[data-seat="F7"]').getAttribute('aria-label'), /^Row F, seat 7 \(F7\)/);
      const l1 = page.locator('.seat[data-seat="L1"]');
      assert.ok((await l1.getAttribute('class')).includes('seat--wheelchair'));
      assert.match(await l1.getAttribute('aria-label'), /^Row L, wheelchair space 1 \(L1\)/);
      assert.equal(await l1.locator('svg use').count(), 1, 'the wheelchair icon moved into the button');
      assert.deepEqual(context.problems, []);
    } finally {
      await context.close();
    }
  });

  test('screenshots with and without JavaScript at 390 and 1280 px', STEP, async () => {
    const dir = ensureArtifacts();
    for (const width of [390, 1280]) {
      for (const js of [false, true]) {
        // As screenshotContext (a phone at 390 px), with or without JavaScript.
        const shot = await newContext(browser, service.origin, {
          viewport: { width, height: width < 600 ? 844 : 900 },
          deviceScaleFactor: 1,
          ...(width < 600 ? { isMobile: true, hasTouch: true } : {}),
          reducedMotion: 'reduce',
          javaScriptEnabled: js,
        });
        try {
          const page = await shot.newPage();
          await page.goto(url);
          if (js) await page.locator('.seat[data-seat="F7"]:not([disabled])').waitFor();
          await page.screenshot({ path: join(dir, `room-${js ? 'js' : 'nojs'}-${width}.png`), fullPage: true });
        } finally {
          await shot.close();
        }
      }
    }
  });
});
