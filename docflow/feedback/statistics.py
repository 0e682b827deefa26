"""Results of the mailbox: the monthly public summary (no names) and the quarterly figures an
organisation reports to the level above (by category, village, state; the on-time rate), with
an XLSX export. Neither ever reads the senders' details.

"On time" means answered on or before the due date (after any extension). Items still in
quarantine or discarded as spam are not counted.
"""

from __future__ import annotations

import datetime as dt
import io
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import ColumnElement, case, func, select

from docflow import spreadsheets
from docflow.actors import Actor
from docflow.errors import NotFoundError, ValidationError
from docflow.feedback.queries import ensure_officer, find_organization, mailbox_of, overdue_cutoff
from docflow.feedback.states import FeedbackState
from docflow.models import FeedbackItem, Organization
from docflow.uow import UnitOfWork
from docflow.workdays import local_date, start_of_day


@dataclass(frozen=True)
class CountRow:
    """One line: a category, a village or a state, with its counts."""

    key: str
    received: int
    answered: int
    on_time: int


@dataclass(frozen=True)
class MonthlySummary:
    organization_name: str
    year: int
    month: int
    received: int
    answered: int
    on_time: int
    by_category: list[CountRow]
    #: The last day counted, when the month is not over yet (today's items count tomorrow).
    as_of: dt.date | None = None

    @property
    def on_time_rate(self) -> float | None:
        return round(100 * self.on_time / self.answered, 1) if self.answered else None


@dataclass(frozen=True)
class QuarterFigures:
    """The quarterly report's figures (seed 003: before the 25th of the quarter's last month).

    Attributes:
        received: items received in the quarter (roots and copies forwarded to this box).
        answered, on_time, late: of those, answered (by the deadline / after it).
        open, overdue, forwarded, rejected: where the rest stand today.
    """

    organization_name: str
    year: int
    quarter: int
    start: dt.date
    end: dt.date
    received: int
    answered: int
    on_time: int
    late: int
    open: int
    overdue: int
    forwarded: int
    rejected: int
    by_category: list[CountRow]
    by_place: list[CountRow]
    by_state: dict[str, int]

    @property
    def on_time_rate(self) -> float | None:
        return round(100 * self.on_time / self.answered, 1) if self.answered else None


def _bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The UTC instants of local midnight at ``start`` and at the day after ``end``."""
    return start_of_day(start), start_of_day(end, later=1)


ANSWERED = FeedbackItem.answered_on.is_not(None)
ON_TIME = ANSWERED & (FeedbackItem.answered_on <= FeedbackItem.due_date)


def _rows(uow: UnitOfWork, column: Any, where: Sequence[ColumnElement[bool]]) -> list[CountRow]:
    stmt = (
        select(
            column,
            func.count(),
            func.sum(case((ANSWERED, 1), else_=0)),
            func.sum(case((ON_TIME, 1), else_=0)),
        )
        .where(*where)
        .group_by(column)
        .order_by(func.count().desc())
    )
    return [
        CountRow(str(k) if k is not None else "(không ghi)", int(n), int(a or 0), int(o or 0))
        for k, n, a, o in uow.session.execute(stmt)
    ]


def period_counts(
    uow: UnitOfWork, organization_id: uuid.UUID, start: dt.date, end: dt.date
) -> tuple[int, int, int]:
    """Items received in the organisation's box from ``start`` to ``end`` (local days; roots and
    copies forwarded to it, none set aside), how many of them are answered, and how many by
    their deadline: the figures the quarterly report counts (:func:`quarter_figures`), for the
    periodic reports' pre-filled fields (``docflow.reports``). In the caller's transaction."""
    a, b = _bounds(start, end)
    received, answered, on_time = uow.session.execute(
        select(
            func.count(),
            func.sum(case((ANSWERED, 1), else_=0)),
            func.sum(case((ON_TIME, 1), else_=0)),
        ).where(
            FeedbackItem.organization_id == organization_id,
            FeedbackItem.quarantine_reason.is_(None),
            FeedbackItem.received_at >= a,
            FeedbackItem.received_at < b,
        )
    ).one()
    return int(received), int(answered or 0), int(on_time or 0)


def monthly_summary(uow: UnitOfWork, code: str, year: int, month: int) -> MonthlySummary:
    """The public monthly results of an organisation's mailbox (counts only, no names), to the
    end of yesterday: a sender who reads the count just before and just after sending cannot
    tell whether their item was set aside (quarantine: the honeypot, a duplicate), which the
    tracking page does not tell either; items set aside are never counted."""
    if not (2000 <= year <= 2100 and 1 <= month <= 12):
        raise ValidationError.field("thang", "Tháng không hợp lệ.")
    with uow:
        s = uow.session
        org = find_organization(s, code)
        if org is None or not mailbox_of(s, org).enabled:
            raise NotFoundError("Không tìm thấy hòm thư góp ý này.", code="mailbox_not_found")
        start = dt.date(year, month, 1)
        end = (start + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
        today = local_date(uow.now())
        as_of = today - dt.timedelta(days=1) if start <= today <= end else None
        a, b = _bounds(start, min(end, as_of) if as_of is not None else end)
        where = [
            FeedbackItem.organization_id == org.id,
            FeedbackItem.root_id.is_(None),
            FeedbackItem.quarantine_reason.is_(None),
            FeedbackItem.received_at >= a,
            FeedbackItem.received_at < b,
        ]
        cats = _rows(uow, FeedbackItem.category, where)
        return MonthlySummary(
            org.name,
            year,
            month,
            sum(r.received for r in cats),
            sum(r.answered for r in cats),
            sum(r.on_time for r in cats),
            cats,
            as_of,
        )


def quarter_figures(uow: UnitOfWork, actor: Actor, year: int, quarter: int) -> QuarterFigures:
    """The figures of the actor's organisation's box for a quarter (officers only)."""
    ensure_officer(actor)
    if not (2000 <= year <= 2100 and 1 <= quarter <= 4):
        raise ValidationError.field("quarter", "Quý phải từ 1 đến 4.")
    with uow:
        s = uow.session
        org = s.get(Organization, actor.organization_id)
        assert org is not None
        start = dt.date(year, 3 * quarter - 2, 1)
        end = (dt.date(year, 3 * quarter, 1) + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(
            days=1
        )
        a, b = _bounds(start, end)
        where = [
            FeedbackItem.organization_id == org.id,
            FeedbackItem.quarantine_reason.is_(None),
            FeedbackItem.received_at >= a,
            FeedbackItem.received_at < b,
        ]
        cats = _rows(uow, FeedbackItem.category, where)
        places = _rows(uow, FeedbackItem.place, where)
        states = {r.key: r.received for r in _rows(uow, FeedbackItem.state, where)}
        cutoff = overdue_cutoff(s, local_date(uow.now()))
        open_states = [st.value for st in FeedbackState if st.is_open]
        overdue = s.scalar(
            select(func.count()).where(
                *where, FeedbackItem.state.in_(open_states), FeedbackItem.due_date < cutoff
            )
        )
        answered = sum(r.answered for r in cats)
        on_time = sum(r.on_time for r in cats)
        return QuarterFigures(
            organization_name=org.name,
            year=year,
            quarter=quarter,
            start=start,
            end=end,
            received=sum(r.received for r in cats),
            answered=answered,
            on_time=on_time,
            late=answered - on_time,
            open=sum(states.get(st, 0) for st in open_states),
            overdue=int(overdue or 0),
            forwarded=states.get("forwarded", 0),
            rejected=states.get("rejected", 0),
            by_category=cats,
            by_place=places,
            by_state=states,
        )


def figures_xlsx(f: QuarterFigures) -> bytes:
    """The quarterly figures as a workbook: a summary sheet, by category, by village."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Tong hop"
    bold = Font(bold=True)
    ws.append([f"Kết quả tiếp nhận, xử lý phản ánh, kiến nghị — Quý {f.quarter}/{f.year}"])
    ws["A1"].font = bold
    ws.append(spreadsheets.row(ws, [f.organization_name]))  # text, never a formula
    ws.append([f"Từ {f.start:%d/%m/%Y} đến {f.end:%d/%m/%Y}"])
    ws.append([])
    for label, value in [
        ("Tiếp nhận", f.received),
        ("Đã trả lời", f.answered),
        ("Trả lời đúng hạn", f.on_time),
        ("Trả lời quá hạn", f.late),
        ("Đang xử lý", f.open),
        ("Quá hạn chưa trả lời", f.overdue),
        ("Đã chuyển cơ quan có thẩm quyền", f.forwarded),
        ("Không tiếp nhận", f.rejected),
        ("Tỷ lệ trả lời đúng hạn (%)", f.on_time_rate if f.on_time_rate is not None else "—"),
    ]:
        ws.append([label, value])
    ws.column_dimensions["A"].width = 40
    for title, rows, head in [
        ("Theo linh vuc", f.by_category, "Lĩnh vực"),
        ("Theo thon, to", f.by_place, "Thôn, tổ dân phố"),
    ]:
        sheet = wb.create_sheet(title)
        sheet.append([head, "Tiếp nhận", "Đã trả lời", "Đúng hạn"])
        for c in sheet[1]:
            c.font = bold
        for r in rows:
            sheet.append(spreadsheets.row(sheet, [r.key, r.received, r.answered, r.on_time]))
        sheet.column_dimensions["A"].width = 40
    states = wb.create_sheet("Theo trang thai")
    states.append(["Trạng thái", "Số lượng"])
    for key, n in f.by_state.items():
        states.append([FeedbackState(key).label, n])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
