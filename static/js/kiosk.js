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
})();
