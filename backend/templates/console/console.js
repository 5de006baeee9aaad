// The console's live parts: follow the timeline's event stream and, when something changes,
// fetch this page again and swap in its live regions ([data-live], by id). No library, no
// build step. EventSource reconnects by itself and resumes from the last event id it saw.
(function () {
  "use strict";
  // On a phone the menu scrolls sideways: keep the page's own entry in view.
  var current = document.querySelector('header.top nav a[aria-current="page"]');
  if (current && current.scrollIntoView) current.scrollIntoView({ block: "nearest", inline: "center" });
  var regions = document.querySelectorAll("[data-live]");
  var status = document.getElementById("live-status");
  if (!regions.length || !window.EventSource) { if (status) status.hidden = true; return; }
  var after = document.body.getAttribute("data-after") || "0";
  var pending = null, busy = false, again = false;

  function show(state, text) { if (status) { status.setAttribute("data-state", state); status.textContent = text; } }

  function wanted(type) {
    for (var i = 0; i < regions.length; i++) {
      var on = regions[i].getAttribute("data-live");
      if (on === "*" || on.split(",").indexOf(type) >= 0) return true;
    }
    return false;
  }

  function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    fetch(window.location.href, { credentials: "same-origin", headers: { "X-Console-Live": "1" } })
      .then(function (answer) {
        if (answer.redirected || !answer.ok) { throw new Error("page " + answer.status); }
        return answer.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html");
        document.querySelectorAll("[data-live]").forEach(function (region) {
          var next = region.id && fresh.getElementById(region.id);
          if (next) { region.replaceWith(next); }
        });
        regions = document.querySelectorAll("[data-live]");
      })
      .catch(function () { show("closed", "reload the page"); })
      .then(function () { busy = false; if (again) { again = false; refresh(); } });
  }

  // Delivery ticks and countdowns change without a timeline event: a quiet refresh now and
  // then, only while the page is in front of someone.
  setInterval(function () { if (!document.hidden) refresh(); }, 30000);

  // A stream the server refused (too many for this session, signed out) is not retried by
  // EventSource itself: follow again after a pause, from the last event seen.
  var source = null, pause = 2000;
  function follow() {
    source = new EventSource("/console/events?after=" + encodeURIComponent(after));
    source.addEventListener("open", function () { pause = 2000; show("open", "live"); });
    source.addEventListener("hello", function (event) { if (event.lastEventId) after = event.lastEventId; });
    source.addEventListener("error", function () {
      show("closed", "reconnecting…");
      if (source.readyState === EventSource.CLOSED) {
        setTimeout(follow, pause);
        pause = Math.min(pause * 2, 60000);
      }
    });
    source.addEventListener("change", function (event) {
      if (event.lastEventId) after = event.lastEventId;
      var data = {};
      try { data = JSON.parse(event.data); } catch (e) { return; }
      if (!wanted(data.type)) return;
      clearTimeout(pending);
      pending = setTimeout(refresh, 250);
    });
  }
  // Leaving the page closes its stream at once (the server frees its place sooner).
  window.addEventListener("pagehide", function () { if (source) source.close(); });
  window.addEventListener("pageshow", function (event) { if (event.persisted) follow(); });
  follow();
})();
