"""Verifying the signatures of a PDF (API.md §4): no login needed.

Anyone may call it, so it is rate-limited per client and for all clients together
(``DHTN_PUBLIC_RATE_LIMIT``, ``DHTN_PUBLIC_RATE_LIMIT_GLOBAL``: 429 ``rate_limited`` with
Retry-After), takes PDFs up to ``DHTN_VERIFY_MAX_MB`` (413), examines a bounded amount
(signatures, revisions, objects, pages, wall time: 422 ``verification_limit_exceeded``), and
fetches nothing named by the file (signing.fetching).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from app.api import bp
from app.api.spec import registry
from app.errors import ApiError
from app.ratelimit import Limit, check_rate
from app.runtime import make_uow, runtime
from app.uploads import single_upload
from docflow import audit
from docflow.uploads import FileRefusedError, read_checked
from storage import FileType


class VerificationUpload(BaseModel):
    """The multipart body: one part named ``file`` with the PDF (no JSON meta)."""

    model_config = ConfigDict(extra="forbid")


class CertificateOut(BaseModel):
    serial: str
    issuer: str
    not_before: str
    not_after: str


class SignatureOut(BaseModel):
    signer: dict[str, Any]
    certificate: CertificateOut | None
    signed_at: str | None
    timestamp: str | None
    intact: bool
    valid: bool
    trusted: bool
    coverage: str
    modifications: str
    level: str | None


class VerificationOut(BaseModel):
    summary: str
    signatures: list[SignatureOut]


def verify_uploaded() -> dict[str, Any]:
    """Read the ``file`` part (PDF only) and verify it; 400/413/415 for bad uploads, 429 when
    the client (or everyone together) asked too often."""
    rt = runtime()
    settings = rt.settings
    check_rate(
        rt,
        "verify",
        Limit(*settings.public_rate_limit),
        Limit(*settings.public_rate_limit_global),
    )
    upload = single_upload("file")
    if upload is None:
        raise ApiError(400, "missing_file", "Chọn một tệp PDF để kiểm tra.")
    limit = min(rt.config.max_upload_bytes, settings.verify_max_mb * 1024 * 1024)
    try:
        data = read_checked(upload, max_size=limit, allowed=FileType.PDF)
    except FileRefusedError as exc:
        if exc.code == "file_too_large":
            raise ApiError(
                413, "file_too_large", "Tệp quá lớn để kiểm tra.", {"max_bytes": limit}
            ) from exc
        raise ApiError(415, "unsupported_file_type", "Chỉ kiểm tra được tệp PDF.") from exc
    verifier = runtime().verifier
    assert verifier is not None
    report = verifier(data)
    audit.record_verification(make_uow(), data, report.summary.value)
    if report.refusal is not None:
        refusal = report.refusal
        details = dict(refusal.details) if refusal.details is not None else None
        raise ApiError(422, refusal.code, refusal.message, details)
    return report.to_dict()


@registry.operation(
    bp,
    "/verifications",
    "POST",
    summary="Kiểm tra chữ ký số của một tệp PDF",
    tag="verification",
    multipart=VerificationUpload,
    response=VerificationOut,
    auth=False,
    errors=(413, 415, 422, 429),
    rules=("`file` phải là một tệp PDF (loại khác: 415; PDF hỏng: 422).",),
)
def create_verification() -> object:
    return verify_uploaded()
