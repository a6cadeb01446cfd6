// The proof of work before a time is held (access/proof.py): ALTCHA's widget from our own static files.
// Registers its PBKDF2 worker from our server (the CSP allows no blob: workers) and gives it the page's texts.
// The check runs when a time is chosen (or the widget's box is ticked): a citizen who only looks through days
// fetches no challenge, so the work, which rises with the challenges an address fetched, stays at its least.
// The chosen time's form waits for the check and is sent when it is done. Without JavaScript the forms are
// sent without a solution and the server asks a small question instead.
const script = document.getElementById("proof-script");
const config = JSON.parse(document.getElementById("proof-config").textContent);
const widget = document.querySelector("#proof altcha-widget");
const forms = Array.from(document.querySelectorAll("form[data-proof]"));
let payload = "";
let waiting = null; // the form and the button chosen before the check was done

globalThis.$altcha.algorithms.set("PBKDF2/SHA-256", () => new Worker(script.dataset.worker));
globalThis.$altcha.i18n.set(config.language, config.strings);

function fill(value) {
  payload = value || "";
  forms.forEach((form) => { form.querySelector("input[name=altcha]").value = payload; });
}

widget.addEventListener("statechange", (event) => {
  const state = event.detail.state;
  fill(state === "verified" ? event.detail.payload : "");
  if (state === "verified" && waiting) {
    const [form, button] = waiting;
    waiting = null;
    form.requestSubmit(button);
  }
});

forms.forEach((form) => {
  form.addEventListener("submit", (event) => {
    if (payload) { return; }
    event.preventDefault(); // sent as soon as the check is done, with the time chosen
    waiting = [form, event.submitter];
    const state = widget.getState();
    if (state !== "verifying") { widget.verify(); }
    widget.scrollIntoView({ block: "nearest" });
  });
});

widget.configure({ language: config.language });
