// What one idle open booking page costs: requests and bytes per minute, measured in Debian's
// Chromium against the real release binaries (a fresh site and database, as the browser tests
// build them). Not part of `make test`; the figure goes to BENCHMARKS.md.
//
//   cargo build --release --bins
//   node bench/idle-page.mjs [seconds=60] [--no-stream]
//
// Run with node from anywhere: the harness (and its playwright-core) comes from tests/browser,
// so `cd tests/browser && npm ci` first. `--no-stream` refuses the events stream, to measure the
// polling fallback (the page before issue 10 polled the seat map every 3 s: 20 polls, 188 KB a
// minute). Bytes are what arrived on the wire (headers and bodies, as Chromium's network log
// counts them), the stream's heartbeats included; the page's own load is left out: counting
// starts once the seat map is live.

import { buildSite, launchBrowser, newContext, startService } from '../tests/browser/lib/harness.mjs';

const args = process.argv.slice(2);
const seconds = Number(args.find((a) => /^\d+$/.test(a)) || 60);
const noStream = args.includes('--no-stream');

const site = buildSite();
const service = await startService(site);
const browser = await launchBrowser();
try {
  const context = await newContext(browser, service.origin);
  const page = await context.newPage();
  if (noStream) await page.route('**/events', (route) => route.abort('connectionrefused'));
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');

  let counting = false;
  const requests = [];
  let bytes = 0;
  cdp.on('Network.requestWillBeSent', (e) => { if (counting) requests.push(`${e.request.method} ${new URL(e.request.url).pathname}`); });
  // dataReceived covers a response still streaming (the events stream never finishes);
  // the response's headers arrive with responseReceived.
  cdp.on('Network.dataReceived', (e) => { if (counting) bytes += e.encodedDataLength; });
  cdp.on('Network.responseReceivedExtraInfo', (e) => { if (counting) bytes += (e.headersText || '').length; });

  const showtime = site.schedule.showtimes.at(-1);
  await page.goto(showtime.url);
  await page.locator('#seat-picker.is-live').waitFor();
  counting = true;
  await new Promise((ok) => setTimeout(ok, seconds * 1000));
  counting = false;

  const perMinute = (n) => Math.round((n * 60) / seconds);
  console.log(`one idle booking page (${noStream ? 'stream refused: polling' : 'live stream'}), ${seconds} s after the seat map was live:`);
  console.log(`  requests: ${requests.length} (${perMinute(requests.length)} per minute)`);
  console.log(`  bytes received: ${bytes} (${perMinute(bytes)} per minute, ${(perMinute(bytes) / 1024).toFixed(1)} KiB)`);
  if (requests.length) console.log(`  ${[...new Set(requests)].join(', ')}`);
} finally {
  await browser.close();
  await service.stop();
  site.remove();
}
