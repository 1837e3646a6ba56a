// Polling without a filter expression (htmx evaluates those with eval, which the CSP forbids):
// every element with data-poll-seconds gets a "poll" event that often, while the tab is visible,
// and one at once when the tab becomes visible again.
(function () {
  function poll(el) {
    if (document.visibilityState === "visible" && window.htmx) window.htmx.trigger(el, "poll");
  }
  function start(el) {
    if (el.dataset.pollReady) return;
    el.dataset.pollReady = "1";
    const seconds = parseFloat(el.dataset.pollSeconds);
    if (!(seconds > 0)) return;
    window.setInterval(function () { poll(el); }, seconds * 1000);
  }
  function scan() {
    document.querySelectorAll("[data-poll-seconds]").forEach(start);
  }
  document.addEventListener("DOMContentLoaded", scan);
  document.addEventListener("visibilitychange", function () {
    document.querySelectorAll("[data-poll-seconds]").forEach(poll);
  });
})();
