/* The Time Gallery: site behaviour. Plain JavaScript, no framework, no build step; loaded with
 * `defer`, so the DOM is parsed when this runs.
 *
 * Trailer modal: the page ships the dialog empty. The YouTube iframe is created only when a
 * visitor asks for the trailer and is removed again on close, so no third-party request happens
 * on page load and closing the dialog really stops the video (hiding an iframe would not).
 */
(function () {
  "use strict";

  var root = document.documentElement;
  root.classList.remove("no-js");
  root.classList.add("js");

  // ---------- The site's URLs ----------
  //
  // The generator puts the site's URL patterns on <html> (`data-url-film="/films/{slug}/"`,
  // `data-url-book="/book/{id}/"`, ...; see docs/theme-contract.md), so this script spells no
  // site path: it fills a pattern's `{name}` placeholders, or reads them back from a path.

  var PLACEHOLDER = /\{([a-z_]+)\}/g;

  // `siteUrl("film", { slug: "akira" })` -> "/films/akira/": each value URI-encoded.
  function siteUrl(name, values) {
    return (root.getAttribute("data-url-" + name) || "").replace(PLACEHOLDER, function (_, key) {
      return encodeURIComponent(values[key] == null ? "" : String(values[key]));
    });
  }

  // The placeholders' values if `path` is one of pattern `name`'s URLs (a folder's final "/"
  // may be left out), else null: `siteUrlValues("book", "/book/akira-20261124-1800")` ->
  // { id: "akira-20261124-1800" }.
  function siteUrlValues(name, path) {
    var pattern = root.getAttribute("data-url-" + name);
    if (!pattern) return null;
    var folder = pattern.charAt(pattern.length - 1) === "/";
    var keys = [];
    var source = (folder ? pattern.slice(0, -1) : pattern).split(PLACEHOLDER).map(function (part, i) {
      // split() with a capturing group puts the placeholders' names at the odd places.
      if (i % 2 === 1) {
        keys.push(part);
        return "([^/]+)";
      }
      return part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    }).join("");
    var match = new RegExp("^" + source + (folder ? "/?$" : "$")).exec(path);
    if (!match) return null;
    var values = {};
    try {
      keys.forEach(function (key, i) { values[key] = decodeURIComponent(match[i + 1]); });
    } catch (e) {
      return null; // a malformed %-escape
    }
    return values;
  }

  var EMBED_BASE = "https://www.youtube-nocookie.com/embed/";
  var YOUTUBE_ID = /^[A-Za-z0-9_-]{6,20}$/;
  var FOCUSABLE = [
    "a[href]",
    "button:not([disabled])",
    "iframe",
    "input:not([disabled])",
    "[tabindex]:not([tabindex='-1'])"
  ].join(",");

  function initTrailerModal() {
    var modal = document.getElementById("trailer-modal");
    var triggers = document.querySelectorAll("[data-trailer-id]");
    if (!modal || triggers.length === 0) return;

    var frameHost = modal.querySelector(".modal-frame");
    var closeButton = modal.querySelector(".modal-close");
    var backdrop = modal.querySelector(".modal-backdrop");
    var lastTrigger = null;
    var madeInert = [];

    // A direct child of <body>, so everything else can be made inert while the dialog is open.
    document.body.appendChild(modal);

    function setBackgroundInert(on) {
      if (on) {
        madeInert = Array.prototype.filter.call(document.body.children, function (el) {
          return el !== modal && el.tagName !== "SCRIPT" && !el.inert;
        });
        madeInert.forEach(function (el) {
          el.inert = true;
          el.setAttribute("aria-hidden", "true");
        });
      } else {
        madeInert.forEach(function (el) {
          el.inert = false;
          el.removeAttribute("aria-hidden");
        });
        madeInert = [];
      }
    }

    function open(trigger) {
      var id = trigger.getAttribute("data-trailer-id") || "";
      if (!YOUTUBE_ID.test(id)) return;
      lastTrigger = trigger;

      var iframe = document.createElement("iframe");
      iframe.src = EMBED_BASE + encodeURIComponent(id) + "?autoplay=1&rel=0";
      iframe.title = trigger.getAttribute("data-trailer-title") || "Trailer";
      iframe.setAttribute("allow", "autoplay; encrypted-media; picture-in-picture");
      iframe.setAttribute("allowfullscreen", "");
      iframe.setAttribute("referrerpolicy", "strict-origin-when-cross-origin");
      frameHost.replaceChildren(iframe);

      modal.hidden = false;
      root.classList.add("is-modal-open");
      setBackgroundInert(true);
      trigger.setAttribute("aria-expanded", "true");
      document.addEventListener("keydown", onKeydown);
      closeButton.focus();
    }

    function close() {
      if (modal.hidden) return;
      frameHost.replaceChildren();
      modal.hidden = true;
      root.classList.remove("is-modal-open");
      setBackgroundInert(false);
      document.removeEventListener("keydown", onKeydown);
      if (lastTrigger) {
        lastTrigger.setAttribute("aria-expanded", "false");
        lastTrigger.focus();
        lastTrigger = null;
      }
    }

    // Keeps Tab inside the dialog. Inert siblings already block focus in modern browsers; this
    // covers the rest and wraps around the ends.
    function trapTab(event) {
      var items = Array.prototype.filter.call(modal.querySelectorAll(FOCUSABLE), function (el) {
        return el.offsetParent !== null || el === document.activeElement;
      });
      if (items.length === 0) return;
      var first = items[0];
      var last = items[items.length - 1];
      var active = document.activeElement;
      var inside = modal.contains(active);
      if (event.shiftKey && (active === first || !inside)) {
        event.preventDefault();
        last.focus();
      } else if (!event.shiftKey && (active === last || !inside)) {
        event.preventDefault();
        first.focus();
      }
    }

    function onKeydown(event) {
      if (event.key === "Escape" || event.key === "Esc") {
        event.preventDefault();
        close();
      } else if (event.key === "Tab") {
        trapTab(event);
      }
    }

    Array.prototype.forEach.call(triggers, function (trigger) {
      trigger.setAttribute("aria-expanded", "false");
      trigger.addEventListener("click", function () { open(trigger); });
    });
    closeButton.addEventListener("click", close);
    backdrop.addEventListener("click", close);
  }

  // On a phone the seat map is wider than the screen and scrolls sideways; start it centred,
  // where the best seats are, instead of at the left wall.
  function centreSeatMaps() {
    Array.prototype.forEach.call(document.querySelectorAll(".seat-scroll"), function (el) {
      var overflow = el.scrollWidth - el.clientWidth;
      if (overflow > 0) el.scrollLeft = overflow / 2;
    });
  }

  // ---------- Seats left on a film page ----------
  //
  // The film page is static; how many seats each showtime has left is live, so it is asked of
  // the booking service (`GET /api/showtimes?film=<slug>`) when the page opens, then every
  // minute while the page is visible (a hidden tab asks nothing), and at once when it is shown
  // again. A showtime the service no longer lists has started: booking it is closed. Without the
  // service (offline, a CDN with the API down) the page stays the static schedule it was built
  // as: no numbers, no error; numbers already shown are removed rather than left to go stale.

  var SEATS_REFRESH_MS = 60000;
  var SEATS_TIMEOUT_MS = 10000;

  function initSeatsLeft() {
    var schedule = document.querySelector(".schedule[data-film-slug]");
    if (!schedule) return;
    var links = Array.prototype.slice.call(schedule.querySelectorAll(".showtime[data-showtime-id]"));
    if (links.length === 0) return;
    var slug = schedule.getAttribute("data-film-slug");
    var api = (schedule.getAttribute("data-api-url") || "").replace(/\/+$/, "");
    // One film's showtimes fit one page of the list (at most 500); a longer list is read on by
    // its `next_cursor`.
    var url = api + "/api/showtimes?limit=500&film=" + encodeURIComponent(slug);
    var timer = null;
    var asking = false;

    function setState(link, state, text) {
      var label = link.querySelector(".showtime__seats");
      if (!label) return;
      label.textContent = text;
      label.hidden = !text;
      if (state) link.setAttribute("data-seats", state);
      else link.removeAttribute("data-seats");
    }

    function show(body) {
      if (!body || !Array.isArray(body.showtimes)) throw new Error("not a showtimes list");
      schedule.setAttribute("data-live", "on");
      var live = Object.create(null);
      body.showtimes.forEach(function (s) {
        // The service may list every film's showtimes (a version without the ?film filter).
        if (s && s.film && s.film.slug === slug && typeof s.id === "string") live[s.id] = s;
      });
      links.forEach(function (link) {
        var s = live[link.getAttribute("data-showtime-id")];
        if (!s) setState(link, "closed", "Booking closed");
        else if (typeof s.seats_free !== "number") setState(link, "", "");
        else if (s.seats_free <= 0) setState(link, "sold-out", "Sold out");
        else setState(link, "open", s.seats_free + (s.seats_free === 1 ? " seat left" : " seats left"));
      });
    }

    // `data-live` says which the schedule shows (for styles and tests): "on", the service's
    // numbers; "off", the static schedule because the service did not answer.
    function forget() {
      links.forEach(function (link) { setState(link, "", ""); });
      schedule.setAttribute("data-live", "off");
    }

    function ask() {
      if (asking) return;
      asking = true;
      var controller = typeof AbortController === "function" ? new AbortController() : null;
      var giveUp = controller ? setTimeout(function () { controller.abort(); }, SEATS_TIMEOUT_MS) : null;
      // Every page of the film's list, as one list.
      function read(pageUrl, before) {
        return fetch(pageUrl, {
          headers: { Accept: "application/json" },
          credentials: "omit",
          cache: "no-store",
          signal: controller ? controller.signal : undefined
        })
          .then(function (res) {
            if (!res.ok) throw new Error("HTTP " + res.status);
            return res.json();
          })
          .then(function (body) {
            if (!body || !Array.isArray(body.showtimes)) throw new Error("not a showtimes list");
            var all = before.concat(body.showtimes);
            if (typeof body.next_cursor !== "string") return { showtimes: all };
            return read(url + "&cursor=" + encodeURIComponent(body.next_cursor), all);
          });
      }
      read(url, [])
        .then(show)
        .catch(forget)
        .then(function () {
          clearTimeout(giveUp);
          asking = false;
        });
    }

    function start() {
      stop();
      ask();
      timer = setInterval(ask, SEATS_REFRESH_MS);
    }

    function stop() {
      if (timer !== null) clearInterval(timer);
      timer = null;
    }

    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "hidden") stop();
      else start();
    });
    // Back from the browser's back-forward cache: the numbers are as old as the visit.
    window.addEventListener("pageshow", function (event) {
      if (event.persisted) start();
    });
    if (document.visibilityState !== "hidden") start();
  }

  // ---------- An old booking link ----------
  //
  // A booking page lives until its showtime starts; the next roll removes it, and the link lands
  // on the 404 page. There, a booking page's URL (`data-url-book`) whose id is
  // `<film>-YYYYMMDD-HHMM` is recognised: the visitor is told
  // the screening has passed and offered the film's next showtimes, read from the film's own
  // static page (so it works on any CDN, without the booking service). A film that is no longer
  // showing keeps the generic 404.

  var OLD_SHOWTIME_ID = /^([a-z0-9]+(?:-[a-z0-9]+)*)-(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})$/;
  var NEXT_SHOWTIMES = 4;

  function initPassedShowtime() {
    var panel = document.getElementById("passed-showtime");
    var path = siteUrlValues("book", window.location.pathname);
    var match = path && OLD_SHOWTIME_ID.exec(path.id);
    if (!panel || !match) return;
    var slug = match[1];
    var wanted = match[2] + match[3] + match[4] + "-" + match[5] + match[6];
    var filmUrl = siteUrl("film", { slug: slug });

    fetch(filmUrl, { headers: { Accept: "text/html" }, credentials: "same-origin" })
      .then(function (res) {
        if (!res.ok) throw new Error("HTTP " + res.status);
        return res.text();
      })
      .then(function (html) {
        var page = new DOMParser().parseFromString(html, "text/html");
        var titleEl = page.getElementById("film-title");
        if (!titleEl) throw new Error("not a film page");
        var now = Date.now();
        var upcoming = Array.prototype.filter.call(
          page.querySelectorAll(".schedule .showtime[data-showtime-id]"),
          function (link) {
            var time = link.querySelector("time[datetime]");
            var starts = time ? Date.parse(time.getAttribute("datetime")) : NaN;
            return !isNaN(starts) && starts > now;
          }
        );
        showPassed(panel, {
          title: titleEl.textContent.trim(),
          filmUrl: filmUrl,
          when: describeId(match, panel.getAttribute("data-time-zone-label") || ""),
          // A stamp after the first upcoming one is not in the past: it was never scheduled.
          passed: upcoming.length === 0 || wanted < stampOf(upcoming[0].getAttribute("data-showtime-id")),
          next: upcoming.slice(0, NEXT_SHOWTIMES)
        });
      })
      .catch(function () { /* no such film (or no network): the generic 404 stays */ });
  }

  // `YYYYMMDD-HHMM`: ids end with it, and it sorts as the local times do.
  function stampOf(id) {
    return id.slice(-13);
  }

  // { time: "18:00", date: "Tuesday 24 November", zone: "Jakarta time" } from the id's own
  // date and time (the cinema's local wall clock, so no zone arithmetic is needed).
  function describeId(match, zoneLabel) {
    var day = new Date(Date.UTC(+match[2], +match[3] - 1, +match[4]));
    var date = new Intl.DateTimeFormat("en-GB", {
      weekday: "long", day: "numeric", month: "long", timeZone: "UTC"
    }).format(day);
    return { time: match[5] + ":" + match[6], date: date, zone: zoneLabel ? " (" + zoneLabel + ")" : "" };
  }

  function showPassed(panel, info) {
    var generic = document.querySelector(".not-found__inner");
    var lede = panel.querySelector(".passed-showtime__lede");
    var title = panel.querySelector(".passed-showtime__title");
    var when = info.when;
    if (!info.passed) {
      title.textContent = "That screening is not on the schedule";
      lede.textContent = info.title + " has no " + when.time + " screening on " + when.date + when.zone + ".";
    } else {
      lede.textContent = "The " + when.time + " screening of " + info.title + " on " + when.date + when.zone +
        " has started or is over, so it can no longer be booked.";
    }
    var list = panel.querySelector(".passed-showtime__list");
    info.next.forEach(function (link) {
      list.appendChild(nextShowtime(link));
    });
    panel.querySelector(".passed-showtime__next").hidden = info.next.length === 0;
    panel.querySelector(".passed-showtime__none").hidden = info.next.length > 0;
    var filmLink = panel.querySelector(".passed-showtime__film");
    filmLink.href = info.filmUrl;
    filmLink.querySelector("span").textContent = "All showtimes of " + info.title;
    document.title = title.textContent + " · " + document.title.replace(/^.*· /, "");
    if (generic) generic.hidden = true;
    panel.hidden = false;
  }

  // A showtime link of the film page, rebuilt here with its date (the film page shows the
  // date in the day's heading). Text only, through textContent; the link is made from the
  // showtime's id and the booking pages' URL pattern, not taken from the fetched page.
  function nextShowtime(source) {
    var day = source.closest(".schedule__day");
    var dateEl = day && day.querySelector(".schedule__date");
    var timeEl = source.querySelector("time[datetime]");
    var spoken = source.querySelector(".sr-only");
    var id = source.getAttribute("data-showtime-id") || "";
    var li = document.createElement("li");
    var a = document.createElement("a");
    a.className = "showtime";
    a.href = /^[a-z0-9-]+$/.test(id) ? siteUrl("book", { id: id }) : "/";
    if (spoken) {
      var sr = document.createElement("span");
      sr.className = "sr-only";
      sr.textContent = spoken.textContent;
      a.appendChild(sr);
    }
    var date = document.createElement("span");
    date.className = "showtime__date";
    date.setAttribute("aria-hidden", "true");
    date.textContent = dateEl ? dateEl.textContent.trim() : "";
    var time = document.createElement("time");
    time.className = "showtime__time";
    time.setAttribute("aria-hidden", "true");
    if (timeEl) {
      time.setAttribute("datetime", timeEl.getAttribute("datetime"));
      time.textContent = timeEl.textContent;
    }
    a.appendChild(date);
    a.appendChild(time);
    li.appendChild(a);
    return li;
  }

  initTrailerModal();
  centreSeatMaps();
  initSeatsLeft();
  initPassedShowtime();
})();
