"""The installable app in headless Chromium at phone width: the manifest and the service worker
are served, the worker registers for scope ``/`` and Chromium finds no installability error;
a push delivered to the worker (DevTools ``ServiceWorker.deliverPushMessage``, the push
service's part) is shown as a notification with the document's subject and link; a document
page opened once is readable offline, and a page never opened says so in Vietnamese; forms and
the sign-in page bypass the worker (static routes), and signing out empties the offline copy.
Screenshots: var/screenshots/pwa-*.png."""

from __future__ import annotations

import io
import json
import re
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.browser.conftest import PHONE, new_page, watch_errors
from tests.conftest import EMBEDDED_PASSWORD
from tests.pdfs import make_pdf

pytestmark = pytest.mark.browser

SUBJECT = "Kế hoạch giám sát việc thực hiện chính sách an sinh xã hội năm 2026"


def _token(base: str, username: str) -> dict[str, str]:
    r = requests.post(
        f"{base}/api/v1/auth/token",
        json={"username": username, "password": EMBEDDED_PASSWORD},
        timeout=60,
    )
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _submitted_document(base: str) -> str:
    """A document the clerk registers and presents to lanhdao.tw (through the API)."""
    clerk = _token(base, "vanthu.tw")
    meta = {
        "notation": "71/KH-MTTW-PWA",
        "doc_type": "KH",
        "subject": SUBJECT,
        "issuer": {"name": "Ủy ban MTTQ Việt Nam tỉnh Demo", "code": "000.00.01.Z01"},
        "issued_date": "2026-11-20",
    }
    r = requests.post(
        f"{base}/api/v1/incoming",
        headers=clerk,
        data={"meta": json.dumps(meta)},
        files=[("files", ("Kế hoạch.pdf", io.BytesIO(make_pdf()), "application/pdf"))],
        timeout=120,
    )
    assert r.status_code == 201, r.text
    doc = str(r.json()["id"])
    me = requests.get(f"{base}/api/v1/me", headers=_token(base, "lanhdao.tw"), timeout=60)
    r = requests.post(
        f"{base}/api/v1/documents/{doc}/actions",
        headers=clerk,
        json={"action": "submit", "to_user_id": me.json()["id"]},
        timeout=60,
    )
    assert r.status_code == 200, r.text
    return doc


def _login(browser: Any, base: str, errors: list[str]) -> Any:
    page = new_page(browser, PHONE, errors, service_workers=True)
    page.goto(base + "/login")
    page.get_by_label("Tên đăng nhập").fill("lanhdao.tw")
    page.get_by_label("Mật khẩu").fill(EMBEDDED_PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(base + "/")
    return page


# Whether the device keeps document pages for offline reading. evaluate awaits the promise;
# wait_for_function would not (a promise is truthy), so the helper below polls.
KEPT_COPY = "caches.keys().then(names => names.some(n => n.startsWith('dhtn-pages-')))"


def _wait_kept(page: Any, kept: bool, failure: str) -> None:
    deadline = time.monotonic() + 30
    while page.evaluate(KEPT_COPY) != kept:
        assert time.monotonic() < deadline, failure
        page.wait_for_timeout(200)


def test_installable_push_shown_and_documents_readable_offline(
    browser: Any, embedded_server: dict[str, Any], shots: Path, page_errors: list[str]
) -> None:
    base = embedded_server["base"]
    doc = _submitted_document(base)
    page = _login(browser, base, page_errors)
    page.context.grant_permissions(["notifications"], origin=base)
    cdp = page.context.new_cdp_session(page)
    registrations: dict[str, str] = {}
    cdp.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda e: registrations.update(
            {r["scopeURL"]: r["registrationId"] for r in e["registrations"] if not r["isDeleted"]}
        ),
    )
    versions: list[dict[str, Any]] = []
    cdp.on("ServiceWorker.workerVersionUpdated", lambda e: versions.extend(e["versions"]))
    cdp.send("ServiceWorker.enable")

    # Installable: the manifest is linked and served, the worker controls the whole site.
    manifest = page.evaluate(
        "fetch(document.querySelector('link[rel=manifest]').href).then(r => r.json())"
    )
    assert manifest["short_name"] == "DHTN" and manifest["display"] == "standalone"
    script = page.evaluate("navigator.serviceWorker.ready.then(r => [r.scope, r.active.scriptURL])")
    assert script == [base + "/", base + "/sw.js"]
    # Chromium's own check: the only objection is the test's private (incognito) profile.
    errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
    assert [e["errorId"] for e in errors if e["errorId"] != "in-incognito"] == [], errors
    parsed = cdp.send("Page.getAppManifest")
    assert parsed["url"] == base + "/manifest.webmanifest" and parsed["errors"] == []
    # Forms (the sign-out among them) and the sign-in page bypass the worker: Chromium holds
    # the worker's static routes, so it never starts or waits on the worker for them.
    rules = [json.loads(v["routerRules"]) for v in versions if v.get("routerRules")]
    assert rules, versions
    forms, sign_in = rules[-1]
    assert forms["condition"] == {"not": {"request": {"method": "GET"}}}, forms
    assert sign_in["condition"]["urlPattern"]["pathname"] == "/login", sign_in
    assert forms["source"] == sign_in["source"] == ["network"], rules[-1]

    # The notifications page: the in-app notification and the "Bật thông báo" button.
    page.goto(base + "/notifications")
    # (the embedded server is shared: other browser tests may have notified this leader too)
    page.get_by_role(
        "button", name=re.compile(f"Văn bản đến chờ ý kiến chỉ đạo.*{SUBJECT}")
    ).first.wait_for()
    page.get_by_role("button", name="Bật thông báo").wait_for(state="visible")
    page.screenshot(path=str(shots / "pwa-notifications-phone.png"), full_page=True)

    # A push arrives (what the push service hands the browser, as app/push.py sends it).
    deadline = time.monotonic() + 20
    while base + "/" not in registrations and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    payload = {
        "title": "Văn bản đến chờ ý kiến chỉ đạo",
        "body": SUBJECT,
        "url": f"/documents/{doc}",
        "tag": "push-test",
        "kind": "document_submitted",
    }
    cdp.send(
        "ServiceWorker.deliverPushMessage",
        {
            "origin": base,
            "registrationId": registrations[base + "/"],
            "data": json.dumps(payload, ensure_ascii=False),
        },
    )
    shown: list[dict[str, Any]] = []
    while not shown and time.monotonic() < deadline + 10:
        page.wait_for_timeout(200)
        shown = page.evaluate(
            """navigator.serviceWorker.ready.then(r => r.getNotifications()).then(ns =>
                 ns.map(n => ({title: n.title, body: n.body, url: n.data && n.data.url,
                               tag: n.tag, icon: n.icon})))"""
        )
    assert shown == [
        {
            "title": "Văn bản đến chờ ý kiến chỉ đạo",
            "body": SUBJECT,
            "url": f"{base}/documents/{doc}",
            "tag": "push-test",
            "icon": f"{base}/icons/192.png",
        }
    ]

    # Offline reading: the document opened once stays readable without a network.
    page.goto(base + f"/documents/{doc}")
    page.get_by_text(SUBJECT).first.wait_for()
    page.wait_for_timeout(500)  # the worker stores its copy after answering
    kept = page.evaluate(
        "caches.open('dhtn-pages-v1').then(c => c.keys()).then(k => k.map(r => r.url))"
    )
    # The page and the PDF it shows inline.
    assert kept[0] == f"{base}/documents/{doc}" and len(kept) == 2, kept
    assert kept[1].startswith(f"{base}/documents/{doc}/files/"), kept
    page.context.set_offline(True)
    page.goto(base + f"/documents/{doc}")
    page.get_by_text(SUBJECT).first.wait_for()
    pdf = page.evaluate(
        "fetch(document.querySelector('iframe').src).then(r => r.arrayBuffer())"
        ".then(b => new TextDecoder().decode(new Uint8Array(b).slice(0, 5)))"
    )
    assert pdf == "%PDF-"  # the file too, from the device's copy
    page.screenshot(path=str(shots / "pwa-offline-document-phone.png"), full_page=True)
    page.goto(base + "/tasks")
    page.get_by_role("heading", name="Không có kết nối mạng").wait_for()
    page.screenshot(path=str(shots / "pwa-offline-unknown-phone.png"), full_page=True)
    page.context.set_offline(False)

    # Signing out empties the device's copy (pwa.js: as the form is sent, and on the sign-in
    # page). The copy is the browser's, not a tab's, so a new tab shows it; the step says
    # which part did not happen: the form's answer, the sign-in page, or the deletion.
    tab = page.context.new_page()
    watch_errors(tab, page_errors)
    page.close()
    tab.goto(base + "/")
    assert tab.evaluate(KEPT_COPY), "the document page was not kept before signing out"
    tab.get_by_role("button", name="Mở menu").click()
    with tab.expect_response(
        lambda r: r.request.method == "POST" and r.url == base + "/logout"
    ) as answer:
        tab.get_by_role("button", name="Đăng xuất").click()
    assert answer.value.status == 302, answer.value.status
    tab.wait_for_url(base + "/login", wait_until="domcontentloaded")
    tab.get_by_text("Bạn đã đăng xuất.").wait_for()
    _wait_kept(tab, False, "signed out, the device still keeps the copy")

    # A session ended elsewhere ("Đăng xuất khỏi mọi thiết bị" on another device, here through
    # the API): the next page this device asks for is the sign-in page, which empties the copy.
    tab.get_by_label("Tên đăng nhập").fill("lanhdao.tw")
    tab.get_by_label("Mật khẩu").fill(EMBEDDED_PASSWORD)
    tab.get_by_role("button", name="Đăng nhập").click()
    tab.wait_for_url(base + "/")
    tab.goto(base + f"/documents/{doc}")
    tab.get_by_text(SUBJECT).first.wait_for()
    _wait_kept(tab, True, "the document page was not kept again")
    ended = requests.post(
        f"{base}/api/v1/auth/logout-everywhere", headers=_token(base, "lanhdao.tw"), timeout=60
    )
    assert ended.status_code == 204, ended.text
    tab.goto(base + f"/documents/{doc}")
    tab.wait_for_url(re.compile(re.escape(base) + r"/login"), wait_until="domcontentloaded")
    _wait_kept(tab, False, "the session ended, the device still keeps the copy")
    # Offline, resources fail and the unknown page is the worker's 503 (expected); nothing
    # else may complain.
    expected = ("ERR_INTERNET_DISCONNECTED", "status of 503")
    assert [e for e in page_errors if not any(x in e for x in expected)] == []
    tab.context.close()


# A subscription the browser holds, as PushManager.getSubscription gives it: headless Chromium
# has no push service to subscribe with, so the page is handed one made here (a real P-256
# key and secret: the server checks them as it would a browser's).
HELD_SUBSCRIPTION = """
(sub) => {
  const held = {endpoint: sub.endpoint, toJSON: () => sub};
  PushManager.prototype.getSubscription = function () { return Promise.resolve(held); };
}
"""


def _held_subscription() -> dict[str, Any]:
    import base64
    import secrets

    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    point = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    )
    return {
        "endpoint": f"https://push.example.net/send/{secrets.token_urlsafe(16)}",
        "keys": {"p256dh": b64(point), "auth": b64(secrets.token_bytes(16))},
    }


def test_a_device_whose_sessions_ended_subscribes_again_on_the_notifications_page(
    browser: Any, embedded_server: dict[str, Any], page_errors: list[str]
) -> None:
    """Ending a person's sessions (here "sign out everywhere" from another device) removes the
    devices subscribed to their pushes on the server; the browser still holds its
    subscription, so the notifications page registers it again once the person has signed in
    on it: created anew (201) after the sessions ended, only confirmed (200) otherwise."""
    base = embedded_server["base"]
    page = new_page(browser, PHONE, page_errors, service_workers=True)
    page.context.grant_permissions(["notifications"], origin=base)
    page.add_init_script(f"({HELD_SUBSCRIPTION})({json.dumps(_held_subscription())})")

    def sign_in() -> None:
        page.goto(base + "/login")
        page.get_by_label("Tên đăng nhập").fill("vanthu.tw")
        page.get_by_label("Mật khẩu").fill(EMBEDDED_PASSWORD)
        page.get_by_role("button", name="Đăng nhập").click()
        page.wait_for_url(base + "/")

    def registered() -> int:
        with page.expect_response(
            lambda r: r.request.method == "POST" and r.url == base + "/push/subscriptions"
        ) as answer:
            page.goto(base + "/notifications")
        page.get_by_text("Thiết bị này đang nhận thông báo.").wait_for()
        assert page.get_by_role("button", name="Tắt thông báo").is_visible()
        return int(answer.value.status)

    sign_in()
    assert registered() == 201  # first seen: this device is subscribed for vanthu.tw
    assert registered() == 200  # known: nothing changes
    ended = requests.post(
        f"{base}/api/v1/auth/logout-everywhere", headers=_token(base, "vanthu.tw"), timeout=60
    )
    assert ended.status_code == 204, ended.text
    sign_in()
    assert registered() == 201  # the server had forgotten it; registered anew
    assert page_errors == []
    page.context.close()
