"""Manual exchange for clerks (API.md §6): import an .edxml received by other means."""

from __future__ import annotations

import io

from flask import request
from pydantic import BaseModel, ConfigDict

from app.api import bp
from app.api.document_schemas import DocumentOut
from app.api.spec import registry
from app.auth import actor_required, api_auth
from app.errors import ApiError
from app.runtime import make_uow
from docflow.services import documents
from interop.inbox import import_package


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
    errors=(403, 409, 413, 415, 422),
)
@api_auth
def import_edxml() -> object:
    actor = actor_required()
    if "file" in request.files:
        data = request.files["file"].read()
    else:
        data = request.get_data(cache=False)
    if not data:
        raise ApiError(400, "missing_file", "Gửi tệp .edxml trong thân yêu cầu hoặc phần «file».")
    [result] = import_package(make_uow(), io.BytesIO(data), channel="manual", actor=actor)
    doc = documents.get_document(make_uow(), actor, result.document.id)
    marks = documents.deadlines(make_uow(), [doc])
    body = DocumentOut.of(doc, actor, marks.get(doc.id)).model_dump(mode="json")
    return body, 201 if result.created else 200
