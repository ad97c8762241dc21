/* The Time Gallery: the seat picker on a booking page (/book/<showtime-id>/).
 *
 * Plain JavaScript, no framework, no build step. The page already holds the whole room, drawn
 * compactly (seat-grid.html: without JavaScript it is a picture of the room); this script first
 * makes each seat a labelled button (upgradeGrid), then turns them on and keeps them true to the
 * booking service:
 *
 *  - Live seats: an EventSource on `GET /api/showtimes/{id}/events` sends a snapshot (taken and
 *    held seats), then each change (taken, held, freed) as it is committed on any instance. A
 *    snapshot may come at any time and replaces the whole state. While the stream is up nothing
 *    polls, so an idle open page costs no requests. If the stream fails, the page polls the seat
 *    map (`GET .../seats`) every few seconds while the tab is visible, and opens the stream
 *    again now and then; the first snapshot stops the polling.
 *  - Holds: choosing a seat holds it for this visitor (`POST .../holds`) under a hold token kept
 *    in sessionStorage per showtime (never in a URL), so a reload asks the hold what it holds
 *    (`seats: []`) and shows those seats chosen again. Unchoosing releases it (`DELETE`), Book
 *    sends the token, and the service turns exactly the held seats into the booking. Requests
 *    about the hold go one at a time, in the order the visitor clicked, so the first one's new
 *    token is known to the next. A countdown shows the hold's time left; the visitor is told a
 *    minute before (a fifth of the hold, for short ones) and when it runs out.
 *  - Seats held by other visitors are drawn held (not taken), announced "held by another
 *    visitor", and cannot be chosen.
 *  - Taken and held seats stay focusable (`aria-disabled`, not `disabled`): a keyboard or
 *    screen-reader user walking the rows hears why instead of finding holes in the grid.
 *  - The grid is one tab stop (roving tabindex). Arrow keys move by seat, across aisles, and
 *    between rows to the nearest seat in the same column; Enter or Space toggles.
 *  - A sticky bar at the bottom of the screen holds the chosen seats, the countdown, Book and
 *    every message (limit reached, seat just taken, hold running out), where the visitor looks.
 *  - A booking attempt carries an `Idempotency-Key`. The key is kept for as long as the request
 *    stays the same (seats, name, email), so "Retry" after a network failure can never book
 *    twice; any change to the request makes a new key.
 */
(function () {
  "use strict";
  const ui = window.TiketaBookingUI;
  const el = ui.el;
  const listSeats = ui.listSeats;
  function formatWhen(startsAt, endsAt) { return ui.formatWhen(startsAt, endsAt, timeZone, false); }
  function say(text) { ui.messenger(status, alertBox).say(text); }
  function warn(text, action) { ui.messenger(status, alertBox).warn(text, action); }

  const picker = document.getElementById("seat-picker");
  const panel = document.getElementById("booking-panel");
  if (!picker || !panel || !window.fetch) return;

  const MAX_SEATS = parseInt(picker.getAttribute("data-max-seats") || "8", 10) || 8;
  const POLL_MS = 3000;
  /** How long the stream may take to send its first snapshot before the page asks the seat map
   * once (a proxy that buffers the stream would otherwise leave the map dark). */
  const FIRST_SNAPSHOT_MS = 4000;
  /** After a stream closes for good (an error reply), wait this long before opening it again;
   * doubled each time up to the maximum, while polling carries the page. */
  const REOPEN_MS = 10000;
  const REOPEN_MAX_MS = 60000;
  const showtimeId = picker.getAttribute("data-showtime-id") || "";
  const apiBase = (picker.getAttribute("data-api-url") || "").replace(/\/+$/, "");
  const timeZone = picker.getAttribute("data-time-zone") || undefined;
  const startsAt = Date.parse(picker.getAttribute("data-starts-at") || "");
  const filmUrl = picker.getAttribute("data-film-url") || "";
  const showtimeUrl = apiBase + "/api/showtimes/" + encodeURIComponent(showtimeId);
  const seatsUrl = showtimeUrl + "/seats";
  const bookingsUrl = showtimeUrl + "/bookings";
  const holdsUrl = showtimeUrl + "/holds";
  const eventsUrl = showtimeUrl + "/events";
  const TOKEN_KEY = "tiketa-hold:" + showtimeId;

  const grid = picker.querySelector(".seat-grid");
  if (!grid) return;
  upgradeGrid(grid);
  const buttons = Array.prototype.slice.call(picker.querySelectorAll(".seat[data-seat]"));
  if (buttons.length === 0) return;

  /** Seat id -> {id, button, wheelchair, row, col}. */
  const seats = new Map();
  /** Rows of the grid, front to back; each a list of seats (gaps left out) in column order. */
  const rows = [];
  Array.prototype.forEach.call(grid.querySelectorAll(".seat-row:not(.seat-row--walkway)"), function (rowEl) {
    const row = [];
    let col = 0;
    Array.prototype.forEach.call(rowEl.children, function (cell) {
      if (cell.classList.contains("row-label")) return;
      if (cell.matches(".seat[data-seat]")) {
        const id = cell.getAttribute("data-seat");
        const parts = /^(.*?)(\d+)$/.exec(id) || [id, id, ""];
        const seat = {
          id: id,
          rowLabel: parts[1],
          number: parts[2],
          button: cell,
          wheelchair: cell.classList.contains("seat--wheelchair"),
          row: rows.length,
          col: col,
        };
        seats.set(seat.id, seat);
        row.push(seat);
      }
      col += 1;
    });
    if (row.length) rows.push(row);
  });

  /** The page draws the room compactly (seat-grid.html): a row `<div class="seat-row"
   * data-row="F">`, a seat `<i>7</i>`, a wheelchair space `<i class="w" data-n="1">` holding its
   * icon, an aisle `<b>`, the whole a picture (`role="img"`). Here each becomes what a visitor
   * operates: the grid and each row a named group, a seat a button named "Row F, seat 7 (F7)"
   * (renderSeat adds its state), an aisle a gap, and the row's letters elements at both ends,
   * hidden from screen readers (every seat's name says its row). Disabled until the seats are
   * known. */
  function upgradeGrid(grid) {
    grid.setAttribute("role", "group");
    grid.setAttribute("aria-label", "Seats, screen at the front");
    Array.prototype.forEach.call(grid.querySelectorAll(".seat-row--walkway"), function (row) {
      row.setAttribute("aria-hidden", "true");
    });
    Array.prototype.forEach.call(grid.querySelectorAll(".seat-row[data-row]"), function (row) {
      const label = row.getAttribute("data-row");
      const cells = Array.prototype.map.call(row.children, function (cell) {
        if (cell.localName !== "i") return el("span", { class: "seat-gap", "aria-hidden": "true" });
        const wheelchair = cell.classList.contains("w");
        const number = wheelchair ? cell.getAttribute("data-n") : cell.textContent;
        const button = el("button", {
          type: "button",
          class: wheelchair ? "seat seat--wheelchair" : "seat",
          "data-seat": label + number,
          "aria-label": "Row " + label + ", " + (wheelchair ? "wheelchair space " : "seat ") + number + " (" + label + number + ")",
          disabled: "",
        });
        if (wheelchair) {
          const icon = cell.querySelector("svg");
          if (icon) icon.setAttribute("aria-hidden", "true");
          button.append.apply(button, Array.prototype.slice.call(cell.childNodes));
        } else {
          button.append(el("span", { class: "seat__num", "aria-hidden": "true" }, number));
        }
        return button;
      });
      const start = el("span", { class: "row-label", "aria-hidden": "true" }, label);
      const end = el("span", { class: "row-label row-label--end", "aria-hidden": "true" }, label);
      row.replaceChildren.apply(row, [start].concat(cells, [end]));
      row.removeAttribute("data-row");
      row.setAttribute("role", "group");
      row.setAttribute("aria-label", "Row " + label);
    });
  }

  // ---------- State ----------
  let taken = new Set();
  let held = new Set(); // held by anyone, this visitor included (the service does not tell apart)
  let selected = []; // seat ids in the order they were picked: held for us, or being held
  const adding = new Set(); // chosen here, the hold request not answered yet
  const removing = new Set(); // unchosen here, the release not answered yet
  let current = null; // the seat that holds the grid's tab stop
  let loaded = false;
  let closed = false; // the screening has started (410, its start time, or the stream said so) or is gone (404)
  let busy = false; // a booking request is in flight
  let uncertain = false; // the last booking attempt's outcome is unknown (network failure)
  let pending = null; // {key, body, signature}: the attempt a Retry re-sends
  let pollTimer = null;
  let polling = false; // a seat-state request is in flight
  let refreshAgain = false; // ask once more as soon as it is back
  let epoch = 0; // bumped by every booking reply, which is fresher than any poll sent before it
  let stream = null; // the EventSource, while one is open or connecting
  let streaming = false; // the stream is connected: nothing polls
  let reopenTimer = null;
  let reopenDelay = REOPEN_MS;
  let holdToken = readToken();
  let holdChain = Promise.resolve(); // hold requests, one at a time, in click order
  let expiresAt = null; // when our hold ends, on this page's clock (Date.now() + expires_in_ms)
  let holdMs = 0; // the hold's whole length, as the service said
  let warnedFor = null; // the expiry we already warned about
  let tick = null;

  // ---------- The panel and the sticky bar ----------
  panel.removeAttribute("aria-live"); // the regions inside announce on their own, once each
  panel.innerHTML = "";
  panel.classList.add("is-ready");

  const view = el("div", { class: "booking-panel__body" });
  const summaryBox = el("div", { class: "booking-summary" });
  const summaryTitle = el("h2", { class: "booking-panel__title", id: "booking-summary-title" }, "Your seats");
  const chosenNote = el("p", { class: "booking-summary__text" });
  const chosenList = el("ul", { class: "chosen-seats", "aria-labelledby": "booking-summary-title" });
  summaryBox.append(summaryTitle, chosenNote, chosenList);

  const form = el("form", { class: "booking-form", id: "booking-form", novalidate: "", "aria-labelledby": "booking-form-title" });
  const formTitle = el("h2", { class: "booking-panel__title", id: "booking-form-title" }, "Your details");
  const nameField = field("booking-name", "Name", "text", { autocomplete: "name", required: "", "aria-required": "true" });
  const emailField = field("booking-email", "Email", "email", { autocomplete: "email", inputmode: "email" }, "optional, for your own records");
  form.append(formTitle, nameField.wrap, emailField.wrap);
  view.append(summaryBox, form);
  panel.append(view);

  // The bar: last in the picker, so `position: sticky; bottom: 0` keeps it on screen while any
  // of the picker is, and it rests after the form once the visitor scrolls there.
  const bar = el("section", { class: "booking-bar", "aria-label": "Chosen seats and Book" });
  const status = el("div", { class: "booking-status", role: "status" });
  const alertBox = el("div", { class: "booking-alert", role: "alert" });
  const barRow = el("div", { class: "booking-bar__row" });
  const summary = el("p", { class: "booking-bar__summary", id: "booking-summary", "aria-live": "polite" });
  const timer = el("p", { class: "booking-bar__timer", role: "timer", hidden: "" });
  const bookButton = el("button", { type: "submit", form: "booking-form", class: "btn btn--primary booking-form__submit" }, "Book");
  barRow.append(summary, timer, bookButton);
  bar.append(status, alertBox, barRow);
  picker.append(bar);

  // The showtime's state at the top of the page: started, archived or sold out.
  const stateBanner = el("div", { class: "seat-picker__state", id: "showtime-state", role: "status", hidden: "" });
  picker.prepend(stateBanner);

  const keysHint = el("p", { class: "seat-keys-hint", id: "seat-keys-hint" }, "Click or tap a seat to choose it.");
  keysHint.append(
    el("span", { class: "seat-keys-hint__keys" }, " On a keyboard: arrow keys move between seats, Enter or Space chooses.")
  );
  const stageHead = picker.querySelector(".seat-stage__head");
  if (stageHead) stageHead.after(keysHint);
  grid.setAttribute("aria-describedby", "seat-keys-hint");

  const countText = picker.querySelector(".seat-stage__count");
  const countBase = countText ? countText.textContent : "";

  // ---------- Helpers ----------
  function field(id, label, type, attrs, hint) {
    const wrap = el("div", { class: "field" });
    const lab = el("label", { for: id, class: "field__label" }, label);
    if (hint) lab.append(" ", el("span", { class: "field__hint" }, "(" + hint + ")"));
    const input = el("input", Object.assign({ id: id, name: id.replace("booking-", ""), type: type, class: "field__input" }, attrs));
    const error = el("p", { class: "field__error", id: id + "-error", hidden: "" });
    wrap.append(lab, input, error);
    return { wrap: wrap, input: input, error: error };
  }

  function setFieldError(f, message) {
    if (message) {
      f.error.textContent = message;
      f.error.hidden = false;
      f.input.setAttribute("aria-invalid", "true");
      f.input.setAttribute("aria-describedby", f.error.id);
    } else {
      f.error.textContent = "";
      f.error.hidden = true;
      f.input.removeAttribute("aria-invalid");
      f.input.removeAttribute("aria-describedby");
    }
  }

  function sentence(text) {
    text = String(text || "").trim();
    if (!text) return "";
    text = text.charAt(0).toUpperCase() + text.slice(1);
    return /[.!?]$/.test(text) ? text : text + ".";
  }

  function plural(n, one, many) { return n === 1 ? one : many; }

  function newKey() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") return window.crypto.randomUUID();
    // crypto.randomUUID needs a secure context; getRandomValues does not (a LAN address over http).
    const b = window.crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  async function readError(res) {
    try {
      const body = await res.json();
      if (body && body.error) return body.error;
    } catch (e) { /* not JSON: fall through */ }
    return { code: "http_" + res.status, message: "" };
  }

  function known(list) {
    return (Array.isArray(list) ? list : []).filter(function (id) { return seats.has(id); });
  }

  /** The hold token for this showtime from sessionStorage (private browsing may refuse it: then
   * the hold lives as long as the page). */
  function readToken() {
    try {
      const t = window.sessionStorage.getItem(TOKEN_KEY);
      return t && /^[0-9a-f]{32}$/i.test(t) ? t : null;
    } catch (e) {
      return null;
    }
  }

  function keepToken(token) {
    holdToken = token || null;
    try {
      if (holdToken) window.sessionStorage.setItem(TOKEN_KEY, holdToken);
      else window.sessionStorage.removeItem(TOKEN_KEY);
    } catch (e) { /* storage refused: the token lives in this page only */ }
  }

  // ---------- Messages ----------
  function clearMessages() {
    status.replaceChildren();
    alertBox.replaceChildren();
  }

  // ---------- Seats ----------
  function isMine(id) { return selected.indexOf(id) >= 0; }
  function isTaken(id) { return taken.has(id) && !isMine(id); }
  function isHeld(id) { return held.has(id) && !taken.has(id) && !isMine(id); }

  /** "Row F, seat 7 (F7), available": the id, and the visible number as a word of its own
   * (WCAG 2.5.3, label in name: a voice-control user says what they see). */
  function seatLabel(seat) {
    const parts = ["Row " + seat.rowLabel + ", " + (seat.wheelchair ? "wheelchair space " : "seat ") + seat.number + " (" + seat.id + ")"];
    if (isTaken(seat.id)) parts.push("taken");
    else if (isHeld(seat.id)) parts.push("held by another visitor");
    else if (isMine(seat.id)) parts.push("selected");
    else parts.push("available");
    return parts.join(", ");
  }

  function renderSeat(seat) {
    const b = seat.button;
    const mine = isMine(seat.id);
    const gone = isTaken(seat.id);
    const heldElsewhere = isHeld(seat.id);
    b.disabled = !loaded || closed;
    b.classList.toggle("is-taken", gone);
    b.classList.toggle("is-held", heldElsewhere);
    b.classList.toggle("is-selected", mine);
    b.classList.toggle("is-pending", adding.has(seat.id));
    b.setAttribute("aria-pressed", mine ? "true" : "false");
    if (gone || heldElsewhere) b.setAttribute("aria-disabled", "true");
    else b.removeAttribute("aria-disabled");
    b.setAttribute("aria-label", seatLabel(seat));
    b.tabIndex = seat === current ? 0 : -1;
  }

  function renderSeats() {
    if (!current || !seats.has(current.id)) current = firstSeat();
    seats.forEach(renderSeat);
    renderSummary();
  }

  function firstSeat() {
    if (selected.length) return seats.get(selected[0]);
    for (const row of rows) {
      for (const seat of row) if (!taken.has(seat.id) && !held.has(seat.id)) return seat;
    }
    return rows[0][0];
  }

  function takenCount() {
    let n = 0;
    taken.forEach(function (id) { if (seats.has(id)) n += 1; });
    return n;
  }

  function soldOut() { return loaded && !closed && selected.length === 0 && takenCount() >= seats.size; }

  function renderSummary() {
    const ids = selected.slice();
    const sold = soldOut();
    if (closed) {
      summary.textContent = "Booking is closed for this showtime.";
    } else if (sold) {
      summary.textContent = "Sold out: every seat is booked.";
    } else if (ids.length === 0) {
      summary.textContent = "No seats chosen yet. Choose up to " + MAX_SEATS + ".";
      chosenNote.textContent = "Choose seats on the map; they are held for you while you book.";
    } else {
      const left = MAX_SEATS - ids.length;
      summary.textContent =
        ids.length + " " + plural(ids.length, "seat", "seats") + " chosen: " + listSeats(ids) + "." +
        (left > 0 ? " You can add " + left + " more." : " That is the most for one booking.");
      chosenNote.textContent = "Remove a seat here or on the map.";
    }
    chosenList.replaceChildren.apply(
      chosenList,
      ids.map(function (id) {
        const seat = seats.get(id);
        const li = el("li", { class: "chosen-seat" + (seat && seat.wheelchair ? " chosen-seat--wheelchair" : "") });
        li.append(el("span", {}, id + (seat && seat.wheelchair ? " · wheelchair space" : "")));
        const remove = el("button", { type: "button", class: "chosen-seat__remove", "aria-label": "Remove seat " + id }, "×");
        remove.addEventListener("click", function () { toggle(seat); });
        li.append(remove);
        return li;
      })
    );
    chosenList.hidden = ids.length === 0;
    bookButton.textContent = ids.length ? "Book " + ids.length + " " + plural(ids.length, "seat", "seats") : "Book";
    bookButton.hidden = closed || sold;
    bookButton.disabled = busy || closed || !loaded || sold;
    bar.classList.toggle("is-closed", closed || sold);
    renderTimer();
    renderState(sold);
    if (countText && loaded && !closed) {
      let heldElsewhere = 0;
      held.forEach(function (id) { if (seats.has(id) && isHeld(id)) heldElsewhere += 1; });
      const free = seats.size - takenCount() - heldElsewhere;
      countText.textContent = countBase + " · " + free + " free" + (heldElsewhere ? ", " + heldElsewhere + " held" : "");
    }
  }

  /** The banner at the top: closed states are set by close(); sold out comes and goes with
   * the seat state (a cancellation frees seats again). */
  function renderState(sold) {
    if (closed) return;
    keysHint.hidden = sold;
    if (sold) {
      showState("Sold out", "Every seat for this showtime is booked. ", "Choose another showtime");
      grid.setAttribute("aria-disabled", "true");
    } else if (!stateBanner.hidden) {
      stateBanner.hidden = true;
      stateBanner.replaceChildren();
      grid.removeAttribute("aria-disabled");
    }
  }

  function showState(title, text, linkText) {
    stateBanner.replaceChildren(el("p", { class: "seat-picker__state-title" }, title));
    const p = el("p", {}, text);
    if (filmUrl && linkText) p.append(el("a", { class: "text-link", href: filmUrl }, linkText), ".");
    stateBanner.append(p);
    stateBanner.hidden = false;
    picker.classList.add("is-unbookable");
  }

  function toggle(seat) {
    if (!seat || closed || busy || !loaded) return;
    const at = selected.indexOf(seat.id);
    if (at >= 0) {
      selected.splice(at, 1);
      adding.delete(seat.id);
      removing.add(seat.id);
      clearMessages();
      queueHold(function () { return release(seat.id); });
    } else if (taken.has(seat.id)) {
      say("Seat " + seat.id + " is taken. Choose another seat.");
      return;
    } else if (held.has(seat.id)) {
      say("Seat " + seat.id + " is held by another visitor who is booking it now. Choose another seat, or try it again in a few minutes.");
      return;
    } else if (selected.length >= MAX_SEATS) {
      say("One booking holds at most " + MAX_SEATS + " seats. Remove one to choose " + seat.id + ".");
      return;
    } else {
      selected.push(seat.id);
      removing.delete(seat.id);
      adding.add(seat.id);
      if (seat.wheelchair) {
        say(seat.id + " is a wheelchair space, with no fixed seat. Please keep it for a wheelchair user unless you need it.");
      } else {
        clearMessages();
      }
      queueHold(function () { return hold([seat.id]); });
    }
    current = seat;
    renderSeats();
  }

  /** Applies a fresh seat state (a snapshot or a poll). A seat picked here that someone else
   * took is let go and named; not while a booking of ours is in flight or its outcome is
   * unknown, since then the "someone" may be us. */
  function applyState(takenList, heldList) {
    taken = new Set(takenList);
    held = new Set(heldList);
    afterChange();
  }

  /** Applies one change from the stream: newly taken, newly held, newly free. */
  function applyChange(change) {
    (change.taken || []).forEach(function (id) { taken.add(id); held.delete(id); });
    (change.held || []).forEach(function (id) { held.add(id); });
    (change.freed || []).forEach(function (id) { taken.delete(id); held.delete(id); });
    afterChange();
  }

  function afterChange() {
    const wasLoaded = loaded;
    loaded = true;
    if (!wasLoaded) {
      picker.classList.add("is-live");
      if (alertBox.querySelector(".booking-message--load")) alertBox.replaceChildren();
      if (status.textContent.indexOf("Loading") === 0) clearMessages();
    }
    if (!busy && !uncertain) {
      const lost = selected.filter(function (id) { return taken.has(id); });
      if (lost.length) {
        selected = selected.filter(function (id) { return !taken.has(id); });
        warn(
          "Sorry, " + listSeats(lost) + " " + plural(lost.length, "was", "were") +
            " just booked by someone else and " + plural(lost.length, "is", "are") + " no longer in your selection."
        );
      }
    }
    renderSeats();
  }

  // ---------- Holds ----------
  function queueHold(step) {
    holdChain = holdChain.then(step, step).catch(function () { /* each step reports its own failure */ });
    return holdChain;
  }

  async function holdRequest(method, body) {
    let res;
    try {
      res = await fetch(holdsUrl, {
        method: method,
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify(body),
      });
    } catch (e) {
      return { network: true };
    }
    if (res.ok) {
      try {
        return { hold: await res.json() };
      } catch (e) {
        return { network: true };
      }
    }
    return { status: res.status, error: await readError(res), retryAfter: res.headers.get("Retry-After") };
  }

  /** Holds `ids` (already shown chosen) under our token; `[]` asks what the token holds. */
  async function hold(ids, again) {
    if (closed) return;
    const body = { seats: ids };
    if (holdToken) body.hold_token = holdToken;
    const reply = await holdRequest("POST", body);
    ids.forEach(function (id) { adding.delete(id); });
    if (reply.hold) return applyHold(reply.hold);
    if (reply.status === 400 && reply.error.code === "invalid_hold_token" && holdToken && !again) {
      // A token the service no longer knows (or a mangled one): start a new hold.
      keepToken(null);
      return hold(ids, true);
    }
    unchoose(ids);
    if (reply.network) {
      if (ids.length) warn("We could not reach the booking service to hold " + listSeats(ids) + ". Check your connection and choose it again.");
    } else {
      holdRefused(reply, ids);
    }
    renderSeats();
  }

  async function release(id) {
    if (closed || !holdToken) {
      removing.delete(id);
      return renderSeats();
    }
    const reply = await holdRequest("DELETE", { hold_token: holdToken, seats: [id] });
    removing.delete(id);
    if (reply.hold) return applyHold(reply.hold);
    if (reply.status === 400 && reply.error.code === "invalid_hold_token") {
      keepToken(null);
      return renderSeats();
    }
    if (reply.status === 410 || reply.status === 404) return holdRefused(reply, [id]);
    // Not released: the hold simply runs out; say so rather than pretend.
    warn("We could not release " + id + " just now; it is held for you until your hold runs out.");
    renderSeats();
  }

  function unchoose(ids) {
    selected = selected.filter(function (id) { return ids.indexOf(id) < 0; });
  }

  function holdRefused(reply, ids) {
    const error = reply.error || {};
    const named = known(error.seats).length ? known(error.seats) : ids;
    switch (error.code) {
      case "seats_taken":
        named.forEach(function (id) { taken.add(id); held.delete(id); });
        warn("Sorry, " + listSeats(named) + " " + plural(named.length, "was", "were") + " just booked by someone else. Choose another seat.");
        break;
      case "seats_held":
        named.forEach(function (id) { held.add(id); });
        warn("Sorry, " + listSeats(named) + " " + plural(named.length, "is", "are") + " held by another visitor who is booking now. Choose another seat.");
        break;
      case "too_many_seats":
        warn("One booking holds at most " + MAX_SEATS + " seats. Remove one to choose another.");
        break;
      default:
        if (reply.status === 410) return close("This screening has started, so booking is closed.");
        if (reply.status === 404) return close("This showtime is no longer on the schedule, so it cannot be booked.");
        if (reply.status === 429) {
          const wait = parseInt(reply.retryAfter || "0", 10);
          warn("Too many seat changes from your connection. Wait " + (wait ? wait + " " + plural(wait, "second", "seconds") : "a moment") + " and choose again.");
        } else if (ids.length) {
          warn((sentence(error.message) || "The booking service could not hold " + listSeats(ids) + ".") + " Choose the seat again.");
        }
    }
    renderSeats();
  }

  /** The service's word on our hold: the token, its seats and its time left. Seats still on
   * their way (chosen or unchosen here, not answered yet) keep the visitor's latest word. */
  function applyHold(h) {
    if (h.hold_token) keepToken(h.hold_token);
    const theirs = known(h.seats);
    theirs.forEach(function (id) { held.add(id); });
    selected = selected.filter(function (id) { return theirs.indexOf(id) >= 0 || adding.has(id); });
    theirs.forEach(function (id) { if (!isMine(id) && !removing.has(id)) selected.push(id); });
    holdMs = Number(h.hold_ms) || holdMs;
    const left = Number(h.expires_in_ms);
    expiresAt = theirs.length && isFinite(left) ? Date.now() + Math.max(0, left) : null;
    renderSeats();
  }

  function clearHold() {
    expiresAt = null;
    warnedFor = null;
  }

  /** mm:ss left on our hold, the warning when it nears its end, and its end. */
  function renderTimer() {
    const live = expiresAt !== null && selected.length > 0 && !closed;
    clearTimeout(tick);
    tick = null;
    if (!live) {
      timer.hidden = true;
      bar.classList.remove("is-urgent");
      return;
    }
    const left = expiresAt - Date.now();
    if (left <= 0) return holdRanOut();
    const secs = Math.ceil(left / 1000);
    const text = Math.floor(secs / 60) + ":" + String(secs % 60).padStart(2, "0");
    timer.textContent = "Held for you: " + text;
    timer.hidden = false;
    const warnAt = Math.min(60000, (holdMs || 600000) / 5);
    const urgent = left <= warnAt;
    bar.classList.toggle("is-urgent", urgent);
    if (urgent && warnedFor !== expiresAt && !busy) {
      warnedFor = expiresAt;
      warn("Your seats are held for " + spoken(secs) + " more. Book now, or they go back to other visitors.");
    }
    // Wake at the next second shown, the warning or the end, whichever comes first (a hold of
    // seconds, in tests, warns less than a second before its end).
    const toWarning = left > warnAt ? left - warnAt : Infinity;
    tick = setTimeout(renderTimer, Math.max(20, Math.min(left % 1000 || 1000, toWarning, left)));
  }

  function spoken(secs) {
    if (secs >= 90) return Math.round(secs / 60) + " minutes";
    if (secs > 55) return "1 minute";
    return secs + " " + plural(secs, "second", "seconds");
  }

  function holdRanOut() {
    if (busy) return; // the booking in flight carries the token; its reply decides
    const gone = selected.filter(function (id) { return !adding.has(id); });
    selected = selected.filter(function (id) { return adding.has(id); });
    gone.forEach(function (id) { held.delete(id); });
    clearHold();
    warn(
      "Your hold ran out, so " + listSeats(gone) + " " + plural(gone.length, "was", "were") +
        " released for other visitors. Choose your seats again."
    );
    renderSeats();
  }

  // ---------- Keyboard: one tab stop, arrows move ----------
  function nearestInRow(row, col) {
    let best = null;
    row.forEach(function (seat) {
      if (!best || Math.abs(seat.col - col) < Math.abs(best.col - col)) best = seat;
    });
    return best;
  }

  function move(seat, key, ctrl) {
    const row = rows[seat.row];
    const i = row.indexOf(seat);
    switch (key) {
      case "ArrowLeft": return row[i - 1] || seat;
      case "ArrowRight": return row[i + 1] || seat;
      case "ArrowUp": return seat.row > 0 ? nearestInRow(rows[seat.row - 1], seat.col) : seat;
      case "ArrowDown": return seat.row < rows.length - 1 ? nearestInRow(rows[seat.row + 1], seat.col) : seat;
      case "Home": return ctrl ? rows[0][0] : row[0];
      case "End": {
        const last = ctrl ? rows[rows.length - 1] : row;
        return last[last.length - 1];
      }
      default: return null;
    }
  }

  grid.addEventListener("keydown", function (event) {
    const button = event.target.closest(".seat[data-seat]");
    if (!button || event.altKey || event.metaKey) return;
    const seat = seats.get(button.getAttribute("data-seat"));
    const next = move(seat, event.key, event.ctrlKey);
    if (!next) return;
    event.preventDefault();
    if (next !== seat) {
      current = next;
      seats.forEach(function (s) { s.button.tabIndex = s === current ? 0 : -1; });
      next.button.focus();
    }
  });

  grid.addEventListener("click", function (event) {
    const button = event.target.closest(".seat[data-seat]");
    if (button) toggle(seats.get(button.getAttribute("data-seat")));
  });

  grid.addEventListener("focusin", function (event) {
    const button = event.target.closest(".seat[data-seat]");
    if (!button) return;
    current = seats.get(button.getAttribute("data-seat"));
    seats.forEach(function (s) { s.button.tabIndex = s === current ? 0 : -1; });
    // A seat reached by keyboard in a panned room is brought into view, row label and all.
    button.scrollIntoView({ block: "nearest", inline: "nearest" });
  });

  // ---------- Closing ----------
  function close(message) {
    if (closed) return;
    closed = true;
    stopPolling();
    closeStream();
    clearTimeout(reopenTimer);
    selected = [];
    clearHold();
    renderSeats();
    view.hidden = true;
    grid.setAttribute("aria-disabled", "true");
    // With every seat off, a panned room needs a tab stop of its own to scroll by keyboard.
    const scroller = picker.querySelector(".seat-scroll");
    if (scroller) {
      scroller.tabIndex = 0;
      scroller.setAttribute("role", "region");
      scroller.setAttribute("aria-label", "Seat map, booking closed");
    }
    showState("Booking closed", message + " ", "See the film's other showtimes");
    if (countText) countText.textContent = countBase;
    barRow.hidden = true; // nothing to choose or book: the bar keeps only the message
    keysHint.hidden = true;
    warn(message);
  }

  const STARTED = "This screening has started, so booking is closed.";

  /** The page may stay open past the start: close it then, without asking the service. */
  function watchStart() {
    if (!isFinite(startsAt)) return;
    const wait = startsAt - Date.now();
    if (wait <= 0) return close(STARTED);
    // setTimeout holds at most ~24.8 days; a showtime further off is re-checked then.
    setTimeout(watchStart, Math.min(wait, 0x7fffffff));
  }

  // ---------- Live seats: the stream ----------
  function parse(event) {
    try {
      return JSON.parse(event.data) || {};
    } catch (e) {
      return null;
    }
  }

  function openStream() {
    reopenTimer = null;
    if (closed || stream) return;
    if (!window.EventSource) return refresh();
    stream = new EventSource(eventsUrl);
    const opened = stream;
    stream.addEventListener("open", function () { if (opened === stream) streamUp(); });
    stream.addEventListener("snapshot", function (event) {
      const data = parse(event);
      if (!data || opened !== stream) return;
      streamUp();
      applyState(known(data.taken), known(data.held));
    });
    stream.addEventListener("change", function (event) {
      const data = parse(event);
      if (!data || opened !== stream || !loaded) return;
      applyChange({ taken: known(data.taken), held: known(data.held), freed: known(data.freed) });
    });
    stream.addEventListener("closed", function () {
      if (opened === stream) close(STARTED);
    });
    stream.addEventListener("error", function () {
      if (opened !== stream) return;
      const wasUp = streaming;
      streaming = false;
      // A stream that was up and dropped: the browser reconnects at once with Last-Event-ID
      // (nothing missed, no snapshot). One that never came up (or an error reply: 404, 410,
      // no stream route) is closed and tried again later, so a page whose stream is blocked
      // polls every few seconds instead of also reconnecting every few seconds.
      if (!wasUp || stream.readyState === EventSource.CLOSED) {
        stream.close();
        stream = null;
        clearTimeout(reopenTimer);
        reopenTimer = setTimeout(openStream, reopenDelay);
        reopenDelay = Math.min(reopenDelay * 2, REOPEN_MAX_MS);
      }
      // Reconnecting (or given up): the seat map carries the page meanwhile; a 404 or 410
      // there says why the stream was refused.
      if (!polling && !pollTimer) refresh();
    });
    setTimeout(function () {
      if (!loaded && !closed && opened === stream) refresh();
    }, FIRST_SNAPSHOT_MS);
  }

  function streamUp() {
    streaming = true;
    reopenDelay = REOPEN_MS;
    stopPolling();
  }

  function closeStream() {
    streaming = false;
    if (stream) stream.close();
    stream = null;
  }

  // ---------- Live seats: polling, while the stream is down ----------
  /** Fetches the seat state. A reply to a request sent before our own last booking reply may
   * be older than what that reply told us, so it is dropped and asked for again. */
  async function refresh() {
    if (closed) return;
    if (polling) {
      refreshAgain = true;
      return;
    }
    polling = true;
    const asked = epoch;
    try {
      const res = await fetch(seatsUrl, { cache: "no-store", headers: { Accept: "application/json" } });
      if (asked !== epoch) {
        refreshAgain = true;
      } else if (res.ok) {
        const data = await res.json();
        if (!streaming || !loaded) applyState(known(data.taken), known(data.held));
      } else if (res.status === 410) {
        close(STARTED);
      } else if (res.status === 404) {
        close("This showtime is no longer on the schedule, so it cannot be booked.");
      } else if (!loaded) {
        loadFailed();
      }
    } catch (e) {
      if (!loaded) loadFailed();
    } finally {
      polling = false;
      if (refreshAgain) {
        refreshAgain = false;
        refresh();
      } else {
        schedule();
      }
    }
  }

  function loadFailed() {
    const retry = el("button", { type: "button", class: "btn btn--ghost" }, "Try again");
    retry.addEventListener("click", function () { stopPolling(); refresh(); });
    const box = el("div", { class: "booking-message booking-message--error booking-message--load" });
    box.append(el("p", {}, "The seat map could not be loaded from the booking service. Check your connection; we keep trying."), retry);
    alertBox.replaceChildren(box);
  }

  function schedule() {
    clearTimeout(pollTimer);
    pollTimer = null;
    if (!closed && !streaming && !document.hidden) pollTimer = setTimeout(refresh, POLL_MS);
  }

  function stopPolling() {
    clearTimeout(pollTimer);
    pollTimer = null;
  }

  document.addEventListener("visibilitychange", function () {
    if (document.hidden) stopPolling();
    else if (!streaming) refresh();
    renderTimer();
  });

  // ---------- Booking ----------
  function request() {
    const body = { name: nameField.input.value.trim(), seats: selected.slice() };
    const email = emailField.input.value.trim();
    if (email) body.email = email;
    if (holdToken) body.hold_token = holdToken;
    return body;
  }

  function validate(body) {
    let ok = true;
    setFieldError(nameField, "");
    setFieldError(emailField, "");
    if (body.seats.length === 0) {
      warn("Choose at least one seat on the map first.");
      ok = false;
    } else if (!body.name) {
      warn("Enter the name the booking is under, then press Book.");
    }
    if (!body.name) {
      setFieldError(nameField, "Enter the name the booking is under.");
      if (body.seats.length) nameField.input.focus();
      ok = false;
    }
    return ok;
  }

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    if (busy || closed) return;
    busy = true; // no seat changes while the holds settle
    await holdChain;
    busy = false;
    if (closed) return;
    const body = request();
    if (!validate(body)) return;
    // The token is part of the request but not of "the same request": a Retry after a lost
    // reply must carry the same key even if the hold was asked again meanwhile.
    const signature = JSON.stringify([body.name, body.email, body.seats]);
    // Same request as the last attempt: same key, so the server answers it at most once.
    if (!pending || pending.signature !== signature) pending = { key: newKey(), body: body, signature: signature };
    send(pending);
  });

  async function send(attempt) {
    busy = true;
    uncertain = false;
    panel.setAttribute("aria-busy", "true");
    bookButton.textContent = "Booking…";
    bookButton.disabled = true;
    say("Booking " + listSeats(attempt.body.seats) + "…");
    let res;
    try {
      res = await fetch(bookingsUrl, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json", "Idempotency-Key": attempt.key },
        body: JSON.stringify(attempt.body),
      });
    } catch (e) {
      res = null;
    }
    busy = false;
    epoch += 1;
    panel.removeAttribute("aria-busy");
    try {
      if (res === null) networkFailure(attempt);
      else if (res.status === 201) booked(await res.json(), attempt);
      else await refused(res, attempt);
    } catch (e) {
      // The reply could not be read: as unknown as a dropped connection.
      networkFailure(attempt);
    }
    renderSeats();
  }

  function retryButton(attempt, label) {
    const retry = el("button", { type: "button", class: "btn btn--ghost booking-retry" }, label || "Retry");
    retry.addEventListener("click", function () { send(attempt); });
    return retry;
  }

  function networkFailure(attempt) {
    uncertain = true;
    warn(
      "We could not reach the booking service, so we do not know yet whether your seats were booked. " +
        "Check your connection and retry: a retry can never book the same seats twice.",
      retryButton(attempt)
    );
  }

  async function refused(res, attempt) {
    const error = await readError(res);
    const message = sentence(error.message);
    switch (res.status) {
      case 409: {
        const gone = known(error.seats);
        const heldElsewhere = error.code === "seats_held";
        gone.forEach(function (id) { if (heldElsewhere) held.add(id); else taken.add(id); });
        unchoose(gone);
        warn(
          (gone.length
            ? "Sorry, " + listSeats(gone) + " " + (heldElsewhere
              ? plural(gone.length, "is", "are") + " held by another visitor. "
              : plural(gone.length, "was", "were") + " just booked by someone else. ")
            : "Sorry, some of your seats were just booked by someone else. ") +
            "Nothing was booked. " +
            (selected.length ? "Your other seats are still chosen: book them, or choose again." : "Choose other seats and book again.")
        );
        if (!streaming) refresh();
        return;
      }
      case 410:
        close("This screening has started, so booking is closed. Nothing was booked.");
        return;
      case 404:
        close("This showtime is no longer on the schedule. Nothing was booked.");
        return;
      case 429: {
        const wait = parseInt(res.headers.get("Retry-After") || error.retry_after || "0", 10);
        warn(
          "Too many booking attempts from your connection. Nothing was booked" +
            (wait ? "; try again in " + wait + " " + plural(wait, "second", "seconds") + "." : "; try again shortly."),
          retryButton(attempt, "Try again")
        );
        return;
      }
      default:
        break;
    }
    if (res.status >= 500) {
      uncertain = true;
      warn(
        (message || "The booking service had a problem.") + " Retry when you are ready: a retry can never book twice.",
        retryButton(attempt)
      );
      return;
    }
    // 400 / 422: the request itself is wrong; say what the service said, next to the field.
    pending = null;
    if (error.code === "invalid_name") {
      setFieldError(nameField, message || "Check the name.");
      nameField.input.focus();
      clearMessages();
    } else if (error.code === "invalid_email") {
      setFieldError(emailField, message || "Check the email address.");
      emailField.input.focus();
      clearMessages();
    } else if (error.code === "invalid_hold_token") {
      keepToken(null);
      warn("Your seat hold was not recognised, so nothing was booked. Press Book again.");
    } else {
      warn(message || "The booking service refused the booking (" + res.status + "). Nothing was booked.");
    }
  }

  function booked(booking, attempt) {
    pending = null;
    uncertain = false;
    (booking.seats || attempt.body.seats).forEach(function (id) { taken.add(id); held.delete(id); });
    selected = [];
    // The booking took every seat of the hold; the next choice starts a new one.
    keepToken(null);
    clearHold();
    clearMessages();
    setFieldError(nameField, "");
    setFieldError(emailField, "");
    showConfirmation(booking);
  }

  function showConfirmation(booking) {
    const reference = String(booking.reference || "");
    const token = String(booking.manage_token || "");
    const showtime = booking.showtime || {};
    const film = (showtime.film && showtime.film.title) || (document.getElementById("book-title") || {}).textContent || "";
    const ids = booking.seats || [];
    const manageUrl = ui.manageUrl(reference, token);
    // Closing the tab must not lose the booking: this browser lists it under "My tickets".
    const remembered = token !== "" && ui.myTickets.remember(booking, token);

    const box = el("div", { class: "booking-confirmation", tabindex: "-1" });
    box.append(el("p", { class: "eyebrow" }, "Booked"));
    const title = el("h2", { class: "booking-confirmation__title" }, "Your reference is ");
    title.append(el("strong", { class: "booking-ref", "data-reference": reference }, reference));
    box.append(title);

    const facts = el("dl", { class: "booking-facts" });
    [
      ["Film", film.trim()],
      ["When", formatWhen(showtime.starts_at, showtime.ends_at) + (showtime.studio ? " · Studio " + showtime.studio : "")],
      [plural(ids.length, "Seat", "Seats"), listSeats(ids)],
      ["Name", booking.name || ""],
    ].forEach(function (pair) {
      const item = el("div", { class: "booking-facts__item" });
      item.append(el("dt", {}, pair[0]), el("dd", {}, pair[1]));
      facts.append(item);
    });
    // The ticket the door scans, beside the facts (when the service sends one).
    const stub = ui.ticketStub(booking);
    if (stub) {
      const pass = el("div", { class: "ticket-pass" });
      pass.append(stub, facts);
      box.append(pass);
    } else {
      box.append(facts);
    }

    const keep = el("p", { class: "booking-confirmation__keep" });
    if (remembered) {
      keep.append(
        "This browser remembers this booking under ",
        el("a", { href: ui.siteUrl("booking", {}, "/booking/") }, "My tickets"),
        ". Keep the link too: it opens the booking on any device. The secret token in it is shown only this once, here."
      );
    } else {
      keep.textContent =
        "Keep this link: it is the only way to see or cancel this booking (this browser could not remember it). " +
        "The secret token in it is shown only this once, here.";
    }
    box.append(keep);

    const linkRow = el("p", { class: "booking-confirmation__actions" });
    const link = el("a", { class: "btn btn--primary manage-link", href: manageUrl }, "Manage or cancel this booking");
    const another = el("button", { type: "button", class: "btn btn--ghost" }, "Book more seats");
    another.addEventListener("click", function () {
      box.remove();
      view.hidden = false;
      form.hidden = false;
      bar.hidden = false;
      renderSeats();
      if (current) current.button.focus();
    });
    linkRow.append(link);
    const calendar = ui.calendarLink(booking, apiBase);
    if (calendar) linkRow.append(calendar);
    linkRow.append(another);
    box.append(linkRow);
    const url = el("p", { class: "booking-confirmation__url" });
    url.append("Link: ", el("code", {}, new URL(manageUrl, window.location.href).href));
    box.append(url);

    view.hidden = true;
    bar.hidden = true; // nothing to book until "Book more seats"
    panel.querySelectorAll(".booking-confirmation").forEach(function (old) { old.remove(); });
    panel.prepend(box);
    box.focus();
  }

  // ---------- Start ----------
  /** On a narrow screen the room pans: start at its centre aisle, not its left wall. */
  function centreRoom() {
    const scroller = picker.querySelector(".seat-scroll");
    if (scroller && scroller.scrollWidth > scroller.clientWidth) {
      scroller.scrollLeft = (scroller.scrollWidth - scroller.clientWidth) / 2;
    }
  }

  nameField.input.addEventListener("input", function () { setFieldError(nameField, ""); });
  emailField.input.addEventListener("input", function () { setFieldError(emailField, ""); });
  centreRoom();
  renderSeats();
  say("Loading the seats that are still free…");
  watchStart();
  openStream();
  // A reload: the seats this page held are asked for again (`seats: []` changes nothing).
  if (holdToken) queueHold(function () { return hold([]); });
})();
