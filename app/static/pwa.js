// DHTN as an installable app: registers the service worker (/sw.js), drops its offline copies
// on signing out and on the sign-in page, and the "Bật thông báo" button of the notifications
// page subscribes this browser to pushes (Push API + VAPID key).
(function () {
  "use strict";
  // The document pages sw.js keeps for offline reading (its caches "dhtn-pages-<version>")
  // go when the user signs out (as the form is sent, even offline) and on the sign-in page (no
  // session in this browser: signed out, or a session that ended). The page does it, not the
  // worker, so signing out never waits on a worker. By prefix: a new version of the worker
  // names its cache anew, and this must not go on deleting the old name only.
  function forget() {
    if (!("caches" in window)) return;
    caches.keys().then(function (names) {
      names.forEach(function (name) {
        if (name.indexOf("dhtn-pages-") === 0) caches.delete(name);
      });
    }).catch(function () { return false; });
  }
  if (document.querySelector("[data-signed-out]")) forget();
  document.querySelectorAll("form[data-sign-out]").forEach(function (form) {
    form.addEventListener("submit", forget);
  });
  if (!("serviceWorker" in navigator)) return;
  var ready = navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () {
    return null;
  });

  var box = document.querySelector("[data-push-key]");
  if (!box) return;
  var button = box.querySelector("[data-push-on]");
  var off = box.querySelector("[data-push-off]");
  var status = box.querySelector("[data-push-status]");
  function say(text) { status.textContent = text; }
  function keyBytes(b64url) {
    var text = b64url.replace(/-/g, "+").replace(/_/g, "/");
    text += "===".slice((text.length + 3) % 4);
    var raw = atob(text), out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  }
  function send(method, body) {
    return fetch(box.getAttribute("data-push-url"), {
      method: method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": box.getAttribute("data-csrf") },
      body: JSON.stringify(body),
    }).then(function (r) {
      // A session that ended answers with the login page (a redirect): that is no success.
      if (r.redirected || (!r.ok && r.status !== 404)) throw new Error("HTTP " + r.status);
      return r;
    });
  }
  function show(subscribed) {
    button.hidden = subscribed;
    off.hidden = !subscribed;
    say(subscribed ? "Thiết bị này đang nhận thông báo." : "");
  }
  if (!("PushManager" in window) || !("Notification" in window)) {
    say("Trình duyệt này không hỗ trợ thông báo đẩy.");
    return;
  }
  // A subscription this browser holds is registered again: the server forgets a person's
  // devices when their sessions end (signing out everywhere, a password change), so a device
  // signed in again gets its pushes back here (registering a known device changes nothing).
  ready.then(function (reg) {
    if (!reg) return;
    return reg.pushManager.getSubscription().then(function (sub) {
      if (!sub) return show(false);
      return send("POST", sub.toJSON()).then(
        function () { show(true); },
        function () { show(false); }
      );
    });
  });
  button.addEventListener("click", function () {
    button.disabled = true;
    Notification.requestPermission()
      .then(function (permission) {
        if (permission !== "granted") throw new Error("denied");
        return navigator.serviceWorker.ready;
      })
      .then(function (reg) {
        return reg.pushManager.subscribe({
          userVisibleOnly: true,
          applicationServerKey: keyBytes(box.getAttribute("data-push-key")),
        });
      })
      .then(function (sub) { return send("POST", sub.toJSON()); })
      .then(function () { show(true); })
      .catch(function (err) {
        say(err && err.message === "denied"
          ? "Bạn chưa cho phép thông báo: hãy bật trong cài đặt của trình duyệt."
          : "Không bật được thông báo, vui lòng thử lại.");
      })
      .then(function () { button.disabled = false; });
  });
  off.addEventListener("click", function () {
    off.disabled = true;
    navigator.serviceWorker.ready
      .then(function (reg) { return reg.pushManager.getSubscription(); })
      .then(function (sub) {
        if (!sub) return;
        return send("DELETE", { endpoint: sub.endpoint }).then(function () { return sub.unsubscribe(); });
      })
      .then(function () { show(false); })
      .catch(function () { say("Không tắt được thông báo, vui lòng thử lại."); })
      .then(function () { off.disabled = false; });
  });
})();
