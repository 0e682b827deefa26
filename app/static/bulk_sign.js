// Signing many drafts at once: "select all", the count on the button, the OTP/PIN fields only
// for remote signing. Without JavaScript the page works the same (all fields shown).
(function () {
  "use strict";
  var form = document.querySelector("[data-bulk-form]");
  if (!form) return;
  var boxes = form.querySelectorAll("input[name=document_id]");
  var all = form.querySelector("[data-select-all]");
  var count = form.querySelector("[data-count]");
  var submit = form.querySelector("[data-bulk-submit]");
  function update() {
    var n = 0;
    boxes.forEach(function (b) { if (b.checked) n += 1; });
    if (count) count.textContent = n ? "(" + n + ")" : "";
    if (submit) submit.disabled = n === 0;
    if (all) all.checked = n > 0 && n === boxes.length;
  }
  if (all) {
    all.addEventListener("change", function () {
      boxes.forEach(function (b) { b.checked = all.checked; });
      update();
    });
  }
  boxes.forEach(function (b) { b.addEventListener("change", update); });
  var remote = form.querySelector("[data-remote-fields]");
  function showRemote() {
    var chosen = form.querySelector("[data-method]:checked");
    if (remote) remote.hidden = !chosen || chosen.value !== "csc";
  }
  form.querySelectorAll("[data-method]").forEach(function (r) {
    r.addEventListener("change", showRemote);
  });
  showRemote();
  update();
})();
