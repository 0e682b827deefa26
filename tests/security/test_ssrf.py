# ruff: noqa: F811
# (the fixtures of the outgoing suite are imported by name and then requested by that name)
"""Issue 11 §1: nothing is fetched because of what a user or a peer sent (SSRF), converters run
without network, public verification is bounded and rate-limited, page previews bound ``dpi``.

Every attack goes through the public API or pages against real PostgreSQL and LibreOffice, with
a listener on loopback that records every request it gets: the assertion is the refusal (or a
safe result) *and* that the listener saw nothing. The hostile certificates are made here with
``cryptography`` and the PDFs signed with pyHanko's own ``SimpleSigner`` (not our signing code);
the hostile DOCX is written by hand on top of a python-docx file.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
import socket
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import AuthorityInformationAccessOID, NameOID
from docx import Document as new_docx
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from pyhanko_certvalidator.registry import SimpleCertificateStore
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import make_server
from werkzeug.wrappers import Response

from app.conversion import LibreOfficeConverter, neutralise_external_links
from app.pdf_preview import render_page
from app.sandbox import Sandbox, SandboxUnavailable
from signing import (
    FetchPolicy,
    PadesLevel,
    SigningOptions,
    TrustSettings,
    VerificationLimitError,
    VerificationLimits,
    make_sample_document,
    prepare_document,
    render_signature_image,
    sign_as_leader,
    verify_pdf,
)
from signing.fetching import FetchError, FetchRefusedError, is_public_address
from signing.testpki import (
    OrgSpec,
    UserSpec,
    demo_signer,
    generate_demo_pki,
    make_pki_wsgi_app,
)
from tests.app.test_pages import csrf_of
from tests.conftest import make_test_settings
from tests.outgoing.conftest import (  # noqa: F401  (fixtures: the app with the demo PKI)
    Outgoing,
    app,
    converter,
    demo_pki_dir,
    flow,
)
from tests.outgoing.test_drafts import DOCX, _versions
from tests.pdfs import make_pdf

# ------------------------------------------------------------------ a listener that records hits


class Listener:
    """An HTTP server on 127.0.0.1 that records every request (and can answer with a body,
    a redirect or slowly)."""

    def __init__(self, handler: Callable[[BaseHTTPRequestHandler], None] | None = None) -> None:
        self.hits: list[tuple[str, str, str]] = []
        hits, answer = self.hits, handler

        class Handler(BaseHTTPRequestHandler):
            def _hit(self) -> None:
                hits.append((self.command, self.path, self.headers.get("Host", "")))
                if answer is not None:
                    answer(self)
                    return
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST = _hit

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self.server.server_address[1])
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.close()


# ------------------------------------------------------------------ hostile certificates and PDFs


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Tổ chức giả mạo"),
        ]
    )


def _key_usage(*, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not ca,
        content_commitment=not ca,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def hostile_certificates(
    listener: Listener,
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey, x509.Certificate]:
    """A CA nobody trusts and a signer certificate whose AIA "CA issuers", OCSP and CRL
    distribution point all name the listener."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("CA giả mạo"))
        .issuer_name(_name("CA giả mạo"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_key_usage(ca=True), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    uri = x509.UniformResourceIdentifier
    leaf = (
        x509.CertificateBuilder()
        .subject_name(_name("Kẻ Tấn Công"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(_key_usage(ca=False), critical=True)
        .add_extension(
            x509.AuthorityInformationAccess(
                [
                    x509.AccessDescription(
                        AuthorityInformationAccessOID.CA_ISSUERS, uri(listener.url("/aia/ca.cer"))
                    ),
                    x509.AccessDescription(
                        AuthorityInformationAccessOID.OCSP, uri(listener.url("/ocsp"))
                    ),
                ]
            ),
            critical=False,
        )
        .add_extension(
            x509.CRLDistributionPoints(
                [x509.DistributionPoint([uri(listener.url("/crl/leaf.crl"))], None, None, None)]
            ),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    return ca, key, leaf


def pyhanko_signed(
    pdf: bytes, key: ec.EllipticCurvePrivateKey, cert: x509.Certificate, field: str = "ChuKyGia"
) -> bytes:
    """``pdf`` signed by pyHanko's stock signer with only the signer's certificate embedded (so
    a validator would have to chase the issuer through the AIA URL)."""
    signer = signers.SimpleSigner(
        signing_cert=asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER)),
        signing_key=asn1_keys.PrivateKeyInfo.load(
            key.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        ),
        cert_registry=SimpleCertificateStore(),
    )
    out = signers.sign_pdf(
        IncrementalPdfFileWriter(io.BytesIO(pdf)),
        signers.PdfSignatureMetadata(field_name=field),
        signer=signer,
    )
    return out.getvalue()


@pytest.fixture
def hostile_pdf(listener: Listener) -> bytes:
    _, key, leaf = hostile_certificates(listener)
    return pyhanko_signed(make_pdf(2), key, leaf)


def _post(client: Any, data: bytes, **kw: Any) -> Any:
    return client.post(
        "/api/v1/verifications",
        data={"file": (io.BytesIO(data), "văn bản.pdf")},
        content_type="multipart/form-data",
        **kw,
    )


def _app(tmp_path: Path, pg_url: str, session_factory: Any, clock: Any, **settings: Any) -> Any:
    from app import create_app

    flask_app = create_app(
        make_test_settings(tmp_path, pg_url, **settings),
        session_factory=session_factory,
        clock=clock,
    )
    flask_app.config.update(TESTING=True)
    return flask_app


@pytest.fixture
def roots_file(tmp_path: Path, demo_pki_dir: Path) -> Path:
    """A trust-roots bundle as an operator configures it (here: the demo PKI's roots)."""
    from signing.testpki import load_demo_pki

    path = tmp_path / "roots.pem"
    path.write_bytes(load_demo_pki(demo_pki_dir).trust_roots_pem())
    return path


# ------------------------------------------------------------------ the public verification


def test_public_verification_fetches_nothing_named_by_the_pdf(
    app: Any, hostile_pdf: bytes, listener: Listener
) -> None:
    r = _post(app.test_client(), hostile_pdf)
    assert r.status_code == 200, r.get_json()
    (sig,) = r.get_json()["signatures"]
    assert r.get_json()["summary"] == "indeterminate"
    assert sig["signer"]["name"] == "Kẻ Tấn Công" and sig["intact"] and not sig["trusted"]
    assert listener.hits == []


@pytest.mark.parametrize("allow", [(), ("ocsp.example.vn",)])
def test_with_operator_trust_roots_the_pdf_still_chooses_no_address(
    tmp_path: Path,
    pg_url: str,
    session_factory: Any,
    clock: Any,
    demo: Any,
    roots_file: Path,
    hostile_pdf: bytes,
    listener: Listener,
    allow: tuple[str, ...],
) -> None:
    """The configuration that used to fetch: DHTN_TRUST_ROOTS (fetching on), with or without an
    allow-list; and the page as well as the API."""
    flask_app = _app(
        tmp_path, pg_url, session_factory, clock, trust_roots=roots_file, fetch_allow=allow
    )
    c = flask_app.test_client()
    r = _post(c, hostile_pdf)
    assert r.status_code == 200 and r.get_json()["signatures"][0]["trusted"] is False
    token = csrf_of(c.get("/verify").get_data(as_text=True))
    page = c.post(
        "/verify",
        data={"csrf_token": token, "file": (io.BytesIO(hostile_pdf), "a.pdf")},
        content_type="multipart/form-data",
    )
    assert page.status_code == 200 and "Kẻ Tấn Công" in page.get_data(as_text=True)
    assert listener.hits == []


def test_a_received_pdf_is_verified_in_the_background_without_fetching(
    app: Any, api: Any, hostile_pdf: bytes, listener: Listener
) -> None:
    c = app.test_client()
    meta = {
        "notation": "12/CV-GM",
        "doc_type": "CV",
        "subject": "Văn bản ký bằng chứng thư giả mạo",
        "issuer": {"name": "Cơ quan lạ"},
        "issued_date": "2026-11-20",
    }
    r = c.post(
        "/api/v1/incoming",
        headers=api("vanthu.tw"),
        content_type="multipart/form-data",
        data={
            "meta": json.dumps(meta),
            "files": [(io.BytesIO(hostile_pdf), "gia-mao.pdf", "application/pdf")],
        },
    )
    assert r.status_code == 201, r.get_json()
    body = c.get(f"/api/v1/documents/{r.get_json()['id']}", headers=api("vanthu.tw")).get_json()
    assert body["verification"]["summary"] == "indeterminate"
    assert body["files"][0]["verification"]["signatures"][0]["trusted"] is False
    assert listener.hits == []


class PkiServer:
    """The demo PKI's OCSP/CRL/TSA served on loopback, recording the requests it answers."""

    def __init__(self, tmp: Path) -> None:
        self.hits: list[str] = []
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        self.base_url = f"http://127.0.0.1:{self.port}/pki"
        self.pki = generate_demo_pki(
            tmp,
            organizations=[OrgSpec("000.00.00.Z01", "Ủy ban Trung ương MTTQ Việt Nam")],
            users=[UserSpec("lanhdao.tw", "Lê Văn Minh", "000.00.00.Z01")],
            base_url=self.base_url,
        )
        inner = DispatcherMiddleware(Response("", 404), {"/pki": make_pki_wsgi_app(self.pki)})

        def recording(environ: dict[str, Any], start: Any) -> Any:
            self.hits.append(environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""))
            return inner(environ, start)

        self.server = make_server("127.0.0.1", self.port, recording, threaded=True)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def pki_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PkiServer]:
    server = PkiServer(tmp_path_factory.mktemp("pki-served"))
    yield server
    server.server.shutdown()


def test_operator_allowed_hosts_are_still_fetched(
    tmp_path: Path,
    pg_url: str,
    session_factory: Any,
    clock: Any,
    demo: Any,
    pki_server: PkiServer,
) -> None:
    """A B-B signature of the demo PKI (no revocation data inside): with the PKI's host in
    DHTN_FETCH_ALLOW its OCSP/CRL are fetched and the signature is valid; without, the loopback
    URLs of the CA are refused (a CA's own hosts must be public) and nothing is fetched."""
    sample = make_sample_document()
    with demo_signer(pki_server.pki, "lanhdao.tw") as leader:
        signed = sign_as_leader(
            prepare_document(sample.pdf, sample.layout),
            leader,
            signature_image=render_signature_image("Lê Văn Minh"),
            options=SigningOptions(level=PadesLevel.B_B),
        )
    roots = tmp_path / "roots.pem"
    roots.write_bytes(pki_server.pki.trust_roots_pem())

    pki_server.hits.clear()
    closed = _app(tmp_path / "a", pg_url, session_factory, clock, trust_roots=roots)
    body = _post(closed.test_client(), signed).get_json()
    assert pki_server.hits == []
    assert body["signatures"][0]["intact"]  # revocation unknown: soft-fail, as configured

    allowed = _app(
        tmp_path / "b",
        pg_url,
        session_factory,
        clock,
        trust_roots=roots,
        fetch_allow=(f"127.0.0.1:{pki_server.port}",),
    )
    body = _post(allowed.test_client(), signed).get_json()
    assert body["summary"] == "valid", body
    assert any(hit.startswith("/pki/") for hit in pki_server.hits), pki_server.hits


def test_timestamps_come_only_from_the_configured_tsa(
    pki_server: PkiServer, listener: Listener
) -> None:
    """The TSA is the operator's: reached (through the policy); nothing else is."""
    sample = make_sample_document()
    prepared = prepare_document(sample.pdf, sample.layout)
    pki_server.hits.clear()
    with demo_signer(pki_server.pki, "lanhdao.tw") as leader:
        sign_as_leader(
            prepared,
            leader,
            signature_image=render_signature_image("Lê Văn Minh"),
            options=SigningOptions(level=PadesLevel.B_T, tsa_url=f"{pki_server.base_url}/tsa"),
        )
    assert "/pki/tsa" in pki_server.hits
    assert listener.hits == []


# ------------------------------------------------------------------ the fetch policy itself


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.8.9.10",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # carrier-grade NAT
        "0.0.0.0",
        "224.0.0.1",
        "255.255.255.255",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "fd12:3456::1",
        "ff02::1",
        "::ffff:127.0.0.1",  # IPv4-mapped
        "::ffff:10.0.0.1",
        "::ffff:169.254.169.254",
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "2002:7f00:1::1",  # 6to4 of 127.0.0.1
        "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo of 127.0.0.1
        "2001:db8::1",  # documentation
    ],
)
def test_non_public_addresses_are_recognised(address: str) -> None:
    assert not is_public_address(address)


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2001:4860:4860::8888"])
def test_public_addresses_are_public(address: str) -> None:
    assert is_public_address(address)


def _resolver(table: dict[str, list[str]]) -> Callable[[str, int], list[str]]:
    def resolve(host: str, port: int) -> list[str]:
        if host not in table:
            raise OSError("unknown host")
        return table[host]

    return resolve


def test_only_configured_hosts_schemes_and_ports_pass() -> None:
    ca = _ca_with_urls(["http://ocsp.ca.example.vn/ocsp", "http://crl.ca.example.vn:8080/a.crl"])
    policy = FetchPolicy.configure(
        allow=["pki.example.vn", "tsa.example.vn:8443"],
        trusted_cas=[ca],
        resolver=_resolver(
            {
                "ocsp.ca.example.vn": ["8.8.4.4"],
                "crl.ca.example.vn": ["8.8.4.4"],
                "pki.example.vn": ["10.0.0.5"],
                "tsa.example.vn": ["10.0.0.6"],
            }
        ),
    )
    assert policy.allows("http://ocsp.ca.example.vn/ocsp?x=1")
    assert policy.allows("http://OCSP.CA.Example.VN./ocsp")
    assert policy.allows("http://crl.ca.example.vn:8080/other.crl")
    assert policy.allows("https://pki.example.vn/ca.cer")  # explicitly allowed: private is fine
    assert policy.allows("https://tsa.example.vn:8443/tsa")
    refusals = {
        "http://evil.example.org/": "host_not_allowed",
        "http://ocsp.ca.example.vn:8081/": "host_not_allowed",  # other port
        "http://crl.ca.example.vn/a.crl": "host_not_allowed",  # port 80, not the CA's 8080
        "https://tsa.example.vn/tsa": "host_not_allowed",
        "ldap://ocsp.ca.example.vn/cn=x": "scheme_not_allowed",
        "file:///etc/passwd": "scheme_not_allowed",
        "http://user:pw@ocsp.ca.example.vn/": "credentials_in_url",
        "http://OCSP.CA.EXAMPLE.VN.:81/": "host_not_allowed",
    }
    for url, code in refusals.items():
        with pytest.raises(FetchRefusedError) as err:
            policy.check(url)
        assert err.value.code == code, url
    assert FetchPolicy().fetches is False and not FetchPolicy().allows("http://8.8.8.8/")


def _ca_with_urls(urls: list[str]) -> bytes:
    now = dt.datetime.now(dt.UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    aia = [
        x509.AccessDescription(
            AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(u)
        )
        for u in urls
        if "ocsp" in u
    ]
    dps = [
        x509.DistributionPoint([x509.UniformResourceIdentifier(u)], None, None, None)
        for u in urls
        if "ocsp" not in u
    ]
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name("CA của nhà vận hành"))
        .issuer_name(_name("CA của nhà vận hành"))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    )
    if aia:
        builder = builder.add_extension(x509.AuthorityInformationAccess(aia), critical=False)
    if dps:
        builder = builder.add_extension(x509.CRLDistributionPoints(dps), critical=False)
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def test_names_and_literals_of_a_ca_that_reach_private_addresses_are_refused() -> None:
    ca = _ca_with_urls(
        [
            "http://ocsp.rebind.example/ocsp",
            "http://localhost/ocsp",
            "http://[::ffff:7f00:1]/ocsp",
            "http://169.254.169.254/latest/meta-data/",
            "http://[::1]:8080/crl.crl",
        ]
    )
    policy = FetchPolicy.configure(
        trusted_cas=[ca],
        # One public and one private answer: any private answer refuses the name.
        resolver=_resolver({"ocsp.rebind.example": ["8.8.8.8", "10.9.8.7"]}),
    )
    for url in ("http://ocsp.rebind.example/ocsp", "http://169.254.169.254/latest/meta-data/"):
        with pytest.raises(FetchRefusedError) as err:
            policy.check(url)
        assert err.value.code == "address_not_public"
    real_dns = FetchPolicy.configure(trusted_cas=[ca])
    for url in ("http://localhost/ocsp", "http://[::ffff:7f00:1]/ocsp", "http://[::1]:8080/x"):
        with pytest.raises(FetchRefusedError) as err:
            real_dns.check(url)
        assert err.value.code == "address_not_public", url


def test_a_configured_name_connects_to_the_checked_address(listener: Listener) -> None:
    """No second DNS lookup: the connection goes to the address that was checked, with the
    configured name as Host."""
    policy = FetchPolicy.configure(
        allow=[f"pki.noi-bo.example:{listener.port}"],
        resolver=_resolver({"pki.noi-bo.example": ["127.0.0.1"]}),
    )
    response = policy.get(f"http://pki.noi-bo.example:{listener.port}/crl")
    assert response.status_code == 404
    assert listener.hits == [("GET", "/crl", f"pki.noi-bo.example:{listener.port}")]


def _redirecting(location: str) -> Callable[[BaseHTTPRequestHandler], None]:
    def answer(h: BaseHTTPRequestHandler) -> None:
        if h.path == "/final":
            h.send_response(200)
            h.send_header("Content-Length", "2")
            h.end_headers()
            h.wfile.write(b"ok")
            return
        h.send_response(302)
        h.send_header("Location", location)
        h.send_header("Content-Length", "0")
        h.end_headers()

    return answer


def test_redirects_only_within_the_same_host(listener: Listener) -> None:
    other = listener
    same = Listener(_redirecting("/final"))
    away = Listener(_redirecting(other.url("/stolen")))
    try:
        policy = FetchPolicy.configure(
            allow=[f"127.0.0.1:{p}" for p in (same.port, away.port, other.port)]
        )
        assert policy.get(same.url("/start")).content == b"ok"
        assert [h[1] for h in same.hits] == ["/start", "/final"]
        with pytest.raises(FetchRefusedError) as err:
            policy.get(away.url("/start"))
        assert err.value.code == "redirect_not_allowed"
        assert other.hits == []  # even though that host is allowed on its own
    finally:
        same.close()
        away.close()


def test_answers_are_capped_in_size_and_time() -> None:
    def big(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.end_headers()  # no Content-Length: the cap is counted while reading
        h.wfile.write(b"x" * (300 * 1024))

    def slow(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Length", "1000")
        h.end_headers()
        for _ in range(20):
            h.wfile.write(b"x")
            h.wfile.flush()
            time.sleep(0.2)

    servers = [Listener(big), Listener(slow)]
    try:
        policy = FetchPolicy.configure(
            allow=[f"127.0.0.1:{s.port}" for s in servers], max_bytes=100 * 1024, timeout=1.0
        )
        with pytest.raises(FetchRefusedError) as err:
            policy.get(servers[0].url("/big.crl"))
        assert err.value.code == "too_large"
        with pytest.raises(FetchError) as err2:
            policy.get(servers[1].url("/slow.crl"))
        assert err2.value.code in ("timeout", "fetch_failed")
    finally:
        for s in servers:
            s.close()


def test_validation_contexts_use_the_policy_and_nothing_else(listener: Listener) -> None:
    _, key, leaf = hostile_certificates(listener)
    pdf = pyhanko_signed(make_pdf(), key, leaf)
    for trust in (
        TrustSettings(roots=()),  # no policy: no fetching at all
        TrustSettings(roots=(), fetch_policy=FetchPolicy.configure(allow=["ocsp.example.vn"])),
    ):
        assert verify_pdf(pdf, trust).summary.value == "indeterminate"
    assert listener.hits == []
    # The same listener, once allowed by the operator, is asked for the issuer (the control).
    allowed = TrustSettings(
        roots=(), fetch_policy=FetchPolicy.configure(allow=[f"127.0.0.1:{listener.port}"])
    )
    verify_pdf(pdf, allowed)
    assert ("GET", "/aia/ca.cer") in [h[:2] for h in listener.hits]


# ------------------------------------------------------------------ bounded verification


def test_verification_cost_is_bounded(app: Any) -> None:
    r = _post(app.test_client(), make_pdf(1001))
    assert r.status_code == 422
    error = r.get_json()["error"]
    assert error["code"] == "verification_limit_exceeded"
    assert error["details"] == {"limit": "pages", "max": 1000}
    assert "trang" in error["message"]


def test_signature_and_revision_limits(listener: Listener) -> None:
    _, key, leaf = hostile_certificates(listener)
    twice = pyhanko_signed(pyhanko_signed(make_pdf(), key, leaf), key, leaf, "ChuKyThuHai")
    trust = TrustSettings(roots=())
    assert len(verify_pdf(twice, trust).signatures) == 2
    with pytest.raises(VerificationLimitError) as err:
        verify_pdf(twice, trust, VerificationLimits(max_signatures=1))
    assert err.value.details == {"limit": "signatures", "max": 1}
    with pytest.raises(VerificationLimitError) as err:
        verify_pdf(twice, trust, VerificationLimits(max_revisions=2))
    assert err.value.details["limit"] == "revisions"
    with pytest.raises(VerificationLimitError) as err:
        verify_pdf(twice, trust, VerificationLimits(max_seconds=0.0))
    assert err.value.details["limit"] == "seconds"


def test_public_verification_file_size_cap(
    tmp_path: Path, pg_url: str, session_factory: Any, clock: Any, demo: Any
) -> None:
    flask_app = _app(tmp_path, pg_url, session_factory, clock, verify_max_mb=1)
    r = _post(flask_app.test_client(), make_pdf(padding=1_200_000))
    assert r.status_code == 413 and r.get_json()["error"]["code"] == "file_too_large"


# ------------------------------------------------------------------ rate limits


def test_public_endpoints_are_rate_limited_per_client_across_processes(
    tmp_path: Path, pg_url: str, session_factory: Any, clock: Any, demo: Any
) -> None:
    """Two app instances (two processes' worth) share the counters; the page and the API share
    the bucket; another client is not affected; the next window lets the client in again."""
    one = _app(tmp_path / "1", pg_url, session_factory, clock, public_rate_limit=(3, 60))
    two = _app(tmp_path / "2", pg_url, session_factory, clock, public_rate_limit=(3, 60))
    pdf = make_pdf()
    client_a = {"REMOTE_ADDR": "203.0.113.7"}
    assert _post(one.test_client(), pdf, environ_base=client_a).status_code == 200
    assert _post(two.test_client(), pdf, environ_base=client_a).status_code == 200
    page = one.test_client()
    token = csrf_of(page.get("/verify").get_data(as_text=True))
    r = page.post(
        "/verify",
        data={"csrf_token": token, "file": (io.BytesIO(pdf), "a.pdf")},
        content_type="multipart/form-data",
        environ_base=client_a,
    )
    assert r.status_code == 200
    refused = _post(two.test_client(), pdf, environ_base=client_a)
    assert refused.status_code == 429
    error = refused.get_json()["error"]
    assert error["code"] == "rate_limited" and "thử lại sau" in error["message"]
    retry = int(refused.headers["Retry-After"])
    assert 1 <= retry <= 60 and error["details"]["retry_after"] == retry
    again = page.post(
        "/verify",
        data={"csrf_token": token, "file": (io.BytesIO(pdf), "a.pdf")},
        content_type="multipart/form-data",
        environ_base=client_a,
    )
    assert again.status_code == 429 and "Retry-After" in again.headers
    assert "quá nhiều yêu cầu" in again.get_data(as_text=True)
    # Another client (a different /64 for IPv6) still gets in.
    other = {"REMOTE_ADDR": "2001:db8:1:2::5"}
    assert _post(one.test_client(), pdf, environ_base=other).status_code == 200
    clock.advance(seconds=61)
    assert _post(one.test_client(), pdf, environ_base=client_a).status_code == 200


def test_a_global_ceiling_holds_across_clients(
    tmp_path: Path, pg_url: str, session_factory: Any, clock: Any, demo: Any
) -> None:
    flask_app = _app(
        tmp_path,
        pg_url,
        session_factory,
        clock,
        public_rate_limit=(100, 60),
        public_rate_limit_global=(3, 60),
    )
    c = flask_app.test_client()
    codes = [
        _post(c, make_pdf(), environ_base={"REMOTE_ADDR": f"198.51.100.{i}"}).status_code
        for i in range(1, 6)
    ]
    assert codes == [200, 200, 200, 429, 429]


def test_openapi_publishes_the_limits(app: Any) -> None:
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    responses = spec["paths"]["/api/v1/verifications"]["post"]["responses"]
    assert "Retry-After" in responses["429"]["headers"]
    assert {"413", "415", "422", "429"} <= set(responses)
    assert "dpi" in spec["info"]["description"]


# ------------------------------------------------------------------ DOCX conversion

_LINKED_PICTURE = (
    '<w:p><w:r><w:drawing><wp:inline xmlns:wp="http://schemas.openxmlformats.org/drawingml/'
    '2006/wordprocessingDrawing"><wp:extent cx="914400" cy="914400"/><wp:docPr id="7" '
    'name="Ảnh liên kết"/><a:graphic xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/'
    'main"><a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/picture">'
    '<pic:pic xmlns:pic="http://schemas.openxmlformats.org/drawingml/2006/picture"><pic:nvPicPr>'
    '<pic:cNvPr id="7" name="x.png"/><pic:cNvPicPr/></pic:nvPicPr><pic:blipFill><a:blip '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" '
    'r:link="rIdNgoai"/><a:stretch><a:fillRect/></a:stretch></pic:blipFill><pic:spPr><a:xfrm>'
    '<a:off x="0" y="0"/><a:ext cx="914400" cy="914400"/></a:xfrm><a:prstGeom prst="rect">'
    "<a:avLst/></a:prstGeom></pic:spPr></pic:pic></a:graphicData></a:graphic></wp:inline>"
    "</w:drawing></w:r></w:p>"
)
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def hostile_docx(listener: Listener) -> bytes:
    """A DOCX whose picture is linked (not embedded) from the listener, with an attached
    template and a hyperlink there too."""
    doc = new_docx()
    doc.add_paragraph("Dự thảo công văn có ảnh liên kết ra ngoài.")
    base = io.BytesIO()
    doc.save(base)
    src = zipfile.ZipFile(io.BytesIO(base.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "word/document.xml":
                data = data.replace(b"<w:sectPr", _LINKED_PICTURE.encode() + b"<w:sectPr", 1)
            if info.filename == "word/_rels/document.xml.rels":
                rels = (
                    f'<Relationship Id="rIdNgoai" Type="{_REL}/image" '
                    f'Target="{listener.url("/anh.png")}" TargetMode="External"/>'
                    f'<Relationship Id="rIdLink" Type="{_REL}/hyperlink" '
                    f'Target="{listener.url("/lien-ket")}" TargetMode="External"/>'
                )
                data = data.replace(b"</Relationships>", rels.encode() + b"</Relationships>")
            z.writestr(info, data)
        z.writestr(
            "word/_rels/settings.xml.rels",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rIdTpl" Type="{_REL}/attachedTemplate" '
            f'Target="{listener.url("/mau.dotx")}" TargetMode="External"/></Relationships>',
        )
    return out.getvalue()


def test_external_relationships_are_removed_but_hyperlinks_kept(listener: Listener) -> None:
    cleaned = zipfile.ZipFile(io.BytesIO(neutralise_external_links(hostile_docx(listener))))
    rels = cleaned.read("word/_rels/document.xml.rels").decode()
    assert "rIdNgoai" not in rels and "/anh.png" not in rels
    assert "rIdLink" in rels  # a hyperlink is text, never fetched on conversion
    assert "mau.dotx" not in cleaned.read("word/_rels/settings.xml.rels").decode()
    assert cleaned.read("word/document.xml") == zipfile.ZipFile(
        io.BytesIO(hostile_docx(listener))
    ).read("word/document.xml")
    assert neutralise_external_links(b"not a zip") == b"not a zip"


def test_a_docx_draft_with_a_linked_picture_fetches_nothing(
    flow: Outgoing, listener: Listener
) -> None:
    r = flow.upload(hostile_docx(listener), "Ảnh liên kết.docx", DOCX)
    assert r.status_code == 201, r.get_json()
    (version,) = _versions(flow, r.get_json()["id"])
    assert version["conversion_state"] == "ready"
    assert listener.hits == []


def test_the_sandbox_alone_keeps_libreoffice_off_the_network(
    tmp_path: Path, listener: Listener, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Second layer: even with the relationships left in (the stripping disabled), LibreOffice
    in its sandbox reaches nothing. The control shows the same file does reach the listener
    when LibreOffice runs outside it."""
    import app.conversion as conversion

    monkeypatch.setattr(conversion, "neutralise_external_links", lambda data: data)
    data = hostile_docx(listener)
    sandboxed = LibreOfficeConverter(tmp_path / "sandboxed", timeout=90)
    try:
        assert sandboxed.to_pdf(data, "a.docx").startswith(b"%PDF")
    finally:
        sandboxed.close()
    assert listener.hits == []
    bare = LibreOfficeConverter(tmp_path / "bare", timeout=90, sandbox=Sandbox("off"))
    try:
        bare.to_pdf(data, "a.docx")
    finally:
        bare.close()
    assert any(hit[1] == "/anh.png" for hit in listener.hits)


def test_without_bwrap_converters_refuse_unless_the_operator_turned_the_sandbox_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import app.sandbox as sandbox

    sandbox._bwrap_works.cache_clear()
    real_which = shutil.which
    monkeypatch.setattr(
        sandbox.shutil, "which", lambda name: None if name == "bwrap" else real_which(name)
    )
    try:
        with pytest.raises(SandboxUnavailable, match="DHTN_SANDBOX=off"):
            render_page(make_pdf(), 1)
        from app.conversion import ConverterUnavailable

        with pytest.raises(ConverterUnavailable):
            LibreOfficeConverter(tmp_path, timeout=30, warm=False).to_pdf(b"PK", "a.docx")
        assert render_page(make_pdf(), 1, sandbox=Sandbox("off")).startswith(b"\x89PNG")
    finally:
        sandbox._bwrap_works.cache_clear()
    with pytest.raises(ValueError):
        Sandbox("none")


# ------------------------------------------------------------------ page previews


def test_page_previews_bound_dpi(flow: Outgoing, app: Any) -> None:
    from tests.outgoing.test_pages import _login

    r = flow.upload(make_pdf(1), "Dự thảo.pdf", "application/pdf")
    doc = r.get_json()["id"]
    file_id = flow.get("chuyenvien.dcgs", doc).get_json()["files"][0]["id"]
    c = app.test_client()
    _login(c, "chuyenvien.dcgs")
    url = f"/outgoing/{doc}/files/{file_id}/pages/1.png"
    assert c.get(url).mimetype == "image/png"
    assert c.get(url + "?dpi=200").status_code == 200
    for bad in ("5000", "35", "201", "0", "-80", "abc", "1e3"):
        got = c.get(f"{url}?dpi={bad}")
        assert got.status_code == 422, bad
        assert "dpi" in got.get_data(as_text=True)


def test_settings_parse_the_new_variables() -> None:
    from app.config import Settings

    s = Settings.from_env({"DHTN_FETCH_ALLOW": "a.example.vn, b.example.vn:8080 http://c/"})
    assert s.fetch_allow == ("a.example.vn", "b.example.vn:8080", "http://c/")
    assert replace(s, public_rate_limit=(1, 2)).public_rate_limit == (1, 2)
    assert Settings.from_env({"DHTN_PUBLIC_RATE_LIMIT": "5/30"}).public_rate_limit == (5, 30)
