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

// "Insert action" in the job editor: writes an action marker (jobs/actions.py) at the cursor
// of the instructions. Delegated from document, so it keeps working after htmx swaps.
(function () {
  function oneLine(value) {
    return value.replace(/\s+/g, " ").trim();
  }
  function insertAt(textarea, text) {
    const start = textarea.selectionStart, end = textarea.selectionEnd;
    textarea.value = textarea.value.slice(0, start) + text + textarea.value.slice(end);
    textarea.focus();
    textarea.selectionStart = textarea.selectionEnd = start + text.length;
    textarea.dispatchEvent(new Event("input", { bubbles: true }));  // the live counter
  }
  function marker(panel, kind) {
    if (kind === "sms") {
      const message = oneLine(panel.querySelector("#action-sms-message").value);
      if (!message) return { error: "Write the message to send first." };
      return { text: "[[Send SMS: " + message + say(panel, "#action-sms-say") + "]]" };
    }
    let to = panel.querySelector("#action-transfer-to").value;
    if (to === "external") {
      const number = oneLine(panel.querySelector("#action-transfer-external").value);
      if (!number) return { error: "Enter the external number to transfer to." };
      to = "external " + number;
    }
    return { text: "[[Transfer call: " + to + say(panel, "#action-transfer-say") + "]]" };
  }
  function say(panel, selector) {  // "what Sona says first": optional on both kinds
    const words = oneLine(panel.querySelector(selector).value);
    return words ? " | say: " + words : "";
  }
  document.addEventListener("click", function (event) {
    const toggle = event.target.closest(".insert-action-toggle");
    if (toggle) {
      const panel = document.getElementById(toggle.getAttribute("aria-controls"));
      panel.hidden = !panel.hidden;
      toggle.setAttribute("aria-expanded", String(!panel.hidden));
      return;
    }
    const button = event.target.closest("[data-insert-action]");
    if (!button) return;
    const panel = button.closest(".insert-action-panel");
    const error = panel.querySelector(".insert-action-error");
    const result = marker(panel, button.dataset.insertAction);
    error.hidden = !result.error;
    error.textContent = result.error || "";
    if (result.text) insertAt(document.getElementById(panel.dataset.textarea), result.text);
  });
})();

// Focus after htmx swaps: keyboard focus must never fall back to the top of the page.
// The server names the control the person will use next with data-focus-after-swap in the
// swapped fragment: empty on the control itself, or a list of element ids, best first (e.g.
// "detach-job-7 attach-job-7": the first that exists wins). Without one, an [autofocus] field of
// the new content is used, and else the control that was focused before the swap, found again
// in the new content (same id, or same kind, action and text), keeps the focus.
// Announcements go to the page's permanent live regions (role="status"), filled out of band.
(function () {
  let before = null;
  function signature(el) {
    if (!el || el === document.body || !el.tagName) return null;
    return {
      id: el.id,
      tag: el.tagName,
      action: el.getAttribute("hx-post") || el.getAttribute("formaction") || el.getAttribute("href") || "",
      text: (el.textContent || "").trim(),
      name: el.getAttribute("aria-label") || "",
    };
  }
  function find(sig) {
    if (!sig) return null;
    if (sig.id) return document.getElementById(sig.id);
    const same = Array.from(document.getElementsByTagName(sig.tag)).filter(function (el) {
      return (el.getAttribute("hx-post") || el.getAttribute("formaction") || el.getAttribute("href") || "") === sig.action
        && (el.textContent || "").trim() === sig.text && (el.getAttribute("aria-label") || "") === sig.name;
    });
    return same.length === 1 ? same[0] : null;
  }
  function marked() {
    for (const el of document.querySelectorAll("[data-focus-after-swap]")) {
      const ids = el.getAttribute("data-focus-after-swap").split(/\s+/).filter(Boolean);
      el.removeAttribute("data-focus-after-swap");
      if (!ids.length) return el;
      for (const id of ids) {
        const target = document.getElementById(id);
        if (target) return target;
      }
    }
    return null;
  }
  function lost() {
    const active = document.activeElement;
    return !active || active === document.body || !active.isConnected;
  }
  document.addEventListener("htmx:beforeSwap", function () {
    before = signature(document.activeElement);
  });
  document.addEventListener("htmx:afterSettle", function () {
    const sig = before;
    before = null;
    let target = marked();
    if (!target && !lost()) return;  // focus survived the swap: leave it where the person is
    if (!target) target = find(sig) || document.querySelector("[autofocus]");
    if (target && target !== document.activeElement) {
      if (!target.matches("a[href], button, input, select, textarea, [tabindex]")) target.setAttribute("tabindex", "-1");
      target.focus();
    }
  });
})();

// Panels open beside the content on wide screens, collapsed on phones: <details data-open-wide>
// (Test Sona's panel for the current turn). On a phone, a panel the person opened stays open
// when htmx replaces it with the next turn's.
(function () {
  const wide = window.matchMedia("(min-width: 60rem)");
  let openOnPhone = false;
  function apply(root) {
    const panels = root.matches && root.matches("details[data-open-wide]")
      ? [root] : Array.from(root.querySelectorAll ? root.querySelectorAll("details[data-open-wide]") : []);
    panels.forEach(function (panel) { panel.open = wide.matches || openOnPhone; });
  }
  document.addEventListener("toggle", function (event) {
    if (!wide.matches && event.target.matches && event.target.matches("details[data-open-wide]")) {
      openOnPhone = event.target.open;
    }
  }, true);
  document.addEventListener("DOMContentLoaded", function () { apply(document); });
  document.addEventListener("htmx:load", function (event) { apply(event.target); });
  wide.addEventListener("change", function () { apply(document); });
})();

// A form that carries a hidden copy of a field typed elsewhere (the attach panel's search box,
// copied into its Attach, Detach and Move forms as "q") sends that field's current value: the
// panel the answer swaps in re-renders the field, and must not bring back an older text.
// Without JavaScript the copy is what the page was loaded with, which is the field's value then.
document.addEventListener("htmx:configRequest", function (event) {
  const form = event.detail.elt.closest ? event.detail.elt.closest("form[data-current-from]") : null;
  const source = form && document.getElementById(form.dataset.currentFrom);
  if (!source || !source.name) return;
  const copy = form.querySelector('input[type=hidden][name="' + source.name + '"]');
  if (copy && copy.value !== source.value) {
    event.detail.parameters[source.name] = source.value;
    if (form.querySelector('input[type=hidden][name="page"]')) event.detail.parameters.page = "1";  // a new search starts at its first page
  }
});

// Text typed while a request is on its way is not lost when the answer replaces the field:
// a field marked data-keep-typed (Test Sona's "Caller says", where the next sentence may be
// typed while Sona answers) gets back what was typed after its form was sent.
(function () {
  let sent = {};  // field id -> the value its form sent
  let typed = {};  // field id -> what the person typed since, just before the swap
  document.addEventListener("htmx:beforeRequest", function (event) {
    const form = event.detail.elt.closest ? event.detail.elt.closest("form") : null;
    if (!form) return;
    form.querySelectorAll("[data-keep-typed][id]").forEach(function (field) {
      sent[field.id] = field.value;
    });
  });
  document.addEventListener("htmx:beforeSwap", function () {
    Object.keys(sent).forEach(function (id) {
      const field = document.getElementById(id);
      if (field && field.value !== sent[id]) typed[id] = field.value;
    });
    sent = {};
  });
  document.addEventListener("htmx:afterSettle", function () {
    Object.keys(typed).forEach(function (id) {
      const field = document.getElementById(id);
      if (field) field.value = typed[id];
    });
    typed = {};
  });
})();

// The sidebar's "Menu" button on phones (templates/base.html): opens and closes the menu; Escape
// closes it and gives the focus back to the button.
(function () {
  function setOpen(toggle, open) {
    const body = document.getElementById(toggle.getAttribute("aria-controls"));
    body.classList.toggle("open", open);
    toggle.setAttribute("aria-expanded", String(open));
  }
  document.addEventListener("click", function (event) {
    const toggle = event.target.closest(".menu-toggle");
    if (toggle) setOpen(toggle, toggle.getAttribute("aria-expanded") !== "true");
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    const toggle = document.querySelector('.menu-toggle[aria-expanded="true"]');
    if (!toggle || !document.getElementById(toggle.getAttribute("aria-controls")).contains(document.activeElement)) return;
    setOpen(toggle, false);
    toggle.focus();
  });
})();
