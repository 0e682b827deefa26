// Outgoing documents: switch the drafting form between template and upload, reload a page
// while a draft is being converted, submit the register choice on change, and search the
// axis's directory as the clerk types in the recipient picker (without JavaScript the "Tìm"
// button does the same by reloading the form).
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
  document.querySelectorAll("[data-agency-picker]").forEach(function (picker) {
    var input = picker.querySelector("[data-agency-q]");
    var list = picker.querySelector("[data-agency-list]");
    var url = picker.getAttribute("data-agency-url");
    if (!input || !list || !url) return;
    var timer = null;
    var asked = 0;
    function render(items) {
      var keep = {};
      Array.prototype.forEach.call(list.options, function (opt) {
        if (opt.selected) keep[opt.value] = true;
      });
      Array.prototype.slice.call(list.options).forEach(function (opt) {
        if (!opt.selected) list.removeChild(opt);
      });
      items.forEach(function (item) {
        if (keep[item.code]) return;
        var opt = document.createElement("option");
        opt.value = item.code;
        opt.textContent = item.name + " — " + item.code;
        list.appendChild(opt);
      });
    }
    function search() {
      var mine = ++asked;
      fetch(url + "?q=" + encodeURIComponent(input.value.trim()), {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      })
        .then(function (r) { return r.ok ? r.json() : { items: [] }; })
        .then(function (data) { if (mine === asked) render(data.items || []); })
        .catch(function () { /* the "Tìm" button still works */ });
    }
    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(search, 250);
    });
    input.addEventListener("keydown", function (e) {
      if (e.key === "Enter") { e.preventDefault(); window.clearTimeout(timer); search(); }
    });
  });
})();
