"""The installable app's files, served by the app: the manifest and its icons (drawn by us), the
service worker at the root, the links on every page, the page-side subscription (session and
CSRF token), and which document pages a device may keep for offline reading."""

from __future__ import annotations

import io
import re
import uuid
from typing import Any

from PIL import Image
from sqlalchemy import select, update

from docflow.models import Document, PushSubscription
from tests.app.test_pages import login
from tests.conftest import Demo
from tests.incoming.conftest import Incoming
from tests.push.test_push import browser_keys


def test_the_manifest_makes_the_site_installable(client: Any) -> None:
    r = client.get("/manifest.webmanifest")
    assert r.status_code == 200 and r.mimetype == "application/manifest+json"
    m = r.get_json(force=True)
    assert m["name"].startswith("DHTN — Hệ thống") and m["short_name"] == "DHTN"
    assert m["lang"] == "vi" and m["start_url"] == "/" and m["scope"] == "/"
    assert m["display"] == "standalone" and m["theme_color"] == "#0b4f8a"
    sizes = {(i["sizes"], i["purpose"]) for i in m["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes
    for icon in m["icons"]:
        got = client.get(icon["src"])
        assert got.status_code == 200 and got.mimetype == "image/png"
        img = Image.open(io.BytesIO(got.data))
        side = int(icon["sizes"].split("x")[0])
        assert img.format == "PNG" and img.size == (side, side)
        corner = img.convert("RGBA").getpixel((0, 0))
        # A maskable icon fills its square (the platform cuts the shape); "any" is rounded.
        assert corner[3] == (255 if icon["purpose"] == "maskable" else 0), icon
    assert client.get("/icons/64.png").status_code == 404
    assert client.get("/icons/maskable-x.png").status_code == 404


def test_the_service_worker_is_served_from_the_root_never_stale(client: Any) -> None:
    r = client.get("/sw.js")
    assert r.status_code == 200 and r.mimetype == "text/javascript"
    assert r.headers["Cache-Control"] == "no-cache"
    assert "Content-Security-Policy" in r.headers  # the worker runs under the site's CSP too


def test_every_page_links_the_manifest_and_registers_the_worker(client: Any) -> None:
    html = client.get("/login").get_data(as_text=True)
    assert '<link rel="manifest" href="/manifest.webmanifest">' in html
    assert re.search(r'<script src="/static/pwa\.js[^"]*" defer>', html)


def test_the_notifications_page_offers_push_with_the_vapid_key(client: Any, demo: Demo) -> None:
    login(client, "lanhdao.tw")
    html = client.get("/notifications").get_data(as_text=True)
    key = client.get("/api/v1/push/vapid-public-key").get_json()["public_key"]
    assert f'data-push-key="{key}"' in html and "Bật thông báo" in html
    assert len(key) == 87  # base64url of an uncompressed P-256 point


def _csrf(client: Any) -> str:
    html = client.get("/notifications").get_data(as_text=True)
    found = re.search(r'data-csrf="([^"]+)"', html)
    assert found
    return found.group(1)


def test_the_page_subscribes_with_its_session_and_csrf_token(client: Any, demo: Demo) -> None:
    body = {"endpoint": "https://push.example.com/send/page", "keys": browser_keys()}
    assert client.post("/push/subscriptions", json=body).status_code == 400  # no CSRF token
    login(client, "lanhdao.tw")
    assert client.post("/push/subscriptions", json=body).status_code == 400  # no CSRF token
    headers = {"X-CSRFToken": _csrf(client)}
    r = client.post("/push/subscriptions", json=body, headers=headers)
    assert r.status_code == 201, r.get_json()
    bad = {**body, "endpoint": "https://192.168.1.1/x"}
    r = client.post("/push/subscriptions", json=bad, headers=headers)
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "push_endpoint_refused"
    with demo.factory() as s:
        [row] = s.scalars(select(PushSubscription)).all()
        assert row.user_id == demo.user("lanhdao.tw").id
    gone = {"endpoint": body["endpoint"]}
    assert client.delete("/push/subscriptions", json=gone, headers=headers).status_code == 204
    assert client.delete("/push/subscriptions", json=gone, headers=headers).status_code == 404


def test_only_ordinary_documents_may_be_kept_offline(client: Any, api: Any, demo: Demo) -> None:
    flow = Incoming(client, api, demo)
    doc = flow.register().get_json()["id"]
    login(client, "vanthu.tw")
    r = client.get(f"/documents/{doc}")
    assert r.status_code == 200 and r.headers.get("X-DHTN-Offline") == "1"
    assert r.headers["Cache-Control"] == "no-store"  # the browser's own cache keeps nothing
    with demo.factory() as s, s.begin():
        s.execute(
            update(Document)
            .where(Document.id == uuid.UUID(doc))
            .values(secrecy="confidential", secrecy_rank=1)
        )
    r = client.get(f"/documents/{doc}")
    assert "X-DHTN-Offline" not in r.headers
    assert "X-DHTN-Offline" not in client.get("/documents").headers


def test_the_embedded_profile_makes_its_vapid_key_once_and_keeps_it_private(
    embedded_server: dict[str, Any],
) -> None:
    import requests
    from cryptography.hazmat.primitives import serialization

    from app.push import b64url

    path = embedded_server["data"] / "vapid_private.pem"
    assert path.stat().st_mode & 0o777 == 0o600
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    raw = key.public_key().public_bytes(  # type: ignore[union-attr]
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    served = requests.get(embedded_server["base"] + "/api/v1/push/vapid-public-key", timeout=30)
    assert served.json() == {"enabled": True, "public_key": b64url(raw)}
    assert [p.name for p in path.parent.glob(".vapid_private.pem.*")] == []
