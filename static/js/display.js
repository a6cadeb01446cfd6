// The call display's enhancements (templates/tickets/display.html): the chime and the "no connection" note.
// htmx does the polling; everything here is optional. The chime is a short two-note tone made with the Web
// Audio API (no audio file); browsers let it sound only after someone pressed the button (or with ?chime=1
// on a screen whose browser allows autoplay).
(function () {
  "use strict";
  var STORAGE_KEY = "call-display-sound";
  var calls = document.getElementById("display-calls");
  var button = document.querySelector("[data-display-sound]");
  var offline = document.querySelector("[data-display-offline]");
  if (!calls || !button) { return; }

  var audio = null;
  var latest = currentLatest();

  function currentLatest() {
    var marked = calls.querySelector("[data-latest]");
    return marked ? Number(marked.getAttribute("data-latest")) || 0 : 0;
  }

  function soundOn() {
    return button.getAttribute("aria-pressed") === "true";
  }

  function context() {
    var AudioContext = window.AudioContext || window.webkitAudioContext;
    if (!AudioContext) { return null; }
    if (!audio) { audio = new AudioContext(); }
    if (audio.state === "suspended") { audio.resume(); }
    return audio;
  }

  function note(ctx, frequency, start, length) {
    var oscillator = ctx.createOscillator();
    var gain = ctx.createGain();
    oscillator.type = "sine";
    oscillator.frequency.value = frequency;
    gain.gain.setValueAtTime(0.0001, start);
    gain.gain.exponentialRampToValueAtTime(0.4, start + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + length);
    oscillator.connect(gain);
    gain.connect(ctx.destination);
    oscillator.start(start);
    oscillator.stop(start + length + 0.05);
  }

  function chime() {
    var ctx = context();
    if (!ctx) { return; }
    var now = ctx.currentTime;
    note(ctx, 880, now, 0.45); // A5, then E5: "ding-dong"
    note(ctx, 659.25, now + 0.4, 0.7);
  }

  function setSound(on) {
    button.setAttribute("aria-pressed", on ? "true" : "false");
    try { window.localStorage.setItem(STORAGE_KEY, on ? "on" : "off"); } catch (error) { /* private mode */ }
    if (on) { context(); }
  }

  var remembered = null;
  try { remembered = window.localStorage.getItem(STORAGE_KEY); } catch (error) { /* private mode */ }
  if (remembered && !/[?&]chime=1\b/.test(window.location.search)) {
    button.setAttribute("aria-pressed", remembered === "on" ? "true" : "false");
  }
  button.hidden = false;
  button.addEventListener("click", function () {
    setSound(!soundOn());
    if (soundOn()) { chime(); } // so whoever switched it on hears what it sounds like
  });
  // A preselected chime may still need the first touch or key press before the browser lets it sound.
  ["pointerdown", "keydown"].forEach(function (type) {
    document.addEventListener(type, function () { if (soundOn()) { context(); } }, { once: true });
  });

  document.body.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target !== calls) { return; }
    var now = currentLatest();
    if (now > latest && soundOn()) { chime(); }
    latest = Math.max(latest, now);
  });

  // A poll that fails shows the note; the next one that arrives (204 included) hides it again.
  function connection(ok) { if (offline) { offline.hidden = ok; } }
  document.body.addEventListener("htmx:sendError", function () { connection(false); });
  document.body.addEventListener("htmx:responseError", function () { connection(false); });
  document.body.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail.successful) { connection(true); }
  });
}());
