// Guard rails (issue 12, point 6). Loaded from base.html; the CSP allows no inline scripts.
//
// 1. "Leave without saving?": a form marked data-guard-unsaved asks before the page is left
//    while its fields differ from what the page was loaded (or last swapped by htmx) with.
//    Submitting the form itself is not leaving: no prompt then.
// 2. Copy buttons: <button type="button" data-copy="text" hidden>Copy</button> is shown when
//    JavaScript runs, copies its text and says "Copied" in a live region (the next sibling
//    .copy-status, else one shared region at the end of the page).
// 3. Fields of the chosen kind: see data-show-for below.
(function () {
  "use strict";

  // 1. Unsaved changes -----------------------------------------------------------------------
  const saved = new WeakMap();  // form -> its fields as loaded
  let submitting = false;

  function state(form) {
    const pairs = [];
    new FormData(form).forEach(function (value, name) {
      if (name !== "csrfmiddlewaretoken") pairs.push(name + "=" + (typeof value === "string" ? value : value.name));
    });
    return pairs.join("&");
  }
  function remember(root) {
    const forms = root.matches && root.matches("form[data-guard-unsaved]")
      ? [root] : Array.from(root.querySelectorAll("form[data-guard-unsaved]"));
    const outer = root.closest && root.closest("form[data-guard-unsaved]");
    if (outer && forms.indexOf(outer) < 0) forms.push(outer);  // htmx swapped its inside
    forms.forEach(function (form) { saved.set(form, state(form)); });
  }
  function unsaved() {
    // "dirty": the server re-showed the form with errors, so nothing in it is saved yet.
    return Array.from(document.querySelectorAll("form[data-guard-unsaved]")).some(function (form) {
      return form.dataset.guardUnsaved === "dirty" || (saved.has(form) && saved.get(form) !== state(form));
    });
  }
  document.addEventListener("htmx:afterSwap", function (event) {
    // An htmx swap inside the form (Optimize, Undo) saved it, unless it came back with errors
    // or with typed fields it kept unsaved ([data-unsaved]: Undo restores the instructions only).
    const form = event.target.closest("form[data-guard-unsaved]");
    if (form) form.dataset.guardUnsaved = form.querySelector(".errors, [data-unsaved]") ? "dirty" : "";
  });
  document.addEventListener("submit", function (event) {
    if (event.target.matches("form[data-guard-unsaved]")) submitting = true;
  });
  window.addEventListener("pageshow", function () { submitting = false; });  // back button
  // An htmx link marked data-guard-leave replaces the guarded form (the step panel beside the
  // call flow diagram): it asks the same question before its request is sent.
  document.addEventListener("htmx:confirm", function (event) {
    if (!event.detail.elt.hasAttribute("data-guard-leave") || !unsaved()) return;
    if (!window.confirm("Leave without saving? Your changes are not saved yet.")) event.preventDefault();
  });
  window.addEventListener("beforeunload", function (event) {
    if (submitting || !unsaved()) return;
    event.preventDefault();
    event.returnValue = "";  // older browsers need a value to show their prompt
  });

  // 2. Copy buttons --------------------------------------------------------------------------
  let shared = null;  // made only on pages with a copy button that has no status of its own
  function statusFor(button) {
    const next = button.nextElementSibling;
    if (next && next.classList.contains("copy-status")) return next;
    if (!shared) {
      shared = document.createElement("div");
      shared.className = "sr-only copy-status";
      shared.setAttribute("role", "status");
      document.body.appendChild(shared);
    }
    return shared;
  }
  function fallbackCopy(text) {
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "sr-only";
    document.body.appendChild(area);
    area.select();
    const ok = document.execCommand("copy");
    area.remove();
    return ok ? Promise.resolve() : Promise.reject(new Error("copy refused"));
  }
  document.addEventListener("click", function (event) {
    const button = event.target.closest("button[data-copy]");
    if (!button) return;
    const text = button.dataset.copy;
    const copied = navigator.clipboard && window.isSecureContext
      ? navigator.clipboard.writeText(text) : fallbackCopy(text);
    const status = statusFor(button);
    copied.then(function () {
      status.textContent = "Copied";
    }, function () {
      status.textContent = "Could not copy: select the text and copy it yourself.";
    });
    window.setTimeout(function () { status.textContent = ""; }, 4000);
  });

  // 3. Fields of the chosen kind --------------------------------------------------------------
  // <div data-show-for="control id" data-show-values="a b">: shown (and its fields sent) only
  // while the control's value is one of the values. Without JavaScript everything stays shown.
  function applyShowFor(block) {
    const control = document.getElementById(block.dataset.showFor);
    if (!control) return;
    const show = block.dataset.showValues.split(" ").indexOf(control.value) >= 0;
    block.hidden = !show;
    block.querySelectorAll("input, select, textarea").forEach(function (field) {
      field.disabled = !show;
    });
  }
  document.addEventListener("change", function (event) {
    if (!event.target.id) return;
    document.querySelectorAll('[data-show-for="' + event.target.id + '"]').forEach(applyShowFor);
  });

  function init(root) {
    root.querySelectorAll("[data-show-for]").forEach(applyShowFor);
    root.querySelectorAll("button[data-copy][hidden]").forEach(function (button) {
      button.hidden = false;
    });
    remember(root);
  }
  document.addEventListener("DOMContentLoaded", function () {
    init(document);
    // Give a status-less copy button its live region before it is used (announced reliably).
    document.querySelectorAll("button[data-copy]").forEach(statusFor);
  });
  document.addEventListener("htmx:load", function (event) { init(event.target); });
})();
