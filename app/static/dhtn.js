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
