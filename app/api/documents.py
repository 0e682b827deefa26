"""Documents in the API (API.md §3): registering incoming ones, boxes, one document, its trail,
its files, and actions."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any, Literal

from flask import Response, request, stream_with_context
from pydantic import BaseModel, ConfigDict, Field

from app.api import bp
from app.api.document_schemas import ActionRequest, DocumentOut, DocumentPage, TrailList, TrailOut
from app.api.spec import parse_body, registry
from app.auth import actor_required, api_auth
from app.errors import ApiError
from app.runtime import make_uow
from docflow.documents.commands import RegisterIncoming
from docflow.documents.files import Upload
from docflow.services import documents, incoming, incoming_actions, outgoing_actions
from storage import content_disposition


def uploads_from_request(kind: str = "main") -> list[Upload]:
    """The ``files`` parts of a multipart request; the first is the main file."""
    parts = request.files.getlist("files")
    return [
        Upload(
            stream=f.stream,
            filename=f.filename or "tep",
            content_type=f.mimetype,
            kind=kind if i == 0 else "attachment",
        )
        for i, f in enumerate(parts)
    ]


def meta_from_request() -> dict[str, Any]:
    raw: str | None = request.form.get("meta")
    if raw is None and "meta" in request.files:
        raw = request.files["meta"].read().decode("utf-8", errors="replace")
    if raw is None:
        raise ApiError(400, "missing_meta", "Thiếu phần «meta» (JSON) trong yêu cầu multipart.")
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise ApiError(400, "malformed_json", "Phần «meta» không phải JSON hợp lệ.") from exc
    if not isinstance(value, dict):
        raise ApiError(400, "malformed_json", "Phần «meta» phải là một đối tượng JSON.")
    return value


def document_json(doc: Any) -> dict[str, Any]:
    actor = actor_required()
    marks = documents.deadlines(make_uow(), [doc])
    links = documents.reply_links(make_uow(), actor, [doc])
    return DocumentOut.of(doc, actor, marks.get(doc.id), links.get(doc.id)).model_dump(mode="json")


@registry.operation(
    bp,
    "/incoming",
    "POST",
    summary="Vào sổ văn bản đến (văn thư)",
    tag="documents",
    multipart=RegisterIncoming,
    response=DocumentOut,
    status=201,
    errors=(403, 409, 413, 415, 422),
)
@api_auth
def register_incoming() -> object:
    if not request.mimetype.startswith("multipart/"):
        raise ApiError(
            400, "multipart_required", "Gửi dạng multipart/form-data: phần meta (JSON) và các tệp."
        )
    cmd = RegisterIncoming.model_validate(meta_from_request())
    doc = incoming.register_incoming(make_uow(), actor_required(), cmd, uploads_from_request())
    return document_json(documents.get_document(make_uow(), actor_required(), doc.id)), 201


class DocumentListQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    # "from" is a Python keyword: the field is from_, the parameter is "from".
    direction: Literal["incoming", "outgoing"] | None = None
    box: Literal["inbox", "processing", "done", "all"] = "all"
    state: str | None = None
    q: str | None = None
    from_: dt.date | None = Field(default=None, alias="from")
    to: dt.date | None = None
    doc_type: str | None = None
    issuer: str | None = Field(
        default=None,
        description="Mã định danh nơi gửi, hoặc một phần tên (khớp nguyên văn: «%» và «_» là ký tự"
        " thường, không phải ký tự đại diện).",
    )
    limit: int | None = None
    cursor: str | None = None


@registry.operation(
    bp,
    "/documents",
    "GET",
    summary="Hộp văn bản: chờ xử lý, đang xử lý, đã xong, tất cả; tìm kiếm",
    tag="documents",
    query=DocumentListQuery,
    response=DocumentPage,
    errors=(422,),
)
@api_auth
def list_documents() -> object:
    q = DocumentListQuery.model_validate(request.args.to_dict())
    actor = actor_required()
    page = documents.list_documents(
        make_uow(),
        actor,
        documents.DocumentQuery(
            direction=q.direction,
            box=q.box,
            state=q.state,
            q=q.q,
            date_from=q.from_,
            date_to=q.to,
            doc_type=q.doc_type,
            issuer=q.issuer,
            limit=q.limit,
            cursor=q.cursor,
        ),
    )
    marks = documents.deadlines(make_uow(), page.items)
    links = documents.reply_links(make_uow(), actor, page.items)
    return DocumentPage(
        items=[DocumentOut.of(d, actor, marks.get(d.id), links.get(d.id)) for d in page.items],
        next_cursor=page.next_cursor,
    ).model_dump(mode="json")


@registry.operation(
    bp,
    "/documents/<uuid:document_id>",
    "GET",
    summary="Một văn bản",
    tag="documents",
    response=DocumentOut,
    errors=(404,),
)
@api_auth
def get_document(document_id: uuid.UUID) -> object:
    return document_json(documents.get_document(make_uow(), actor_required(), document_id))


@registry.operation(
    bp,
    "/documents/<uuid:document_id>/trail",
    "GET",
    summary="Quá trình xử lý",
    tag="documents",
    response=TrailList,
    errors=(404,),
)
@api_auth
def get_trail(document_id: uuid.UUID) -> object:
    rows = documents.get_trail(make_uow(), actor_required(), document_id)
    return TrailList(items=[TrailOut.of(e) for e in rows]).model_dump(mode="json")


@registry.operation(
    bp,
    "/documents/<uuid:document_id>/files/<uuid:file_id>/content",
    "GET",
    summary="Nội dung tệp",
    tag="documents",
    errors=(404,),
    produces="application/octet-stream",
)
@api_auth
def file_content(document_id: uuid.UUID, file_id: uuid.UUID) -> Response:
    return stream_file(document_id, file_id)


def stream_file(document_id: uuid.UUID, file_id: uuid.UUID, *, inline: bool = False) -> Response:
    uow = make_uow()
    row = documents.get_file(uow, actor_required(), document_id, file_id)
    reader = documents.open_document_file(uow, row)

    def chunks() -> Any:
        with reader:
            yield from reader.iter_chunks()

    response = Response(stream_with_context(chunks()), mimetype=row.content_type)
    response.headers["Content-Length"] = str(row.size)
    response.headers["Content-Disposition"] = content_disposition(row.name, inline=inline)
    response.headers["ETag"] = f'"{row.sha256}"'
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


@registry.operation(
    bp,
    "/documents/<uuid:document_id>/actions",
    "POST",
    summary="Thao tác trên văn bản",
    tag="documents",
    body=ActionRequest,
    response=DocumentOut,
    errors=(403, 404, 409, 422),
)
@api_auth
def document_action(document_id: uuid.UUID) -> object:
    body = parse_body(ActionRequest)
    params = dict(body.model_extra or {})
    actor = actor_required()
    # The document's direction chooses the transition table (404 first if it is not visible).
    current = documents.get_document(make_uow(), actor, document_id)
    flow = outgoing_actions if current.direction == "outgoing" else incoming_actions
    doc = flow.act(make_uow(), actor, document_id, body.action, params)
    return document_json(documents.get_document(make_uow(), actor, doc.id))
