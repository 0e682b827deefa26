/* DHTN service worker (served at /sw.js, scope /): shows pushes, opens their link on a tap,
   and keeps the last opened document pages (and the PDF a page shows) readable offline
   (network first; at most MAX_PAGES entries of at most MAX_BYTES, only those the server marks
   X-DHTN-Offline: 1). The kept pages are dropped by the pages (pwa.js: on signing out and on
   the sign-in page), and here when a kept file is answered with the sign-in page (a session
   that ended). Requests it has no part in (forms and other non-GET requests, the sign-in page)
   go to the network without waking it where the browser has static routes. */
"use strict";

const PAGES = "dhtn-pages-v1"; // pwa.js deletes every "dhtn-pages-*" on sign-out
const STATIC = "dhtn-static-v1";
const MAX_PAGES = 20;
// A document's page, and the file its page shows inline (an incoming document's PDF).
const DOCUMENT_PAGE = /^\/(documents|outgoing)\/[0-9a-f-]{36}(\/files\/[0-9a-f-]{36})?$/;
const MAX_BYTES = 5 * 1024 * 1024; // a larger file is not kept (nor one of unknown size)
// The pages' own styles and scripts (ours and Bootstrap's local copy), so a kept page reads well.
const ASSET = /^\/(static|bootstrap\/static|icons)\//;
const OFFLINE_HTML =
  '<!doctype html><html lang="vi"><head><meta charset="utf-8">' +
  '<meta name="viewport" content="width=device-width, initial-scale=1">' +
  "<title>Không có mạng · DHTN</title></head>" +
  '<body style="font-family:system-ui,sans-serif;padding:1.5rem;line-height:1.5">' +
  "<h1 style=\"font-size:1.3rem\">Không có kết nối mạng</h1>" +
  "<p>Trang này chưa được lưu trên thiết bị. Các văn bản đã mở gần đây vẫn xem được khi " +
  "không có mạng.</p><p><a href=\"/\">Về trang chủ</a></p></body></html>";

// Static routes (InstallEvent.addRoutes, where the browser has them): the browser sends these
// requests itself, without starting the worker or waiting on it. Signing out is one of them: a
// form posted through a worker that is starting or busy must not hold the sign-out back.
const NETWORK_ONLY = [
  { condition: { not: { requestMethod: "GET" } }, source: "network" },
  { condition: { urlPattern: { pathname: "/login" } }, source: "network" },
];

self.addEventListener("install", (event) => {
  self.skipWaiting();
  if (typeof event.addRoutes !== "function") return;
  // One rule at a time: a browser refuses a whole call for one condition it does not know
  // (`not` is newer than the routes themselves), and keeps the rules it does. Without them the
  // worker still works: its fetch handler below leaves these requests alone.
  for (const rule of NETWORK_ONLY) {
    event.waitUntil(Promise.resolve(event.addRoutes(rule)).catch(() => undefined));
  }
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const key of await caches.keys()) {
        if (key !== PAGES && key !== STATIC) await caches.delete(key);
      }
      await self.clients.claim();
    })()
  );
});

function sameOrigin(link) {
  try {
    const url = new URL(link || "/", self.location.origin);
    return url.origin === self.location.origin ? url.href : self.location.origin + "/";
  } catch (e) {
    return self.location.origin + "/";
  }
}

self.addEventListener("push", (event) => {
  let data = {};
  if (event.data) {
    try {
      data = event.data.json();
    } catch (e) {
      data = { body: event.data.text() };
    }
  }
  event.waitUntil(
    self.registration.showNotification(data.title || "DHTN", {
      body: data.body || "",
      tag: data.tag || undefined,
      lang: "vi",
      icon: "/icons/192.png",
      data: { url: sameOrigin(data.url) },
    })
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = sameOrigin(event.notification.data && event.notification.data.url);
  event.waitUntil(
    (async () => {
      const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
      for (const client of windows) {
        if (client.url === url && "focus" in client) return client.focus();
      }
      return self.clients.openWindow(url);
    })()
  );
});

async function remember(path, response) {
  const cache = await caches.open(PAGES);
  await cache.delete(path); // re-added last: the cache keeps the most recently opened
  await cache.put(path, response);
  const keys = await cache.keys();
  for (let i = 0; i < keys.length - MAX_PAGES; i++) await cache.delete(keys[i]);
}

async function keep(name, request, response) {
  const cache = await caches.open(name);
  await cache.put(request, response);
}

function small(response, url) {
  const length = response.headers.get("Content-Length");
  if (length === null) return !url.pathname.includes("/files/");
  return Number(length) <= MAX_BYTES;
}

// A response is handed to the page as soon as it arrives; what is kept on the device is
// written beside it (event.waitUntil), never before it: a page never waits on the cache, and
// a navigation that cancels a request does not leave a cache write holding the page back.
async function page(event, request, url) {
  try {
    const response = await fetch(request);
    if (response.redirected && new URL(response.url).pathname === "/login") {
      // A kept file asked again after the session ended (a page navigation's redirect is the
      // browser's, not seen here: the sign-in page it lands on deletes the copy, pwa.js).
      event.waitUntil(caches.delete(PAGES));
    } else if (
      DOCUMENT_PAGE.test(url.pathname) &&
      url.search === "" &&
      response.ok &&
      response.headers.get("X-DHTN-Offline") === "1" &&
      small(response, url)
    ) {
      event.waitUntil(remember(url.pathname, response.clone()).catch(() => undefined));
    }
    return response;
  } catch (err) {
    const kept = await caches.match(url.pathname, { cacheName: PAGES });
    if (kept) return kept;
    if (request.mode !== "navigate") return Response.error();
    return new Response(OFFLINE_HTML, {
      status: 503,
      headers: { "Content-Type": "text/html; charset=utf-8" },
    });
  }
}

async function asset(event, request) {
  try {
    const response = await fetch(request);
    if (response.ok) {
      event.waitUntil(keep(STATIC, request, response.clone()).catch(() => undefined));
    }
    return response;
  } catch (err) {
    const kept = await caches.match(request, { cacheName: STATIC });
    if (kept) return kept;
    throw err;
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.method !== "GET" || url.pathname === "/login") return;
  if (request.mode === "navigate" || DOCUMENT_PAGE.test(url.pathname)) {
    event.respondWith(page(event, request, url));
  } else if (ASSET.test(url.pathname)) {
    event.respondWith(asset(event, request));
  }
});
