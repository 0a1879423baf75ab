// Check-in at the door, on a tablet with a poor connection. Without this script the page still
// works (each tap is a form post). With it, a tap shows at once and is queued in localStorage;
// the queue is sent until the server has it, surviving reloads and lost connections. The
// server's check-in is idempotent, so a retry never counts anyone twice.
(function () {
  "use strict";
  var list = document.getElementById("people");
  if (!list) { return; }
  var storageKey = "tilmeld-check-in-queue:" + location.pathname;
  var queue = load();
  var retryDelay = 1000;
  var timer = null;

  function load() {
    try { return JSON.parse(localStorage.getItem(storageKey) || "[]"); } catch (e) { return []; }
  }
  function save() { localStorage.setItem(storageKey, JSON.stringify(queue)); }

  function showQueue() {
    var box = document.getElementById("queue");
    document.getElementById("queued").textContent = String(queue.length);
    box.hidden = queue.length === 0;
  }

  function markArrived(id, pending) {
    var row = document.getElementById("r-" + id);
    if (!row) { return; }
    var button = row.querySelector("button[data-registration]");
    if (!row.classList.contains("in")) {
      row.classList.add("in");
      var arrived = document.getElementById("arrived");
      arrived.textContent = String(Number(arrived.textContent) + 1);
      var noShows = document.getElementById("no-shows");
      if (noShows) { noShows.textContent = String(Math.max(0, Number(noShows.textContent) - 1)); }
    }
    if (button) {
      button.disabled = true;
      button.classList.toggle("pending", pending);
      button.textContent = button.getAttribute("data-done");
    }
  }

  function flush() {
    timer = null;
    if (queue.length === 0) { retryDelay = 1000; return; }
    var id = queue[0];
    fetch("/console/registrations/" + id + "/check-in", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      if (response.ok || response.status === 404 || response.status === 409) {
        // Done, or can never succeed (not found, not confirmed): either way, not retried.
        queue.shift();
        save();
        markArrived(id, false);
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
    var button = event.target.closest("button[data-registration]");
    if (!button) { return; }
    event.preventDefault();
    var id = button.getAttribute("data-registration");
    if (queue.indexOf(id) === -1) { queue.push(id); save(); }
    markArrived(id, true);
    showQueue();
    if (timer === null) { flush(); }
  });

  var search = document.getElementById("q");
  search.addEventListener("input", function () {
    var needle = search.value.trim().toLowerCase();
    list.querySelectorAll("li").forEach(function (row) {
      row.hidden = needle !== "" && row.getAttribute("data-name").indexOf(needle) === -1;
    });
  });
  search.form.addEventListener("submit", function (event) { event.preventDefault(); });

  window.addEventListener("online", function () { retryDelay = 1000; flush(); });
  queue.forEach(function (id) { markArrived(id, true); });
  showQueue();
  flush();
}());
