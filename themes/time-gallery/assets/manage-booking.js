/* The Time Gallery: the manage-booking page (/booking/).
 *
 * The confirmation links here with `?ref=<reference>&token=<manage token>`. The token goes to
 * the booking service in the `X-Manage-Token` header, never in the API URL, so it stays out of
 * the service's access logs. Without both in the query string the page offers a small form to
 * type them (or paste the whole link). A wrong token and an unknown reference get the same
 * answer from the service, `404`, and the same words here.
 */
(function () {
  "use strict";
  const ui = window.TiketaBookingUI;
  const el = ui.el;
  const listSeats = ui.listSeats;
  function formatWhen(startsAt, endsAt) { return ui.formatWhen(startsAt, endsAt, timeZone, true); }
  function say(text) { ui.messenger(status, alertBox).say(text); }
  function warn(text, action) { ui.messenger(status, alertBox).warn(text, action); }

  const root = document.getElementById("manage-booking");
  if (!root || !window.fetch) return;

  const apiBase = (root.getAttribute("data-api-url") || "").replace(/\/+$/, "");
  const timeZone = root.getAttribute("data-time-zone") || undefined;
  const NOT_FOUND =
    "We found no booking with this reference and token. Check that you opened the whole link from your confirmation; " +
    "a booking reference looks like TK-7Q4M-2XHD.";

  root.removeAttribute("aria-live"); // the message regions below announce on their own
  root.replaceChildren();
  const content = el("div", { class: "manage-booking__content" });
  const status = el("div", { class: "booking-status", role: "status" });
  const alertBox = el("div", { class: "booking-alert", role: "alert" });
  root.append(content, status, alertBox);

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

  function errorText(result, fallback) {
    const message = result.body && result.body.error && result.body.error.message;
    if (!message) return fallback;
    const text = message.charAt(0).toUpperCase() + message.slice(1);
    return /[.!?]$/.test(text) ? text : text + ".";
  }

  // ---------- The form, when the link is not complete ----------
  function showForm(reference, token, note) {
    const form = el("form", { class: "manage-form booking-form", novalidate: "" });
    form.append(el("h2", { class: "booking-panel__title" }, "Find your booking"));
    form.append(
      el("p", { class: "manage-form__lede" }, note || "Type the booking reference and the token from your confirmation link, or paste the whole link into the first box.")
    );
    const refInput = input("manage-ref", "Booking reference", reference, { autocomplete: "off", spellcheck: "false", autocapitalize: "characters", placeholder: "TK-7Q4M-2XHD" });
    const tokenInput = input("manage-token", "Token", token, { autocomplete: "off", spellcheck: "false" });
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
      const url = new URL(window.location.href);
      url.search = "?ref=" + encodeURIComponent(ref) + "&token=" + encodeURIComponent(tok);
      window.history.replaceState(null, "", url.pathname + url.search);
      load(ref, tok, true);
    });
    content.replaceChildren(form);
  }

  function input(id, label, value, attrs) {
    const wrap = el("div", { class: "field" });
    const lab = el("label", { for: id, class: "field__label" }, label);
    const box = el("input", Object.assign({ id: id, type: "text", class: "field__input" }, attrs));
    box.value = value || "";
    wrap.append(lab, box);
    return { wrap: wrap, input: box };
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

  // ---------- The booking ----------
  async function load(reference, token, focus) {
    content.replaceChildren();
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
      showBooking(result.body, token, focus);
      return;
    }
    if (result.status === 404) {
      showForm(reference, "", "");
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
    const started = showtime.starts_at && new Date(showtime.starts_at).getTime() <= Date.now();

    const card = el("article", { class: "booking-card" + (cancelled ? " is-cancelled" : ""), "aria-labelledby": "booking-card-title" });
    const head = el("div", { class: "booking-card__head" });
    const title = el("h2", { class: "booking-card__title", id: "booking-card-title" }, "Booking ");
    title.append(el("strong", { class: "booking-ref" }, booking.reference));
    head.append(title, el("span", { class: "booking-card__state", "data-status": booking.status }, cancelled ? "Cancelled" : "Confirmed"));
    card.append(head);

    const facts = el("dl", { class: "booking-facts" });
    const filmLink = film.slug ? el("a", { href: "/films/" + encodeURIComponent(film.slug) + "/" }, film.title || film.slug) : document.createTextNode(film.title || "");
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
    card.append(facts);

    const actions = el("div", { class: "booking-card__actions" });
    if (cancelled) {
      card.append(el("p", { class: "booking-card__note" }, "This booking is cancelled; its seats are free for others."));
    } else if (started) {
      card.append(el("p", { class: "booking-card__note" }, "This screening has started, so the booking can no longer be cancelled."));
    } else {
      const cancel = el("button", { type: "button", class: "btn btn--ghost booking-cancel" }, "Cancel this booking");
      cancel.addEventListener("click", function () { confirmCancel(booking, token, actions, cancel); });
      actions.append(cancel);
    }
    if (!started && showtime.id) {
      actions.append(el("a", { class: "text-link", href: "/book/" + encodeURIComponent(showtime.id) + "/" }, "Open the seat map"));
    }
    card.append(actions);
    content.replaceChildren(card);
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
  else showForm(reference, token);
})();
