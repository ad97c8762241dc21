/* The Time Gallery: the manage-booking page (/booking/).
 *
 * The confirmation links here with `?ref=<reference>&token=<manage token>`: the page shows that
 * booking as a ticket (the QR code and check-in code the door reads, the film, time, studio and
 * seats; print it, add it to a calendar, or cancel it). The token goes to the booking service
 * in the `X-Manage-Token` header, never in the API URL, so it stays out of the service's access
 * logs. A wrong token and an unknown reference get the same answer from the service, `404`,
 * and the same words here.
 *
 * Without both in the query string the page lists "my tickets", the bookings this browser
 * remembers (`TiketaBookingUI.myTickets`: made here, or opened here from their link), newest
 * first, each opening its ticket; offers a small form to type a reference and token (or paste
 * the whole link); and "Lost your link?", which asks the booking service to mail an address
 * the links of its bookings again.
 */
(function () {
  "use strict";
  const ui = window.TiketaBookingUI;
  const el = ui.el;
  const listSeats = ui.listSeats;
  const myTickets = ui.myTickets;
  function formatWhen(startsAt, endsAt) { return ui.formatWhen(startsAt, endsAt, timeZone, true); }
  function say(text) { ui.messenger(status, alertBox).say(text); }
  function warn(text, action) { ui.messenger(status, alertBox).warn(text, action); }

  const root = document.getElementById("manage-booking");
  if (!root || !window.fetch) return;

  const apiBase = (root.getAttribute("data-api-url") || "").replace(/\/+$/, "");
  const timeZone = root.getAttribute("data-time-zone") || undefined;
  const bookingPage = ui.siteUrl("booking", {}, "/booking/");
  const NOT_FOUND =
    "We found no booking with this reference and token. Check that you opened the whole link from your confirmation; " +
    "a booking reference looks like TK-7Q4M-2XHD.";

  root.removeAttribute("aria-live"); // the message regions below announce on their own
  root.replaceChildren();
  const content = el("div", { class: "manage-booking__content" });
  const status = el("div", { class: "booking-status", role: "status" });
  const alertBox = el("div", { class: "booking-alert", role: "alert" });
  // "Lost your link?" comes after the messages, which then stay next to the form they answer.
  const lost = el("div", { class: "manage-booking__lost" });
  root.append(content, status, alertBox, lost);

  // ---------- Helpers ----------
  function bookingUrl(reference) {
    return apiBase + "/api/bookings/" + encodeURIComponent(reference);
  }

  async function call(method, reference, token) {
    let res;
    try {
      res = await fetch(bookingUrl(reference), {
        method: method,
        cache: "no-store",
        headers: { Accept: "application/json", "X-Manage-Token": token },
      });
    } catch (e) {
      return { network: true };
    }
    let body = null;
    try { body = await res.json(); } catch (e) { /* not JSON */ }
    return { status: res.status, body: body };
  }

  function sentence(text) {
    text = String(text || "").trim();
    if (!text) return "";
    text = text.charAt(0).toUpperCase() + text.slice(1);
    return /[.!?]$/.test(text) ? text : text + ".";
  }

  function errorText(result, fallback) {
    return sentence(result.body && result.body.error && result.body.error.message) || fallback;
  }

  function hasStarted(startsAt) {
    const at = Date.parse(startsAt || "");
    return isFinite(at) && at <= Date.now();
  }

  function field(id, label, type, value, attrs) {
    const wrap = el("div", { class: "field" });
    const lab = el("label", { for: id, class: "field__label" }, label);
    const box = el("input", Object.assign({ id: id, type: type, class: "field__input" }, attrs));
    box.value = value || "";
    const error = el("p", { class: "field__error", id: id + "-error", hidden: "" });
    wrap.append(lab, box, error);
    return { wrap: wrap, input: box, error: error };
  }

  function setFieldError(f, message) {
    f.error.textContent = message || "";
    f.error.hidden = !message;
    if (message) {
      f.input.setAttribute("aria-invalid", "true");
      f.input.setAttribute("aria-describedby", f.error.id);
    } else {
      f.input.removeAttribute("aria-invalid");
      f.input.removeAttribute("aria-describedby");
    }
  }

  /** A heading that focus can be moved to when what had it is gone. */
  function focusTarget(node) {
    node.tabIndex = -1;
    node.focus();
  }

  // ---------- The page without a booking: my tickets, the form, lost link ----------
  function showStart(reference, token, note) {
    content.replaceChildren(myTicketsSection(), findForm(reference, token, note));
    lost.replaceChildren(recoverForm());
  }

  // ---------- My tickets on this device ----------
  function myTicketsSection() {
    const section = el("section", { class: "my-tickets", "aria-labelledby": "my-tickets-title" });
    const head = el("div", { class: "my-tickets__head" });
    const title = el("h2", { class: "booking-panel__title", id: "my-tickets-title" }, "My tickets on this device");
    head.append(title);
    // Its own message regions, in the page before anything is said in them, by the list.
    const note = el("div", { class: "booking-status", role: "status" });
    const alarm = el("div", { class: "booking-alert", role: "alert" });
    const messages = ui.messenger(note, alarm);
    section.append(head, note, alarm);
    const tickets = myTickets.list();
    if (tickets.length === 0) {
      section.append(emptyNote());
      return section;
    }
    section.append(
      el("p", { class: "my-tickets__lede" }, "Bookings made or opened in this browser, newest first. Forgetting one here does not cancel it.")
    );
    const list = el("ul", { class: "my-tickets__list" });
    tickets.forEach(function (t) { list.append(ticketItem(t, list, title, messages)); });
    section.append(list);

    const forgetAll = el("button", { type: "button", class: "btn btn--ghost my-tickets__forget-all" }, "Forget all");
    forgetAll.addEventListener("click", function () { confirmForgetAll(list, title, forgetAll, messages); });
    head.append(forgetAll);
    refreshStates(tickets, list);
    return section;
  }

  function emptyNote() {
    return el(
      "p",
      { class: "my-tickets__empty" },
      "No bookings are remembered in this browser. Bookings you make here, or open here from their link, are listed on this page."
    );
  }

  /** What to say of a remembered booking: cancelled, past, confirmed, or no longer found. */
  function stateOf(t, missing) {
    if (missing) return { key: "missing", label: "Not found" };
    if (t.status === "cancelled") return { key: "cancelled", label: "Cancelled" };
    if (hasStarted(t.starts_at)) return { key: "past", label: "Past" };
    return { key: "active", label: "Confirmed" };
  }

  function ticketItem(t, list, title, messages) {
    const item = el("li", { class: "my-ticket", "data-reference": t.reference });
    const main = el("div", { class: "my-ticket__main" });
    const name = el("h3", { class: "my-ticket__film" });
    // The link's name says which booking it opens; the token stays in its href only.
    name.append(el("a", { class: "my-ticket__open", href: ui.manageUrl(t.reference, t.token) }, t.film || "Booking " + t.reference));
    const stateBadge = el("span", { class: "my-ticket__state" });
    const top = el("div", { class: "my-ticket__top" });
    top.append(name, stateBadge);
    main.append(top);
    if (t.starts_at) main.append(el("p", { class: "my-ticket__when" }, formatWhen(t.starts_at, t.ends_at)));
    const details = [];
    if (t.studio != null) details.push("Studio " + t.studio);
    if (t.seats.length) details.push((t.seats.length === 1 ? "Seat " : "Seats ") + listSeats(t.seats));
    const line = el("p", { class: "my-ticket__details" }, details.join(" · ") + (details.length ? " · " : ""));
    line.append(el("span", { class: "booking-ref" }, t.reference));
    main.append(line);

    const forget = el("button", { type: "button", class: "btn btn--ghost my-ticket__forget", "aria-label": "Forget booking " + t.reference }, "Forget");
    forget.addEventListener("click", function () {
      if (!myTickets.forget(t.reference)) {
        messages.warn("This browser would not change what it remembers (its storage is off or full), so the booking is still listed.");
        return;
      }
      const next = item.nextElementSibling || item.previousElementSibling;
      item.remove();
      messages.say("Forgot booking " + t.reference + " on this device. It is still booked: its link still opens it.");
      if (next) next.querySelector(".my-ticket__open").focus();
      else emptied(list, title);
    });
    item.append(main, forget);
    item.setState = function (missing) {
      const state = stateOf(t, missing);
      item.setAttribute("data-state", state.key);
      stateBadge.textContent = state.label;
    };
    item.setState(false);
    return item;
  }

  function emptied(list, title) {
    const section = list.closest(".my-tickets");
    section.querySelectorAll(".my-tickets__lede, .my-tickets__list, .my-tickets__forget-all, .my-tickets__confirm").forEach(function (n) { n.remove(); });
    section.append(emptyNote());
    focusTarget(title);
  }

  function confirmForgetAll(list, title, button, messages) {
    const count = list.children.length;
    const box = el("div", { class: "booking-card__confirm my-tickets__confirm", role: "group", "aria-labelledby": "forget-all-question" });
    box.append(
      el(
        "p",
        { id: "forget-all-question" },
        "Forget " + (count === 1 ? "the booking" : "all " + count + " bookings") + " on this device? " +
          (count === 1 ? "It stays booked; its link opens it again." : "They stay booked; their links open them again.")
      )
    );
    const yes = el("button", { type: "button", class: "btn btn--primary" }, "Yes, forget all");
    const no = el("button", { type: "button", class: "btn btn--ghost" }, "Keep them");
    no.addEventListener("click", function () {
      box.remove();
      button.hidden = false;
      button.focus();
    });
    yes.addEventListener("click", function () {
      if (!myTickets.forgetAll()) {
        messages.warn("This browser would not change what it remembers (its storage is off or full), so the bookings are still listed.");
        return;
      }
      messages.say("Forgot every booking on this device. They are still booked: their links still open them.");
      emptied(list, title);
    });
    box.append(yes, no);
    button.hidden = true;
    list.before(box);
    yes.focus();
  }

  /** Asks the booking service how each coming booking stands (the request a manage link makes,
   * with its token in the header), so one cancelled elsewhere says so here. */
  function refreshStates(tickets, list) {
    tickets.forEach(async function (t) {
      if (t.status === "cancelled" || hasStarted(t.starts_at)) return;
      const result = await call("GET", t.reference, t.token);
      const item = Array.prototype.filter.call(list.children, function (li) { return li.getAttribute("data-reference") === t.reference; })[0];
      if (result.status === 200 && result.body) {
        myTickets.remember(result.body, t.token);
        t.status = result.body.status === "cancelled" ? "cancelled" : "active";
        if (item) item.setState(false);
      } else if (result.status === 404 && item) {
        item.setState(true);
      }
    });
  }

  // ---------- The form, to open a booking by its reference and token ----------
  function findForm(reference, token, note) {
    const form = el("form", { class: "manage-form booking-form", novalidate: "", "aria-labelledby": "find-title" });
    form.append(el("h2", { class: "booking-panel__title", id: "find-title" }, "Find your booking"));
    form.append(
      el("p", { class: "manage-form__lede" }, note || "Type the booking reference and the token from your confirmation link, or paste the whole link into the first box.")
    );
    const refInput = field("manage-ref", "Booking reference", "text", reference, { autocomplete: "off", spellcheck: "false", autocapitalize: "characters", placeholder: "TK-7Q4M-2XHD" });
    const tokenInput = field("manage-token", "Token", "text", token, { autocomplete: "off", spellcheck: "false" });
    const submit = el("button", { type: "submit", class: "btn btn--primary" }, "Show booking");
    form.append(refInput.wrap, tokenInput.wrap, submit);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      let ref = refInput.input.value.trim();
      let tok = tokenInput.input.value.trim();
      // A pasted link: take both from it.
      const pasted = parseLink(ref);
      if (pasted) {
        ref = pasted.ref;
        tok = tok || pasted.token;
      }
      if (!ref || !tok) {
        warn("Enter both the booking reference and the token.");
        (ref ? tokenInput : refInput).input.focus();
        return;
      }
      const url = new URL(ui.manageUrl(ref, tok), window.location.href);
      window.history.replaceState(null, "", url.pathname + url.search);
      load(ref, tok, true);
    });
    return form;
  }

  function parseLink(text) {
    if (text.indexOf("ref=") < 0) return null;
    try {
      const params = new URL(text, window.location.href).searchParams;
      return { ref: (params.get("ref") || "").trim(), token: (params.get("token") || "").trim() };
    } catch (e) {
      return null;
    }
  }

  // ---------- Lost your link? ----------
  function recoverForm() {
    const form = el("form", { class: "recover-form booking-form", novalidate: "", "aria-labelledby": "recover-title" });
    form.append(
      el("h2", { class: "booking-panel__title", id: "recover-title" }, "Lost your link?"),
      el("p", { class: "manage-form__lede" }, "Enter the email address you booked with: we send it the links to its bookings for coming showtimes.")
    );
    const email = field("recover-email", "Email", "email", "", { autocomplete: "email", inputmode: "email", required: "", "aria-required": "true" });
    const submit = el("button", { type: "submit", class: "btn btn--primary" }, "Send my links");
    const note = el("div", { class: "booking-status recover-status", role: "status" });
    const alarm = el("div", { class: "booking-alert recover-alert", role: "alert" });
    const messages = ui.messenger(note, alarm);
    form.append(email.wrap, submit, note, alarm);
    email.input.addEventListener("input", function () { setFieldError(email, ""); });

    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      const address = email.input.value.trim();
      setFieldError(email, "");
      messages.say("");
      if (!address) {
        setFieldError(email, "Enter the email address you booked with.");
        email.input.focus();
        return;
      }
      submit.disabled = true;
      form.setAttribute("aria-busy", "true");
      messages.say("Sending…");
      let res = null;
      let body = null;
      try {
        res = await fetch(apiBase + "/api/bookings/recover", {
          method: "POST",
          cache: "no-store",
          headers: { "Content-Type": "application/json", Accept: "application/json" },
          body: JSON.stringify({ email: address }),
        });
        try { body = await res.json(); } catch (e) { /* not JSON */ }
      } catch (e) {
        res = null;
      }
      submit.disabled = false;
      form.removeAttribute("aria-busy");
      const error = (body && body.error) || {};
      if (res === null) {
        messages.warn("We could not reach the booking service. Check your connection and try again.");
      } else if (res.status === 202) {
        // The service says the same whether or not the address has bookings; so do we.
        messages.say(sentence(body && body.message) || "If that address has bookings for coming showtimes, a message with their links is on its way.");
      } else if (res.status === 422 || res.status === 400) {
        messages.say("");
        setFieldError(email, sentence(error.message) || "Check the email address.");
        email.input.focus();
      } else if (res.status === 429) {
        messages.warn("Too many requests, try again later.");
      } else {
        messages.warn(sentence(error.message) || "The booking service could not send the links (" + res.status + "). Try again shortly.");
      }
    });
    return form;
  }

  // ---------- The booking ----------
  async function load(reference, token, focus) {
    content.replaceChildren();
    lost.replaceChildren();
    say("Looking up booking " + reference + "…");
    const result = await call("GET", reference, token);
    if (result.network) {
      const retry = el("button", { type: "button", class: "btn btn--ghost" }, "Try again");
      retry.addEventListener("click", function () { load(reference, token, true); });
      warn("We could not reach the booking service. Check your connection and try again.", retry);
      return;
    }
    if (result.status === 200 && result.body) {
      say("");
      // Opened from its link: this browser lists it under "my tickets" from now on.
      myTickets.remember(result.body, token);
      showBooking(result.body, token, focus);
      return;
    }
    if (result.status === 404) {
      showStart(reference, "", "");
      warn(NOT_FOUND);
      return;
    }
    warn(errorText(result, "The booking service could not show this booking (" + result.status + "). Try again shortly."));
  }

  function showBooking(booking, token, focus) {
    const showtime = booking.showtime || {};
    const film = showtime.film || {};
    const seats = booking.seats || [];
    const cancelled = booking.status === "cancelled";
    const started = hasStarted(showtime.starts_at);

    const mine = el("p", { class: "manage-booking__mine" });
    mine.append(el("a", { class: "text-link", href: bookingPage }, "All my tickets on this device"));

    const card = el("article", { class: "booking-card" + (cancelled ? " is-cancelled" : ""), "aria-labelledby": "booking-card-title" });
    const head = el("div", { class: "booking-card__head" });
    const title = el("h2", { class: "booking-card__title", id: "booking-card-title" }, "Booking ");
    title.append(el("strong", { class: "booking-ref" }, booking.reference));
    const state = cancelled ? "Cancelled" : started ? "Past" : "Confirmed";
    head.append(title, el("span", { class: "booking-card__state", "data-status": cancelled ? "cancelled" : started ? "past" : "active" }, state));
    card.append(head);

    const facts = el("dl", { class: "booking-facts" });
    const filmLink = film.slug
      ? el("a", { href: ui.siteUrl("film", { slug: film.slug }, "/films/{slug}/") }, film.title || film.slug)
      : document.createTextNode(film.title || "");
    [
      ["Film", filmLink],
      ["When", formatWhen(showtime.starts_at, showtime.ends_at)],
      ["Studio", showtime.studio ? "Studio " + showtime.studio : ""],
      [seats.length === 1 ? "Seat" : "Seats", listSeats(seats)],
      ["Name", booking.name || ""],
    ].forEach(function (pair) {
      if (pair[1] === "") return;
      const item = el("div", { class: "booking-facts__item" });
      const dd = el("dd", { class: "booking-facts__" + pair[0].toLowerCase() });
      dd.append(pair[1]);
      item.append(el("dt", {}, pair[0]), dd);
      facts.append(item);
    });
    // A cancelled booking gets no ticket: there is nothing left to scan at the door.
    const stub = cancelled ? null : ui.ticketStub(booking);
    if (stub) {
      const pass = el("div", { class: "ticket-pass" });
      pass.append(stub, facts);
      card.append(pass);
    } else {
      card.append(facts);
    }

    const actions = el("div", { class: "booking-card__actions" });
    if (cancelled) {
      card.append(el("p", { class: "booking-card__note" }, "This booking is cancelled; its seats are free for others."));
    } else if (started) {
      card.append(el("p", { class: "booking-card__note" }, "This screening has started, so the booking can no longer be cancelled."));
    }
    if (!cancelled) {
      const print = el("button", { type: "button", class: "btn btn--primary ticket-print" }, "Print ticket");
      print.addEventListener("click", function () { window.print(); });
      actions.append(print);
    }
    if (!cancelled && !started) {
      const calendar = ui.calendarLink(booking, apiBase);
      if (calendar) actions.append(calendar);
      const cancelButton = el("button", { type: "button", class: "btn btn--ghost booking-cancel" }, "Cancel this booking");
      cancelButton.addEventListener("click", function () { confirmCancel(booking, token, actions, cancelButton); });
      actions.append(cancelButton);
    }
    if (!started && showtime.id) {
      actions.append(el("a", { class: "text-link", href: ui.siteUrl("book", { id: showtime.id }, "/book/{id}/") }, "Open the seat map"));
    }
    card.append(actions);
    content.replaceChildren(mine, card);
    if (focus) {
      // The control that had focus is gone; put it where the news is.
      card.tabIndex = -1;
      card.focus();
    }
  }

  function confirmCancel(booking, token, actions, cancelButton) {
    const seats = booking.seats || [];
    const box = el("div", { class: "booking-card__confirm", role: "group", "aria-labelledby": "cancel-question" });
    box.append(
      el("p", { id: "cancel-question" }, "Cancel " + (seats.length === 1 ? "seat " : "all " + seats.length + " seats, ") + listSeats(seats) + "? This cannot be undone.")
    );
    const yes = el("button", { type: "button", class: "btn btn--primary booking-cancel-confirm" }, "Yes, cancel it");
    const no = el("button", { type: "button", class: "btn btn--ghost" }, "Keep my booking");
    no.addEventListener("click", function () {
      box.remove();
      cancelButton.hidden = false;
      cancelButton.focus();
    });
    yes.addEventListener("click", function () { cancel(booking, token, yes); });
    box.append(yes, no);
    cancelButton.hidden = true;
    actions.prepend(box);
    yes.focus();
  }

  async function cancel(booking, token, button) {
    button.disabled = true;
    say("Cancelling…");
    const result = await call("DELETE", booking.reference, token);
    button.disabled = false;
    if (result.network) {
      warn("We could not reach the booking service, so the booking may not be cancelled yet. Check your connection and try again.");
      return;
    }
    if (result.status === 200 && result.body) {
      myTickets.remember(result.body, token);
      showBooking(result.body, token, true);
      const seats = result.body.seats || booking.seats || [];
      say(
        "Cancelled. " + (seats.length === 1 ? "Seat " + seats[0] + " is" : "Seats " + listSeats(seats) + " are") +
          " free again for others."
      );
      return;
    }
    if (result.status === 404) {
      warn(NOT_FOUND);
      return;
    }
    if (result.status === 410) {
      warn("This screening has started, so the booking can no longer be cancelled.");
      return;
    }
    warn(errorText(result, "The booking service could not cancel this booking (" + result.status + "). Try again shortly."));
  }

  // ---------- Start ----------
  const params = new URLSearchParams(window.location.search);
  const reference = (params.get("ref") || "").trim();
  const token = (params.get("token") || "").trim();
  if (reference && token) load(reference, token);
  else showStart(reference, token);
})();
