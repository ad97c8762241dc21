/* The Time Gallery: what the seat picker and the manage page share: small DOM and wording
 * helpers, the site's URLs, and the ticket (the QR code and the check-in code the door staff
 * scan or type), and "my tickets", the bookings this browser remembers. Loaded (deferred)
 * before either page's script, it only defines `window.TiketaBookingUI`. */
(function () {
  "use strict";

  /** A new element with attributes and, optionally, text (never HTML). */
  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text != null) node.textContent = text;
    return node;
  }

  /** "F7", "F7 and F8", "F7, F8 and F9". */
  function listSeats(ids) {
    if (ids.length <= 1) return ids.join("");
    return ids.slice(0, -1).join(", ") + " and " + ids[ids.length - 1];
  }

  /** "Thursday 26 November, 22:00–00:08 (+1), Jakarta time" in the cinema's time zone (with
   * the year if asked): an end on a later day is marked, and the zone is named in words (the
   * page's `<html data-time-zone-label>`, from the generator; Intl's own short names are
   * "GMT+7" where the zone has no abbreviation). */
  function formatWhen(startsAt, endsAt, timeZone, withYear) {
    try {
      const dayParts = { timeZone: timeZone, weekday: "long", day: "numeric", month: "long" };
      if (withYear) dayParts.year = "numeric";
      const day = new Intl.DateTimeFormat("en-GB", dayParts);
      const time = new Intl.DateTimeFormat("en-GB", { timeZone: timeZone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
      const start = new Date(startsAt);
      let text = day.format(start) + ", " + time.format(start);
      if (endsAt) {
        const end = new Date(endsAt);
        text += "–" + time.format(end);
        // Local dates as YYYY-MM-DD, read back as UTC midnights: their difference in days.
        const date = new Intl.DateTimeFormat("en-CA", { timeZone: timeZone, year: "numeric", month: "2-digit", day: "2-digit" });
        const days = Math.round((Date.parse(date.format(end)) - Date.parse(date.format(start))) / 86400000);
        if (days > 0) text += " (+" + days + ")";
      }
      const zone = document.documentElement.getAttribute("data-time-zone-label");
      return text + (zone ? ", " + zone : "");
    } catch (e) {
      return String(startsAt);
    }
  }

  /** A status line (polite) and an alert box (assertive): `say` clears the alert, `warn`
   * clears the status. */
  function messenger(status, alertBox) {
    return {
      say: function (text) {
        alertBox.replaceChildren();
        if (text) status.replaceChildren(el("p", { class: "booking-message" }, text));
        else status.replaceChildren();
      },
      warn: function (text, action) {
        status.replaceChildren();
        const box = el("div", { class: "booking-message booking-message--error" });
        box.append(el("p", {}, text));
        if (action) box.append(action);
        alertBox.replaceChildren(box);
      },
    };
  }

  /** A URL of the site from its pattern on `<html data-url-NAME>` ("/films/{slug}/", put there
   * by the generator from the one list of site paths), each `{key}` filled with `params[key]`
   * (URL-encoded). `fallback` is the pattern for a page built before the attribute existed. */
  function siteUrl(name, params, fallback) {
    const pattern = document.documentElement.getAttribute("data-url-" + name) || fallback;
    return pattern.replace(/\{([a-z_]+)\}/g, function (whole, key) {
      return params && Object.prototype.hasOwnProperty.call(params, key) ? encodeURIComponent(params[key]) : whole;
    });
  }

  /** The manage page of a booking: the one URL that carries its manage token. */
  function manageUrl(reference, token) {
    return siteUrl("booking", {}, "/booking/") + "?ref=" + encodeURIComponent(reference) + "&token=" + encodeURIComponent(token);
  }

  /** "7Q4M 2XHD K9PA RT3W": the check-in code in groups of four, easy to read out and type
   * (the door accepts it with or without the spaces or dashes). "" when there is none. */
  function groupCode(code) {
    const chars = String(code || "").toUpperCase().replace(/[^0-9A-Z]/g, "");
    return (chars.match(/.{1,4}/g) || []).join(" ");
  }

  const SVG_NS = "http://www.w3.org/2000/svg";
  const SVG_SHAPES = { svg: true, g: true, path: true, rect: true };

  /** The ticket's QR code as a live `<svg>` node, from the SVG document the booking service
   * sends (`ticket_svg`), or null when there is none or it is not a plain drawing. Parsed as
   * XML and imported node by node (no innerHTML, nothing inline for the page's
   * Content-Security-Policy to refuse), keeping only shapes and their drawing attributes: the
   * text comes from the service, but nothing in it may run, load or link. */
  function qrCode(svgText, label) {
    if (typeof svgText !== "string" || svgText.indexOf("<svg") < 0 || !window.DOMParser) return null;
    let doc;
    try {
      doc = new DOMParser().parseFromString(svgText, "image/svg+xml");
    } catch (e) {
      return null;
    }
    const root = doc.documentElement;
    if (!root || root.namespaceURI !== SVG_NS || root.localName !== "svg") return null;
    const nodes = [root].concat(Array.prototype.slice.call(root.getElementsByTagName("*")));
    for (const node of nodes) {
      if (node.namespaceURI !== SVG_NS || !SVG_SHAPES[node.localName]) return null; // parsererror, script, image…
      Array.prototype.slice.call(node.attributes).forEach(function (a) {
        if (/^on/i.test(a.name) || /href$/i.test(a.name) || a.name === "style") node.removeAttribute(a.name);
      });
    }
    const svg = document.importNode(root, true);
    // Sized by the style sheet (its viewBox keeps it square and sharp at any size).
    svg.removeAttribute("width");
    svg.removeAttribute("height");
    svg.setAttribute("class", "ticket__qr-code");
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", label);
    svg.setAttribute("focusable", "false");
    return svg;
  }

  /** The part of a ticket the door reads: the QR code and, under it, the check-in code. Null
   * when the booking carries neither (a booking service older than the ticket). */
  function ticketStub(booking) {
    const reference = String(booking.reference || "");
    const qr = qrCode(booking.ticket_svg, "QR code of ticket " + reference + ", to scan at the door");
    const code = groupCode(booking.check_in_code);
    if (!qr && !code) return null;
    const stub = el("div", { class: "ticket" + (qr ? "" : " ticket--no-qr") });
    if (qr) {
      const frame = el("div", { class: "ticket__qr" });
      frame.append(qr);
      stub.append(frame);
    }
    if (code) {
      const line = el("p", { class: "ticket__code" });
      line.append(
        el("span", { class: "ticket__code-label" }, "Check-in code"),
        el("span", { class: "ticket__code-value", "data-code": booking.check_in_code }, code)
      );
      stub.append(line);
    }
    return stub;
  }

  /** "Add to calendar": the booking's `.ics` on the booking service (`calendar_url` is a path
   * relative to the API base), or null when the booking has none. */
  function calendarLink(booking, apiBase) {
    const path = booking.calendar_url;
    if (typeof path !== "string" || path.charAt(0) !== "/" || path.charAt(1) === "/") return null;
    return el("a", { class: "btn btn--ghost ticket-calendar", href: apiBase + path, download: String(booking.reference || "ticket") + ".ics" }, "Add to calendar");
  }

  // ---------- My tickets: the bookings this browser remembers ----------
  //
  // Each booking made in this browser, or opened here from its manage link, is kept in
  // localStorage (reference, manage token and enough to list it), so closing the tab does not
  // lose it. The token is stored, never shown: it leaves the browser only in the manage link
  // and in the `X-Manage-Token` header to the booking service, as before. The stored text may
  // be anything (an older version, another script, a hand edit): every entry is checked on
  // the way in and out, and a store that refuses (private mode, quota) only means the page
  // says so and the visitor keeps the link themselves.

  /** One key; the version is in its name, so a later shape takes a new key instead of
   * misreading this one. */
  const TICKETS_KEY = "tiketa-my-tickets-v1";
  /** The newest this many are kept: the list stays short and the key small. */
  const TICKETS_MAX = 50;

  function text(value, max) {
    return typeof value === "string" ? value.slice(0, max) : "";
  }

  function instant(value) {
    return typeof value === "string" && isFinite(Date.parse(value)) ? value : "";
  }

  /** An entry as it may be stored, or null for junk. */
  function cleanTicket(t) {
    if (!t || typeof t !== "object") return null;
    const reference = text(t.reference, 64).trim();
    const token = text(t.token, 256).trim();
    if (!/^[A-Za-z0-9-]{1,40}$/.test(reference) || !/^[\x21-\x7e]{1,200}$/.test(token)) return null;
    return {
      reference: reference,
      token: token,
      film: text(t.film, 200),
      studio: typeof t.studio === "number" && isFinite(t.studio) ? t.studio : null,
      starts_at: instant(t.starts_at),
      ends_at: instant(t.ends_at),
      seats: Array.isArray(t.seats) ? t.seats.filter(function (s) { return typeof s === "string"; }).slice(0, 50).map(function (s) { return s.slice(0, 12); }) : [],
      status: t.status === "cancelled" ? "cancelled" : "active",
      saved_at: instant(t.saved_at) || new Date(0).toISOString(),
    };
  }

  function newestFirst(a, b) {
    return Date.parse(b.saved_at) - Date.parse(a.saved_at);
  }

  /** The remembered bookings, newest first (none when storage is refused or holds junk). */
  function readTickets() {
    let list;
    try {
      list = JSON.parse(window.localStorage.getItem(TICKETS_KEY) || "[]");
    } catch (e) {
      return [];
    }
    if (!Array.isArray(list)) return [];
    const seen = {};
    return list
      .map(cleanTicket)
      .filter(function (t) {
        if (!t || seen[t.reference]) return false;
        seen[t.reference] = true;
        return true;
      })
      .sort(newestFirst);
  }

  /** Whether the browser took the list. */
  function writeTickets(list) {
    try {
      if (list.length) window.localStorage.setItem(TICKETS_KEY, JSON.stringify(list.sort(newestFirst).slice(0, TICKETS_MAX)));
      else window.localStorage.removeItem(TICKETS_KEY);
      return true;
    } catch (e) {
      return false;
    }
  }

  const myTickets = {
    list: readTickets,
    /** Remembers a booking as the service shows it, with the token that opened it (a link
     * sent again by "Lost your link?" carries a new one, which then replaces the old). Keeps
     * when it was first saved. Returns whether the browser stored it. */
    remember: function (booking, token) {
      const list = readTickets();
      const reference = String(booking.reference || "");
      const old = list.filter(function (t) { return t.reference === reference; })[0];
      const showtime = booking.showtime || {};
      const film = showtime.film || {};
      const entry = cleanTicket({
        reference: reference,
        token: token,
        film: film.title || (old && old.film) || "",
        studio: showtime.studio != null ? showtime.studio : old && old.studio,
        starts_at: showtime.starts_at || (old && old.starts_at) || "",
        ends_at: showtime.ends_at || (old && old.ends_at) || "",
        seats: booking.seats || (old && old.seats) || [],
        status: booking.status,
        saved_at: old ? old.saved_at : new Date().toISOString(),
      });
      if (!entry) return false;
      return writeTickets(list.filter(function (t) { return t.reference !== reference; }).concat([entry]));
    },
    /** Records what the service said of a remembered booking ("active" or "cancelled"). */
    setStatus: function (reference, status) {
      const list = readTickets();
      let changed = false;
      list.forEach(function (t) {
        const next = status === "cancelled" ? "cancelled" : "active";
        if (t.reference === reference && t.status !== next) {
          t.status = next;
          changed = true;
        }
      });
      return changed ? writeTickets(list) : true;
    },
    forget: function (reference) {
      return writeTickets(readTickets().filter(function (t) { return t.reference !== reference; }));
    },
    forgetAll: function () {
      return writeTickets([]);
    },
  };

  window.TiketaBookingUI = {
    myTickets: myTickets,
    el: el,
    listSeats: listSeats,
    formatWhen: formatWhen,
    messenger: messenger,
    siteUrl: siteUrl,
    manageUrl: manageUrl,
    groupCode: groupCode,
    ticketStub: ticketStub,
    calendarLink: calendarLink,
  };
})();
