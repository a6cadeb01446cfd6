// Step 1 of the booking, enhanced: the persons of a service appear when it is ticked, a filter narrows the
// list, and the summary (time needed, what to bring) follows the choice. The page works without all this:
// the persons are then always shown, and the summary is computed by the server after "Show time".
(function () {
  "use strict";

  function normalize(text) {
    return text.toLowerCase().normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/ß/g, "ss");
  }

  function setUp(form) {
    var dataNode = document.getElementById("needs-data");
    var data = dataNode ? JSON.parse(dataNode.textContent) : {};
    var needs = Array.prototype.slice.call(form.querySelectorAll("[data-need]"));
    var more = form.querySelector("[data-needs-more]");
    var summary = form.querySelector("[data-needs-summary]");
    form.classList.add("needs-js");

    function boxOf(need) { return need.querySelector("[data-need-box]"); }
    function personsOf(need) { return need.querySelector("[data-need-persons] select"); }

    needs.forEach(function (need) {
      var label = need.querySelector("[data-persons-label]");
      if (label) { label.textContent = label.dataset.personsLabel; }
    });

    function showPersons(need) {
      var ticked = boxOf(need).checked;
      var persons = personsOf(need);
      need.classList.toggle("is-chosen", ticked);
      // Not sent for a service not ticked: the address stays short, and the server ignores them anyway.
      if (persons) { persons.disabled = !ticked; }
    }

    function update() {
      var minutes = 0;
      var chosen = [];
      var bring = [];
      needs.forEach(function (need) {
        var box = boxOf(need);
        if (!box.checked) { return; }
        var persons = personsOf(need);
        var count = persons ? parseInt(persons.value, 10) || 1 : 1;
        var facts = data[box.value] || { minutes: 0, bring: [] };
        minutes += facts.minutes * count;
        var name = need.querySelector("label[for='" + box.id + "']").textContent.trim();
        chosen.push(count > 1 ? name + " – " + persons.options[persons.selectedIndex].text : name);
        facts.bring.forEach(function (item) { if (bring.indexOf(item) < 0) { bring.push(item); } });
      });
      var list = summary.querySelector("[data-summary-chosen]");
      list.replaceChildren.apply(list, chosen.map(function (text) {
        var item = document.createElement("li");
        item.textContent = text;
        return item;
      }));
      list.hidden = chosen.length === 0;
      var estimate = summary.querySelector("[data-summary-estimate]");
      estimate.textContent = chosen.length
        ? estimate.dataset.text.replace("#", String(minutes))
        : summary.querySelector("[data-summary-none]").textContent;
      Array.prototype.forEach.call(summary.querySelectorAll("[data-summary-bring]"), function (box) {
        box.hidden = bring.length === 0;
        var items = box.querySelector("[data-summary-bring-list]");
        items.replaceChildren.apply(items, bring.map(function (text) {
          var item = document.createElement("li");
          item.textContent = text;
          return item;
        }));
      });
    }

    form.addEventListener("change", function (event) {
      var need = event.target.closest("[data-need]");
      if (!need) { return; }
      showPersons(need);  // the persons come right after the box: Tab reaches them, focus is not moved
      update();
    });
    needs.forEach(showPersons);
    update();

    // On a phone the summary is a bar at the bottom: what gets the focus is scrolled clear of it.
    var aside = form.querySelector(".needs-aside");
    var bar = form.querySelector(".needs-aside-inner");
    form.addEventListener("focusin", function (event) {
      if (!aside || !bar || bar.contains(event.target) || getComputedStyle(aside).position !== "sticky") { return; }
      var overlap = event.target.getBoundingClientRect().bottom - bar.getBoundingClientRect().top + 8;
      if (overlap > 0) { window.scrollBy({ top: overlap, behavior: "instant" }); }
    });

    var filterBox = form.querySelector("[data-needs-filter]");
    if (!filterBox) { return; }
    var input = filterBox.querySelector("input");
    var status = filterBox.querySelector("[id$='-status']");
    var groups = Array.prototype.slice.call(form.querySelectorAll("[data-needs-group]"));
    var moreWasOpen = more ? more.open : false;
    var searchText = needs.map(function (need) { return normalize(need.dataset.search || ""); });
    var timer = null;
    filterBox.hidden = false;

    function filter() {
      var words = normalize(input.value).split(/\s+/).filter(Boolean);
      var found = 0;
      needs.forEach(function (need, index) {
        var match = words.every(function (word) { return searchText[index].indexOf(word) >= 0; });
        // A ticked service always stays in sight.
        need.hidden = !(match || boxOf(need).checked);
        if (match) { found += 1; }
      });
      groups.forEach(function (group) {
        group.hidden = !group.querySelector("[data-need]:not([hidden])");
      });
      if (more) {
        if (words.length) {
          more.open = true;
        } else {
          // Back to how it was, but never with a ticked service folded away.
          more.open = moreWasOpen || Boolean(more.querySelector("[data-need-box]:checked"));
        }
      }
      if (!words.length) {
        status.textContent = "";
      } else if (found) {
        status.textContent = status.dataset.found.replace("#", String(found));
      } else {
        status.textContent = status.dataset.none;
      }
    }

    if (more) {
      more.addEventListener("toggle", function () { if (!input.value.trim()) { moreWasOpen = more.open; } });
    }
    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(filter, 150);
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") { event.preventDefault(); filter(); }  // Enter filters, it does not send the form
      if (event.key === "Escape" && input.value) { input.value = ""; filter(); }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("[data-needs-form]");
    if (form) { setUp(form); }
  });
}());
