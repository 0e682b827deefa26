"""The bell: the person's notifications, opened (and marked read) one by one or all at once."""

from __future__ import annotations

import uuid
from typing import Any

from flask import redirect, render_template, request, url_for

from app.auth import actor_required, page_auth
from app.pages import bp
from app.runtime import make_uow
from docflow import notifications


@bp.get("/notifications")
@page_auth
def notifications_page() -> Any:
    page = notifications.list_notifications(
        make_uow(),
        actor_required(),
        unread_only=request.args.get("unread") == "1",
        cursor=request.args.get("cursor"),
        limit=30,
    )
    return render_template(
        "tasks/notifications.html", page=page, unread_only=request.args.get("unread") == "1"
    )


@bp.post("/notifications/<uuid:notification_id>/open")
@page_auth
def notification_open(notification_id: uuid.UUID) -> Any:
    row = notifications.mark_read(make_uow(), actor_required(), notification_id)
    link = (
        row.link
        if row.link and row.link.startswith("/") and not row.link.startswith("//")
        else None
    )
    return redirect(link or url_for("pages.notifications_page"))


@bp.post("/notifications/read-all")
@page_auth
def notifications_read_all() -> Any:
    notifications.mark_all_read(make_uow(), actor_required())
    return redirect(url_for("pages.notifications_page"))
