"""Package signatures in the exchange: our seal on what leaves, the check of what arrives.

* :func:`signed_package_bytes` builds an outgoing package signed with the sending organisation's
  seal, the credential that seals its issued PDFs (``uow.signing.organization_signer``). Without
  a server-held seal key (an HSM or a signing service not wired, see README) the package leaves
  unsigned and the log says so: receivers accept unsigned packages.
* :func:`check_package_signature` checks a received package with the configured trust
  (``DHTN_TRUST_ROOTS``, else the demo PKI's roots; never anything fetched) and returns the
  report to store on the arrived document; a failing signature raises
  :class:`PackageSignatureInvalidError` (422 ``package_signature_invalid``) before anything is
  stored. An unsigned package is accepted and marked "Gói tin không có chữ ký số".
"""

from __future__ import annotations

import io
import logging
import os
from pathlib import Path
from typing import IO, Any

from docflow.documents.ports import SignerUnavailableError
from docflow.errors import ValidationError
from docflow.uow import UnitOfWork
from interop.edxml.build import build_package_bytes
from interop.edxml.model import EdxmlPackage
from interop.edxml.signature import (
    PackageSignatureReport,
    PackageSigner,
    SignatureStatus,
    contains_signature,
    verify_package_signature,
)
from signing import SigningError, TrustSettings

log = logging.getLogger(__name__)

Source = bytes | bytearray | memoryview | os.PathLike[str] | IO[bytes]


class PackageSignatureInvalidError(ValidationError):
    """The package carries a signature that fails: it is refused, nothing is stored."""

    code = "package_signature_invalid"
    message = "Chữ ký số của gói tin không hợp lệ: gói tin bị từ chối."


def seal_signer(uow: UnitOfWork, org_code: str) -> PackageSigner | None:
    """The organisation's seal as a package signer, or None when the server holds none."""
    if uow.signing is None:
        return None
    try:
        return PackageSigner.of(uow.signing.organization_signer(org_code))
    except (SignerUnavailableError, SigningError) as exc:
        log.warning("package of %s leaves unsigned: %s", org_code, exc)
        return None


def signed_package_bytes(uow: UnitOfWork, package: EdxmlPackage) -> bytes:
    """The package, signed with the seal of its ``From`` organisation when the server has it."""
    return build_package_bytes(package, signer=seal_signer(uow, package.from_.organ_id))


def package_trust(uow: UnitOfWork) -> TrustSettings | None:
    """The trust the signing side uses (configured roots, CRLs given in advance)."""
    if uow.signing is None:
        return None
    trust: TrustSettings | None = uow.signing.options().trust
    return trust


def _reader(source: Source) -> IO[bytes] | None:
    if isinstance(source, bytes | bytearray | memoryview):
        return io.BytesIO(bytes(source))
    if isinstance(source, os.PathLike):
        return open(Path(source), "rb")
    if source.seekable():
        source.seek(0)
        return source
    return None


def check_package_signature(
    uow: UnitOfWork, source: Source, package: EdxmlPackage
) -> dict[str, Any]:
    """The signature report of a received package (already read by the hardened reader) as
    stored on the arrived document; raises :class:`PackageSignatureInvalidError` when it fails."""
    reader = _reader(source)
    if reader is None:
        reason = ("Không đọc lại được gói tin để kiểm tra chữ ký số.",)
        return PackageSignatureReport(
            SignatureStatus.UNTRUSTED, reason, checked_at=uow.now()
        ).to_dict()
    try:
        if not contains_signature(reader):
            return PackageSignatureReport(SignatureStatus.UNSIGNED, checked_at=uow.now()).to_dict()
        reader.seek(0)
        data = reader.read()
    finally:
        if reader is not source:
            reader.close()
    result = verify_package_signature(
        data, trust=package_trust(uow), sender=package.from_, at=uow.now()
    )
    if result.refused:
        log.warning(
            "package %s refused: signature invalid (%s)", package.document_id, result.reason
        )
        raise PackageSignatureInvalidError(
            f"Chữ ký số của gói tin không hợp lệ: {result.reason} Gói tin bị từ chối.",
            details={"package_signature": result.to_dict()},
        )
    return result.to_dict()
