"""Verification reports: frozen dataclasses, the JSON of API.md §4, and Vietnamese text.

A verification never raises for a bad signature; it reports it here. Field by field:

* ``intact``: the bytes the signature covers hash to the signed digest (nothing changed in them);
* ``valid``: the signature value verifies with the certificate's public key;
* ``trusted``: the certificate chains to a configured trust root, is within its validity and
  not revoked (as far as revocation data could be obtained);
* ``coverage``: ``entire_file`` (nothing added after), ``entire_revision`` (later revisions were
  appended) or ``partial`` (the byte range is unusual: a bad sign);
* ``modifications``: what later revisions changed: ``none`` (nothing, or only long-term
  validation data), ``form_filling``, ``annotations`` or ``other`` (page content or anything not
  permitted);
* ``level``: the PAdES baseline level the signature reaches in this document.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from .appearance import format_signing_time
from .options import PadesLevel

__all__ = [
    "CertificateInfo",
    "Coverage",
    "Modifications",
    "Refusal",
    "SignatureReport",
    "SignerInfo",
    "Summary",
    "TimestampReport",
    "VerificationReport",
]


class Coverage(StrEnum):
    ENTIRE_FILE = "entire_file"
    ENTIRE_REVISION = "entire_revision"
    PARTIAL = "partial"


class Modifications(StrEnum):
    NONE = "none"
    FORM_FILLING = "form_filling"
    ANNOTATIONS = "annotations"
    OTHER = "other"


class Summary(StrEnum):
    """``valid``: every signature is intact, valid, trusted, and later changes were permitted;
    ``invalid``: some signature is broken, revoked or followed by changes it does not permit;
    ``indeterminate``: nothing is broken but trust could not be established, or there is no
    signature at all."""

    VALID = "valid"
    INVALID = "invalid"
    INDETERMINATE = "indeterminate"


@dataclass(frozen=True)
class SignerInfo:
    name: str
    """Common name of the signer's certificate (a person, or the organisation for a seal)."""
    organization: str | None
    """Organisation in the certificate's subject, if any."""


@dataclass(frozen=True)
class CertificateInfo:
    serial: str
    """Serial number, lowercase hexadecimal."""
    issuer: str
    """Issuer's distinguished name (RFC 4514)."""
    not_before: datetime
    not_after: datetime


@dataclass(frozen=True)
class SignatureReport:
    """One signature of the document and what verification found about it."""

    field_name: str
    signer: SignerInfo
    certificate: CertificateInfo
    signed_at: datetime | None
    """Signing time claimed by the signer (not proof: see ``timestamp``)."""
    timestamp: datetime | None
    """Time of the RFC 3161 signature timestamp, if any."""
    intact: bool
    valid: bool
    trusted: bool
    coverage: Coverage
    modifications: Modifications
    level: PadesLevel
    certification: bool = False
    """A certification (author) signature, which restricts later changes."""
    modifications_permitted: bool = True
    """Later changes are within what the signature allows (DocMDP/FieldMDP)."""
    revoked: bool = False
    timestamp_ok: bool | None = None
    """Whether the signature timestamp is intact, valid and trusted (``None`` without one)."""
    problems: tuple[str, ...] = field(default=())
    """Vietnamese sentences explaining what is wrong, empty when all is well."""

    @property
    def broken(self) -> bool:
        return (
            not self.intact
            or not self.valid
            or self.revoked
            or self.modifications == Modifications.OTHER
            or not self.modifications_permitted
            or self.timestamp_ok is False
        )

    def to_dict(self) -> dict[str, object]:
        """API.md §4's per-signature object."""
        return {
            "signer": {"name": self.signer.name, "organization": self.signer.organization},
            "certificate": {
                "serial": self.certificate.serial,
                "issuer": self.certificate.issuer,
                "not_before": self.certificate.not_before.isoformat(),
                "not_after": self.certificate.not_after.isoformat(),
            },
            "signed_at": _iso(self.signed_at),
            "timestamp": _iso(self.timestamp),
            "intact": self.intact,
            "valid": self.valid,
            "trusted": self.trusted,
            "coverage": self.coverage.value,
            "modifications": self.modifications.value,
            "level": self.level.value,
        }


@dataclass(frozen=True)
class TimestampReport:
    """A document timestamp (B-LTA), reported apart from signatures."""

    field_name: str
    time: datetime
    authority: str
    intact: bool
    valid: bool
    trusted: bool


@dataclass(frozen=True)
class Refusal:
    """Why a file could not be examined (beyond the verification limits, not a readable PDF):
    API.md §4's ``error`` (``details`` only when the refusal has some)."""

    code: str
    message: str
    details: Mapping[str, object] | None = None

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"code": self.code, "message": self.message}
        if self.details is not None:
            out["details"] = dict(self.details)
        return out


@dataclass(frozen=True)
class VerificationReport:
    """Result of :func:`~signing.verify.verify_pdf`: signatures in signing order; or, with
    ``refusal``, a file that could not be examined (no signatures)."""

    summary: Summary
    signatures: tuple[SignatureReport, ...]
    document_timestamps: tuple[TimestampReport, ...] = ()
    refusal: Refusal | None = None

    @classmethod
    def refused(
        cls,
        summary: Summary,
        code: str,
        message: str,
        details: Mapping[str, object] | None = None,
    ) -> VerificationReport:
        return cls(summary, (), refusal=Refusal(code, message, details))

    def to_dict(self) -> dict[str, object]:
        """Exactly the JSON of API.md §4 (with ``error`` for a refused file)."""
        out: dict[str, object] = {
            "summary": self.summary.value,
            "signatures": [sig.to_dict() for sig in self.signatures],
        }
        if self.refusal is not None:
            out["error"] = self.refusal.to_dict()
        return out

    def to_text(self) -> str:
        """A human-readable report in Vietnamese (for the public verification page)."""
        headline = {
            Summary.VALID: "KẾT LUẬN: Văn bản có chữ ký số hợp lệ, không bị sửa đổi sau khi ký.",
            Summary.INVALID: "KẾT LUẬN: Văn bản KHÔNG hợp lệ: chữ ký bị hỏng hoặc văn bản bị sửa "
            "đổi sau khi ký.",
            Summary.INDETERMINATE: "KẾT LUẬN: Chưa xác định được tính hợp lệ của văn bản.",
        }[self.summary]
        lines = [headline]
        if not self.signatures:
            lines.append("Văn bản không có chữ ký số nào.")
        for number, sig in enumerate(self.signatures, start=1):
            lines.append("")
            kind = "chữ ký chứng thực (ký phê duyệt)" if sig.certification else "chữ ký số"
            lines.append(
                f"{number}. {sig.signer.name}"
                + (f" — {sig.signer.organization}" if sig.signer.organization else "")
                + f" ({kind})"
            )
            lines.append(
                f"   Chứng thư số: số hiệu {sig.certificate.serial}, do "
                f"{sig.certificate.issuer} cấp, hiệu lực từ "
                f"{format_signing_time(sig.certificate.not_before)} đến "
                f"{format_signing_time(sig.certificate.not_after)}."
            )
            if sig.signed_at:
                lines.append(
                    f"   Thời gian ký (theo người ký): {format_signing_time(sig.signed_at)}."
                )
            if sig.timestamp:
                lines.append(f"   Dấu thời gian: {format_signing_time(sig.timestamp)}.")
            lines.append(
                "   Toàn vẹn dữ liệu: " + ("có" if sig.intact else "KHÔNG") + "; chữ ký "
                "đúng: "
                + ("có" if sig.valid else "KHÔNG")
                + "; chứng thư tin cậy: "
                + ("có" if sig.trusted else "không")
                + "."
            )
            lines.append(
                f"   Phạm vi ký: {_COVERAGE_VI[sig.coverage]}; thay đổi sau khi ký: "
                f"{_MODIFICATIONS_VI[sig.modifications]}; mức PAdES: {sig.level.value}."
            )
            lines.extend(f"   - {problem}" for problem in sig.problems)
        for ts in self.document_timestamps:
            state = "hợp lệ" if ts.intact and ts.valid and ts.trusted else "KHÔNG hợp lệ"
            lines.append(
                f"\nDấu thời gian lưu trữ {format_signing_time(ts.time)} của "
                f"{ts.authority}: {state}."
            )
        return "\n".join(lines)


_COVERAGE_VI = {
    Coverage.ENTIRE_FILE: "toàn bộ tệp",
    Coverage.ENTIRE_REVISION: "toàn bộ phiên bản tại thời điểm ký (có nội dung bổ sung sau đó)",
    Coverage.PARTIAL: "một phần tệp (bất thường)",
}
_MODIFICATIONS_VI = {
    Modifications.NONE: "không có",
    Modifications.FORM_FILLING: "chỉ điền biểu mẫu và ký tiếp",
    Modifications.ANNOTATIONS: "thêm chú thích",
    Modifications.OTHER: "có sửa đổi nội dung",
}


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else format_signing_time(moment)
