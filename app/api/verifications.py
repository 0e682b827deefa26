"""Verifying the signatures of a PDF (API.md §4): no login needed."""

from __future__ import annotations

from typing import Any

from flask import request
from pydantic import BaseModel, ConfigDict

from app.api import bp
from app.api.spec import registry
from app.errors import ApiError
from app.runtime import make_uow, runtime
from docflow import audit


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
    """Read the ``file`` part (PDF only) and verify it; 400/413/415 for bad uploads."""
    upload = request.files.get("file")
    if upload is None:
        raise ApiError(400, "missing_file", "Chọn một tệp PDF để kiểm tra.")
    limit = runtime().config.max_upload_bytes
    data = upload.stream.read(limit + 1)
    if len(data) > limit:
        raise ApiError(413, "file_too_large", "Tệp quá lớn.")
    if not data.lstrip()[:5].startswith(b"%PDF-"):
        raise ApiError(415, "unsupported_file_type", "Chỉ kiểm tra được tệp PDF.")
    verifier = runtime().verifier
    assert verifier is not None
    report = verifier(data)
    audit.record_verification(make_uow(), data, str(report.get("summary", "invalid")))
    if "error" in report:
        raise ApiError(422, report["error"]["code"], report["error"]["message"])
    return report


@registry.operation(
    bp,
    "/verifications",
    "POST",
    summary="Kiểm tra chữ ký số của một tệp PDF",
    tag="verification",
    multipart=VerificationUpload,
    response=VerificationOut,
    auth=False,
    errors=(413, 415, 422),
)
def create_verification() -> object:
    return verify_uploaded()
