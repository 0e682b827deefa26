"""The demo PKI of the embedded profile, and the verifier the app uses.

``dhtn demo seed`` (and ``dhtn run``) generate the demo PKI into ``<data dir>/pki`` at run time
(never committed): CAs, a TSA, OCSP and CRLs, a certificate for every demo leader and clerk and
for each demo organisation's seal, and each signer's signature image in the object store. The
PKI's TSA/OCSP/CRL endpoints are served under ``/pki``. Verification trusts ``DHTN_TRUST_ROOTS``
when set (the national roots in production), else the demo root.
"""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from app.config import Settings
from app.runtime import Runtime
from docflow.demo import attach_signature_images, signing_people
from docflow.documents.ports import Verifier
from signing import (
    FetchPolicy,
    InvalidDocumentError,
    Summary,
    TrustSettings,
    VerificationLimitError,
    VerificationReport,
    load_certificates,
    render_seal_image,
    render_signature_image,
    verify_pdf,
)
from signing.testpki import (
    DemoPKI,
    OrgSpec,
    UserSpec,
    demo_trust,
    generate_demo_pki,
    load_demo_pki,
    make_pki_wsgi_app,
)


def pki_dir(settings: Settings) -> Path:
    return settings.data_dir / "pki"


def ensure_demo_pki(rt: Runtime, *, base_url: str = "http://127.0.0.1:5000/pki") -> DemoPKI:
    """Issue what is missing for the demo people and organisations (idempotent)."""
    people = signing_people(rt.uow())
    orgs = {p.org_code: p.org_name for p in people}
    pki = generate_demo_pki(
        pki_dir(rt.settings),
        organizations=[OrgSpec(code=c, name=n) for c, n in sorted(orgs.items())],
        users=[
            UserSpec(username=p.username, full_name=p.full_name, org_code=p.org_code)
            for p in people
        ],
        base_url=base_url,
    )
    keys = {}
    for p in people:
        ref = rt.store.put(io.BytesIO(render_signature_image(p.full_name)), "image/png")
        keys[p.user_id] = ref.key
    attach_signature_images(rt.uow(), keys)
    return pki


def demo_pki(settings: Settings) -> DemoPKI | None:
    if not (pki_dir(settings) / "manifest.json").exists():
        return None
    try:
        return load_demo_pki(pki_dir(settings))
    except Exception:
        return None


def fetch_policy(settings: Settings, trusted_cas: list[bytes]) -> FetchPolicy:
    """The outbound-fetch policy (signing.fetching): only the TSA, the trusted CAs' own
    AIA/CRL/OCSP hosts and DHTN_FETCH_ALLOW; never a URL taken from an uploaded document."""
    return FetchPolicy.configure(
        allow=settings.fetch_allow, tsa_url=settings.tsa_url, trusted_cas=trusted_cas
    )


def trust_settings(settings: Settings) -> TrustSettings | None:
    if settings.trust_roots is not None:
        data = settings.trust_roots.read_bytes()
        cas = [cert.dump() for cert in load_certificates(data)]
        return TrustSettings.from_pem(data, fetch_policy=fetch_policy(settings, cas))
    pki = demo_pki(settings)
    if pki is None:
        return None
    # The demo CRLs are given in advance; fetching (the PKI's own /pki OCSP on this server)
    # happens only when the operator lists that host in DHTN_FETCH_ALLOW.
    cas = [pki.root.certificate_der, pki.issuing.certificate_der]
    policy = fetch_policy(settings, cas)
    trust = demo_trust(pki, allow_fetching=bool(settings.fetch_allow))
    return replace(trust, fetch_policy=policy)


def make_verifier(settings: Settings) -> Verifier:
    """verifier(pdf_bytes) -> the typed report (``to_dict()`` is API.md §4); the demo trust is
    rebuilt per call (fresh CRLs). A file that cannot be examined is a report with a refusal."""

    def verify(pdf: bytes) -> VerificationReport:
        trust = trust_settings(settings)
        if trust is None:
            trust = TrustSettings(roots=())
        try:
            return verify_pdf(pdf, trust)
        except VerificationLimitError as exc:
            return VerificationReport.refused(
                Summary.INDETERMINATE, exc.code, exc.message, exc.details
            )
        except InvalidDocumentError as exc:
            return VerificationReport.refused(Summary.INVALID, exc.code, exc.message)

    return verify


def mount_pki(app: Flask, settings: Settings) -> None:
    """Serve the demo PKI's TSA, OCSP and CRLs at /pki when the demo PKI exists."""
    pki = demo_pki(settings)
    if pki is None:
        return
    app.wsgi_app = DispatcherMiddleware(app.wsgi_app, {"/pki": make_pki_wsgi_app(pki)})  # type: ignore[method-assign]


class DemoSigning:
    """The app's :class:`docflow.documents.ports.SigningProvider`.

    With the demo PKI in the data dir, the demo people and organisations sign with their demo
    keys held here (the embedded profile only). Without it, no key is held: people sign through
    signing sessions, and the organisation's seal needs an HSM back-end (not wired yet).
    Options are rebuilt hourly (the demo CRLs inside expire after a day) and shared meanwhile,
    so the signature container is sized once per signer, not per document.
    """

    OPTIONS_TTL = 3600.0

    def __init__(self, settings: Settings, pki: DemoPKI | None = None) -> None:
        import threading

        self.settings = settings
        self._pki = pki
        self._lock = threading.Lock()
        self._options: tuple[float, Any] | None = None
        self._signers: dict[str, Any] = {}
        self._seals: dict[str, bytes] = {}
        self._remote: Any = None

    def pki(self) -> DemoPKI | None:
        if self._pki is None:
            self._pki = demo_pki(self.settings)
        return self._pki

    def options(self) -> Any:
        import time

        from signing import SigningOptions
        from signing.testpki import demo_options

        with self._lock:
            now = time.monotonic()
            if self._options is None or now - self._options[0] > self.OPTIONS_TTL:
                pki = self.pki()
                if pki is not None:
                    value = demo_options(pki)
                else:
                    value = SigningOptions(
                        tsa_url=self.settings.tsa_url, trust=trust_settings(self.settings)
                    )
                self._options = (now, value)
            return self._options[1]

    def _signer(self, name: str) -> Any:
        from signing import PkiError
        from signing.testpki import demo_signer

        pki = self.pki()
        if pki is None:
            return None
        with self._lock:
            if name not in self._signers:
                try:
                    self._signers[name] = demo_signer(pki, name)
                except PkiError:
                    return None
            return self._signers[name]

    def personal_signer(self, username: str) -> Any:
        return self._signer(f"user:{username}")

    def organization_signer(self, org_code: str) -> Any:
        from docflow.documents.ports import SignerUnavailableError

        signer = self._signer(f"org:{org_code}")
        if signer is None:
            raise SignerUnavailableError(
                "Máy chủ chưa có khóa ký số của cơ quan: ký phát hành bằng thiết bị ký số.",
                code="organization_key_missing",
            )
        return signer

    def seal_image(self, org_code: str, org_name: str) -> bytes:
        with self._lock:
            if org_code not in self._seals:
                self._seals[org_code] = render_seal_image(org_name)
            return self._seals[org_code]

    def remote_signing(self) -> Any:
        """The operator's CSC service (DHTN_CSC_*), or None; the client secret is read from
        its file once."""
        from signing import CscProvider

        settings = self.settings
        if not settings.csc_url:
            return None
        with self._lock:
            if self._remote is None:
                secret_file = settings.csc_client_secret_file
                secret = secret_file.read_text().strip() if secret_file else None
                self._remote = CscProvider(
                    settings.csc_url,
                    settings.csc_client_id,
                    secret,
                    timeout=settings.csc_timeout,
                )
            return self._remote


def make_signing(settings: Settings) -> DemoSigning:
    return DemoSigning(settings)
