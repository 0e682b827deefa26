// DHTN pages: drag-and-drop onto a file input, and an inline preview of the first PDF.
(function () {
  "use strict";
  document.querySelectorAll("[data-drop-target]").forEach(function (zone) {
    var input = document.getElementById(zone.getAttribute("data-drop-target"));
    if (!input) return;
    var preview = zone.querySelector(".dhtn-preview");
    var frame = zone.querySelector(".dhtn-preview-frame");
    var url = null;
    function show() {
      if (!preview || !frame) return;
      var file = input.files && input.files[0];
      if (url) { URL.revokeObjectURL(url); url = null; }
      if (file && (file.type === "application/pdf" || /\.pdf$/i.test(file.name))) {
        url = URL.createObjectURL(file);
        frame.src = url;
        preview.hidden = false;
      } else {
        preview.hidden = true;
      }
    }
    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (e) { e.preventDefault(); zone.classList.add("dhtn-drop-over"); });
    });
    ["dragleave", "drop"].forEach(function (name) {
      zone.addEventListener(name, function () { zone.classList.remove("dhtn-drop-over"); });
    });
    zone.addEventListener("drop", function (e) {
      e.preventDefault();
      if (e.dataTransfer && e.dataTransfer.files.length) {
        input.files = e.dataTransfer.files;
        show();
      }
    });
    input.addEventListener("change", show);
  });
  // Assign form: choosing "working days" clears the date and the other way round.
  document.querySelectorAll("[data-exclusive]").forEach(function (el) {
    var other = document.getElementById(el.getAttribute("data-exclusive"));
    if (!other) return;
    el.addEventListener("input", function () { if (el.value) other.value = ""; });
  });
})();
// Admin organisation tree: a node's children are fetched when it is first opened, and
// "Xem thêm…" fetches the next page in place (without script, the links open whole pages).
(function () {
  "use strict";
  function load(url, into, replace) {
    fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.text(); })
      .then(function (html) {
        var tmp = document.createElement("ul");
        tmp.innerHTML = html;
        var items = Array.prototype.slice.call(tmp.children);
        if (replace) {
          items.forEach(function (li) { into.parentNode.insertBefore(li, into); });
          into.remove();
        } else {
          into.innerHTML = "";
          items.forEach(function (li) { into.appendChild(li); });
          into.setAttribute("data-loaded", "1");
        }
      })
      .catch(function () { /* the fallback link stays */ });
  }
  document.addEventListener("toggle", function (e) {
    var d = e.target;
    if (!(d instanceof HTMLDetailsElement) || !d.open || !d.hasAttribute("data-tree-children")) return;
    var ul = d.querySelector(":scope > ul.dhtn-tree");
    if (ul && !ul.hasAttribute("data-loaded")) load(d.getAttribute("data-tree-children"), ul, false);
  }, true);
  document.addEventListener("click", function (e) {
    var a = e.target instanceof Element ? e.target.closest("[data-tree-more]") : null;
    if (!a) return;
    e.preventDefault();
    load(a.getAttribute("data-tree-more"), a.closest("li"), true);
  });
})();
