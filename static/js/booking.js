// Enhancements of the booking pages; everything works without them.
(function () {
  "use strict";
  var WARN_SECONDS = 120;
  var lang = document.documentElement.lang || "de";
  var texts = {
    de: {
      left: function (m, s) { return "Noch " + m + ":" + s + " Minuten reserviert."; },
      warn: "Ihre reservierte Zeit läuft in 2 Minuten ab. Wählen Sie „Ich brauche mehr Zeit“, um sie zu behalten.",
      over: "Ihre reservierte Zeit ist abgelaufen. Bitte wählen Sie eine Zeit neu."
    },
    en: {
      left: function (m, s) { return m + ":" + s + " minutes left."; },
      warn: "Your reserved time runs out in 2 minutes. Choose “I need more time” to keep it.",
      over: "Your reserved time has run out. Please choose a time again."
    }
  };
  var t = texts[lang.slice(0, 2)] || texts.de;

  function startTimer(box) {
    if (!box || box.dataset.timerStarted) { return; }
    box.dataset.timerStarted = "1";
    var remaining = box.querySelector("[data-hold-remaining]");
    var warning = box.querySelector("[data-hold-warning]");
    var offset, expires, warned, timer;
    function read() {
      // The server's clock decides; the offset corrects a wrong clock on the phone.
      offset = Date.parse(box.dataset.serverNow) - Date.now();
      expires = Date.parse(box.dataset.holdExpires);
      warned = false;
      warning.classList.add("visually-hidden");
      warning.textContent = "";
      box.classList.remove("alert-warning", "alert-danger");
      box.classList.add("alert-info");
    }
    // Extended in place: the same box with a new end.
    box.addEventListener("hold:changed", function () { window.clearTimeout(timer); read(); tick(); });
    function tick() {
      if (!document.body.contains(box)) { return; }
      var left = Math.max(0, Math.round((expires - (Date.now() + offset)) / 1000));
      var minutes = Math.floor(left / 60);
      var seconds = String(left % 60).padStart(2, "0");
      remaining.textContent = t.left(minutes, seconds);
      if (left <= WARN_SECONDS && !warned) {
        warned = true;
        warning.classList.remove("visually-hidden");
        warning.textContent = left > 0 ? t.warn : t.over;
        box.classList.replace("alert-info", "alert-warning");
      }
      if (left === 0) {
        warning.textContent = t.over;
        box.classList.replace("alert-warning", "alert-danger");
        return;
      }
      timer = window.setTimeout(tick, 1000);
    }
    read();
    tick();
  }

  // "I need more time" without reloading the page: the button keeps the focus, the live region says the new end.
  // Without JavaScript (or when the answer is not the timer) the form is sent as it is and the page says it.
  function extendInPlace(box) {
    var form = box && box.querySelector("form[data-hold-extend]");
    if (!form || form.dataset.inPlace || !window.fetch || !window.DOMParser) { return; }
    form.dataset.inPlace = "1";
    var news = box.querySelector("[data-hold-news]");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        headers: { "HX-Request": "true" },
        credentials: "same-origin"
      }).then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.text();
      }).then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("hold-timer");
        if (!fresh) { throw new Error("no timer"); }
        box.dataset.holdExpires = fresh.dataset.holdExpires;
        box.dataset.serverNow = fresh.dataset.serverNow;
        box.querySelector("#hold-heading").textContent = fresh.querySelector("#hold-heading").textContent;
        box.dispatchEvent(new CustomEvent("hold:changed"));
        // Emptied first, so that the same words twice are announced twice.
        news.textContent = "";
        window.setTimeout(function () {
          news.textContent = fresh.querySelector("[data-hold-news]").textContent;
        }, 100);
      }).catch(function () { form.submit(); });
    });
  }

  // Arrow keys move between the days of the calendar that have free times.
  function calendarKeys(table) {
    table.addEventListener("keydown", function (event) {
      var steps = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -7, ArrowDown: 7 };
      if (!(event.key in steps) || event.target.tagName !== "A") { return; }
      var cells = Array.prototype.slice.call(table.querySelectorAll("tbody td"));
      var index = cells.indexOf(event.target.closest("td"));
      for (var i = index + steps[event.key]; i >= 0 && i < cells.length; i += steps[event.key]) {
        var link = cells[i].querySelector("a");
        if (link) { link.focus(); event.preventDefault(); return; }
      }
    });
  }

  function init(root) {
    startTimer(root.querySelector("[data-hold-expires]"));
    extendInPlace(root.querySelector("[data-hold-expires]"));
    Array.prototype.forEach.call(root.querySelectorAll("[data-calendar]"), calendarKeys);
  }
  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:afterSwap", function (event) { init(event.detail.elt.parentNode || document); });
}());
