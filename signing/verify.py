"""Verification of every signature in a PDF, as a report (never an exception for a bad one).

Only unreadable input raises (:class:`~signing.errors.InvalidDocumentError`). Revocation data is
taken from the document's DSS first, then from ``trust`` (given data, or fetched from the URLs in
certificates if allowed).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import (
    DocumentSecurityStore,
    EmbeddedPdfSignature,
    PdfSignatureStatus,
    SignatureCoverageLevel,
    async_validate_pdf_signature,
    async_validate_pdf_timestamp,
)
from pyhanko.sign.validation.errors import NoDSSFoundError
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko_certvalidator import ValidationContext

from .errors import InvalidDocumentError, VerificationLimitError
from .options import PadesLevel
from .pdfio import open_reader
from .report import (
    CertificateInfo,
    Coverage,
    Modifications,
    SignatureReport,
    SignerInfo,
    Summary,
    TimestampReport,
    VerificationReport,
)
from .trust import TrustSettings, run_async

__all__ = ["VerificationLimits", "verify_pdf"]

T = TypeVar("T")


@dataclass(frozen=True)
class VerificationLimits:
    """What one verification may examine; beyond it, :class:`VerificationLimitError`.

    The input may come from anyone (the public verification needs no login), so the work is
    bounded before it starts (size, revisions, objects, pages, signatures) and while it runs
    (wall time, checked between signatures and at every await, e.g. a fetch).
    """

    max_bytes: int = 50 * 1024 * 1024
    max_signatures: int = 30
    max_revisions: int = 60
    max_objects: int = 300_000
    max_pages: int = 1_000
    max_seconds: float = 30.0


_KEY_USAGE = KeyUsageConstraints(
    key_usage={"non_repudiation", "digital_signature"}, match_all_key_usages=False
)
_MODIFICATION_MAP = {
    ModificationLevel.NONE: Modifications.NONE,
    ModificationLevel.LTA_UPDATES: Modifications.NONE,
    ModificationLevel.FORM_FILLING: Modifications.FORM_FILLING,
    ModificationLevel.ANNOTATIONS: Modifications.ANNOTATIONS,
    ModificationLevel.OTHER: Modifications.OTHER,
}


def verify_pdf(
    pdf: bytes, trust: TrustSettings, limits: VerificationLimits | None = None
) -> VerificationReport:
    """Verify all signatures and document timestamps of ``pdf`` against ``trust``.

    A PDF without signatures yields an empty list and summary ``indeterminate``. A PDF beyond
    ``limits`` raises :class:`~signing.errors.VerificationLimitError`.
    """
    limits = limits or VerificationLimits()
    deadline = time.monotonic() + limits.max_seconds
    if len(pdf) > limits.max_bytes:
        raise _over("bytes", limits.max_bytes)
    reader = open_reader(pdf)
    _check_structure(reader, limits)
    try:
        embedded = list(reader.embedded_signatures)
    except (PdfError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InvalidDocumentError(
            "Không đọc được các chữ ký trong tệp PDF.", details={"reason": str(exc)[:200]}
        ) from exc
    if len(embedded) > limits.max_signatures:
        raise _over("signatures", limits.max_signatures)
    dss = _read_dss(reader)
    context = _context(trust, dss)

    async def run() -> tuple[list[SignatureReport], list[TimestampReport]]:
        signatures: list[SignatureReport] = []
        stamps: list[TimestampReport] = []
        for sig in embedded:
            if time.monotonic() > deadline:
                raise _over("seconds", limits.max_seconds)
            if sig.sig_object_type == "/DocTimeStamp":
                stamps.append(await _timestamp_report(sig, context))
            else:
                signatures.append(await _signature_report(reader, sig, embedded, dss, context))
        return signatures, stamps

    signatures, stamps = run_async(_within(run(), deadline, limits.max_seconds), context)
    return VerificationReport(_summary(signatures, stamps), tuple(signatures), tuple(stamps))


def _over(limit: str, maximum: float) -> VerificationLimitError:
    messages = {
        "bytes": "Tệp quá lớn để kiểm tra chữ ký số.",
        "signatures": "Tệp có quá nhiều chữ ký để kiểm tra.",
        "revisions": "Tệp có quá nhiều lần sửa đổi (phiên bản) để kiểm tra.",
        "objects": "Tệp có cấu trúc quá lớn để kiểm tra.",
        "pages": "Tệp có quá nhiều trang để kiểm tra.",
        "seconds": "Kiểm tra chữ ký số quá thời gian cho phép.",
    }
    return VerificationLimitError(messages[limit], details={"limit": limit, "max": maximum})


def _check_structure(reader: PdfFileReader, limits: VerificationLimits) -> None:
    """Refuse, before any validation work, a file whose structure is beyond the limits."""
    try:
        xrefs = reader.xrefs
        revisions = xrefs.total_revisions
        if revisions > limits.max_revisions:
            raise _over("revisions", limits.max_revisions)
        objects = 0
        for revision in range(revisions):
            objects += sum(1 for _ in xrefs.explicit_refs_in_revision(revision))
            if objects > limits.max_objects:
                raise _over("objects", limits.max_objects)
        count = reader.root["/Pages"].get("/Count", 0)
    except VerificationLimitError:
        raise
    except (PdfError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InvalidDocumentError(details={"reason": str(exc)[:200]}) from exc
    if not isinstance(count, int) or count < 0:
        raise InvalidDocumentError("Cây trang của tệp PDF không hợp lệ.")
    if count > limits.max_pages:
        raise _over("pages", limits.max_pages)


async def _within(coro: Awaitable[T], deadline: float, maximum: float) -> T:
    try:
        return await asyncio.wait_for(coro, timeout=max(0.0, deadline - time.monotonic()))
    except TimeoutError as exc:
        raise _over("seconds", maximum) from exc


def _context(trust: TrustSettings, dss: DocumentSecurityStore | None) -> ValidationContext:
    if dss is None:
        return trust.validation_context()
    kwargs = {
        "trust_roots": [asn1_x509.Certificate.load(der) for der in trust.roots],
        "other_certs": [asn1_x509.Certificate.load(der) for der in trust.intermediates],
        "crls": [asn1_crl.CertificateList.load(der) for der in trust.crls],
        "ocsps": [asn1_ocsp.OCSPResponse.load(der) for der in trust.ocsps],
        "revocation_mode": trust.revocation_mode,
        **trust.context_kwargs(),
    }
    return dss.as_validation_context(kwargs)


def _read_dss(reader: PdfFileReader) -> DocumentSecurityStore | None:
    try:
        return DocumentSecurityStore.read_dss(reader)
    except (NoDSSFoundError, KeyError, ValueError, PdfError):
        return None


async def _signature_report(
    reader: PdfFileReader,
    sig: EmbeddedPdfSignature,
    all_sigs: list[EmbeddedPdfSignature],
    dss: DocumentSecurityStore | None,
    context: ValidationContext,
) -> SignatureReport:
    cert = sig.signer_cert
    try:
        status: PdfSignatureStatus | None = await async_validate_pdf_signature(
            sig, context, key_usage_settings=_KEY_USAGE
        )
    except Exception:
        status = None
    if status is None:
        return SignatureReport(
            field_name=sig.field_name,
            signer=_signer(cert),
            certificate=_certificate(cert),
            signed_at=None,
            timestamp=None,
            intact=False,
            valid=False,
            trusted=False,
            coverage=Coverage.PARTIAL,
            modifications=Modifications.OTHER,
            level=PadesLevel.B_B,
            problems=("Chữ ký bị hỏng, không đọc được.",),
        )
    coverage = {
        SignatureCoverageLevel.ENTIRE_FILE: Coverage.ENTIRE_FILE,
        SignatureCoverageLevel.ENTIRE_REVISION: Coverage.ENTIRE_REVISION,
    }.get(status.coverage, Coverage.PARTIAL)  # type: ignore[arg-type]
    level_mod = status.modification_level
    modifications = Modifications.OTHER if level_mod is None else _MODIFICATION_MAP[level_mod]
    ts = status.timestamp_validity
    timestamp_ok = None if ts is None else bool(ts.intact and ts.valid and ts.trusted)
    permitted = status.docmdp_ok is not False
    certification = sig.sig_object.get("/Reference") is not None and sig.docmdp_level is not None
    problems = _problems(status, modifications, permitted, timestamp_ok)
    return SignatureReport(
        field_name=sig.field_name,
        signer=_signer(cert),
        certificate=_certificate(cert),
        signed_at=status.signer_reported_dt,
        timestamp=None if ts is None else ts.timestamp,
        intact=status.intact,
        valid=status.valid,
        trusted=status.trusted,
        coverage=coverage,
        modifications=modifications,
        level=_level(reader, sig, all_sigs, dss, ts is not None),
        certification=certification,
        modifications_permitted=permitted,
        revoked=status.revoked,
        timestamp_ok=timestamp_ok,
        problems=problems,
    )


def _problems(
    status: PdfSignatureStatus, modifications: Modifications, permitted: bool, ts_ok: bool | None
) -> tuple[str, ...]:
    problems = []
    if not status.intact:
        problems.append("Nội dung được ký đã bị thay đổi (mã băm không khớp).")
    if not status.valid:
        problems.append("Giá trị chữ ký không khớp với khóa công khai của chứng thư.")
    if status.revoked:
        problems.append("Chứng thư số của người ký đã bị thu hồi.")
    elif not status.trusted and status.intact and status.valid:
        problems.append("Không xác minh được chứng thư số đến một chứng thư gốc tin cậy.")
    if modifications == Modifications.OTHER:
        problems.append("Văn bản bị sửa đổi nội dung sau khi ký.")
    elif not permitted:
        problems.append("Văn bản có thay đổi sau khi ký vượt quá phạm vi chữ ký cho phép.")
    if ts_ok is False:
        problems.append("Dấu thời gian của chữ ký không hợp lệ hoặc không tin cậy.")
    return tuple(problems)


def _level(
    reader: PdfFileReader,
    sig: EmbeddedPdfSignature,
    all_sigs: list[EmbeddedPdfSignature],
    dss: DocumentSecurityStore | None,
    has_signature_timestamp: bool,
) -> PadesLevel:
    # Baseline levels build on each other: T needs a trusted time after the signature (its own
    # timestamp or a later document timestamp), LT needs revocation data for the signer in the
    # DSS, LTA a document timestamp over a revision that already holds the DSS.
    later_stamps = [
        other.signed_revision
        for other in all_sigs
        if other.sig_object_type == "/DocTimeStamp" and other.signed_revision > sig.signed_revision
    ]
    if not has_signature_timestamp and not later_stamps:
        return PadesLevel.B_B
    if dss is None or not _dss_has_revinfo_for(dss, sig.signer_cert):
        return PadesLevel.B_T
    for revision in later_stamps:
        if "/DSS" in reader.get_historical_root(revision):
            return PadesLevel.B_LTA
    return PadesLevel.B_LT


def _dss_has_revinfo_for(dss: DocumentSecurityStore, cert: asn1_x509.Certificate) -> bool:
    serial = cert.serial_number
    issuer = cert.issuer
    for ref in dss.ocsps:
        response = asn1_ocsp.OCSPResponse.load(ref.get_object().data)
        basic = response.basic_ocsp_response
        if basic is None:
            continue
        for single in basic["tbs_response_data"]["responses"]:
            if single["cert_id"]["serial_number"].native == serial:
                return True
    for ref in dss.crls:
        crl = asn1_crl.CertificateList.load(ref.get_object().data)
        if crl.issuer == issuer:
            return True
    return False


async def _timestamp_report(
    sig: EmbeddedPdfSignature, context: ValidationContext
) -> TimestampReport:
    cert = sig.signer_cert
    try:
        status = await async_validate_pdf_timestamp(sig, context)
        return TimestampReport(
            sig.field_name,
            status.timestamp,
            _signer(cert).name,
            status.intact,
            status.valid,
            status.trusted,
        )
    except Exception:
        return TimestampReport(
            sig.field_name, datetime.min, _signer(cert).name, False, False, False
        )


def _summary(signatures: list[SignatureReport], stamps: list[TimestampReport]) -> Summary:
    if not signatures:
        return Summary.INDETERMINATE
    if any(sig.broken for sig in signatures) or any(not (s.intact and s.valid) for s in stamps):
        return Summary.INVALID
    if all(sig.trusted for sig in signatures) and all(s.trusted for s in stamps):
        return Summary.VALID
    return Summary.INDETERMINATE


def _signer(cert: asn1_x509.Certificate) -> SignerInfo:
    subject = cert.subject.native
    return SignerInfo(
        name=str(subject.get("common_name", "")),
        organization=subject.get("organization_name"),
    )


def _certificate(cert: asn1_x509.Certificate) -> CertificateInfo:
    crypto_cert = x509.load_der_x509_certificate(cert.dump())
    return CertificateInfo(
        serial=format(cert.serial_number, "x"),
        issuer=crypto_cert.issuer.rfc4514_string(),
        not_before=crypto_cert.not_valid_before_utc,
        not_after=crypto_cert.not_valid_after_utc,
    )
