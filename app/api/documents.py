"""Documents in the API (API.md §3): registering incoming ones, boxes, one document, its trail,
its files, and actions."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Any, Literal

from flask import Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.orm import object_session

from app.api import bp
from app.api.document_schemas import ActionRequest, DocumentOut, DocumentPage, TrailList, TrailOut
from app.api.phone import box_etag, document_etag
from app.api.spec import (
    STORED_FILE_TYPES,
    Cursor,
    Limit,
    parse_body,
    parse_query,
    registry,
    validate_input,
    write_scoped,
)
from app.auth import actor_required, api_auth
from app.runtime import close_read_scope, ending_read_scope, make_uow, reading, runtime
from app.uploads import multipart, stored_file
from docflow import incoming, search
from docflow.documents import access
from docflow.documents import queries as documents
from docflow.incoming.commands import RegisterIncoming
from docflow.outgoing import actions as outgoing_actions
from docflow.search import SearchPage

log = logging.getLogger(__name__)


def document_json(doc: Any) -> dict[str, Any]:
    actor = actor_required()
    marks = documents.deadlines(make_uow(), [doc])
    links = documents.document_links(make_uow(), actor, [doc])
    return DocumentOut.of(doc, actor, marks.get(doc.id), links.get(doc.id)).model_dump(mode="json")


def answer_json(document_id: uuid.UUID) -> dict[str, Any]:
    """The document as the answer to the caller's own action (registering, an action, a new
    draft or version, signing, an import): read with visibility applied, not logged as a read
    of it (the action itself is recorded)."""
    actor = actor_required()
    with reading():  # the document, its deadline marks and reply links: one unit of work
        return document_json(
            documents.get_document_view(make_uow(), actor, document_id, opened=False)
        )


def _difference(mine: Any, fresh: Any) -> Any:
    """What differs between two answers' values, down through lists (of the same length) and
    objects; lists of other lengths by their items' ids."""
    if isinstance(mine, dict) and isinstance(fresh, dict):
        keys = mine.keys() | fresh.keys()
        return {
            k: _difference(mine.get(k), fresh.get(k)) for k in keys if mine.get(k) != fresh.get(k)
        }
    if isinstance(mine, list) and isinstance(fresh, list):
        if len(mine) == len(fresh):
            return [_difference(a, b) for a, b in zip(mine, fresh, strict=True) if a != b]
        ids = [[x.get("id") if isinstance(x, dict) else x for x in side] for side in (mine, fresh)]
        return {"mine": ids[0], "fresh": ids[1]}
    return (mine, fresh)


def acted_json(doc: Any) -> dict[str, Any] | None:
    """The document as the answer to the caller's action, built from the row the action locked
    and changed: loaded under the row lock with the people, files and reviews on it, and
    current when the action committed, so it is not read a second time (issue 19: reading it
    again was four statements and a quarter of an action's CPU). Its deadline marks and reply
    links are read as for any answer. None when the action took the document out of the
    caller's sight: the caller answers it as a read (404) once the action has committed.

    It is the document as the action committed it: a job that changes it meanwhile without its
    row lock (text extraction marking a file done) shows in the next read, not here.

    Should an action leave a part unloaded, the answer falls back to reading the document
    afresh (logged). With ``check_action_answers`` (the tests) a part left unloaded is an
    error, and :func:`check_answer` reads it afresh after the commit."""
    if not access.can_see(actor_required(), doc):
        return None
    try:
        with reading():
            return document_json(doc)
    except InvalidRequestError:  # a part not loaded (reviews not given)
        if runtime().settings.check_action_answers:
            raise
        log.warning("action answer: the changed row lacks a part; read afresh", exc_info=True)
        session = object_session(doc)
        if session is not None:  # the action's unit: its identity map would hand the row back
            session.expunge(doc)
        return answer_json(doc.id)


def check_answer(document_id: uuid.UUID, answer: dict[str, Any]) -> None:
    """With ``check_action_answers`` (the tests): the answer must be what a fresh read gives
    once the action has committed. The read is a unit of its own, not the action's session,
    whose identity map holds the very row the answer was built from."""
    if not runtime().settings.check_action_answers:
        return
    fresh = answer_json(document_id)
    if answer != fresh:
        differ = _difference(answer, fresh)
        raise AssertionError(
            f"action answer differs from a fresh read in {sorted(differ)}: {differ}"[:2000]
        )


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
    creates="document_id",
    link_params={"file_id": "$response.body#/files/0/id"},
    rules=(
        "`doc_type` phải có trong danh mục loại văn bản đang dùng (trường `doc_type`).",
        "`register_id` (nếu có) là sổ văn bản đến của cơ quan mình, năm nay (trường `register_id`).",
        "Cần ít nhất một phần `files`, tối đa 20 (`too_many_files`); mỗi tệp là PDF, DOCX "
        "hoặc ảnh (loại khác: 415).",
    ),
    files_required=True,
)
@api_auth
def register_incoming() -> object:
    meta, files = multipart("main", rest="attachment")
    cmd = validate_input(RegisterIncoming, meta)
    doc = incoming.register_incoming(make_uow(), actor_required(), cmd, files)
    return answer_json(doc.id), 201


class DocumentListQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    # "from" is a Python keyword: the field is from_, the parameter is "from".
    direction: Literal["incoming", "outgoing"] | None = None
    box: Literal["inbox", "processing", "done", "all"] = "all"
    state: str | None = Field(default=None, max_length=32)
    q: str | None = Field(
        default=None,
        max_length=500,
        description="Full-text search of notation, subject, issuer and the files' text "
        "(OCR included), without regard to diacritics or case (đ = d): words (all must be "
        'found), "a phrase" in quotes, -word to exclude; at least 2 characters, at most 40 '
        "terms. Combines with the other filters. Results are ranked: notation/subject/issuer "
        "matches first, then by relevance, then newer first, among the newest 200 matches; "
        "each item carries `snippet` and `snippet_marks` (a query of parts of notations only, "
        "such as `4321/BC`, marks them in the notation); pages go by `next_cursor` up to 200 "
        "results deep. Only documents the caller may see are searched.",
    )
    from_: dt.date | None = Field(default=None, alias="from")
    to: dt.date | None = None
    doc_type: str | None = Field(default=None, max_length=16)
    issuer: str | None = Field(
        default=None,
        max_length=255,
        description="Mã định danh nơi gửi, hoặc một phần tên (khớp nguyên văn: «%» và «_» là ký tự"
        " thường, không phải ký tự đại diện).",
    )
    limit: Limit = None
    cursor: Cursor = None


@registry.operation(
    bp,
    "/documents",
    "GET",
    summary="Hộp văn bản: chờ xử lý, đang xử lý, đã xong, tất cả; tìm kiếm",
    tag="documents",
    query=DocumentListQuery,
    response=DocumentPage,
    errors=(422,),
    conditional=box_etag,
    lists="document_id",
)
@api_auth
def list_documents() -> object:
    q = parse_query(DocumentListQuery)
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
    links = documents.document_links(make_uow(), actor, page.items)
    items = [DocumentOut.of(d, actor, marks.get(d.id), links.get(d.id)) for d in page.items]
    if isinstance(page, SearchPage):
        for item in items:
            found = page.snippets.get(item.id)
            item.snippet = found.text if found else None
            item.snippet_marks = list(found.marks) if found else None
    return DocumentPage(items=items, next_cursor=page.next_cursor).model_dump(mode="json")


@registry.operation(
    bp,
    "/documents/<uuid:document_id>/files/<uuid:file_id>/text",
    "GET",
    summary="Nội dung chữ của tệp (trích xuất hoặc nhận dạng OCR)",
    tag="documents",
    errors=(404, 409),
    produces="text/plain",
)
@api_auth
def file_text(document_id: uuid.UUID, file_id: uuid.UUID) -> Response:
    """The text read from the file (UTF-8; pages separated by form feeds). 409 with code
    ``text_not_ready`` while it is being read, ``text_failed`` when it could not be read."""
    text = search.file_text(make_uow(), actor_required(), document_id, file_id)
    response = Response(text, mimetype="text/plain")
    response.headers["Content-Type"] = "text/plain; charset=utf-8"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@registry.operation(
    bp,
    "/documents/<uuid:document_id>",
    "GET",
    summary="Một văn bản",
    tag="documents",
    response=DocumentOut,
    errors=(404,),
    conditional=document_etag,
)
@api_auth
def get_document(document_id: uuid.UUID) -> object:
    return document_json(documents.get_document_view(make_uow(), actor_required(), document_id))


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
    produces=STORED_FILE_TYPES,
)
@api_auth
def file_content(document_id: uuid.UUID, file_id: uuid.UUID) -> Response:
    return stream_file(document_id, file_id)


def stream_file(document_id: uuid.UUID, file_id: uuid.UUID, *, inline: bool = False) -> Response:
    uow = make_uow()
    row = documents.get_file(uow, actor_required(), document_id, file_id)
    return stored_file(
        documents.open_document_file(uow, row),
        content_type=row.content_type,
        size=row.size,
        name=row.name,
        sha256=row.sha256,
        inline=inline,
    )


@registry.operation(
    bp,
    "/documents/<uuid:document_id>/actions",
    "POST",
    summary="Thao tác trên văn bản",
    tag="documents",
    body=ActionRequest,
    response=DocumentOut,
    errors=(403, 404, 409, 422, 504),
    rules=(
        "Tham số theo thao tác (bảng trong API.md §3): thiếu hoặc sai tham số → 422 với trường.",
    ),
)
@write_scoped
@api_auth
def document_action(document_id: uuid.UUID) -> object:
    body = parse_body(ActionRequest)
    params = dict(body.model_extra or {})
    actor = actor_required()
    # The request's unit (write_scoped, on PostgreSQL): the token was read in it, the action
    # and its answer run in it, and it commits when the answer is built.
    uow = make_uow()
    held: list[Any] = []
    publish = uow.publisher
    try:
        with ending_read_scope():
            # The document's direction chooses the transition table (404 first if it is not
            # visible).
            direction = documents.direction_of(uow, actor, document_id)
            flow = outgoing_actions if direction == "outgoing" else incoming
            if not flow.in_one_transaction(body.action, params):
                # It commits before waiting on the network (remote signing): the request's
                # unit ends here, and the action runs in units of its own.
                close_read_scope(commit=True)
                uow = make_uow()
            if publish is not None and runtime().settings.check_action_answers:
                # The jobs the action queued run (eagerly, in the tests) after the answer is
                # checked and the action committed: the fresh read is to see the database as
                # the action left it.
                uow.publisher = held.extend
            doc = flow.act(uow, actor, document_id, body.action, params)
            answer = acted_json(doc)
        if answer is None:  # out of the caller's sight now: answered as a read, after the commit
            return answer_json(doc.id)
        check_answer(doc.id, answer)
        return answer
    finally:
        if held and publish is not None:
            try:
                publish(held)
            except Exception:  # as UnitOfWork.commit: the relay hands them on later
                log.exception("publishing outbox messages failed; the relay will retry")
