"""What the I-MTTQ app needs to refresh cheaply (API.md §7): the badge counts, the change feed
and the cheap conditional reads of the boxes and of a document.

Every JSON read answers with an ``ETag`` and 304 to ``If-None-Match`` (``app.api.spec``). The
boxes (``GET /documents``, ``/tasks``, ``/notifications``) and a document take their tag from the
change log (:mod:`docflow.changes`) instead of the body: a weak tag, an HMAC (the app's secret
key) of the caller, their roles and clearance, the path and query, today's date (the overdue
marks move with it) and the log's validator, so a 304 costs two index reads, not the list.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
import struct
import uuid
from enum import StrEnum
from typing import Annotated

from flask import current_app, request
from pydantic import BaseModel, ConfigDict, Field

from app.api import bp
from app.api.spec import Conditional, Limit, parse_query, registry
from app.auth import actor_required, api_auth
from app.runtime import make_uow
from docflow import local_date, phone
from docflow.actors import Actor
from docflow.errors import ValidationError


class CountersOut(BaseModel):
    waiting: int = Field(
        ge=0,
        le=phone.COUNT_CAP,
        description="Văn bản đang chờ mình xử lý (đến và đi), đếm tới "
        f"{phone.COUNT_CAP}: giá trị {phone.COUNT_CAP} nghĩa là từ {phone.COUNT_CAP} trở lên "
        f'(ứng dụng hiện "{phone.COUNT_CAP - 1}+"); dưới mức đó là số đúng của hộp chờ xử lý.',
    )
    overdue: int = Field(
        ge=0,
        le=phone.COUNT_CAP,
        description="Văn bản chờ mình đã quá hạn, cộng nhiệm vụ của mình quá hạn (ít nhất một "
        f"ngày làm việc), đếm tới {phone.COUNT_CAP} như `waiting`.",
    )
    unread: int = Field(ge=0, description="Thông báo chưa đọc.")


@registry.operation(
    bp,
    "/me/counters",
    "GET",
    summary="Số đếm cho biểu tượng của ứng dụng: chờ xử lý, quá hạn, chưa đọc",
    tag="auth",
    response=CountersOut,
    conditional=lambda **kw: box_etag(**kw),  # the same log: documents, tasks, notifications
)
@api_auth
def me_counters() -> object:
    c = phone.counters(make_uow(), actor_required())
    return CountersOut(waiting=c.waiting, overdue=c.overdue, unread=c.unread).model_dump()


# --- the change feed ------------------------------------------------------------------------

#: The feed cursor: 16 bytes of position and 12 of HMAC, base64url without padding.
CURSOR_LENGTH = 38
CURSOR_PATTERN = rf"^[A-Za-z0-9_-]{{{CURSOR_LENGTH}}}$"


class ChangeKindOut(StrEnum):
    DOCUMENT = phone.ChangeKind.DOCUMENT.value
    TASK = phone.ChangeKind.TASK.value
    NOTIFICATION = phone.ChangeKind.NOTIFICATION.value
    FEEDBACK = phone.ChangeKind.FEEDBACK.value


class ChangeTypeOut(StrEnum):
    CREATED = phone.ChangeType.CREATED.value
    UPDATED = phone.ChangeType.UPDATED.value
    REMOVED = phone.ChangeType.REMOVED.value


class ChangesQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    since: Annotated[
        str | None,
        Field(
            default=None,
            min_length=CURSOR_LENGTH,
            max_length=CURSOR_LENGTH,
            pattern=CURSOR_PATTERN,
            description="Vị trí đã đọc tới: đúng `next_cursor` của lần gọi trước (của chính "
            "người dùng này). Bỏ trống: không trả mục nào, chỉ trả vị trí hiện tại.",
        ),
    ]
    limit: Limit = None


class ChangeOut(BaseModel):
    kind: ChangeKindOut = Field(description="Loại đối tượng.")
    id: uuid.UUID = Field(description="Mã đối tượng (đọc lại bằng GET tương ứng).")
    change: ChangeTypeOut = Field(description="created, updated hoặc removed.")
    at: dt.datetime = Field(description="Thời điểm thay đổi.")


class ChangesOut(BaseModel):
    items: list[ChangeOut]
    next_cursor: str = Field(
        pattern=CURSOR_PATTERN, description="Gửi lại làm `since` ở lần gọi sau (luôn có)."
    )
    has_more: bool = Field(description="Còn thay đổi: gọi lại ngay với next_cursor.")


def _cursor_mac(actor: Actor, payload: bytes) -> bytes:
    key = str(current_app.secret_key).encode()
    message = b"dhtn.changes|" + actor.user_id.bytes + payload
    return hmac.new(key, message, hashlib.sha256).digest()[:12]


def encode_position(actor: Actor, position: phone.Position) -> str:
    payload = struct.pack(">qq", position.txid, position.seq)
    raw = payload + _cursor_mac(actor, payload)
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_position(actor: Actor, cursor: str) -> phone.Position:
    """The position a cursor holds, if this server gave it to this user; else 422 ``since``."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (ValueError, binascii.Error):
        raw = b""
    if len(raw) != 28 or not hmac.compare_digest(raw[16:], _cursor_mac(actor, raw[:16])):
        raise ValidationError.field("since", "Con trỏ thay đổi không hợp lệ.")
    txid, seq = struct.unpack(">qq", raw[:16])
    return phone.Position(txid, seq)


@registry.operation(
    bp,
    "/changes",
    "GET",
    summary="Những gì đã thay đổi với tôi từ lần trước (văn bản, nhiệm vụ, thông báo, phản ánh)",
    tag="auth",
    query=ChangesQuery,
    response=ChangesOut,
    errors=(422,),
    description=(
        "Nguồn thay đổi cho ứng dụng di động: thay vì hỏi lại từng hộp, ứng dụng gọi "
        "`GET /api/v1/changes?since=<next_cursor>` và chỉ đọc lại những đối tượng được nêu "
        "(`GET /documents/{id}`, `/tasks/{id}`…; 404 nghĩa là không còn được xem: bỏ khỏi máy). "
        "Mỗi mục: `kind` ∈ document, task, notification, feedback; `change` ∈ created, updated, "
        "removed; `at`. Chỉ những gì người gọi được xem lúc này (cơ quan, độ mật, liên quan), "
        "mỗi đối tượng một mục mỗi trang, cũ trước. Lần đầu (không có `since`): không mục nào, "
        "chỉ vị trí hiện tại — ứng dụng tải các hộp rồi theo dõi từ đó. `next_cursor` luôn có "
        "(giữ lại, dùng cho lần sau); `has_more` = true thì gọi tiếp ngay. Con trỏ có chữ ký "
        "của máy chủ, gắn với người dùng: sửa hay dùng của người khác → 422 (trường `since`). "
        "Một thay đổi xuất hiện khi giao dịch của nó và mọi giao dịch trước nó đã kết thúc, "
        "nên không bao giờ bị bỏ sót."
    ),
    rules=(
        "`since` phải là `next_cursor` máy chủ đã trả cho chính người dùng này (trường `since`).",
    ),
    links={
        "next": {
            "operationId": "list_changes",
            "parameters": {"since": "$response.body#/next_cursor"},
            "description": "Lần gọi sau, từ vị trí này.",
        }
    },
)
@api_auth
def list_changes() -> object:
    q = parse_query(ChangesQuery)
    actor = actor_required()
    since = decode_position(actor, q.since) if q.since else None
    page = phone.changes_since(make_uow(), actor, since, q.limit)
    items = [
        ChangeOut(kind=ChangeKindOut(i.kind), id=i.id, change=ChangeTypeOut(i.change), at=i.at)
        for i in page.items
    ]
    return ChangesOut(
        items=items, next_cursor=encode_position(actor, page.position), has_more=page.more
    ).model_dump(mode="json")


# --- cheap conditional reads ----------------------------------------------------------------


def _tag(actor: Actor, validator: str) -> str:
    """The weak ETag: an HMAC of who reads, what they ask, today, and the log's validator."""
    facts = [
        request.path,
        sorted(request.args.items(multi=True)),
        str(actor.user_id),
        str(actor.organization_id),
        str(actor.unit_id),
        sorted(r.value for r in actor.roles),
        sorted(f"{d.role.value}:{d.delegation_id}" for d in actor.delegated),
        actor.clearance.value,
        local_date(make_uow().now()).isoformat(),
        validator,
    ]
    key = str(current_app.secret_key).encode()
    digest = hmac.new(key, json.dumps(facts).encode(), hashlib.sha256).digest()[:18]
    return base64.urlsafe_b64encode(digest).decode()


def box_etag(**_: object) -> Conditional:
    """A box (documents, tasks, notifications): the organisation's log validator."""
    actor = actor_required()
    return Conditional(_tag(actor, phone.list_validator(make_uow(), actor)))


def document_etag(document_id: uuid.UUID) -> Conditional | None:
    """One document: its own log validator; None (no shortcut: the read answers 404) when the
    caller may not see it. A 304 is still a read for the audit log."""
    actor = actor_required()
    validator = phone.document_validator(make_uow(), actor, document_id)
    if validator is None:
        return None
    return Conditional(
        _tag(actor, validator),
        on_hit=lambda: phone.record_cached_read(make_uow(), actor, document_id),
    )
