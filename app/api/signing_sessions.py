"""Signing with a key the server never holds (API.md §3): open a session, sign the bytes on the
token or phone, send the raw signature back."""

from __future__ import annotations

import base64
import datetime as dt
import uuid

from pydantic import BaseModel

from app.api import bp
from app.api.document_schemas import DocumentOut
from app.api.documents import answer_json
from app.api.spec import parse_body, registry
from app.auth import actor_required, api_auth
from app.runtime import make_uow
from docflow.outgoing import signing_sessions as outgoing_signing
from docflow.outgoing.commands import CompleteSigningSession, StartSigningSession


class SigningSessionOut(BaseModel):
    id: uuid.UUID
    kind: str
    to_be_signed: str
    digest: str
    signature_algorithm: str
    expires_at: dt.datetime


@registry.operation(
    bp,
    "/documents/<uuid:document_id>/signing-sessions",
    "POST",
    summary="Mở phiên ký số bằng thiết bị của người ký (máy chủ không giữ khóa)",
    tag="signing",
    body=StartSigningSession,
    response=SigningSessionOut,
    status=201,
    errors=(403, 404, 409, 422),
    creates="session_id",
    rules=(
        "`certificate` và `chain` là chứng thư X.509 dạng PEM; chứng thư là của người ký được chỉ định, còn hạn, dùng được để ký.",
    ),
)
@api_auth
def start_signing_session(document_id: uuid.UUID) -> object:
    cmd = parse_body(StartSigningSession)
    started = outgoing_signing.start_signing_session(make_uow(), actor_required(), document_id, cmd)
    return SigningSessionOut(
        id=started.session.id,
        kind=started.session.kind,
        to_be_signed=base64.b64encode(started.to_be_signed).decode(),
        digest=base64.b64encode(started.digest).decode(),
        signature_algorithm=started.session.signature_algorithm,
        expires_at=started.session.expires_at,
    ).model_dump(mode="json"), 201


@registry.operation(
    bp,
    "/signing-sessions/<uuid:session_id>/complete",
    "POST",
    summary="Hoàn tất phiên ký số: chữ ký thô (base64) do thiết bị tạo",
    tag="signing",
    body=CompleteSigningSession,
    response=DocumentOut,
    errors=(403, 404, 409, 422),
    rules=(
        "`signature` là base64 của chữ ký thô, kiểm tra được bằng khóa công khai trong chứng thư của phiên.",
    ),
)
@api_auth
def complete_signing_session(session_id: uuid.UUID) -> object:
    cmd = parse_body(CompleteSigningSession)
    doc = outgoing_signing.complete_signing_session(make_uow(), actor_required(), session_id, cmd)
    return answer_json(doc.id)
