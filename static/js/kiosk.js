// The kiosk's matter buttons: a second tap while the first ticket is on its way draws no second ticket.
// Only an enhancement: without this script every tap is a plain form post.
(function () {
  "use strict";
  var sent = false;
  document.querySelectorAll("form.kiosk-buttons").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (sent) {
        event.preventDefault();
        return;
      }
      sent = true;
      window.setTimeout(function () { sent = false; }, 10000);  // a lost answer must not lock the screen
    });
  });
  // A page restored from the back/forward cache may draw again.
  window.addEventListener("pageshow", function () { sent = false; });

  // Back to the start once the screen has been left alone (meta name="kiosk-idle"): every touch, click or key
  // starts the wait again, so nobody in the middle of choosing is cut off (WCAG 2.2.1). Without this script a
  // <noscript> refresh does the same after the same time, counted from the page's load.
  var idle = document.querySelector('meta[name="kiosk-idle"]');
  if (idle) {
    var seconds = parseInt(idle.getAttribute("content"), 10);
    var url = idle.getAttribute("data-url");
    var timer = null;
    var restart = function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () { window.location.replace(url); }, seconds * 1000);
    };
    ["pointerdown", "keydown", "touchstart", "input"].forEach(function (name) {
      document.addEventListener(name, restart, { passive: true, capture: true });
    });
    restart();
  }
})();
