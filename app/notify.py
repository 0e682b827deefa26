"""E-mail copies of notifications, sent by the outbox handler of ``notify.email`` through the SMTP
server of ``DHTN_SMTP_URL`` (``smtp://user:pass@host:port``; ``smtps://`` for TLS from the
start, ``?starttls=true`` to upgrade, ``?from=addr`` for the sender).

docflow decides what to send (:func:`docflow.notifications.pending_emails`); this module only
speaks SMTP. The handler runs after the notifying transaction committed; each e-mail sent is
marked on its notification in the handler's transaction, so a retried message skips what was
already marked (delivery stays at least once if the server fails halfway).
"""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from email.utils import formataddr
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from flask import Flask

from app.runtime import Runtime, runtime
from docflow.notifications import EMAIL_TOPIC, OutgoingEmail, mark_emailed, pending_emails
from docflow.uow import UnitOfWork

DEFAULT_SENDER = "DHTN <no-reply@localhost>"
TIMEOUT = 20


@contextmanager
def smtp_connection(url: str) -> Iterator[smtplib.SMTP]:
    """An authenticated SMTP session for ``url``."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps"):
        raise ValueError(f"DHTN_SMTP_URL must be smtp:// or smtps://, not {parts.scheme}://")
    host = parts.hostname or "localhost"
    options = parse_qs(parts.query)
    server: smtplib.SMTP
    if parts.scheme == "smtps":
        server = smtplib.SMTP_SSL(host, parts.port or 465, timeout=TIMEOUT)
    else:
        server = smtplib.SMTP(host, parts.port or 25, timeout=TIMEOUT)
    try:
        if parts.scheme == "smtp" and options.get("starttls", ["false"])[0] in ("1", "true"):
            server.starttls()
        if parts.username:
            server.login(unquote(parts.username), unquote(parts.password or ""))
        yield server
    finally:
        try:
            server.quit()
        except smtplib.SMTPException:
            server.close()


def sender_of(url: str) -> str:
    return parse_qs(urlsplit(url).query).get("from", [DEFAULT_SENDER])[0]


def build_message(email: OutgoingEmail, sender: str) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = email.subject
    msg["From"] = sender
    msg["To"] = formataddr((email.to_name, email.to_address))
    lines = [email.subject, "", email.body] if email.body else [email.subject]
    if email.link:
        lines += ["", f"Xem trên DHTN: {email.link}"]
    lines += ["", "—", "Hệ thống thông tin điều hành tác nghiệp (DHTN). Thư gửi tự động."]
    msg.set_content("\n".join(lines))
    return msg


def send_email_copies(rt: Runtime, uow: UnitOfWork, payload: dict[str, Any]) -> None:
    """The ``notify.email`` handler: send what is still unsent; nothing without a server."""
    url = rt.settings.smtp_url
    if not url:
        return  # in-app only
    emails = pending_emails(uow, [str(i) for i in payload.get("notification_ids", [])])
    if not emails:
        return
    sender = sender_of(url)
    with smtp_connection(url) as server:
        for email in emails:
            server.send_message(build_message(email, sender))
            mark_emailed(uow, email.notification_id)


def init_notify(app: Flask) -> None:
    """Register the e-mail handler on the app's outbox."""
    rt = runtime(app)
    rt.handlers[EMAIL_TOPIC] = lambda uow, payload: send_email_copies(rt, uow, payload)
