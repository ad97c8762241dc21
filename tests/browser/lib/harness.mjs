// The real thing on loopback, for the browser tests: a fresh site and database built by
// `tiketa-gen roll` into a temp folder, served with the API by `tiketa-booking` on a free port,
// and Debian's Chromium driven by playwright-core. Nothing is downloaded: no browser build, no
// fonts, and every request that leaves loopback is aborted.

import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const BIN_DIR = process.env.TIKETA_BIN_DIR || join(ROOT, 'target', 'release');
export const ARTIFACTS = join(ROOT, 'target', 'browser-artifacts');
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Why the browser tests cannot run here, or null. Under CI that is a failure, by hand a skip. */
export function missingChromium() {
  if (existsSync(CHROMIUM)) return null;
  return `Chromium is not installed at ${CHROMIUM}: the browser tests need Debian's chromium ` +
    `(apt-get install -y chromium), or CHROMIUM_PATH pointing at a Chromium binary.`;
}

function binary(name) {
  const path = join(BIN_DIR, name);
  if (!existsSync(path)) {
    throw new Error(`${path} is missing: build it first with \`cargo build --release --bins\` (or \`make binaries\`) in ${ROOT}`);
  }
  return path;
}

/** Builds a fresh site and database with the real current time (the service judges "started"
 * by its own clock, so the pages and the service must agree on now). `options.films` builds a
 * synthetic catalog of that many films (`tiketa-gen synth-content`) instead of the real one. */
export function buildSite(options = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'tiketa-browser-'));
  const dist = join(dir, 'dist');
  const db = join(dir, 'tiketa.db');
  let content = join(ROOT, 'content');
  if (options.films) {
    const synthetic = join(dir, 'content');
    const synth = spawnSync(
      binary('tiketa-gen'),
      ['synth-content', '--films', String(options.films), '--into', synthetic, '--content', content],
      { cwd: ROOT, encoding: 'utf8', env: cleanEnv() },
    );
    if (synth.status !== 0) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`tiketa-gen synth-content failed (exit ${synth.status}):\n${synth.stdout}\n${synth.stderr}`);
    }
    content = synthetic;
  }
  const roll = spawnSync(
    binary('tiketa-gen'),
    ['roll', '--content', content, '--theme', join(ROOT, 'themes', 'time-gallery'), '--out', dist, '--db', db],
    { cwd: ROOT, encoding: 'utf8', env: cleanEnv() },
  );
  if (roll.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`tiketa-gen roll failed (exit ${roll.status}):\n${roll.stdout}\n${roll.stderr}`);
  }
  const schedule = readSchedule(dist);
  return { dir, dist, db, content, schedule, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Every live showtime of a built site, in start order then studio, as `{ showtimes }`: read
 * from the schedule's table of contents (`/api/schedule.json`), the film list's pages and each
 * film's own schedule file. */
export function readSchedule(dist) {
  const json = (url) => JSON.parse(readFileSync(join(dist, ...url.split('/').filter(Boolean)), 'utf8'));
  const contents = json('/api/schedule.json');
  const showtimes = contents.film_pages
    .flatMap((page) => json(page).films)
    .flatMap((film) => json(film.schedule_url).showtimes);
  showtimes.sort((a, b) => Date.parse(a.starts_at) - Date.parse(b.starts_at) || a.studio - b.studio);
  return { ...contents, showtimes };
}

/** The environment without the project's own settings, so a developer's `.env` or exported
 * TIKETA_* variables cannot point the test at their real database. */
function cleanEnv() {
  const env = { ...process.env };
  for (const key of Object.keys(env)) {
    if (key.startsWith('TIKETA_') || key === 'DATABASE_URL' || key === 'PORT') delete env[key];
  }
  env.RUST_LOG = env.RUST_LOG || 'warn';
  return env;
}

function freePort() {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.unref();
    server.on('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => ok(port));
    });
  });
}

/** Starts `tiketa-booking` serving the site and the API; resolves once `/api/health` answers.
 * `options.content` serves another content folder (see `contentWith`), `options.args` adds
 * flags. Call it twice on one site for two instances on one database. */
export async function startService(site, attempts = 3, options = {}) {
  let lastError;
  for (let i = 0; i < attempts; i += 1) {
    const port = await freePort();
    try {
      return await startOn(site, port, options);
    } catch (e) {
      lastError = e; // most likely the port was taken between asking and binding: try another
    }
  }
  throw lastError;
}

async function startOn(site, port, { content = site.content, args = [] } = {}) {
  const origin = `http://127.0.0.1:${port}`;
  // The temp folder as cwd, so a `.env` in the repository is not read either.
  const child = spawn(
    binary('tiketa-booking'),
    ['--db', site.db, '--content', content, '--site', site.dist, '--listen', `127.0.0.1:${port}`, ...args],
    { cwd: site.dir, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  const exited = new Promise((ok) => child.once('exit', (code, signal) => ok({ code, signal })));
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  const deadline = Date.now() + 10_000;
  for (;;) {
    const early = await Promise.race([exited, new Promise((ok) => setTimeout(ok, 50, null))]);
    if (early) throw new Error(`tiketa-booking exited (${JSON.stringify(early)}) before answering:\n${output}`);
    try {
      const res = await fetch(`${origin}/api/health`);
      if (res.ok) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`tiketa-booking did not answer ${origin}/api/health within 10 s:\n${output}`);
    }
  }

  return {
    origin,
    output: () => output,
    async stop() {
      process.removeListener('exit', killOnExit);
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
}

export async function launchBrowser() {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}

/** A browser context that can reach only the service: anything else (YouTube, fonts) is
 * aborted, so no test waits on the closed network. Collects script errors per page. */
export async function newContext(browser, origin, options = {}) {
  const context = await browser.newContext({ baseURL: origin, ...options });
  // Fail in seconds, not Playwright's 30 s: everything here is on loopback.
  context.setDefaultTimeout(10_000);
  await context.route((url) => url.origin !== origin, (route) => route.abort('blockedbyclient'));
  context.problems = [];
  context.on('page', (page) => watchPage(page, context.problems));
  return context;
}

/** The widths every screenshot test takes: a phone and a desktop. */
export const SCREENSHOT_WIDTHS = [390, 1440];

/** A context for screenshots at `width`: 390 px is a phone (touch, no hover, the mobile
 * viewport rules), wider a desktop; one device pixel per CSS pixel, no motion. */
export function screenshotContext(browser, origin, width) {
  return newContext(browser, origin, {
    viewport: { width, height: width < 600 ? 844 : 900 },
    deviceScaleFactor: 1,
    ...(width < 600 ? { isMobile: true, hasTouch: true } : {}),
    reducedMotion: 'reduce',
  });
}

function watchPage(page, problems) {
  page.on('pageerror', (err) => problems.push(`${page.url()}: uncaught ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const text = msg.text();
    // HTTP error statuses the tests provoke on purpose (409, 404) and the aborted third-party
    // requests are logged by Chromium as console errors; they are not script errors.
    if (/Failed to load resource|ERR_BLOCKED_BY_CLIENT|youtube-nocookie/.test(text)) return;
    problems.push(`${page.url()}: console error: ${text}`);
  });
}

export function ensureArtifacts() {
  mkdirSync(ARTIFACTS, { recursive: true });
  return ARTIFACTS;
}

/** A small JSON client for checking what the service holds, beside what the page shows. */
export function api(origin) {
  async function call(method, path, { body, headers = {} } = {}) {
    const res = await fetch(origin + path, {
      method,
      headers: { Accept: 'application/json', ...(body ? { 'Content-Type': 'application/json' } : {}), ...headers },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    let json = null;
    try { json = JSON.parse(text); } catch { /* not JSON */ }
    return { status: res.status, json, text };
  }
  return {
    seats: (id) => call('GET', `/api/showtimes/${encodeURIComponent(id)}/seats`),
    showtimes: () => call('GET', '/api/showtimes'),
    booking: (ref, token) => call('GET', `/api/bookings/${encodeURIComponent(ref)}`, { headers: { 'X-Manage-Token': token } }),
  };
}

/** A copy of the content folder inside `site.dir` with `site.toml` settings replaced, for a
 * service instance that must differ in one setting (a hold of seconds, not minutes):
 * `contentWith(site, { hold_minutes: 0.05 })`. Removed with the site. */
export function contentWith(site, settings) {
  const dir = join(site.dir, `content-${Object.keys(settings).join('-')}`);
  cpSync(join(ROOT, 'content'), dir, { recursive: true });
  const path = join(dir, 'site.toml');
  let toml = readFileSync(path, 'utf8');
  for (const [key, value] of Object.entries(settings)) {
    const line = new RegExp(`^${key}\\s*=.*$`, 'm');
    if (!line.test(toml)) throw new Error(`content/site.toml has no \`${key} = ...\` line to replace`);
    toml = toml.replace(line, `${key} = ${JSON.stringify(value)}`);
  }
  writeFileSync(path, toml);
  return dir;
}

/** Every request a page makes from now on, as `METHOD path` on the service's origin (bodies
 * kept for checks such as "the hold token never travels in a URL"). */
export function recordRequests(page) {
  const seen = [];
  page.on('request', (req) => {
    const url = new URL(req.url());
    seen.push({ method: req.method(), path: url.pathname + url.search, url: req.url(), body: req.postData() || '', at: Date.now() });
  });
  return seen;
}

/** Starts `tiketa-booking` on the same site and database with extra settings, given as a `.env`
 * file in the service's own working folder (the documented way the service reads settings; the
 * harness clears TIKETA_* from its environment, and flags win over both). For example
 * `{ TIKETA_NOW: '...' }` runs it as if it were later, `{ TIKETA_POST_LIMIT: '0' }` without the
 * booking rate limit. The folder goes when the service is stopped. */
export async function startServiceWithEnv(site, vars) {
  const dir = mkdtempSync(join(tmpdir(), 'tiketa-browser-env-'));
  const lines = Object.entries(vars).map(([key, value]) => {
    if (!/^[A-Z_]+$/.test(key) || /[\n"]/.test(String(value))) throw new Error(`not a .env setting: ${key}=${value}`);
    return `${key}="${value}"\n`;
  });
  writeFileSync(join(dir, '.env'), lines.join(''));
  const service = await startService({ ...site, dir }).catch((e) => {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  });
  const stop = service.stop;
  return {
    ...service,
    async stop() {
      const result = await stop();
      rmSync(dir, { recursive: true, force: true });
      return result;
    },
  };
}

/** Books seats straight through the API (no page): `{ status, json }`. */
export async function bookThroughApi(origin, showtimeId, seats, name = 'Test booker') {
  const res = await fetch(`${origin}/api/showtimes/${encodeURIComponent(showtimeId)}/bookings`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({ name, seats }),
  });
  return { status: res.status, json: await res.json().catch(() => null) };
}

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** axe-core's serious and critical violations on the page as it is, one line each (with up to
 * five of the elements at fault), named `name`. Evaluated through DevTools, so the page's
 * script-src policy does not apply. */
export async function axeSerious(page, name) {
  await page.evaluate(AXE_SOURCE);
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${name}: ${v.impact} ${v.id}: ${v.help}\n    ${v.nodes.slice(0, 5).map((n) => n.target.join(' ')).join('\n    ')}`);
}

/** A test file's end: closes its browser, stops its service and removes its built site, each if
 * it was made; says what the service printed if it did not stop cleanly (SIGTERM or exit 0). */
export async function tearDown({ browser, service, site }) {
  await browser?.close();
  const stopped = await service?.stop();
  site?.remove();
  if (stopped && stopped.code !== 0 && stopped.signal !== 'SIGTERM') {
    console.log(`# tiketa-booking stopped with ${JSON.stringify(stopped)}:\n${service.output()}`);
  }
}
