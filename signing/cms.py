# mypy: allow-untyped-calls
# (pyHanko and pyhanko-certvalidator leave parts of their API unannotated; we call it here.)
"""Detached CMS (PKCS#7) signatures over arbitrary bytes, optionally with an RFC 3161 timestamp.

Used for small signed statements outside PDFs (the audit log's daily checkpoints): the bytes
stay readable as they are, the signature sits beside them in a ``.p7s`` file that any CMS tool
(``openssl cms -verify -binary -content FILE -inform DER -in FILE.p7s``) can check.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from asn1crypto import cms
from pyhanko.sign.timestamps import TimeStamper
from pyhanko.sign.validation.generic_cms import async_validate_detached_cms

from .signers import KeySigner
from .trust import TrustSettings, run_async

__all__ = ["DetachedSignatureCheck", "sign_detached", "verify_detached"]


def sign_detached(
    data: bytes, signer: KeySigner, *, timestamper: TimeStamper | None = None
) -> bytes:
    """A DER ``ContentInfo`` (SignedData, content detached) over ``data`` by ``signer``; with a
    ``timestamper``, the signature carries an RFC 3161 signature-time-stamp token."""

    async def _sign() -> cms.ContentInfo:
        return await signer.signer.async_sign_general_data(
            data, "sha256", detached=True, timestamper=timestamper
        )

    info: cms.ContentInfo = run_async(_sign())
    return bytes(info.dump())


@dataclass(frozen=True)
class DetachedSignatureCheck:
    """What :func:`verify_detached` found.

    ``intact``: the signed digest is the digest of the data; ``valid``: the signature value
    verifies with the certificate in it; ``trusted``: that certificate chains to ``trust``.
    """

    intact: bool
    valid: bool
    trusted: bool
    signer: str
    timestamp: datetime | None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.intact and self.valid and self.trusted


def verify_detached(
    data: bytes, signature: bytes, trust: TrustSettings | None
) -> DetachedSignatureCheck:
    """Check a detached CMS signature over ``data``; never raises for a bad signature."""
    try:
        info = cms.ContentInfo.load(signature)
        signed_data = info["content"]
        if info["content_type"].native != "signed_data":
            raise ValueError("not SignedData")
        signed_data.native  # noqa: B018  (parse it all now: damaged DER fails here)
    except Exception as exc:  # asn1crypto raises many kinds on garbage
        return DetachedSignatureCheck(False, False, False, "", None, f"unreadable: {exc}")
    context = trust.validation_context() if trust is not None else None
    try:
        status = run_async(
            async_validate_detached_cms(data, signed_data, signer_validation_context=context),
            context,
        )
    except Exception as exc:
        return DetachedSignatureCheck(False, False, False, "", None, f"invalid: {exc}")
    cert = status.signing_cert
    name = str(cert.subject.native.get("common_name", "")) if cert is not None else ""
    ts = status.timestamp_validity
    trusted = bool(trust is not None and status.trusted)
    return DetachedSignatureCheck(
        intact=bool(status.intact),
        valid=bool(status.valid),
        trusted=trusted,
        signer=name,
        timestamp=ts.timestamp if ts is not None else None,
    )
