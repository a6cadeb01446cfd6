// The ticket's phone page. htmx polls the status part (#ticket-status, hx-trigger="every …s, resume"); this adds
// (1) the "Pause updates" toggle: while pressed, htmx's polling requests are cancelled before they go out;
// (2) the polite announcement: the status sentence ([data-announce]) goes into the role="status" region only
//     when an update changed it, so a screen reader is not read the whole part every few seconds.
// No eval: the CSP forbids it, so no htmx trigger filters. Without this script the page still works (reload).
(function () {
  "use strict";
  var button = document.querySelector("[data-ticket-pause]");
  var pausedNote = document.querySelector("[data-ticket-paused]");
  var region = document.getElementById("ticket-announce");
  var paused = false;

  function statusPart() {
    return document.getElementById("ticket-status");
  }

  function sentence() {
    var part = statusPart();
    var marked = part && part.querySelector("[data-announce]");
    return marked ? marked.textContent.replace(/\s+/g, " ").trim() : "";
  }

  function polling() {
    var part = statusPart();
    return Boolean(part && part.hasAttribute("hx-trigger"));
  }

  function showButton() {
    if (!button) { return; }
    button.hidden = !polling();
    if (pausedNote) { pausedNote.hidden = button.hidden || !paused; }
  }

  var last = sentence();
  showButton();

  if (button) {
    button.addEventListener("click", function () {
      paused = !paused;
      button.setAttribute("aria-pressed", paused ? "true" : "false");
      showButton();
      if (!paused && window.htmx && statusPart()) {
        window.htmx.trigger(statusPart(), "resume");  // catch up at once
      }
    });
  }

  document.body.addEventListener("htmx:beforeRequest", function (event) {
    if (paused && event.detail.elt === statusPart()) {
      event.preventDefault();
    }
  });

  document.body.addEventListener("htmx:afterSwap", function () {
    var now = sentence();
    if (region && now && now !== last) {
      region.textContent = now;
    }
    last = now;
    showButton();
  });
})();
