// Outgoing documents: switch the drafting form between template and upload, reload a page
// while a draft is being converted, submit the register choice on change.
(function () {
  "use strict";
  var switches = document.querySelectorAll("[data-mode-switch]");
  function showMode() {
    var chosen = document.querySelector("[data-mode-switch]:checked");
    var mode = chosen ? chosen.value : "template";
    document.querySelectorAll("[data-mode]").forEach(function (el) {
      el.hidden = el.getAttribute("data-mode") !== mode;
    });
    var body = document.getElementById("f-body");
    if (body) body.required = mode === "template";
    var files = document.getElementById("files");
    if (files) files.required = mode === "upload";
  }
  switches.forEach(function (el) { el.addEventListener("change", showMode); });
  if (switches.length) showMode();
  var waiting = document.querySelector("[data-reload-after]");
  if (waiting) {
    var seconds = parseInt(waiting.getAttribute("data-reload-after"), 10) || 3;
    window.setTimeout(function () { window.location.reload(); }, seconds * 1000);
  }
  document.querySelectorAll("[data-autosubmit]").forEach(function (el) {
    el.addEventListener("change", function () { if (el.form) el.form.submit(); });
  });
})();
