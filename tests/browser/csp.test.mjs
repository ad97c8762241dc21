// The pages' own Content-Security-Policy (the <meta http-equiv> tag every generated page
// carries), in Chromium: every page a visitor uses works under it with no violation, first
// with the policy alone (as a CDN serves the pages, without the booking service's headers:
// the header is stripped on the way to the browser), then with the service's header as well
// (as `make run` serves them: the browser enforces both). And `tiketa-gen serve`'s live
// reload still reloads the open page under the policy.
//
//   cd tests/browser && npm ci && node --test

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';

import {
  BIN_DIR, ROOT, buildSite, launchBrowser, missingChromium, newContext, startService,
} from './lib/harness.mjs';

const STEP = { timeout: 60_000 };
const missing = missingChromium();

/** Collects every CSP violation a page reports, from before its first script runs. The init
 * script runs through DevTools, so the policy under test does not apply to it. */
async function watchViolations(context) {
  await context.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__csp.push(`${e.effectiveDirective} blocked ${e.blockedURI || '(inline)'} in ${e.sourceFile || document.URL}:${e.lineNumber}`);
    });
  });
  context.cspConsole = [];
  context.on('page', (page) => page.on('console', (msg) => {
    if (/Content Security Policy/i.test(msg.text())) context.cspConsole.push(`${page.url()}: ${msg.text()}`);
  }));
}

async function violations(page) {
  return page.evaluate(() => window.__csp.splice(0));
}

describe('the pages\' Content-Security-Policy in Chromium', { skip: missing ? `no Chromium: apt-get install -y chromium` : false }, () => {
  let site;
  let service;
  let browser;
  let showtime;

  before(async () => {
    site = buildSite();
    service = await startService(site);
    showtime = site.schedule.showtimes.at(-1);
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await service?.stop();
    site?.remove();
  });

  for (const mode of ['the page\'s own policy alone (as a CDN serves it)', 'the page\'s policy and the service\'s header']) {
    const metaOnly = mode.includes('alone');

    test(`every page works with no violation under ${mode}`, STEP, async () => {
      const context = await newContext(browser, service.origin);
      if (metaOnly) {
        // Registered last, so it runs first for the site's own URLs: serve each reply
        // without the service's policy header. Not the live seat stream: it never ends, so
        // it cannot be fetched whole and passed on (and a policy on it would not apply).
        const stream = (url) => url.pathname.endsWith('/events');
        await context.route((url) => url.origin === service.origin && !stream(url), async (route) => {
          const response = await route.fetch();
          const headers = { ...response.headers() };
          delete headers['content-security-policy'];
          await route.fulfill({ response, headers });
        });
      }
      await watchViolations(context);
      const page = await context.newPage();

      await page.goto('/');
      const policy = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
      assert.match(policy, /script-src 'self'/);
      assert.deepEqual(await violations(page), [], 'index');
      if (metaOnly) {
        // The control: the policy is really in force, or "no violation" would prove nothing.
        const ran = await page.evaluate(() => {
          const s = document.createElement('script');
          s.textContent = 'window.__inlineRan = true';
          document.body.append(s);
          return window.__inlineRan === true;
        });
        assert.equal(ran, false, 'inline script ran: the meta policy is not enforced');
        const seen = await violations(page);
        assert.ok(seen.some((v) => v.startsWith('script-src')), `the blocked inline script is reported: ${seen}`);
      }

      // A film page: JSON-LD is data, not script; the trailer modal frames YouTube.
      await page.goto(`/films/${showtime.film}/`);
      assert.equal(await page.locator('script[type="application/ld+json"]').count(), 1);
      await page.locator('[data-trailer-id]').first().click();
      await page.locator('#trailer-modal iframe').waitFor({ state: 'attached' });
      assert.deepEqual(await violations(page), [], 'film page with the trailer open');

      // A booking page: the seats load from the API and a booking goes through.
      await page.goto(showtime.url);
      await page.locator('#seat-picker.is-live').waitFor();
      const seatId = metaOnly ? 'A1' : 'A2';
      await page.locator(`.seat[data-seat="${seatId}"]`).click();
      await page.getByLabel('Name').fill('Cee Ess Pee');
      await page.getByRole('button', { name: 'Book 1 seat' }).click();
      await page.locator('.booking-confirmation .booking-ref').waitFor();
      const manage = await page.locator('.booking-confirmation a.manage-link').getAttribute('href');
      assert.deepEqual(await violations(page), [], 'booking page');

      // The manage page, showing that booking.
      await page.goto(manage);
      await page.locator('.booking-card').waitFor();
      assert.deepEqual(await violations(page), [], 'manage page');

      assert.deepEqual(
        context.cspConsole.filter((m) => !(metaOnly && m.includes("'unsafe-inline'") && m.includes('inline script'))),
        [],
        'no CSP messages in the console',
      );
      assert.deepEqual(context.problems.filter((p) => !/Content Security Policy/.test(p)), [], 'script errors');
      await context.close();
    });
  }
});

describe('tiketa-gen serve: live reload under the policy', { skip: missing ? 'no Chromium' : false }, () => {
  test('an edit reloads the open page', STEP, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tiketa-serve-'));
    cpSync(join(ROOT, 'content'), join(dir, 'content'), { recursive: true });
    const child = spawn(
      join(BIN_DIR, 'tiketa-gen'),
      ['serve', '--listen', '127.0.0.1:0', '--content', join(dir, 'content'), '--theme', join(ROOT, 'themes', 'time-gallery'),
        '--out', join(dir, 'dist'), '--db', join(dir, 'tiketa.db')],
      { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH, RUST_LOG: 'warn' } },
    );
    const killOnExit = () => child.kill('SIGKILL');
    process.once('exit', killOnExit);
    let browser;
    try {
      // The address, then the end of the first build.
      const lines = createInterface({ input: child.stdout });
      let origin;
      for await (const line of lines) {
        const m = line.match(/on (http:\/\/\S+)/);
        if (m) origin = m[1];
        if (line.startsWith('watching')) break;
      }
      assert.ok(origin, 'serve printed its address');

      browser = await launchBrowser();
      const context = await newContext(browser, origin);
      await watchViolations(context);
      const page = await context.newPage();
      // Connected to the reload stream before the edit, or the reload could be missed.
      const connected = page.waitForResponse((r) => new URL(r.url()).pathname === '/__livereload');
      await page.goto('/films/akira/');
      await connected;
      assert.equal(await page.locator('h1').first().textContent(), 'Akira');
      // The reload hook is a same-origin script file: allowed, and its stream is connected.
      assert.equal(await page.locator('script[src="/__livereload.js"]').count(), 1);

      const film = join(dir, 'content', 'films', 'akira.md');
      const reloaded = page.waitForEvent('load', { timeout: 30_000 });
      writeFileSync(film, readFileSync(film, 'utf8').replace('title = "Akira"', 'title = "Akira (restored)"'));
      await reloaded;
      assert.equal(await page.locator('h1').first().textContent(), 'Akira (restored)');
      assert.deepEqual(await violations(page), []);
      assert.deepEqual(context.cspConsole, []);
    } finally {
      await browser?.close();
      process.removeListener('exit', killOnExit);
      child.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
