// The door page: sign in with the operator token, pick a showtime, check tickets in by camera
// or by typed code, and see the answer big and unmistakable.
//
// The page is static and holds no secret. The token is asked for once and kept in this tab's
// sessionStorage (gone when the tab closes, or at "Sign out"); every call sends it as
// `Authorization: Bearer`, and a 401 anywhere asks for it again. Times come from the service
// (its clock, the cinema's zone), never from this device. Every text from the service is put in
// with textContent.

(() => {
  'use strict';

  const TOKEN_KEY = 'tiketa-door-token';
  const TICKET_PREFIX = /^TIKETA:/i;
  const SCAN_EVERY_MS = 150;
  const PAGE = 300; // the most showtimes one door reply holds (the service's maximum)

  const $ = (id) => document.getElementById(id);
  const el = {
    signOut: $('sign-out'),
    signIn: $('sign-in'),
    signInForm: $('sign-in-form'),
    token: $('token'),
    signInError: $('sign-in-error'),
    door: $('door'),
    dayPrev: $('day-prev'),
    dayNext: $('day-next'),
    dayToday: $('day-today'),
    dayLabel: $('day-label'),
    showtime: $('showtime'),
    studioForm: $('studio-form'),
    studio: $('studio'),
    studioError: $('studio-error'),
    attendance: $('attendance'),
    noShowtimes: $('no-showtimes'),
    scanner: $('scanner'),
    scan: $('scan'),
    scanStop: $('scan-stop'),
    scanHint: $('scan-hint'),
    camera: $('camera'),
    codeForm: $('code-form'),
    code: $('code'),
    result: $('result'),
    doorList: $('door-list'),
    doorListStatus: $('door-list-status'),
    doorListRows: $('door-list-rows'),
  };

  const state = {
    token: null,
    date: null, // the listed day, YYYY-MM-DD; null until the service names today
    today: null,
    showtimes: [],
    studio: null, // the studio this door lists, once the operator names one; null: every studio
    busy: false,
    scan: null, // { stream, detector, timer } while the camera is on
  };

  // ---- the token ------------------------------------------------------------------------

  function storedToken() {
    try { return sessionStorage.getItem(TOKEN_KEY); } catch { return null; }
  }

  function keepToken(token) {
    state.token = token;
    try {
      if (token) sessionStorage.setItem(TOKEN_KEY, token); else sessionStorage.removeItem(TOKEN_KEY);
    } catch { /* a tab that refuses storage keeps the token in memory only */ }
  }

  class Refused extends Error {}

  /** Calls the door's API with the token; a 401 signs out and throws Refused. */
  async function call(method, path, body) {
    const headers = { Accept: 'application/json', Authorization: `Bearer ${state.token}` };
    if (body) headers['Content-Type'] = 'application/json';
    const res = await fetch(path, {
      method,
      headers,
      body: body ? JSON.stringify(body) : undefined,
      cache: 'no-store',
      credentials: 'omit',
    });
    if (res.status === 401) {
      signOut('The operator token was refused. Sign in again.');
      throw new Refused('401');
    }
    let json = null;
    try { json = await res.json(); } catch { /* not JSON: handled by the caller as a failure */ }
    return { status: res.status, json };
  }

  // ---- signing in and out ---------------------------------------------------------------

  function showSignIn(message) {
    stopScan();
    el.door.hidden = true;
    el.signOut.hidden = true;
    el.signIn.hidden = false;
    el.signInError.textContent = message || '';
    el.token.value = '';
    el.token.setAttribute('aria-invalid', message ? 'true' : 'false');
    el.token.focus();
  }

  function signOut(message) {
    keepToken(null);
    state.showtimes = [];
    state.studio = null;
    clearResult();
    showSignIn(message);
  }

  function showDoor() {
    el.signIn.hidden = true;
    el.door.hidden = false;
    el.signOut.hidden = false;
  }

  el.signInForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const token = el.token.value.trim();
    if (!token) {
      el.signInError.textContent = 'Enter the operator token.';
      el.token.setAttribute('aria-invalid', 'true');
      el.token.focus();
      return;
    }
    keepToken(token);
    try {
      await loadDay(null);
    } catch (e) {
      if (e instanceof Refused) {
        showSignIn('That token was refused. Check it with whoever runs the service (TIKETA_OPERATOR_TOKEN).');
      } else {
        keepToken(null);
        showSignIn(`The service could not be reached: ${e.message}. Try again.`);
      }
      return;
    }
    showDoor();
    focusFirst();
  });

  el.signOut.addEventListener('click', () => signOut(''));

  /** The first thing to do: name the studio on a big day, else type a code. */
  function focusFirst() {
    if (!el.studioForm.hidden && !state.studio) el.studio.focus();
    else el.code.focus();
  }

  // ---- the day and its showtimes ---------------------------------------------------------

  /**
   * Loads a day's showtimes (null: the service's today), keeping the chosen one if listed.
   * A day that fits one page (at most PAGE showtimes) is listed whole, as at a small cinema; a
   * bigger one (a big catalog: thousands of showtimes a day) asks for the door's studio first,
   * and then lists only that studio's (one film's, a handful a day).
   */
  async function loadDay(date) {
    const params = new URLSearchParams({ limit: String(PAGE) });
    if (date) params.set('date', date);
    if (state.studio) params.set('studio', String(state.studio));
    const { status, json } = await call('GET', `/api/door/showtimes?${params}`);
    if (status !== 200 || !json) throw new Error(json?.error?.message || `status ${status}`);
    const keep = el.showtime.value;
    const big = json.next_cursor !== null && !state.studio;
    state.date = json.date;
    state.today = json.today;
    state.showtimes = big ? [] : json.showtimes;
    el.studioForm.hidden = !big && !state.studio;
    const label = json.date === json.today ? `Today, ${json.date_label}` : json.date_label;
    // Announced when it changes (a live region), not at every refresh.
    if (el.dayLabel.textContent !== label) el.dayLabel.textContent = label;
    el.dayToday.hidden = json.date === json.today;
    fillShowtimes(state.showtimes.some((s) => s.id === keep) ? keep : json.suggested);
    el.noShowtimes.hidden = !(state.showtimes.length === 0 && !big);
    return { big };
  }

  el.studioForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const text = el.studio.value.trim();
    const n = Number(text);
    if (text !== '' && !(Number.isInteger(n) && n >= 1)) {
      el.studioError.textContent = 'Enter the studio\'s number, such as 3.';
      el.studio.setAttribute('aria-invalid', 'true');
      el.studio.focus();
      return;
    }
    el.studioError.textContent = '';
    el.studio.removeAttribute('aria-invalid');
    state.studio = text === '' ? null : n;
    await goToDay(state.date);
    if (state.showtimes.length > 0) el.showtime.focus();
  });

  function fillShowtimes(selected) {
    el.showtime.replaceChildren(...state.showtimes.map((s) => {
      const option = document.createElement('option');
      option.value = s.id;
      const when = { running: ' (running)', ended: ' (ended)' }[s.state] || '';
      option.textContent = `${s.time_label} · ${s.film.title} · Studio ${s.studio}${when}`;
      return option;
    }));
    if (selected) el.showtime.value = selected;
    const empty = state.showtimes.length === 0;
    el.noShowtimes.hidden = !empty;
    el.showtime.disabled = empty;
    showAttendance();
  }

  function chosenShowtime() {
    return state.showtimes.find((s) => s.id === el.showtime.value) || null;
  }

  function showAttendance() {
    const s = chosenShowtime();
    el.attendance.textContent = s
      ? `${s.seats_checked_in} of ${s.seats_booked} booked seats in (${s.bookings_checked_in} of ${plural(s.bookings, 'booking')})`
      : '';
  }

  const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;

  /** Moves the listed day by `days`. */
  function shiftedDate(date, days) {
    const t = Date.parse(`${date}T00:00:00Z`) + days * 86_400_000;
    return new Date(t).toISOString().slice(0, 10);
  }

  async function goToDay(date) {
    try {
      await loadDay(date);
      clearResult();
      if (el.doorList.open) await loadDoorList();
    } catch (e) {
      if (!(e instanceof Refused)) showResult('bad', 'Could not load the showtimes', e.message);
    }
  }

  el.dayPrev.addEventListener('click', () => goToDay(shiftedDate(state.date, -1)));
  el.dayNext.addEventListener('click', () => goToDay(shiftedDate(state.date, 1)));
  el.dayToday.addEventListener('click', () => goToDay(null));
  el.showtime.addEventListener('change', () => {
    showAttendance();
    clearResult();
    if (el.doorList.open) loadDoorList();
  });

  // ---- checking in ----------------------------------------------------------------------

  async function checkIn(code) {
    const showtime = chosenShowtime();
    if (!showtime) {
      showResult('bad', 'Pick a showtime first', '');
      return null;
    }
    if (state.busy) return null;
    state.busy = true;
    try {
      const { status, json } = await call('POST', '/api/door/check-in', { code, showtime: showtime.id });
      if (status === 200 && json) {
        showAdmitted(json);
      } else {
        showRefusal(json?.error);
      }
      refreshQuietly();
      return status;
    } catch (e) {
      if (!(e instanceof Refused)) showResult('bad', 'The service could not be reached', `${e.message}. Try again.`);
      return null;
    } finally {
      state.busy = false;
    }
  }

  function showAdmitted(reply) {
    const b = reply.booking;
    const details = [
      ['Film', b.showtime.film.title],
      ['Showtime', `${b.showtime.date_label}, ${b.showtime.time_label}`],
      ['Studio', String(b.showtime.studio)],
      ['Seats', b.seats.join(', ')],
      ['Name', b.name],
      ['Reference', b.reference],
    ];
    if (reply.status === 'checked_in') {
      showResult('ok', 'Checked in', '', details);
    } else {
      showResult('again', `Already checked in at ${reply.checked_in_at_local}`, 'This ticket was used before: check it is the same person.', details);
    }
  }

  const REFUSALS = {
    ticket_cancelled: () => 'Cancelled booking',
    ticket_for_other_showtime: (error) => error.message,
    ticket_not_found: () => 'No ticket with this code',
    invalid_check_in_code: () => 'Not a check-in code',
    showtime_not_found: () => 'This showtime no longer exists: pick another',
  };

  function showRefusal(error) {
    if (!error) {
      showResult('bad', 'Check-in failed', 'The service gave no answer; try again.');
      return;
    }
    const headline = REFUSALS[error.code];
    if (headline) {
      const text = headline(error);
      // The service's message may open with the headline's words: not said twice.
      const message = error.message.startsWith(`${text}: `) ? error.message.slice(text.length + 2) : error.message;
      showResult('bad', text, text === error.message ? '' : message);
    } else {
      showResult('bad', 'Check-in failed', error.message);
    }
  }

  const MARKS = { ok: '✓', again: '!', bad: '✕', none: '' };

  /** The big answer: tone ok (green), again (amber) or bad (red); all text as text. */
  function showResult(tone, headline, message, details = []) {
    el.result.dataset.tone = tone;
    el.result.querySelector('.result__mark').textContent = MARKS[tone];
    el.result.querySelector('.result__text').textContent = headline;
    el.result.querySelector('.result__message').textContent = message;
    el.result.querySelector('.result__details').replaceChildren(...details.flatMap(([term, value]) => {
      const dt = document.createElement('dt');
      dt.textContent = term;
      const dd = document.createElement('dd');
      dd.textContent = value;
      return [dt, dd];
    }));
  }

  function clearResult() {
    showResult('none', '', '');
  }

  el.codeForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const code = el.code.value.trim();
    if (!code) {
      showResult('bad', 'Type the check-in code first', '');
      el.code.focus();
      return;
    }
    const status = await checkIn(code);
    if (status === 200) el.code.value = '';
    // Ready for the next ticket, or to correct this one.
    if (!el.door.hidden) {
      el.code.focus();
      el.code.select();
    }
  });

  /** After a check-in, the counts and the door list again; a failure here says nothing. */
  async function refreshQuietly() {
    try {
      await loadDay(state.date);
      if (el.doorList.open) await loadDoorList();
    } catch { /* the answer on screen stands; the next action will tell */ }
  }

  // ---- the door list --------------------------------------------------------------------

  async function loadDoorList() {
    const showtime = chosenShowtime();
    el.doorListRows.replaceChildren();
    if (!showtime) {
      el.doorListStatus.textContent = 'No showtime chosen.';
      return;
    }
    el.doorListStatus.textContent = 'Loading…';
    try {
      const { status, json } = await call('GET', `/api/door/showtimes/${encodeURIComponent(showtime.id)}/bookings`);
      if (status !== 200 || !json) throw new Error(json?.error?.message || `status ${status}`);
      el.doorListRows.replaceChildren(...json.bookings.map((b) => {
        const row = document.createElement('tr');
        if (b.checked_in_at) row.className = 'door-list__in';
        for (const text of [b.name, b.seats.join(', '), b.checked_in_at_local || '—', b.reference]) {
          const cell = document.createElement('td');
          cell.textContent = text;
          row.append(cell);
        }
        return row;
      }));
      el.doorListStatus.textContent = json.bookings.length
        ? `${plural(json.bookings.length, 'booking')}, ${json.showtime.bookings_checked_in} in.`
        : 'No bookings for this showtime.';
    } catch (e) {
      if (!(e instanceof Refused)) el.doorListStatus.textContent = `Could not load the door list: ${e.message}`;
    }
  }

  el.doorList.addEventListener('toggle', () => { if (el.doorList.open) loadDoorList(); });

  // ---- the camera -----------------------------------------------------------------------

  /** Whether this browser can read QR codes from the camera (BarcodeDetector with qr_code). */
  async function canScan() {
    if (!('BarcodeDetector' in window) || !navigator.mediaDevices?.getUserMedia) return false;
    try {
      const formats = await window.BarcodeDetector.getSupportedFormats();
      return formats.includes('qr_code');
    } catch {
      return false;
    }
  }

  async function startScan() {
    if (state.scan) return;
    el.scanHint.textContent = 'Opening the camera…';
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: { ideal: 'environment' } }, audio: false });
    } catch (e) {
      el.scanHint.textContent = `The camera could not be opened (${e.name}). Type the code instead.`;
      return;
    }
    const detector = new window.BarcodeDetector({ formats: ['qr_code'] });
    state.scan = { stream, detector, timer: null };
    el.camera.srcObject = stream;
    el.camera.hidden = false;
    el.scanStop.hidden = false;
    el.scan.hidden = true;
    el.scanHint.textContent = 'Hold the ticket’s QR code in front of the camera.';
    try { await el.camera.play(); } catch { /* a muted inline video plays; if not, detect still reads frames */ }
    scanFrame();
  }

  async function scanFrame() {
    const scan = state.scan;
    if (!scan) return;
    let payload = null;
    try {
      const codes = await scan.detector.detect(el.camera);
      payload = codes.map((c) => c.rawValue).find((v) => TICKET_PREFIX.test(v)) || null;
      if (!payload && codes.length) el.scanHint.textContent = 'That QR code is not a Tiketa ticket.';
    } catch { /* a frame not ready yet: try the next */ }
    if (state.scan !== scan) return;
    if (payload) {
      stopScan();
      el.scan.textContent = 'Scan next ticket';
      await checkIn(payload);
      if (!el.door.hidden) el.scan.focus();
      return;
    }
    scan.timer = setTimeout(scanFrame, SCAN_EVERY_MS);
  }

  function stopScan() {
    const scan = state.scan;
    if (!scan) return;
    state.scan = null;
    clearTimeout(scan.timer);
    for (const track of scan.stream.getTracks()) track.stop();
    el.camera.srcObject = null;
    el.camera.hidden = true;
    el.scanStop.hidden = true;
    el.scan.hidden = false;
    el.scanHint.textContent = '';
  }

  el.scan.addEventListener('click', () => startScan());
  el.scanStop.addEventListener('click', () => { stopScan(); el.scan.focus(); });
  document.addEventListener('visibilitychange', () => { if (document.hidden) stopScan(); });

  // ---- start ----------------------------------------------------------------------------

  async function start() {
    canScan().then((yes) => { el.scanner.hidden = !yes; });
    const token = storedToken();
    if (!token) {
      showSignIn('');
      return;
    }
    keepToken(token);
    try {
      await loadDay(null);
      showDoor();
      focusFirst();
    } catch (e) {
      if (!(e instanceof Refused)) showSignIn(`The service could not be reached: ${e.message}. Reload to try again.`);
    }
  }

  start();
})();
