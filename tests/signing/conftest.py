"""Fixtures for the signing suite: one demo PKI per test session, served on loopback.

The PKI (root, issuing CA, TSA, OCSP responder, people, seals, plus test-only certificates: an
expired one, one revoked, one without a signing key usage) is generated once into a session tmp
dir with URLs pointing at a werkzeug server thread that runs :func:`signing.make_pki_wsgi_app`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Response

from signing import (
    FetchPolicy,
    LocalKeySigner,
    PadesLevel,
    SampleDocument,
    SigningOptions,
    TrustSettings,
    make_sample_document,
    prepare_document,
    render_seal_image,
    render_signature_image,
)
from signing.testpki import (
    DemoPKI,
    OrgSpec,
    UserSpec,
    demo_signer,
    generate_demo_pki,
    make_pki_wsgi_app,
)
from tests.servers import free_port

from .pdfsig import PdfSig

ORG_CODE = "000.00.00.Z01"
ORG_NAME = "Ủy ban Trung ương MTTQ Việt Nam"
LEADER = "lanhdao.tw"
CLERK = "vanthu.tw"


def serve(app: object, port: int) -> BaseWSGIServer:
    """Run a WSGI app on 127.0.0.1:port in a daemon thread (stopped by the caller)."""
    server = make_server("127.0.0.1", port, app, threaded=True)  # type: ignore[arg-type]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@dataclass(frozen=True)
class PkiEnv:
    pki: DemoPKI
    base_url: str
    trust: TrustSettings

    @property
    def tsa_url(self) -> str:
        return f"{self.base_url}/tsa"

    def options(self, level: PadesLevel = PadesLevel.B_T, **kwargs: object) -> SigningOptions:
        settings: dict[str, object] = {"tsa_url": self.tsa_url, "trust": self.trust, **kwargs}
        return SigningOptions(level=level, **settings)  # type: ignore[arg-type]

    def signer(self, name: str, *, prefer_pss: bool = True) -> LocalKeySigner:
        return demo_signer(self.pki, name, prefer_pss=prefer_pss)


@pytest.fixture(scope="session")
def pki_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PkiEnv]:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}/pki"
    pki = generate_demo_pki(
        tmp_path_factory.mktemp("pki"),
        organizations=[OrgSpec(ORG_CODE, ORG_NAME)],
        users=[
            UserSpec(LEADER, "Lê Văn Minh", ORG_CODE),
            UserSpec(CLERK, "Nguyễn Văn An", ORG_CODE, key_type="ec"),
        ],
        base_url=base_url,
    )
    now = datetime.now(UTC)
    pki.issue_extra(
        "expired",
        common_name="Trần Hết Hạn",
        organization=ORG_NAME,
        not_before=now - timedelta(days=800),
        not_after=now - timedelta(days=1),
    )
    pki.issue_extra("revoked", common_name="Lê Thu Hồi", organization=ORG_NAME)
    pki.revoke("extra:revoked")
    pki.issue_extra(
        "no-signing", common_name="Phạm Mã Hóa", organization=ORG_NAME, key_usage="encipherment"
    )
    fallback = Response("not found", status=404)
    app = DispatcherMiddleware(fallback, {"/pki": make_pki_wsgi_app(pki)})
    server = serve(app, port)
    # The PKI serves OCSP/CRLs on loopback: allowed explicitly, as an operator would.
    policy = FetchPolicy.configure(allow=[base_url], trusted_cas=[pki.root.certificate_der])
    trust = TrustSettings.from_pem(pki.trust_roots_pem(), fetch_policy=policy)
    yield PkiEnv(pki, base_url, trust)
    server.shutdown()


@pytest.fixture(scope="session")
def signature_png() -> bytes:
    return render_signature_image("Lê Văn Minh")


@pytest.fixture(scope="session")
def seal_png() -> bytes:
    return render_seal_image(ORG_NAME)


@pytest.fixture(scope="session")
def sample() -> SampleDocument:
    return make_sample_document(2)


@pytest.fixture(scope="session")
def prepared(sample: SampleDocument) -> bytes:
    return prepare_document(sample.pdf, sample.layout)


@pytest.fixture(scope="session")
def pdfsig(tmp_path_factory: pytest.TempPathFactory) -> PdfSig:
    return PdfSig(tmp_path_factory.mktemp("pdfsig"))


@pytest.fixture(scope="session")
def shots_dir() -> Path:
    """Where rendered pages go for people to look at (outside the repository)."""
    path = Path("/tmp/signing-shots")
    path.mkdir(parents=True, exist_ok=True)
    return path
