// Check-in at the door, on a tablet with a poor connection. Without this script the page still
// works (each tap is a form post). With it, a tap shows at once and is queued in localStorage;
// the queue is sent until the server has it, surviving reloads and lost connections. Ticking
// and taking back are both idempotent on the server, so a retry never counts anyone twice.
(function () {
  "use strict";
  var list = document.getElementById("people");
  if (!list) { return; }
  var storageKey = "tilmeld-check-in-queue:" + location.pathname;
  var queue = load();
  var retryDelay = 1000;
  var timer = null;

  // A queued tap: {id, companion ("" for the member), undo}. Older pages queued bare ids.
  function load() {
    try {
      return JSON.parse(localStorage.getItem(storageKey) || "[]").map(function (item) {
        return typeof item === "string" ? { id: item, companion: "", undo: false } : item;
      });
    } catch (e) { return []; }
  }
  function save() { localStorage.setItem(storageKey, JSON.stringify(queue)); }
  function rowId(tap) { return "r-" + tap.id + (tap.companion === "" ? "" : "-c" + tap.companion); }
  function same(a, b) { return a.id === b.id && a.companion === b.companion; }

  function showQueue() {
    var box = document.getElementById("queue");
    document.getElementById("queued").textContent = String(queue.length);
    box.hidden = queue.length === 0;
  }

  function count(id, delta) {
    var element = document.getElementById(id);
    if (element) { element.textContent = String(Math.max(0, Number(element.textContent) + delta)); }
  }

  // Show the line as arrived (or not), and keep the counts in step.
  function show(tap, pending) {
    var row = document.getElementById(rowId(tap));
    if (!row) { return; }
    var arrived = !tap.undo;
    if (row.classList.contains("in") !== arrived) {
      row.classList.toggle("in", arrived);
      count("arrived", arrived ? 1 : -1);
      count("no-shows", arrived ? -1 : 1);
    }
    row.querySelector("form.tick").hidden = arrived;
    row.querySelector(".done").hidden = !arrived;
    var undo = row.querySelector("form.undo");
    undo.hidden = !arrived;
    undo.querySelector("button").classList.toggle("pending", pending);
  }

  function flush() {
    timer = null;
    if (queue.length === 0) { retryDelay = 1000; return; }
    var tap = queue[0];
    var path = "/console/registrations/" + tap.id + "/check-in" + (tap.undo ? "/undo" : "");
    var query = tap.companion === "" ? "" : "?companion=" + encodeURIComponent(tap.companion);
    fetch(path + query, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      if (response.ok || response.status === 404 || response.status === 409) {
        // Done, or can never succeed (not found, not confirmed): either way, not retried.
        queue.shift();
        save();
        show(tap, false);
        retryDelay = 1000;
        showQueue();
        flush();
      } else {
        later();  // 401 (sign in again), 5xx: keep it and try again
      }
    }).catch(later);
  }

  function later() {
    showQueue();
    if (timer === null) {
      timer = setTimeout(flush, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 30000);
    }
  }

  list.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-registration], button[data-undo]");
    if (!button) { return; }
    event.preventDefault();
    var undo = button.hasAttribute("data-undo");
    var tap = {
      id: button.getAttribute(undo ? "data-undo" : "data-registration"),
      companion: button.getAttribute("data-companion") || "",
      undo: undo
    };
    // A tap and its undo before either was sent cancel out; otherwise the newest wins.
    var waiting = queue.filter(function (queued) { return same(queued, tap); });
    queue = queue.filter(function (queued) { return !same(queued, tap); });
    if (waiting.length === 0 || waiting[0].undo === tap.undo) { queue.push(tap); }
    save();
    show(tap, true);
    showQueue();
    if (timer === null) { flush(); }
  });

  var search = document.getElementById("q");
  var none = document.getElementById("no-matches");
  search.addEventListener("input", function () {
    var needle = search.value.trim().toLowerCase();
    var shown = 0;
    list.querySelectorAll("li").forEach(function (row) {
      row.hidden = needle !== "" && row.getAttribute("data-name").indexOf(needle) === -1;
      if (!row.hidden) { shown += 1; }
    });
    none.hidden = shown > 0 || needle === "";
  });
  search.form.addEventListener("submit", function (event) { event.preventDefault(); });

  window.addEventListener("online", function () { retryDelay = 1000; flush(); });
  queue.forEach(function (tap) { show(tap, true); });
  showQueue();
  flush();
}());
