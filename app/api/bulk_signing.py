"""Signing many at once (API.md §7) and the person's remote signing account (issue 21).

``POST /documents/bulk-actions`` decides each document on its own (docflow.outgoing.sign_many):
the answer is 200 with one result per document, in the order asked; a refusal of one (not
visible, not permitted, not in this state) is that document's ``error``. Only what concerns the
whole request is an HTTP error: the body (422), remote signing not configured (409), no linked
credential or no PIN/OTP (422), a wrong PIN/OTP (422 ``remote_signing_otp_invalid``), the
service's timeout (504 ``remote_signing_timeout``); then nothing was signed.
"""

from __future__ import annotations

import datetime as dt
import uuid

from flask import request
from pydantic import BaseModel, Field

from app.api import bp
from app.api.spec import parse_body, registry
from app.auth import actor_required, api_auth
from app.errors import STATUS_OF_KIND
from app.runtime import make_uow
from docflow import outgoing
from docflow.audit import record_refusal
from docflow.outgoing import BulkSign, LinkRemoteSigning, Outcome, RemoteAccount


class BulkError(BaseModel):
    code: str
    message: str


class BulkResult(BaseModel):
    document_id: uuid.UUID
    ok: bool
    state: str | None = Field(default=None, description="Trạng thái mới khi ký được.")
    error: BulkError | None = Field(default=None, description="Vì sao văn bản này không ký được.")


class BulkResults(BaseModel):
    results: list[BulkResult]


def _result(outcome: Outcome) -> BulkResult:
    error = outcome.error
    return BulkResult(
        document_id=outcome.document_id,
        ok=outcome.ok,
        state=outcome.state,
        error=BulkError(code=error.code, message=error.message) if error else None,
    )


@registry.operation(
    bp,
    "/documents/bulk-actions",
    "POST",
    summary="Ký nhiều văn bản một lần (mỗi văn bản được xét và ghi nhận riêng)",
    tag="signing",
    body=BulkSign,
    response=BulkResults,
    errors=(409, 422, 504),
    description=(
        "Mỗi văn bản được xét như thao tác `sign` trên từng văn bản (không thấy, không có quyền, "
        "không đúng trạng thái: lỗi của riêng văn bản đó trong `results`, các văn bản khác vẫn "
        "được ký) và được ghi nhật ký riêng. `method`: `server` (khóa máy chủ giữ, bản trình "
        "diễn) hoặc `csc` (dịch vụ ký số từ xa: một lần xác thực `pin`/`otp` cho cả N văn "
        "bản; máy chủ không giữ khóa, không lưu PIN/OTP). Lỗi của cả yêu cầu: 409 "
        "`remote_signing_not_configured`; 422 `remote_signing_not_linked`, "
        "`remote_signing_otp_required`, `remote_signing_otp_invalid`; 504 "
        "`remote_signing_timeout` — khi đó chưa văn bản nào được ký."
    ),
    rules=(
        "`method=csc` cần `otp` hoặc `pin` (trường `otp`) và một tài khoản ký từ xa đã liên kết "
        "hoặc `credential_id` (trường `credential_id`); mã sai: 422 (trường `otp`/`pin`).",
    ),
)
@api_auth
def bulk_actions() -> object:
    cmd = parse_body(BulkSign)
    actor = actor_required()
    outcomes = outgoing.sign_many(make_uow(), actor, cmd.document_ids, cmd)
    for o in outcomes:
        if o.error is not None and o.error.kind in ("not_found", "forbidden"):
            record_refusal(
                make_uow(),
                actor,
                status=STATUS_OF_KIND[o.error.kind],
                code=o.error.code,
                object_type="document",
                object_id=str(o.document_id),
                method=request.method,
                path=request.path,
            )
    return BulkResults(results=[_result(o) for o in outcomes]).model_dump(mode="json")


class RemoteSigningOut(BaseModel):
    configured: bool = Field(description="Máy chủ đã cấu hình dịch vụ ký số từ xa (CSC).")
    linked: bool
    credential_id: str | None = None
    certificate_subject: str | None = None
    linked_at: dt.datetime | None = None

    @classmethod
    def of(cls, account: RemoteAccount) -> RemoteSigningOut:
        return cls(
            configured=account.configured,
            linked=account.credential_id is not None,
            credential_id=account.credential_id,
            certificate_subject=account.certificate_subject,
            linked_at=account.linked_at,
        )


@registry.operation(
    bp,
    "/me/remote-signing",
    "GET",
    summary="Tài khoản ký số từ xa của tôi",
    tag="signing",
    response=RemoteSigningOut,
)
@api_auth
def get_remote_signing() -> object:
    account = outgoing.get_account(make_uow(), actor_required())
    return RemoteSigningOut.of(account).model_dump(mode="json")


@registry.operation(
    bp,
    "/me/remote-signing",
    "PUT",
    summary="Liên kết tài khoản ký số từ xa (mã chứng thư tại dịch vụ CSC)",
    tag="signing",
    body=LinkRemoteSigning,
    response=RemoteSigningOut,
    errors=(403, 409, 422, 504),
    description=(
        "Chỉ lưu mã chứng thư (`credential_id`) và tên trên chứng thư; PIN/OTP nhập khi ký, "
        "không bao giờ được lưu. 403: không phải người ký văn bản; 409: máy chủ chưa cấu hình "
        "dịch vụ ký từ xa."
    ),
    rules=(
        "`credential_id` phải có tại dịch vụ ký từ xa và chứng thư của nó mang tên người "
        "liên kết (trường `credential_id`).",
    ),
)
@api_auth
def link_remote_signing() -> object:
    cmd = parse_body(LinkRemoteSigning)
    account = outgoing.link_account(make_uow(), actor_required(), cmd)
    return RemoteSigningOut.of(account).model_dump(mode="json")


@registry.operation(
    bp,
    "/me/remote-signing",
    "DELETE",
    summary="Bỏ liên kết tài khoản ký số từ xa",
    tag="signing",
    status=204,
)
@api_auth
def unlink_remote_signing() -> object:
    outgoing.unlink_account(make_uow(), actor_required())
    return "", 204
