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

  initTrailerModal();
  centreSeatMaps();
})();
