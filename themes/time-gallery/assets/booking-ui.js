/* The Time Gallery: small DOM and wording helpers shared by the seat picker and the manage
 * page. Loaded (deferred) before either, it only defines `window.TiketaBookingUI`. */
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

  window.TiketaBookingUI = { el: el, listSeats: listSeats, formatWhen: formatWhen, messenger: messenger };
})();
