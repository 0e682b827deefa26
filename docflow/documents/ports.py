"""What the outgoing flow needs from outside docflow, as protocols the app implements.

* :class:`DocumentConverter` turns a DOCX draft into PDF (the app keeps LibreOffice warm).
* :class:`Verifier` verifies the signatures of a PDF and returns signing's typed
  :class:`~signing.VerificationReport` (the app builds the trust settings).
* :class:`SigningProvider` hands out the server-held credentials (the demo PKI, an HSM for the
  organisation's seal), the signing options, the seal images and the operator's remote signing
  service (CSC).

docflow never reads files or settings to build these: the composition root passes them in
through the :class:`~docflow.uow.UnitOfWork`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from docflow.errors import ConflictError, DomainError
from docflow.uow import UnitOfWork
from signing import CscProvider, KeySigner, SigningOptions, VerificationReport

#: verifier(pdf_bytes) -> the report (a refused file is a report with ``refusal``).
Verifier = Callable[[bytes], VerificationReport]


class ConversionError(DomainError):
    """A draft LibreOffice could not turn into PDF (damaged file, timeout)."""

    kind = "invalid"
    code = "conversion_failed"
    message = "Không chuyển được tệp dự thảo sang PDF."


class SignerUnavailableError(ConflictError):
    """No server-held credential for this signature: use a signing session instead."""

    code = "signing_session_required"
    message = "Máy chủ không giữ khóa ký của người này: hãy ký bằng thiết bị ký số (phiên ký số)."


class DocumentConverter(Protocol):
    def to_pdf(self, data: bytes, filename: str) -> bytes:
        """The PDF rendering of a DOCX; raises :class:`ConversionError`."""
        ...


class SigningProvider(Protocol):
    def options(self) -> SigningOptions:
        """Options for one signing operation (level, timestamps, trust: fresh each call)."""
        ...

    def personal_signer(self, username: str) -> KeySigner | None:
        """The server-held key of a person (demo PKI only), or None: sign with a session."""
        ...

    def organization_signer(self, org_code: str) -> KeySigner:
        """The organisation's seal key; raises :class:`SignerUnavailableError` if there is none."""
        ...

    def seal_image(self, org_code: str, org_name: str) -> bytes:
        """The organisation's red seal as a transparent PNG."""
        ...

    def remote_signing(self) -> CscProvider | None:
        """The operator's remote signing service (CSC), or None when none is configured."""
        ...


def signing_provider(uow: UnitOfWork) -> SigningProvider:
    if uow.signing is None:
        raise ConflictError("Hệ thống chưa cấu hình ký số.", code="signing_not_configured")
    return uow.signing


def converter(uow: UnitOfWork) -> DocumentConverter:
    if uow.converter is None:
        raise RuntimeError("no document converter configured")
    return uow.converter
