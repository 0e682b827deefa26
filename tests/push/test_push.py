"""Web Push end to end: subscriptions through the API, a notification pushed from the outbox
through pywebpush to a real local push service (web-push-testing) that checks the VAPID
signature and decrypts the aes128gcm payload; 410 removes the subscription; failures are
retried a bounded number of times; bad input changes nothing."""

from __future__ import annotations

import base64
import json
import socket
import uuid
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import func, select, update

from docflow.models import Document, Notification, OutboxMessage, PushSubscription, User
from docflow.notifications import notify
from docflow.outbox import MAX_ATTEMPTS, Outcome, process_message
from docflow.push import PUSH_TOPIC
from tests.conftest import Demo
from tests.incoming.conftest import Incoming
from tests.push.conftest import PushService

SUBJECT = "Kế hoạch tổ chức Ngày hội Đại đoàn kết toàn dân tộc năm 2026"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def browser_keys() -> dict[str, str]:
    """Keys as a browser makes them: a P-256 point and a 16-byte secret."""
    point = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )
    return {"p256dh": _b64(point), "auth": _b64(b"0123456789abcdef")}


def _allow(app: Any, *origins: str) -> Any:
    from app.runtime import runtime

    rt = runtime(app)
    rt.settings = rt.settings.with_overrides(push_test_origins=origins)
    return rt


def _subscribe(client: Any, headers: dict[str, str], service: PushService) -> dict[str, Any]:
    key = client.get("/api/v1/push/vapid-public-key").get_json()
    assert key["enabled"] is True
    sub = service.subscribe(key["public_key"])
    body = {"endpoint": sub["endpoint"], "expirationTime": None, "keys": sub["keys"]}
    r = client.post("/api/v1/me/push-subscriptions", json=body, headers=headers)
    assert r.status_code == 201, r.get_json()
    return sub


def _subscriptions(demo: Demo) -> list[PushSubscription]:
    with demo.factory() as s:
        return list(s.scalars(select(PushSubscription)).all())


def _push_messages(demo: Demo) -> list[OutboxMessage]:
    with demo.factory() as s:
        return list(s.scalars(select(OutboxMessage).where(OutboxMessage.topic == PUSH_TOPIC)).all())


def test_a_document_submitted_to_lanhdao_is_pushed_and_decrypted(
    app: Any, client: Any, api: Any, demo: Demo, push_service: PushService
) -> None:
    _allow(app, push_service.base)
    leader = api("lanhdao.tw")
    sub = _subscribe(client, leader, push_service)
    # The same subscription again renews it: 200, one row.
    again = client.post(
        "/api/v1/me/push-subscriptions",
        json={"endpoint": sub["endpoint"], "keys": sub["keys"]},
        headers=leader,
    )
    assert again.status_code == 200 and again.get_json()["endpoint"] == sub["endpoint"]
    assert len(_subscriptions(demo)) == 1

    flow = Incoming(client, api, demo)
    doc = flow.register(subject=SUBJECT).get_json()["id"]
    assert push_service.messages(sub["clientHash"]) == []  # registering told nobody
    r = flow.act("vanthu.tw", doc, "submit", to_user_id=flow.user_id("lanhdao.tw"))
    assert r.status_code == 200, r.get_json()

    # Sent by the outbox handler after the commit, decrypted by the push service.
    [plaintext] = push_service.messages(sub["clientHash"])
    pushed = json.loads(plaintext)
    assert pushed["title"] == "Văn bản đến chờ ý kiến chỉ đạo"
    assert pushed["body"] == SUBJECT
    assert pushed["url"] == f"/documents/{doc}"
    assert pushed["kind"] == "document_submitted"
    with demo.factory() as s:
        note = s.scalars(
            select(Notification).where(Notification.user_id == demo.user("lanhdao.tw").id)
        ).one()
        assert pushed["tag"] == str(note.id) and note.body == SUBJECT
    [message] = _push_messages(demo)
    assert message.done_at is not None and message.attempts == 1
    [row] = _subscriptions(demo)
    assert row.last_pushed_at is not None

    # Directing it to a named person pushes to theirs too; nobody else's device hears it.
    other = api("chuyenvien.dcgs")
    theirs = _subscribe(client, other, push_service)
    r = flow.act(
        "lanhdao.tw",
        doc,
        "assign",
        lead={"user_id": flow.user_id("chuyenvien.dcgs")},
        due_in_working_days=5,
    )
    assert r.status_code == 200, r.get_json()
    [assigned] = [json.loads(m) for m in push_service.messages(theirs["clientHash"])]
    assert assigned["body"] == SUBJECT and assigned["url"] == f"/documents/{doc}"
    assert len(push_service.messages(sub["clientHash"])) == 1


def test_an_expired_subscription_is_removed_after_the_attempt(
    app: Any, client: Any, api: Any, demo: Demo, push_service: PushService
) -> None:
    _allow(app, push_service.base)
    sub = _subscribe(client, api("lanhdao.tw"), push_service)
    push_service.expire(sub["clientHash"])
    flow = Incoming(client, api, demo)
    doc = flow.register().get_json()["id"]
    r = flow.act("vanthu.tw", doc, "submit", to_user_id=flow.user_id("lanhdao.tw"))
    assert r.status_code == 200
    # The service answered 410: the subscription is gone, the message is done (no retry).
    assert _subscriptions(demo) == []
    [message] = _push_messages(demo)
    assert message.done_at is not None and message.last_error is None
    assert push_service.messages(sub["clientHash"]) == []
    # The in-app notification stays.
    with demo.factory() as s:
        assert s.scalar(select(func.count()).select_from(Notification)) == 1


def _notify(demo: Demo, username: str) -> None:
    """A notification written as the domain writes it (no publisher: the test runs the
    outbox message itself)."""
    uow = demo.uow()
    with uow:
        notify(uow, [demo.user(username).id], kind="test", title="Thử", body="Nội dung thử")
        uow.commit()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # nobody listens once closed


def test_an_unreachable_push_service_is_retried_with_backoff_then_given_up(
    app: Any, client: Any, api: Any, demo: Demo
) -> None:
    origin = f"http://localhost:{_closed_port()}"
    rt = _allow(app, origin)
    r = client.post(
        "/api/v1/me/push-subscriptions",
        json={"endpoint": f"{origin}/notify/abc", "keys": browser_keys()},
        headers=api("lanhdao.tw"),
    )
    assert r.status_code == 201, r.get_json()
    _notify(demo, "lanhdao.tw")
    [message] = _push_messages(demo)
    delays = []
    outcome = Outcome.RETRY
    attempts = 0
    while outcome is Outcome.RETRY:
        outcome = process_message(rt.uow(), message.id, rt.handlers)
        attempts += 1
        with demo.factory() as s:
            row = s.get_one(OutboxMessage, message.id)
            delays.append((row.available_at - demo.clock()).total_seconds())
            assert row.done_at is None and "PushRetry" in (row.last_error or "")
        assert attempts <= MAX_ATTEMPTS
    assert outcome is Outcome.GAVE_UP and attempts == MAX_ATTEMPTS
    assert delays[:4] == [10, 20, 40, 80]  # exponential backoff between attempts
    assert len(_subscriptions(demo)) == 1  # unreachable is not gone


def test_a_push_older_than_its_ttl_is_dropped_not_sent_late(
    app: Any, client: Any, api: Any, demo: Demo, push_service: PushService
) -> None:
    rt = _allow(app, push_service.base)
    sub = _subscribe(client, api("lanhdao.tw"), push_service)
    _notify(demo, "lanhdao.tw")
    [message] = _push_messages(demo)
    demo.clock.advance(hours=25)
    assert process_message(rt.uow(), message.id, rt.handlers) is Outcome.DONE
    assert push_service.messages(sub["clientHash"]) == []


def test_a_secret_document_is_pushed_without_its_subject(
    app: Any, client: Any, api: Any, demo: Demo, push_service: PushService
) -> None:
    _allow(app, push_service.base)
    sub = _subscribe(client, api("lanhdao.tw"), push_service)
    flow = Incoming(client, api, demo)
    doc = flow.register(subject=SUBJECT).get_json()["id"]
    # Marked Mật after registering (as a reclassification would), both people cleared.
    with demo.factory() as s, s.begin():
        s.execute(
            update(Document)
            .where(Document.id == uuid.UUID(doc))
            .values(secrecy="confidential", secrecy_rank=1)
        )
        s.execute(
            update(User)
            .where(User.username.in_(["lanhdao.tw", "vanthu.tw"]))
            .values(clearance="secret")
        )
    flow._tokens.clear()
    r = flow.act("vanthu.tw", doc, "submit", to_user_id=flow.user_id("lanhdao.tw"))
    assert r.status_code == 200, r.get_json()
    [plaintext] = push_service.messages(sub["clientHash"])
    pushed = json.loads(plaintext)
    assert SUBJECT not in plaintext and pushed["body"] == ""
    assert pushed["url"] == f"/documents/{doc}"


BAD = {
    "http, not a test service": {"endpoint": "http://push.example.com/x"},
    "a port of its own": {"endpoint": "https://push.example.com:8443/x"},
    "loopback": {"endpoint": "https://127.0.0.1/x"},
    "IPv6 loopback": {"endpoint": "https://[::1]/x"},
    "a private address": {"endpoint": "https://10.1.2.3/x"},
    "link-local": {"endpoint": "https://169.254.169.254/latest"},
    "localhost": {"endpoint": "https://localhost/x"},
    "a .local name": {"endpoint": "https://printer.local/x"},
    "a bare name": {"endpoint": "https://intranet/x"},
    "credentials": {"endpoint": "https://u:p@push.example.com/x"},
    "not a URL": {"endpoint": "push.example.com/x"},
    "a key off the curve": {"keys": {"p256dh": "B" + "A" * 86, "auth": "A" * 22}},
    "a short auth": {"keys": {"p256dh": browser_keys()["p256dh"], "auth": "A" * 10}},
    "no keys": {"keys": None},
    "an unknown field": {"extra": 1},
}


@pytest.mark.parametrize("case", BAD)
def test_bad_subscriptions_are_refused_and_store_nothing(
    app: Any, client: Any, api: Any, demo: Demo, case: str
) -> None:
    _allow(app, "http://localhost:8090")
    body: dict[str, Any] = {"endpoint": "https://push.example.com/send/abc", "keys": browser_keys()}
    body.update(BAD[case])
    body = {k: v for k, v in body.items() if v is not None}
    r = client.post("/api/v1/me/push-subscriptions", json=body, headers=api("lanhdao.tw"))
    assert r.status_code == 422, (case, r.get_json())
    assert _subscriptions(demo) == []


def test_subscribing_needs_a_sign_in_and_deleting_touches_only_ones_own(
    app: Any, client: Any, api: Any, demo: Demo
) -> None:
    body = {"endpoint": "https://push.example.com/send/abc", "keys": browser_keys()}
    assert client.post("/api/v1/me/push-subscriptions", json=body).status_code == 401
    leader = api("lanhdao.tw")
    assert (
        client.post("/api/v1/me/push-subscriptions", json=body, headers=leader).status_code == 201
    )
    gone = {"endpoint": body["endpoint"]}
    r = client.delete("/api/v1/me/push-subscriptions", json=gone, headers=api("vanthu.tw"))
    assert r.status_code == 404 and len(_subscriptions(demo)) == 1
    r = client.delete("/api/v1/me/push-subscriptions", json=gone, headers=leader)
    assert r.status_code == 204 and _subscriptions(demo) == []
    r = client.delete("/api/v1/me/push-subscriptions", json=gone, headers=leader)
    assert r.status_code == 404


def test_a_device_signed_in_by_someone_else_changes_hands(
    app: Any, client: Any, api: Any, demo: Demo
) -> None:
    body = {"endpoint": "https://push.example.com/send/shared", "keys": browser_keys()}
    assert (
        client.post(
            "/api/v1/me/push-subscriptions", json=body, headers=api("lanhdao.tw")
        ).status_code
        == 201
    )
    r = client.post("/api/v1/me/push-subscriptions", json=body, headers=api("vanthu.tw"))
    assert r.status_code == 200
    [row] = _subscriptions(demo)
    assert row.user_id == demo.user("vanthu.tw").id


def _send_now(app: Any, demo: Demo) -> Outcome:
    """Run the one pending push message, as the worker does."""
    from app.runtime import runtime

    rt = runtime(app)
    [message] = [m for m in _push_messages(demo) if m.done_at is None]
    return process_message(rt.uow(), message.id, rt.handlers)


def test_a_name_that_resolves_to_a_private_address_is_not_sent_to(
    app: Any, client: Any, api: Any, demo: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS rebinding: a public-looking name accepted at registration that later resolves to
    this machine is refused when sending; nothing is sent and the message is not retried."""
    from app.push import log as push_log

    r = client.post(
        "/api/v1/me/push-subscriptions",
        json={"endpoint": "https://push.example.com/send/rebind", "keys": browser_keys()},
        headers=api("lanhdao.tw"),
    )
    assert r.status_code == 201
    _notify(demo, "lanhdao.tw")
    asked: list[str] = []

    def resolver(host: str, port: int, *args: Any, **kwargs: Any) -> Any:
        asked.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    warnings: list[str] = []
    monkeypatch.setattr(push_log, "warning", lambda msg, *a: warnings.append(msg % a))
    assert _send_now(app, demo) is Outcome.DONE
    assert asked == ["push.example.com"]
    assert warnings == [
        "push to https://push.example.com refused: address_not_public "
        "(push.example.com resolves to a non-public address 127.0.0.1)"
    ]
    assert len(_subscriptions(demo)) == 1


def test_a_redirect_from_the_push_service_is_not_followed(
    app: Any, client: Any, api: Any, demo: Demo, push_service: PushService
) -> None:
    """A push service (or whoever holds the endpoint) answering 307 elsewhere gets no second
    request: the push is dropped and the place it pointed to receives nothing."""
    import http.server
    import threading

    key = client.get("/api/v1/push/vapid-public-key").get_json()["public_key"]
    target = push_service.subscribe(key)
    hits: list[str] = []

    class Redirect(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            hits.append(self.path)
            self.send_response(307)
            self.send_header("Location", target["endpoint"])
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        origin = f"http://127.0.0.1:{server.server_port}"
        _allow(app, origin, push_service.base)
        r = client.post(
            "/api/v1/me/push-subscriptions",
            json={"endpoint": f"{origin}/push/1", "keys": target["keys"]},
            headers=api("lanhdao.tw"),
        )
        assert r.status_code == 201
        _notify(demo, "lanhdao.tw")
        assert _send_now(app, demo) is Outcome.DONE
    finally:
        server.shutdown()
        server.server_close()
    assert hits == ["/push/1"]
    assert push_service.messages(target["clientHash"]) == []
