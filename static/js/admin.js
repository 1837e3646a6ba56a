// Accessible names for the Django admin widgets that ship without one (checked by axe in the
// browser tests: tests/e2e/conftest.py). A file, not an inline script: the CSP allows none.
(function () {
  function labelText(id) {
    const label = id && document.querySelector('label[for="' + id + '"]');
    return label ? label.textContent.replace(/:\s*$/, "").trim() : "";
  }
  function fix() {
    // Autocomplete (select2): the combobox is labelled by its value only, empty when nothing is chosen.
    document.querySelectorAll(".select2-selection[role=combobox]:not([aria-label])").forEach(function (box) {
      const container = box.closest(".select2-container");
      const select = container && container.previousElementSibling;
      const name = select && labelText(select.id);
      if (!name) return;
      box.setAttribute("aria-label", name);
      // Its read-only "textbox" showing the chosen value needs the field's name too.
      box.querySelectorAll(".select2-selection__rendered[role=textbox]:not([aria-label])").forEach(function (value) {
        value.setAttribute("aria-label", name);
      });
    });
    // The horizontal filter's search icon carries aria-label on a plain span: give it a role.
    document.querySelectorAll(".help-tooltip[aria-label]:not([role])").forEach(function (icon) {
      icon.setAttribute("role", "img");
    });
    // Tabular inlines: the column of each row's object has an empty header cell.
    document.querySelectorAll(".tabular table > thead th.original:empty").forEach(function (th) {
      const label = document.createElement("span");
      label.className = "pb-visually-hidden";
      label.textContent = "Item";
      th.appendChild(label);
    });
    // Tabular inlines: a column with nothing to head (Delete when nothing can be deleted) has an
    // empty header cell: a plain cell says the same without announcing an unnamed header.
    document.querySelectorAll(".tabular table > thead th:empty:not(.original)").forEach(function (th) {
      const cell = document.createElement("td");
      cell.className = th.className;
      th.replaceWith(cell);
    });
    // Split date/time fields: "Date:" and "Time:" are plain text, not labels.
    document.querySelectorAll("p.datetime input").forEach(function (input) {
      if (input.labels && input.labels.length) return;
      if (input.hasAttribute("aria-label")) return;
      const field = labelText(input.id.replace(/_[01]$/, "")) || labelText(input.id.replace(/_1$/, "_0"));
      const part = /_1$/.test(input.id) ? "time" : "date";
      input.setAttribute("aria-label", (field ? field + " " : "") + part);
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    fix();
    new MutationObserver(fix).observe(document.body, { childList: true, subtree: true });
  });
  window.addEventListener("load", fix);
})();
