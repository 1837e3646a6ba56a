// Live character counters: every field with data-limit gets "n / limit" under it.
// Characters are counted as code points, like the server does (Python's len()).
(function () {
  function attach(field) {
    if (field.dataset.counterReady) return;
    field.dataset.counterReady = "1";
    const limit = parseInt(field.dataset.limit, 10);
    const counter = document.createElement("small");
    counter.className = "counter";
    counter.id = field.id + "_counter";
    counter.setAttribute("aria-live", "polite");
    field.insertAdjacentElement("afterend", counter);
    const described = (field.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
    field.setAttribute("aria-describedby", described.concat(counter.id).join(" "));
    // maxlength counts UTF-16 units; the counter and the server count characters.
    field.removeAttribute("maxlength");
    function update() {
      const n = Array.from(field.value).length;
      counter.textContent = n.toLocaleString("en-US") + " / " + limit.toLocaleString("en-US") + " characters";
      counter.classList.toggle("over", n > limit);
    }
    field.addEventListener("input", update);
    update();
  }
  function scan(root) {
    root.querySelectorAll("[data-limit]").forEach(attach);
  }
  document.addEventListener("DOMContentLoaded", function () { scan(document); });
  document.addEventListener("htmx:load", function (e) { scan(e.target); });
})();
