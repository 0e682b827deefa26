"""Web Push from the worker (RFC 8030 delivery, RFC 8291 aes128gcm encryption, RFC 8292 VAPID),
with ``pywebpush``; docflow decides what to push (:mod:`docflow.push`), this module sends it.

The VAPID key is the PEM file of ``DHTN_VAPID_PRIVATE_KEY_FILE``, or one generated once into the
data dir (``vapid_private.pem``, mode 0600) when none is configured; the subject the push
services see is ``DHTN_VAPID_SUBJECT`` (``mailto:`` or ``https:``; by default ``DHTN_PUBLIC_URL``
when it is https, else ``mailto:dhtn@localhost``). On the secret network nothing is pushed: the
push services are on the Internet.

Each outbox message ``push.send`` is one notification to one subscription. The endpoint was
checked when it was registered (:func:`docflow.push.endpoint_problem`); it is checked again
here and the request goes through :class:`signing.fetching.FetchPolicy` with that one host
allowed: the name is resolved, a non-public address is refused (unless the origin is one of
``DHTN_PUSH_TEST_ORIGINS``), the connection goes to the checked address, no redirect is
followed, the answer is capped, and there is a deadline. What the push service answers decides:

* 201/202 → delivered;
* 404/410 → the subscription is gone: removed;
* 429, 5xx, a network error → raised, so the outbox retries with its backoff (at most
  ``docflow.outbox.MAX_ATTEMPTS`` times); a push older than ``docflow.push.PUSH_TTL`` is
  dropped instead of sent late;
* any other answer (400, 403, 413, a redirect…) → logged and dropped: sending again would not
  help.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask import Flask
from py_vapid import Vapid02
from pywebpush import WebPushException, webpush
from requests.structures import CaseInsensitiveDict

from app.config import Settings
from app.runtime import Runtime, runtime
from docflow import push
from docflow.uow import UnitOfWork
from signing.fetching import (
    AllowedHost,
    FetchError,
    FetchPolicy,
    FetchRefusedError,
    normalize_host,
)

log = logging.getLogger("dhtn.push")

TIMEOUT = 10.0
MAX_ANSWER = 64 * 1024
DEFAULT_SUBJECT = "mailto:dhtn@localhost"


class PushRetry(Exception):
    """The push service could not take the push now: the outbox tries again later."""


def vapid_key_file(settings: Settings) -> Path:
    """The VAPID private key's PEM file, generated once into the data dir when unset."""
    if settings.vapid_private_key_file is not None:
        return settings.vapid_private_key_file
    path = settings.data_dir / "vapid_private.pem"
    if not path.exists():
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        key = ec.generate_private_key(ec.SECP256R1())
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        # Written whole under another name, then linked: the web process and the worker may
        # start together, and neither may read a half-written key.
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another process made it first: theirs is the key
        finally:
            tmp.unlink()
    return path


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass
class PushService:
    """The installation's push sender: its VAPID key and subject (``None`` = pushes off)."""

    vapid: Vapid02 | None
    subject: str

    @property
    def enabled(self) -> bool:
        return self.vapid is not None

    @property
    def public_key(self) -> str | None:
        """The application server key a browser subscribes with (base64url, uncompressed)."""
        if self.vapid is None:
            return None
        raw = self.vapid.public_key.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return b64url(raw)


def build_push_service(settings: Settings) -> PushService:
    public = settings.public_url or ""
    subject = settings.vapid_subject or (
        public if public.lower().startswith("https://") else DEFAULT_SUBJECT
    )
    if settings.secret_network:
        return PushService(None, subject)
    pem = vapid_key_file(settings).read_bytes()
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise ValueError("the VAPID key must be a P-256 (prime256v1) EC private key")
    return PushService(Vapid02(private_key=key), subject)


def push_service(app: Flask | None = None) -> PushService:
    from flask import current_app

    service: PushService = (app or current_app).extensions["dhtn_push"]
    return service


class _PolicySession:
    """What pywebpush posts through: one request under the fetch policy, as a
    ``requests.Response``."""

    def __init__(self, endpoint: str, test_origins: tuple[str, ...]) -> None:
        origin = push.origin_of(endpoint)
        private_ok = origin is not None and origin in {push.origin_of(o) for o in test_origins}
        parts = urlsplit(endpoint)
        host = AllowedHost(
            normalize_host(parts.hostname or ""),
            parts.port or (443 if parts.scheme == "https" else 80),
            private_ok,
        )
        self.policy = FetchPolicy(
            hosts=(host,), timeout=TIMEOUT, max_bytes=MAX_ANSWER, max_redirects=0
        )

    def post(self, url: str, *, data: bytes | None, headers: Any, timeout: Any) -> Any:
        answer = self.policy.post(url, data or b"", headers={k: str(v) for k, v in headers.items()})
        response = requests.Response()
        response.status_code = answer.status_code
        response.headers = CaseInsensitiveDict(answer.headers)
        response._content = answer.content
        response.url = answer.url
        response.reason = ""
        return response


def send_one(
    service: PushService, settings: Settings, uow: UnitOfWork, payload: dict[str, Any]
) -> push.PushOutcome:
    """The ``push.send`` handler's work, in the handler's transaction."""
    outcome = push.PushOutcome
    if not service.enabled:
        return outcome.STALE
    subscription_id = uuid.UUID(str(payload["subscription_id"]))
    item = push.push_to_send(uow, uuid.UUID(str(payload["notification_id"])), subscription_id)
    if item is None:
        return outcome.STALE
    origin = push.origin_of(item.endpoint)
    if push.endpoint_problem(item.endpoint, settings.push_test_origins) is not None:
        log.warning("push to %s refused by the endpoint policy", origin)
        return outcome.REFUSED
    remaining = push.PUSH_TTL - (uow.now() - item.created_at)
    try:
        webpush(
            {"endpoint": item.endpoint, "keys": {"p256dh": item.p256dh, "auth": item.auth}},
            data=json.dumps(item.payload(), ensure_ascii=False),
            # RFC 8291 §4 and every browser's push service: the body is an opaque octet stream.
            headers={"Content-Type": "application/octet-stream", "Urgency": "normal"},
            vapid_private_key=service.vapid,
            vapid_claims={"sub": service.subject},
            ttl=max(60, int(remaining.total_seconds())),
            timeout=TIMEOUT,
            requests_session=cast(
                requests.Session, _PolicySession(item.endpoint, settings.push_test_origins)
            ),
        )
    except WebPushException as exc:
        status = exc.response.status_code if exc.response is not None else None
        if status in (404, 410):
            push.forget_subscription(uow, subscription_id)
            log.info("push subscription %s is gone (%s): removed", subscription_id, status)
            return outcome.GONE
        if status is None or status == 429 or status >= 500:
            raise PushRetry(f"push service {origin} answered {status}") from None
        log.warning("push to %s refused with %s: dropped", origin, status)
        return outcome.REFUSED
    except FetchRefusedError as exc:
        log.warning("push to %s refused: %s (%s)", origin, exc.code, exc)
        return outcome.REFUSED
    except FetchError as exc:
        raise PushRetry(f"push to {origin} failed: {exc.code}") from None
    push.mark_pushed(uow, subscription_id)
    return outcome.DELIVERED


def init_push(app: Flask) -> None:
    """The VAPID key (generated on first start when unset), the ``push.send`` handler, and the
    installable app's files (``app/pwa.py``)."""
    from app.pwa import init_pwa

    rt: Runtime = runtime(app)
    service = build_push_service(rt.settings)
    app.extensions["dhtn_push"] = service

    def send(uow: UnitOfWork, payload: dict[str, Any]) -> None:
        outcome = send_one(service, rt.settings, uow, payload)
        log.debug("push %s: %s", payload.get("notification_id"), outcome.value)

    rt.handlers.add(push.PUSH_TOPIC, send)
    init_pwa(app)
