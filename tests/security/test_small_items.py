"""Smaller items of issue 11, point 8: SMTP verifies the server's certificate (and never falls
back to clear text), and a ``%`` or ``_`` typed into a filter matches itself.

SMTP runs against real SMTP servers on loopback (aiosmtpd), with implicit TLS, with STARTTLS and
without TLS, presenting a certificate from a CA made for the test.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import io
import ipaddress
import json
import socket
import ssl
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from app.notify import SmtpSecurityError, is_loopback, smtp_connection, tls_context
from tests.conftest import Demo
from tests.pdfs import make_pdf
from tests.servers import free_port

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")

# ---------------------------------------------------------------- SMTP


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _cert(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: str,
    signer: ec.EllipticCurvePrivateKey,
    *,
    ca: bool,
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), True
        )
    else:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        ).add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
    return builder.sign(signer, hashes.SHA256())


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A CA (its PEM: the ``cafile``) and a server certificate for 127.0.0.1 it issued."""
    d = tmp_path_factory.mktemp("smtp-pki")
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _cert("DHTN test SMTP CA", ca_key, "DHTN test SMTP CA", ca_key, ca=True)
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = _cert("127.0.0.1", key, "DHTN test SMTP CA", ca_key, ca=False)
    pem = serialization.Encoding.PEM
    (d / "ca.pem").write_bytes(ca.public_bytes(pem))
    (d / "server.pem").write_bytes(leaf.public_bytes(pem) + ca.public_bytes(pem))
    (d / "server.key").write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return {"ca": d / "ca.pem", "cert": d / "server.pem", "key": d / "server.key"}


class Inbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.tls: list[bool] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        self.messages.append(msg)
        implicit = server.transport.get_extra_info("ssl_object") is not None
        self.tls.append(session.ssl is not None or implicit)  # STARTTLS or TLS from the start
        return "250 OK"


def _auth(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"dhtn", b"s3cret")
    return AuthResult(success=ok, handled=False)


def _server_context(pki: dict[str, Path]) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(pki["cert"], pki["key"])
    return ctx


@pytest.fixture
def smtp_server(pki: dict[str, Path]) -> Iterator[Any]:
    """``smtp_server(mode)`` → (inbox, port); mode "implicit", "starttls" or "plain"."""
    started: list[Controller] = []

    def start(mode: str) -> tuple[Inbox, int]:
        inbox, port = Inbox(), free_port()
        kwargs: dict[str, Any] = {
            "hostname": "127.0.0.1",
            "port": port,
            "authenticator": _auth,
            "auth_require_tls": False,
        }
        if mode == "implicit":
            kwargs["ssl_context"] = _server_context(pki)
        elif mode == "starttls":
            kwargs["tls_context"] = _server_context(pki)
        controller = Controller(inbox, **kwargs)
        controller.start()
        started.append(controller)
        return inbox, port

    yield start
    for controller in started:
        controller.stop()


def _send(url: str) -> None:
    msg = EmailMessage()
    msg["Subject"], msg["From"], msg["To"] = "Thử", "dhtn@example.test", "a@example.test"
    msg.set_content("Nội dung")
    with smtp_connection(url) as server:
        server.send_message(msg)


def test_the_tls_context_verifies_certificates_and_names() -> None:
    ctx = tls_context()
    assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname
    assert ctx.minimum_version >= ssl.TLSVersion.TLSv1_2


def test_smtps_refuses_an_untrusted_certificate_and_accepts_the_configured_ca(
    smtp_server: Any, pki: dict[str, Path]
) -> None:
    inbox, port = smtp_server("implicit")
    with pytest.raises(ssl.SSLCertVerificationError):
        _send(f"smtps://dhtn:s3cret@127.0.0.1:{port}")
    assert inbox.messages == []
    _send(f"smtps://dhtn:s3cret@127.0.0.1:{port}?cafile={pki['ca']}")
    assert len(inbox.messages) == 1 and inbox.tls == [True]


def test_starttls_is_used_when_offered_and_never_falls_back_to_clear_text(
    smtp_server: Any, pki: dict[str, Path]
) -> None:
    inbox, port = smtp_server("starttls")
    with pytest.raises(ssl.SSLCertVerificationError):
        _send(f"smtp://dhtn:s3cret@127.0.0.1:{port}")
    assert inbox.messages == []
    _send(f"smtp://dhtn:s3cret@127.0.0.1:{port}?cafile={pki['ca']}")
    assert len(inbox.messages) == 1 and inbox.tls == [True]


def test_starttls_required_refuses_a_server_without_it(smtp_server: Any) -> None:
    inbox, port = smtp_server("plain")
    with pytest.raises(SmtpSecurityError):
        _send(f"smtp://dhtn:s3cret@127.0.0.1:{port}?starttls=required")
    assert inbox.messages == []
    # The local relay case: clear text to loopback is allowed when not required.
    _send(f"smtp://dhtn:s3cret@127.0.0.1:{port}")
    assert inbox.tls == [False]


def _non_loopback_address() -> str | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))  # no packet is sent: this only picks a route
        except OSError:
            return None
        address = str(s.getsockname()[0])
    return None if ipaddress.ip_address(address).is_loopback else address


def test_a_password_is_never_sent_in_clear_to_a_remote_server() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("10.0.0.5") and not is_loopback("mail.example.test")
    address = _non_loopback_address()
    if address is None:
        pytest.skip("this machine has no non-loopback address")
    inbox, port = Inbox(), free_port()
    controller = Controller(
        inbox, hostname=address, port=port, authenticator=_auth, auth_require_tls=False
    )
    controller.start()
    try:
        with pytest.raises(SmtpSecurityError):
            _send(f"smtp://dhtn:s3cret@{address}:{port}")
        assert inbox.messages == []
    finally:
        controller.stop()


def test_an_unknown_starttls_mode_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="starttls"), smtp_connection("smtp://h?starttls=maybe"):
        pass


# ---------------------------------------------------------------- LIKE patterns


def _register(client: Any, headers: dict[str, str], n: int, issuer: str) -> str:
    r = client.post(
        "/api/v1/incoming",
        headers=headers,
        data={
            "meta": json.dumps(
                {
                    "notation": f"{n}/CV-SO",
                    "doc_type": "CV",
                    "subject": "Công văn về việc phối hợp",
                    "issuer": {"name": issuer},
                    "issued_date": "2026-11-20",
                }
            ),
            "files": [(io.BytesIO(make_pdf(title=f"cv {n}")), "cv.pdf", "application/pdf")],
        },
        content_type="multipart/form-data",
    )
    assert r.status_code == 201, r.get_json()
    return str(r.get_json()["id"])


def test_percent_and_underscore_in_the_issuer_filter_match_literally(
    client: Any, api: Any, demo: Demo
) -> None:
    h = api("vanthu.tw")
    percent = _register(client, h, 201, "Công ty 100% vốn nhà nước")
    _register(client, h, 202, "Công ty 1000 vốn nhà nước")
    underscore = _register(client, h, 203, "Sở A_B")
    _register(client, h, 204, "Sở AXB")

    def found(issuer: str) -> set[str]:
        r = client.get("/api/v1/documents", headers=h, query_string={"issuer": issuer})
        assert r.status_code == 200, r.get_json()
        return {d["id"] for d in r.get_json()["items"]}

    assert found("100%") == {percent}
    assert found("%") == {percent}
    assert found("a_b") == {underscore}
    assert found("_") == {underscore}
    assert found("sở a_b") == {underscore}


def test_percent_and_underscore_in_the_directory_search_match_literally(
    client: Any, api: Any
) -> None:
    h = api("vanthu.tw")

    def names(q: str) -> list[str]:
        r = client.get("/api/v1/organizations", headers=h, query_string={"q": q})
        assert r.status_code == 200, r.get_json()
        return [o["name"] for o in r.get_json()["items"]]

    assert names("Ủy ban") != []  # the search works
    assert names("%") == [] and names("_") == [] and names("Ủy%ban") == []
