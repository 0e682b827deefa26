"""Server-rendered pages (Vietnamese, phone-friendly). Each view parses, calls one service,
renders; rules live in docflow."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, Flask
from flask_bootstrap import Bootstrap5

from app.auth import current_actor
from docflow import Actor
from docflow.enums import ROLE_LABELS, Role
from docflow.workdays import local_date

bp = Blueprint("pages", __name__, template_folder="../templates")
bootstrap = Bootstrap5()


WEEKDAYS = ["Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật"]


def vn_date(
    value: dt.date | dt.datetime | None, *, weekday: bool = False, short: bool = False
) -> str:
    """ "ngày 05 tháng 3 năm 2026" as Decree 30 writes dates (leading zero for days < 10 and
    months 1-2), or "05/3/2026" when short."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = local_date(value)
    month = f"{value.month:02d}" if value.month < 3 else str(value.month)
    text = (
        f"{value.day:02d}/{month}/{value.year}"
        if short
        else f"ngày {value.day:02d} tháng {month} năm {value.year}"
    )
    return f"{WEEKDAYS[value.weekday()]}, {text}" if weekday else text


def report_period(key: str) -> str:
    """A report period's key as people say it: "2026-11" → "tháng 11/2026", "2026-W48" →
    "tuần 48/2026", "2026-Q4" → "quý 4/2026", "once" → "một lần"; anything else as it is."""
    year, _, rest = key.partition("-")
    if key == "once":
        return "một lần"
    if rest.startswith("W") and rest[1:].isdigit():
        return f"tuần {int(rest[1:])}/{year}"
    if rest.startswith("Q") and rest[1:].isdigit():
        return f"quý {rest[1:]}/{year}"
    if rest.isdigit():
        return f"tháng {int(rest)}/{year}"
    return key


def vn_weekday(value: dt.date) -> str:
    """ "Thứ Năm": the day of the week of a date."""
    return WEEKDAYS[value.weekday()]


def vn_time(value: dt.datetime | None) -> str:
    """ "08:05 23/11/2026" in Hà Nội time."""
    if value is None:
        return ""
    from docflow.workdays import local_time

    t = local_time(value)
    return f"{t:%H:%M} {t.day:02d}/{t.month:02d}/{t.year}"


def state_label(state: str) -> str:
    """Vietnamese name of a document state."""
    from docflow.incoming.states import INCOMING_LABELS, IncomingState
    from docflow.outgoing.states import OUTGOING_LABELS, OutgoingState

    try:
        return INCOMING_LABELS[IncomingState(state)]
    except ValueError:
        pass
    try:
        return OUTGOING_LABELS[OutgoingState(state)]
    except ValueError:
        return state


def _unread(actor: Actor | None) -> int:
    """The bell's count on every page (capped, one indexed count)."""
    if actor is None:
        return 0
    from app.runtime import make_uow
    from docflow.notifications import unread_count

    return unread_count(make_uow(), actor)


def init_pages(app: Flask) -> None:
    from app.pages import (  # noqa: F401  (routes register on import)
        account,
        activate,
        admin,
        admin_directory,
        audit,
        bulk_signing,
        documents,
        dossiers,
        exchange,
        feedback,
        home,
        imports,
        notifications,
        outgoing,
        outgoing_screens,
        reports,
        tasks,
        verify,
    )

    bootstrap.init_app(app)
    app.register_blueprint(bp)
    app.add_template_filter(vn_date, "vn_date")
    app.add_template_filter(vn_weekday, "vn_weekday")
    app.add_template_filter(report_period, "report_period")
    app.add_template_filter(state_label, "state_label")
    app.add_template_filter(vn_time, "vn_time")
    app.add_template_filter(
        lambda values, labels: list(zip(values, labels, strict=True)), "zip_options"
    )

    @app.context_processor
    def _inject() -> dict[str, Any]:
        actor = current_actor()
        return {
            "actor": actor,
            "Role": Role,
            "role_labels": ROLE_LABELS,
            "unread_notifications": _unread(actor),
        }
