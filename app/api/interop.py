"""Manual exchange for clerks (API.md §6): import an .edxml received by other means."""

from __future__ import annotations

import io
import uuid
from typing import Any

from flask import Response, request
from pydantic import BaseModel, ConfigDict

from app.api import bp
from app.api.document_schemas import DocumentOut
from app.api.documents import answer_json
from app.api.spec import registry
from app.auth import actor_required, api_auth
from app.errors import ApiError
from app.runtime import make_uow
from app.uploads import single_upload
from docflow.documents import queries as documents
from interop.inbox import import_package
from storage import content_disposition


class PackageUpload(BaseModel):
    """The body: the .edxml bytes (application/xml), or a multipart part named ``file``."""

    model_config = ConfigDict(extra="forbid")


@registry.operation(
    bp,
    "/interop/packages",
    "POST",
    summary="Nhập gói tin edXML nhận được (văn thư)",
    tag="interop",
    multipart=PackageUpload,
    response=DocumentOut,
    status=201,
    also_ok=(200,),
    errors=(403, 409, 413, 415, 422),
    rules=(
        "`file` phải là một gói edXML hợp lệ, gửi cho một cơ quan của hệ thống (422 khi không "
        "đọc được, 415 khi không phải XML); gửi lại cùng gói trả 200 với văn bản đã có.",
    ),
    creates="document_id",
)
@api_auth
def import_edxml() -> object:
    actor = actor_required()
    upload = single_upload("file")
    data = upload.stream.read() if upload is not None else request.get_data(cache=False)
    if not data:
        raise ApiError(400, "missing_file", "Gửi tệp .edxml trong thân yêu cầu hoặc phần «file».")
    [result] = import_package(make_uow(), io.BytesIO(data), channel="manual", actor=actor)
    return answer_json(result.document.id), 201 if result.created else 200


@registry.operation(
    bp,
    "/documents/<uuid:document_id>/edxml",
    "GET",
    summary="Gói tin edXML của văn bản đã ban hành",
    tag="interop",
    errors=(403, 404, 409),
    produces="application/xml",
)
@api_auth
def export_edxml(document_id: uuid.UUID) -> Response:
    from docflow.actors import require_role
    from docflow.enums import Role
    from interop.edxml.model import Organ
    from interop.outbox import package_for
    from interop.package_signatures import signed_package_bytes

    actor = actor_required()
    require_role(actor, Role.CLERK)
    doc = documents.get_document(make_uow(), actor, document_id)
    if doc.direction != "outgoing" or doc.issued_at is None:
        raise ApiError(409, "not_issued", "Chỉ xuất gói tin của văn bản đi đã ban hành.")
    recipients = [
        Organ(d.recipient_code, d.recipient_name) for d in _deliveries(doc.id) if d.recipient_code
    ]
    data = signed_package_bytes(make_uow(), package_for(make_uow(), doc.id, recipients))
    response = Response(data, mimetype="application/xml")
    response.headers["Content-Disposition"] = content_disposition(
        f"{(doc.notation or 'van-ban').replace('/', '-')}.edxml"
    )
    return response


def _deliveries(document_id: uuid.UUID) -> list[Any]:
    from docflow.outgoing import dispatch

    return list(dispatch.list_deliveries(make_uow(), actor_required(), document_id))
