"""E-mail copies of notifications, sent by the outbox handler of ``notify.email`` through the SMTP
server of ``DHTN_SMTP_URL`` (``smtp://user:pass@host:port``; ``?from=addr`` for the sender).

Transport security (the server's certificate is always verified, with the system's CAs or the
PEM bundle of ``?cafile=/path``, and its name must match the host of the URL):

* ``smtps://host`` (port 465): TLS from the first byte.
* ``smtp://host`` (port 25/587): upgraded with STARTTLS whenever the server offers it;
  ``?starttls=required`` (or ``true``) refuses to send when it does not, ``?starttls=never``
  (or ``false``) never upgrades (a relay on this machine). A certificate that fails
  verification fails the send (retried later); it never falls back to clear text.
* A password is sent only over TLS, or to a server on loopback.

docflow decides what to send (:func:`docflow.notifications.pending_emails`); this module only
speaks SMTP. The handler runs after the notifying transaction committed; each e-mail sent is
marked on its notification in the handler's transaction, so a retried message skips what was
already marked (delivery stays at least once if the server fails halfway).
"""

from __future__ import annotations

import ipaddress
import smtplib
import ssl
import uuid
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


STARTTLS_MODES = {
    "auto": "auto",
    "required": "required",
    "true": "required",
    "1": "required",
    "never": "never",
    "false": "never",
    "0": "never",
}


class SmtpSecurityError(smtplib.SMTPException):
    """The connection is not as secure as DHTN_SMTP_URL requires (nothing was sent)."""


def tls_context(cafile: str | None = None) -> ssl.SSLContext:
    """Verifying TLS: the certificate chains to a trusted CA and names the host."""
    context = ssl.create_default_context(cafile=cafile)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@contextmanager
def smtp_connection(url: str) -> Iterator[smtplib.SMTP]:
    """An SMTP session for ``url``: TLS verified as the module's docstring says, logged in."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps"):
        raise ValueError(f"DHTN_SMTP_URL must be smtp:// or smtps://, not {parts.scheme}://")
    host = parts.hostname or "localhost"
    options = parse_qs(parts.query)
    mode = STARTTLS_MODES.get(options.get("starttls", ["auto"])[0].lower())
    if mode is None:
        raise ValueError("DHTN_SMTP_URL: starttls must be auto, required or never")
    context = tls_context(options.get("cafile", [None])[0])
    server: smtplib.SMTP
    if parts.scheme == "smtps":
        server = smtplib.SMTP_SSL(host, parts.port or 465, timeout=TIMEOUT, context=context)
    else:
        server = smtplib.SMTP(host, parts.port or 25, timeout=TIMEOUT)
    try:
        encrypted = parts.scheme == "smtps"
        if not encrypted and mode != "never":
            server.ehlo()
            if server.has_extn("starttls"):
                server.starttls(context=context)
                server.ehlo()
                encrypted = True
            elif mode == "required":
                raise SmtpSecurityError(f"{host} does not offer STARTTLS (starttls=required)")
        if parts.username:
            if not encrypted and not is_loopback(host):
                raise SmtpSecurityError(f"refusing to send the SMTP password to {host} in clear")
            server.login(unquote(parts.username), unquote(parts.password or ""))
        yield server
    finally:
        try:
            server.quit()
        except (smtplib.SMTPException, OSError):
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


def send_feedback_answer(rt: Runtime, uow: UnitOfWork, payload: dict[str, Any]) -> None:
    """The ``feedback.answer_email`` handler: tell the citizen their item was answered."""
    from docflow.feedback import answer_email

    url = rt.settings.smtp_url
    if not url:
        return
    email = answer_email(uow, uuid.UUID(str(payload["feedback_id"])), rt.settings.public_url)
    if email is None:
        return
    msg = EmailMessage()
    msg["Subject"] = email.subject
    msg["From"] = sender_of(url)
    msg["To"] = email.to
    msg.set_content(email.body + "\n—\nMặt trận Tổ quốc Việt Nam. Thư gửi tự động.")
    with smtp_connection(url) as server:
        server.send_message(msg)


def send_activation_emails(rt: Runtime, uow: UnitOfWork, payload: dict[str, Any]) -> None:
    """The ``imports.activation_email`` handler: each waiting person gets a fresh one-time
    code by e-mail (docflow issues it and writes the e-mail; the link lives only in the sent
    message, never in a log). Without a server nothing is issued (the admin hands codes out)."""
    from docflow.imports import ActivationEmail, email_activations

    url = rt.settings.smtp_url
    if not url:
        return
    sender = sender_of(url)
    with smtp_connection(url) as server:

        def send(email: ActivationEmail) -> None:
            msg = EmailMessage()
            msg["Subject"] = email.subject
            msg["From"] = sender
            msg["To"] = formataddr((email.to_name, email.to))
            msg.set_content(
                email.body + "\n\n—\nHệ thống thông tin điều hành tác nghiệp (DHTN). "
                "Thư gửi tự động."
            )
            server.send_message(msg)

        email_activations(uow, payload, link_base=rt.settings.public_url, send=send)


def init_notify(app: Flask) -> None:
    """Register the e-mail handlers on the app's outbox."""
    from docflow.feedback import ANSWER_EMAIL_TOPIC
    from docflow.imports import ACTIVATION_EMAIL_TOPIC

    rt = runtime(app)
    rt.handlers.add(EMAIL_TOPIC, lambda uow, payload: send_email_copies(rt, uow, payload))
    rt.handlers.add(ANSWER_EMAIL_TOPIC, lambda uow, payload: send_feedback_answer(rt, uow, payload))
    rt.handlers.add(
        ACTIVATION_EMAIL_TOPIC, lambda uow, payload: send_activation_emails(rt, uow, payload)
    )
