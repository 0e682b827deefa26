"""The caller's notifications (the bell): list, unread count, mark read."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict

from app.api import bp
from app.api.phone import box_etag
from app.api.spec import Cursor, Limit, parse_query, registry
from app.api.task_schemas import MarkedOut, NotificationOut, NotificationPage, UnreadCountOut
from app.auth import actor_required, api_auth
from app.runtime import make_uow
from docflow import notifications


class NotificationQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    unread: bool = False
    limit: Limit = None
    cursor: Cursor = None


@registry.operation(
    bp,
    "/notifications",
    "GET",
    summary="Thông báo của tôi, mới nhất trước",
    tag="notifications",
    query=NotificationQuery,
    response=NotificationPage,
    errors=(422,),
    conditional=box_etag,
    lists="notification_id",
)
@api_auth
def notifications_list() -> object:
    q = parse_query(NotificationQuery)
    page = notifications.list_notifications(
        make_uow(), actor_required(), unread_only=q.unread, limit=q.limit, cursor=q.cursor
    )
    return NotificationPage(
        items=[NotificationOut.of(n) for n in page.items], next_cursor=page.next_cursor
    ).model_dump(mode="json")


@registry.operation(
    bp,
    "/notifications/unread-count",
    "GET",
    summary="Số thông báo chưa đọc",
    tag="notifications",
    response=UnreadCountOut,
)
@api_auth
def notifications_unread_count() -> object:
    return {"unread": notifications.unread_count(make_uow(), actor_required())}


@registry.operation(
    bp,
    "/notifications/<uuid:notification_id>/read",
    "POST",
    summary="Đánh dấu đã đọc",
    tag="notifications",
    response=NotificationOut,
    errors=(404,),
)
@api_auth
def notifications_mark_read(notification_id: uuid.UUID) -> object:
    row = notifications.mark_read(make_uow(), actor_required(), notification_id)
    return NotificationOut.of(row).model_dump(mode="json")


@registry.operation(
    bp,
    "/notifications/read-all",
    "POST",
    summary="Đánh dấu mọi thông báo đã đọc",
    tag="notifications",
    response=MarkedOut,
)
@api_auth
def notifications_mark_all_read() -> object:
    return {"marked": notifications.mark_all_read(make_uow(), actor_required())}
