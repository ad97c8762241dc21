/* The Time Gallery: the seat picker on a booking page (/book/<showtime-id>/).
 *
 * Plain JavaScript, no framework, no build step. The page already holds the whole seat map as
 * disabled buttons (so without JavaScript it still shows the layout); this script turns them on
 * and keeps them true to the booking service:
 *
 *  - State comes from `GET /api/showtimes/{id}/seats` and is polled every few seconds while the
 *    tab is visible, so a seat someone else books turns taken within seconds. Polling (not a
 *    stream) because it needs nothing from the server but the route it already has, and it
 *    pauses by itself when the tab is hidden.
 *  - Taken seats stay focusable (`aria-disabled`, not `disabled`): a keyboard or screen-reader
 *    user walking the rows hears "taken" instead of finding holes in the grid.
 *  - The grid is one tab stop (roving tabindex). Arrow keys move by seat, across aisles, and
 *    between rows to the nearest seat in the same column; Enter or Space toggles.
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

  const MAX_SEATS = 8;
  const POLL_MS = 3000;
  const showtimeId = picker.getAttribute("data-showtime-id") || "";
  const apiBase = (picker.getAttribute("data-api-url") || "").replace(/\/+$/, "");
  const timeZone = picker.getAttribute("data-time-zone") || undefined;
  const seatsUrl = apiBase + "/api/showtimes/" + encodeURIComponent(showtimeId) + "/seats";
  const bookingsUrl = apiBase + "/api/showtimes/" + encodeURIComponent(showtimeId) + "/bookings";

  const grid = picker.querySelector(".seat-grid");
  const buttons = Array.prototype.slice.call(picker.querySelectorAll(".seat[data-seat]"));
  if (!grid || buttons.length === 0) return;

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

  // ---------- State ----------
  let taken = new Set();
  let selected = []; // seat ids in the order they were picked
  let current = null; // the seat that holds the grid's tab stop
  let loaded = false;
  let closed = false; // the screening has started (410) or is gone (404)
  let busy = false; // a booking request is in flight
  let uncertain = false; // the last booking attempt's outcome is unknown (network failure)
  let pending = null; // {key, body, signature}: the attempt a Retry re-sends
  let pollTimer = null;
  let polling = false; // a seat-state request is in flight
  let refreshAgain = false; // ask once more as soon as it is back
  let epoch = 0; // bumped by every booking reply, which is fresher than any poll sent before it

  // ---------- The panel ----------
  panel.removeAttribute("aria-live"); // the regions inside announce on their own, once each
  panel.innerHTML = "";
  panel.classList.add("is-ready");

  const view = el("div", { class: "booking-panel__body" });
  const summaryBox = el("div", { class: "booking-summary" });
  const summaryTitle = el("h2", { class: "booking-panel__title", id: "booking-summary-title" }, "Your seats");
  const summary = el("p", { class: "booking-summary__text", id: "booking-summary", "aria-live": "polite" });
  const chosenList = el("ul", { class: "chosen-seats", "aria-labelledby": "booking-summary-title" });
  summaryBox.append(summaryTitle, summary, chosenList);

  const form = el("form", { class: "booking-form", novalidate: "", "aria-labelledby": "booking-form-title" });
  const formTitle = el("h2", { class: "booking-panel__title", id: "booking-form-title" }, "Your details");
  const nameField = field("booking-name", "Name", "text", { autocomplete: "name", required: "", "aria-required": "true" });
  const emailField = field("booking-email", "Email", "email", { autocomplete: "email", inputmode: "email" }, "optional, for your own records");
  const bookButton = el("button", { type: "submit", class: "btn btn--primary booking-form__submit" }, "Book");
  form.append(formTitle, nameField.wrap, emailField.wrap, bookButton);

  const status = el("div", { class: "booking-status", role: "status" });
  const alertBox = el("div", { class: "booking-alert", role: "alert" });
  view.append(summaryBox, form);
  panel.append(view, status, alertBox);

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

  // ---------- Messages ----------
  function clearMessages() {
    status.replaceChildren();
    alertBox.replaceChildren();
  }

  // ---------- Seats ----------
  /** "Row F, seat 7 (F7), available": the id, and the visible number as a word of its own
   * (WCAG 2.5.3, label in name: a voice-control user says what they see). */
  function seatLabel(seat) {
    const parts = ["Row " + seat.rowLabel + ", " + (seat.wheelchair ? "wheelchair space " : "seat ") + seat.number + " (" + seat.id + ")"];
    if (taken.has(seat.id) && selected.indexOf(seat.id) < 0) parts.push("taken");
    else if (selected.indexOf(seat.id) >= 0) parts.push("selected");
    else parts.push("available");
    return parts.join(", ");
  }

  function renderSeat(seat) {
    const b = seat.button;
    const isSelected = selected.indexOf(seat.id) >= 0;
    const isTaken = taken.has(seat.id) && !isSelected;
    b.disabled = !loaded || closed;
    b.classList.toggle("is-taken", isTaken);
    b.classList.toggle("is-selected", isSelected);
    b.setAttribute("aria-pressed", isSelected ? "true" : "false");
    if (isTaken) b.setAttribute("aria-disabled", "true");
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
      for (const seat of row) if (!taken.has(seat.id)) return seat;
    }
    return rows[0][0];
  }

  function renderSummary() {
    const ids = selected.slice();
    if (ids.length === 0) {
      summary.textContent = "No seats chosen yet. Choose up to " + MAX_SEATS + ".";
    } else {
      const left = MAX_SEATS - ids.length;
      summary.textContent =
        ids.length + " " + plural(ids.length, "seat", "seats") + " chosen: " + listSeats(ids) + "." +
        (left > 0 ? " You can add " + left + " more." : " That is the most one booking can hold.");
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
    bookButton.disabled = busy || closed || !loaded;
    if (countText && loaded && !closed) {
      const free = seats.size - Array.from(taken).filter(function (id) { return seats.has(id); }).length;
      countText.textContent = countBase + " · " + free + " free";
    }
  }

  function toggle(seat) {
    if (!seat || closed || busy || !loaded) return;
    const at = selected.indexOf(seat.id);
    if (at >= 0) {
      selected.splice(at, 1);
    } else if (taken.has(seat.id)) {
      say("Seat " + seat.id + " is taken. Choose another seat.");
      return;
    } else if (selected.length >= MAX_SEATS) {
      say("One booking holds at most " + MAX_SEATS + " seats. Remove one to choose " + seat.id + ".");
      return;
    } else {
      selected.push(seat.id);
      if (seat.wheelchair) {
        say(seat.id + " is a wheelchair space, with no fixed seat. Please keep it for a wheelchair user unless you need it.");
      } else {
        clearMessages();
      }
    }
    current = seat;
    renderSeats();
  }

  /** Applies a fresh list of taken seats. A seat picked here that someone else took is let go
   * and named; not while a booking of ours is in flight or its outcome is unknown, since then
   * the "someone" may be us. */
  function applyTaken(list) {
    taken = new Set(list);
    if (busy || uncertain) return renderSeats();
    const lost = selected.filter(function (id) { return taken.has(id); });
    if (lost.length) {
      selected = selected.filter(function (id) { return !taken.has(id); });
      warn(
        "Sorry, " + listSeats(lost) + " " + plural(lost.length, "was", "were") +
          " just booked by someone else and " + plural(lost.length, "is", "are") + " no longer in your selection."
      );
    }
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
  });

  // ---------- Loading and polling ----------
  function close(message) {
    closed = true;
    stopPolling();
    selected = [];
    renderSeats();
    view.hidden = true;
    warn(message);
  }

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
        const wasLoaded = loaded;
        loaded = true;
        applyTaken(Array.isArray(data.taken) ? data.taken : []);
        if (!wasLoaded) {
          picker.classList.add("is-live");
          if (alertBox.querySelector(".booking-message--load")) alertBox.replaceChildren();
        }
      } else if (res.status === 410) {
        close("This screening has started, so booking is closed. Choose another showtime on the film's page.");
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
    if (!closed && !document.hidden) pollTimer = setTimeout(refresh, POLL_MS);
  }

  function stopPolling() {
    clearTimeout(pollTimer);
    pollTimer = null;
  }

  document.addEventListener("visibilitychange", function () {
    if (document.hidden) stopPolling();
    else refresh();
  });

  // ---------- Booking ----------
  function request() {
    const body = { name: nameField.input.value.trim(), seats: selected.slice() };
    const email = emailField.input.value.trim();
    if (email) body.email = email;
    return body;
  }

  function validate(body) {
    let ok = true;
    setFieldError(nameField, "");
    setFieldError(emailField, "");
    if (!body.name) {
      setFieldError(nameField, "Enter the name the booking is under.");
      ok = false;
    }
    if (body.seats.length === 0) {
      warn("Choose at least one seat on the map first.");
      ok = false;
    }
    if (!ok) {
      if (!body.name) nameField.input.focus();
    }
    return ok;
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (busy || closed) return;
    const body = request();
    if (!validate(body)) return;
    const signature = JSON.stringify(body);
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
        const gone = (error.seats || []).filter(function (id) { return seats.has(id); });
        gone.forEach(function (id) { taken.add(id); });
        selected = selected.filter(function (id) { return gone.indexOf(id) < 0; });
        warn(
          (gone.length
            ? "Sorry, " + listSeats(gone) + " " + plural(gone.length, "was", "were") + " just booked by someone else. "
            : "Sorry, some of your seats were just booked by someone else. ") +
            "Nothing was booked. " +
            (selected.length ? "Your other seats are still selected: book them, or choose again." : "Choose other seats and book again.")
        );
        refresh();
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
    } else {
      warn(message || "The booking service refused the booking (" + res.status + "). Nothing was booked.");
    }
  }

  function booked(booking, attempt) {
    pending = null;
    uncertain = false;
    (booking.seats || attempt.body.seats).forEach(function (id) { taken.add(id); });
    selected = [];
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
    const manageUrl = "/booking/?ref=" + encodeURIComponent(reference) + "&token=" + encodeURIComponent(token);

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
    box.append(facts);

    const keep = el(
      "p",
      { class: "booking-confirmation__keep" },
      "Keep this link: it is the only way to see or cancel this booking. The secret token in it is shown only this once, here."
    );
    box.append(keep);

    const linkRow = el("p", { class: "booking-confirmation__actions" });
    const link = el("a", { class: "btn btn--primary manage-link", href: manageUrl }, "Manage or cancel this booking");
    const another = el("button", { type: "button", class: "btn btn--ghost" }, "Book more seats");
    another.addEventListener("click", function () {
      box.remove();
      view.hidden = false;
      form.hidden = false;
      renderSeats();
      if (current) current.button.focus();
    });
    linkRow.append(link, another);
    box.append(linkRow);
    const url = el("p", { class: "booking-confirmation__url" });
    url.append("Link: ", el("code", {}, new URL(manageUrl, window.location.href).href));
    box.append(url);

    view.hidden = true;
    panel.querySelectorAll(".booking-confirmation").forEach(function (old) { old.remove(); });
    panel.prepend(box);
    box.focus();
  }

  // ---------- Start ----------
  nameField.input.addEventListener("input", function () { setFieldError(nameField, ""); });
  emailField.input.addEventListener("input", function () { setFieldError(emailField, ""); });
  renderSeats();
  say("Loading the seats that are still free…");
  refresh().then(function () {
    if (loaded && !closed && status.textContent.indexOf("Loading") === 0) clearMessages();
  });
})();
