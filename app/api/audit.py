"""The organisation's audit log for programs: ``GET /api/v1/audit`` (admins, own organisation)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from flask import Response
from pydantic import BaseModel, ConfigDict, Field

from app.api import bp
from app.api.spec import Cursor, Limit, parse_query, registry
from app.auth import actor_required, api_auth
from app.runtime import make_uow
from docflow import audit
from docflow.models import AuditEntry
from storage import content_disposition

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class AuditListQuery(BaseModel):
    """Filters; all optional. Times are Hà Nội calendar days, both ends included."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    actor_id: uuid.UUID | None = Field(default=None, description="Người thực hiện (id).")
    object_id: str | None = Field(
        default=None, max_length=64, description="Đối tượng: id văn bản, tệp, nhiệm vụ, sổ…"
    )
    event: str | None = Field(
        default=None, max_length=64, description="Mã sự kiện, ví dụ document.read, access.refused."
    )
    from_: dt.date | None = Field(default=None, alias="from", description="Từ ngày (YYYY-MM-DD).")
    to: dt.date | None = Field(default=None, description="Đến ngày (YYYY-MM-DD).")
    limit: Limit = None
    cursor: Cursor = None
    format: Literal["json", "xlsx"] = Field(
        default="json", description="xlsx: tệp Excel (tối đa 20 000 dòng, mọi ô dạng văn bản)."
    )

    def to_query(self) -> audit.AuditQuery:
        return audit.AuditQuery(
            actor_id=self.actor_id,
            object_id=self.object_id,
            event=self.event,
            date_from=self.from_,
            date_to=self.to,
            limit=self.limit,
            cursor=self.cursor,
        )


class AuditEntryOut(BaseModel):
    """One entry. ``chain``/``seq``/``hash``/``prev_hash`` let a program re-check the chain;
    ``version`` 1 is plain SHA-256, 2 is HMAC-SHA256 with the server's audit key."""

    id: uuid.UUID
    at: dt.datetime
    event: str
    event_label: str
    actor: dict[str, Any] | None
    on_behalf_of: dict[str, Any] | None
    object_type: str | None
    object_id: str | None
    ip: str | None
    details: dict[str, Any]
    chain: str
    seq: int
    version: int
    prev_hash: str
    hash: str

    @classmethod
    def of(cls, e: AuditEntry) -> AuditEntryOut:
        return cls(
            id=e.id,
            at=e.at,
            event=e.event,
            event_label=audit.EVENT_LABELS.get(e.event, e.event),
            actor={"id": e.actor_id, "name": e.actor_name}
            if (e.actor_id or e.actor_name)
            else None,
            on_behalf_of={"id": e.on_behalf_of_id, "name": e.on_behalf_of_name}
            if e.on_behalf_of_id
            else None,
            object_type=e.object_type,
            object_id=e.object_id,
            ip=e.ip,
            details=e.details,
            chain=e.chain,
            seq=e.seq or 0,  # the list shows chained entries only
            version=e.version,
            prev_hash=e.prev_hash or "",
            hash=e.hash or "",
        )


class AuditPage(BaseModel):
    items: list[AuditEntryOut]
    next_cursor: str | None


@registry.operation(
    bp,
    "/audit",
    "GET",
    summary="Nhật ký kiểm tra của tổ chức mình (quản trị): lọc theo người, đối tượng, sự kiện, "
    "thời gian; mới nhất trước; format=xlsx để tải tệp Excel",
    tag="audit",
    query=AuditListQuery,
    response=AuditPage,
    produces=XLSX,
    errors=(403, 422),
)
@api_auth
def audit_list() -> object:
    q = parse_query(AuditListQuery)
    if q.format == "xlsx":
        data = audit.export_xlsx(make_uow(), actor_required(), q.to_query())
        response = Response(data, mimetype=XLSX)
        response.headers["Content-Disposition"] = content_disposition("nhat-ky-kiem-tra.xlsx")
        return response
    page = audit.list_entries(make_uow(), actor_required(), q.to_query())
    return AuditPage(
        items=[AuditEntryOut.of(e) for e in page.items], next_cursor=page.next_cursor
    ).model_dump(mode="json")
