"""The home page's dashboards: a leader's view of the organisation, a clerk's day of work.

**A leader** (:func:`leader_dashboard`) sees, for their own organisation:

- the stock of open and overdue items (tasks and incoming documents' lead assignments) by unit,
  read from the pre-aggregated per-unit table (:mod:`docflow.reports.rollup`; the figures of
  ``GET /reports/processing``, as fresh as the roll-up: ``refreshed_through``);
- what falls due this week (today through Sunday): the open tasks and the incoming documents
  being handled whose deadline is in it, the first :data:`DUE_ITEMS` of them listed, oldest
  deadline first, and how many in all;
- documents received (incoming, by the day they entered the list: arrived or registered) and
  sent (outgoing documents dispatched) this week, this month and in each of the last
  :data:`TREND_WEEKS` weeks (the trend chart), counted under the reader's visibility and
  clearance, in one pass over one index range;
- the periodic reports the organisation asked of those below it (its active forms, the current
  period of each): how many submitted, late, not started, of how many; and the reports the
  organisation itself must still send, with their deadlines.

**A clerk** (:func:`clerk_day`) sees the day's work: incoming documents to register and to
submit, outgoing documents to number and issue and to dispatch, deliveries over the national
axis that failed (the exchange page's "Gửi lỗi" rows). Each
count stops at :data:`COUNT_CAP` (shown as "999+"), like the phone's badges.

Every number goes with the list behind it (the page links it: the box with the same filter, the
roll-up page, the gathering page of a form). Only leaders get the leader's part
(:class:`~docflow.errors.PermissionDeniedError` otherwise); the clerk's part needs the clerk's
role. Nothing here writes.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, case, func, literal, or_, select, tuple_, union_all
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from docflow.actors import Actor
from docflow.documents import access
from docflow.enums import Role
from docflow.errors import PermissionDeniedError
from docflow.incoming.states import PROCESSING_STATES, IncomingState
from docflow.models import (
    Delivery,
    Document,
    ReportForm,
    ReportRefresh,
    ReportRequest,
    ReportUnitDailyStat,
    Task,
    Unit,
)
from docflow.outgoing.states import OutgoingState
from docflow.reports.gather import resolve_period
from docflow.reports.rollup import stock_and_flows
from docflow.reports.states import RequestState
from docflow.tasks import visible_clause as task_visible_clause
from docflow.tasks.states import TaskState
from docflow.uow import UnitOfWork
from docflow.workdays import local_date, start_of_day

#: Weeks of the trend chart (this week and the eleven before it).
TREND_WEEKS = 12
#: Items listed under "due this week" (the count covers all of them).
DUE_ITEMS = 8
#: The clerk's counts stop here (the page shows "999+").
COUNT_CAP = 1000

_OPEN_TASK_STATES = [
    TaskState.ASSIGNED.value,
    TaskState.IN_PROGRESS.value,
    TaskState.AWAITING_APPROVAL.value,
]
_HANDLED_INCOMING = sorted(st.value for st in PROCESSING_STATES)
_UNSUBMITTED = [
    RequestState.OPEN.value,
    RequestState.LATE.value,
    RequestState.FILLED.value,
    RequestState.APPROVED.value,
    RequestState.RETURNED.value,
]


@dataclass(frozen=True)
class UnitLoad:
    """A unit's stock today: open items (overdue included) and overdue ones."""

    unit_id: uuid.UUID | None
    name: str
    open: int
    overdue: int


@dataclass(frozen=True)
class DueItem:
    """An item due this week: a task or an incoming document."""

    kind: str  # task | document
    id: uuid.UUID
    title: str
    due_date: dt.date


@dataclass(frozen=True)
class WeekCount:
    start: dt.date  # the Monday
    received: int
    sent: int

    @property
    def end(self) -> dt.date:
        """The Sunday."""
        return self.start + dt.timedelta(days=6)


@dataclass(frozen=True)
class FormProgress:
    """One of the organisation's forms, its current period: the organisations asked and how
    far they are."""

    form_id: uuid.UUID
    title: str
    period: str
    deadline: dt.date | None
    asked: int
    submitted: int
    late: int  # deadline passed, not submitted
    not_started: int  # still open (nothing filled in), deadline not passed


@dataclass(frozen=True)
class OwnReport:
    """A report the organisation itself must still send."""

    request_id: uuid.UUID
    title: str
    period: str
    deadline: dt.date
    state: str
    late: bool


@dataclass(frozen=True)
class LeaderDashboard:
    today: dt.date
    week_start: dt.date
    week_end: dt.date
    month_start: dt.date
    units: list[UnitLoad]
    open_total: int
    overdue_total: int
    refreshed_through: dt.date | None
    due_count: int
    due_items: list[DueItem]
    received_week: int
    received_month: int
    sent_week: int
    sent_month: int
    trend: list[WeekCount]
    forms: list[FormProgress]
    own_reports: list[OwnReport] = field(default_factory=list)


@dataclass(frozen=True)
class ClerkDay:
    to_register: int
    to_submit: int
    to_issue: int
    to_dispatch: int
    failed_deliveries: int


def leader_dashboard(uow: UnitOfWork, actor: Actor) -> LeaderDashboard:
    """The leader's dashboard of their own organisation (see the module's docstring)."""
    if not actor.has_role(Role.LEADER):
        raise PermissionDeniedError("Bảng điều hành dành cho lãnh đạo.", code="dashboard_forbidden")
    with uow:
        s = uow.session
        today = local_date(uow.now())
        week_start = today - dt.timedelta(days=today.weekday())
        week_end = week_start + dt.timedelta(days=6)
        month_start = today.replace(day=1)
        units, refreshed = _unit_loads(s, actor.organization_id, today)
        due_count, due_items = _due_this_week(s, actor, today, week_end)
        trend, received_month, sent_month = _flows(s, actor, week_start, month_start)
        forms = _forms(s, actor, today)
        own = _own_reports(s, actor, today)
        return LeaderDashboard(
            today=today,
            week_start=week_start,
            week_end=week_end,
            month_start=month_start,
            units=units,
            open_total=sum(u.open for u in units),
            overdue_total=sum(u.overdue for u in units),
            refreshed_through=refreshed,
            due_count=due_count,
            due_items=due_items,
            received_week=trend[-1].received,
            received_month=received_month,
            sent_week=trend[-1].sent,
            sent_month=sent_month,
            trend=trend,
            forms=forms,
            own_reports=own,
        )


def _unit_loads(
    s: Session, org_id: uuid.UUID, today: dt.date
) -> tuple[list[UnitLoad], dt.date | None]:
    """Each unit's stock at the end of today (the roll-up's own reading of
    ``report_unit_daily_stats``: :func:`docflow.reports.rollup.stock_and_flows`)."""
    t = ReportUnitDailyStat
    figures, window = stock_and_flows(today, today, today, t)
    rows = [
        (unit_id, open_in_time + overdue, overdue)  # open counts the overdue ones too
        for unit_id, _r, _ot, _l, open_in_time, overdue in s.execute(
            select(t.unit_id, *figures)
            .where(t.organization_id == org_id, window)
            .group_by(t.unit_id)
        )
    ]
    names = dict(
        s.execute(select(Unit.id, Unit.name).where(Unit.id.in_([r[0] for r in rows if r[0]]))).all()
    )
    loads = [
        UnitLoad(unit_id, names.get(unit_id, "(Không thuộc đơn vị)") if unit_id else
                 "(Không thuộc đơn vị)", int(open_ or 0), int(overdue or 0))
        for unit_id, open_, overdue in rows
        if open_ or overdue
    ]  # fmt: skip
    loads.sort(key=lambda u: (-u.overdue, -u.open, u.name))
    refreshed = s.scalar(
        select(ReportRefresh.through_day).where(ReportRefresh.organization_id == org_id)
    )
    return loads, refreshed


def _due_this_week(
    s: Session, actor: Actor, today: dt.date, week_end: dt.date
) -> tuple[int, list[DueItem]]:
    """Open tasks and incoming documents being handled, due from today through Sunday, that
    the reader may see (tasks: the leader's "all" box; documents: visibility and clearance)."""
    org = actor.organization_id
    tasks = select(
        literal("task").label("kind"),
        Task.id.label("id"),
        Task.title.label("title"),
        Task.due_date.label("due_date"),
    ).where(
        Task.organization_id == org,
        Task.state.in_(_OPEN_TASK_STATES),
        Task.due_date.between(today, week_end),
        task_visible_clause(actor),
    )
    docs = select(
        literal("document").label("kind"),
        Document.id.label("id"),
        Document.subject.label("title"),
        Document.due_date.label("due_date"),
    ).where(
        Document.organization_id == org,
        Document.direction == "incoming",
        Document.due_date.between(today, week_end),
        Document.state.in_(_HANDLED_INCOMING),
        access.visible_clause(actor),
    )
    both = union_all(tasks, docs).subquery("due")
    count = int(s.scalar(select(func.count()).select_from(both)) or 0)
    first = s.execute(
        select(both.c.kind, both.c.id, both.c.title, both.c.due_date)
        .order_by(both.c.due_date, both.c.kind, both.c.id)
        .limit(DUE_ITEMS)
    ).all()
    return count, [DueItem(k, i, (t or "")[:200], d) for k, i, t, d in first]


def _flows(
    s: Session, actor: Actor, week_start: dt.date, month_start: dt.date
) -> tuple[list[WeekCount], int, int]:
    """Received and sent per week for :data:`TREND_WEEKS` weeks, and since the month's start:
    one range of the organisation's documents (``ix_documents_org_listed``), counted into
    buckets in the same pass."""
    weeks = [week_start - dt.timedelta(weeks=n) for n in range(TREND_WEEKS - 1, -1, -1)]
    since = min(weeks[0], month_start)
    incoming = Document.direction == "incoming"
    sent = and_(Document.direction == "outgoing", Document.state == OutgoingState.DISPATCHED.value)

    def bucket(kind: ColumnElement[bool], start: dt.date, end: dt.date | None) -> Any:
        cond: list[ColumnElement[bool]] = [kind, Document.listed_at >= start_of_day(start)]
        if end is not None:
            cond.append(Document.listed_at < start_of_day(end))
        return func.coalesce(func.sum(case((and_(*cond), 1), else_=0)), 0)

    columns = []
    for i, w in enumerate(weeks):
        end = weeks[i + 1] if i + 1 < len(weeks) else None
        columns += [bucket(incoming, w, end), bucket(sent, w, end)]
    columns += [bucket(incoming, month_start, None), bucket(sent, month_start, None)]
    row = s.execute(
        select(*columns).where(
            Document.organization_id == actor.organization_id,
            Document.direction.in_(["incoming", "outgoing"]),
            Document.listed_at >= start_of_day(since),
            or_(incoming, sent),
            access.visible_clause(actor),
        )
    ).one()
    values = [int(v) for v in row]
    trend = [WeekCount(w, values[2 * i], values[2 * i + 1]) for i, w in enumerate(weeks)]
    return trend, values[-2], values[-1]


def _forms(s: Session, actor: Actor, today: dt.date) -> list[FormProgress]:
    """The organisation's active forms, each in its current period."""
    forms = list(
        s.scalars(
            select(ReportForm)
            .where(ReportForm.organization_id == actor.organization_id, ReportForm.active)
            .order_by(ReportForm.created_at.desc())
            .limit(20)
        )
    )
    if not forms:
        return []
    periods = {form.id: resolve_period(form, None, today) for form in forms}
    r = ReportRequest
    submitted = r.state == RequestState.SUBMITTED.value
    # Every form's current period in one grouped read (not a query per form).
    rows = {
        row[0]: row[1:]
        for row in s.execute(
            select(
                r.form_id,
                func.count(),
                func.sum(case((submitted, 1), else_=0)),
                func.sum(case((and_(~submitted, r.deadline < today), 1), else_=0)),
                func.sum(
                    case(
                        (and_(r.state == RequestState.OPEN.value, r.deadline >= today), 1), else_=0
                    )
                ),
                func.max(r.deadline),
            )
            .where(tuple_(r.form_id, r.period).in_(list(periods.items())))
            .group_by(r.form_id)
        )
    }
    out: list[FormProgress] = []
    for form in forms:
        row = rows.get(form.id, (0, 0, 0, 0, None))
        out.append(
            FormProgress(
                form.id,
                form.title,
                periods[form.id],
                row[4],
                int(row[0] or 0),
                int(row[1] or 0),
                int(row[2] or 0),
                int(row[3] or 0),
            )
        )
    return out


def _own_reports(s: Session, actor: Actor, today: dt.date) -> list[OwnReport]:
    """The organisation's own reports not yet submitted, nearest deadline first."""
    r = ReportRequest
    rows = s.execute(
        select(r.id, ReportForm.title, r.period, r.deadline, r.state)
        .join(ReportForm, ReportForm.id == r.form_id)
        .where(r.organization_id == actor.organization_id, r.state.in_(_UNSUBMITTED))
        .order_by(r.deadline, r.id)
        .limit(10)
    ).all()
    return [OwnReport(i, t, p, d, st, d < today) for i, t, p, d, st in rows]


def clerk_day(uow: UnitOfWork, actor: Actor) -> ClerkDay:
    """The clerk's counts of the day (see the module's docstring); each stops at the cap."""
    if not actor.has_role(Role.CLERK):
        raise PermissionDeniedError("Việc trong ngày của văn thư.", code="dashboard_forbidden")
    with uow:
        s = uow.session
        org = actor.organization_id
        seen = [Document.organization_id == org, access.clearance_clause(actor)]

        def count(direction: str, state: str) -> int:
            ids = (
                select(Document.id)
                .where(*seen, Document.direction == direction, Document.state == state)
                .limit(COUNT_CAP)
                .subquery()
            )
            return int(s.scalar(select(func.count()).select_from(ids)) or 0)

        failed = (
            select(Delivery.id)
            .join(Document, Document.id == Delivery.document_id)
            .where(Delivery.channel == "axis", Delivery.state == "failed", *seen)
            .limit(COUNT_CAP)
            .subquery()
        )
        return ClerkDay(
            to_register=count("incoming", IncomingState.ARRIVED.value),
            to_submit=count("incoming", IncomingState.REGISTERED.value),
            to_issue=count("outgoing", OutgoingState.SIGNED.value),
            to_dispatch=count("outgoing", OutgoingState.ISSUED.value),
            failed_deliveries=int(s.scalar(select(func.count()).select_from(failed)) or 0),
        )


def weeks_chart(trend: Sequence[WeekCount]) -> int:
    """The largest weekly figure of the trend (the chart's scale; at least 1)."""
    return max([1, *(max(w.received, w.sent) for w in trend)])


__all__ = [
    "COUNT_CAP",
    "ClerkDay",
    "DueItem",
    "FormProgress",
    "LeaderDashboard",
    "OwnReport",
    "UnitLoad",
    "WeekCount",
    "clerk_day",
    "leader_dashboard",
    "weeks_chart",
]
