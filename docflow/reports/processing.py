"""Processing statistics (API.md §6 ``reports/processing``): per unit or per person, for a period.

What is assigned counts: tasks, and incoming documents' lead assignments (with a deadline or
without one: never late nor overdue). Each kind of item is a **source**: a function that
returns one SELECT of "deadline items" with the same labelled columns (:data:`ITEM_COLUMNS`);
the report is one aggregate over the ``UNION ALL`` of the sources. To add a kind of item, write its source next
to its models and add it to :data:`SOURCES` — nothing else changes.

For a period [from, to] (local dates), with ``as_of = min(to, today)``:

- ``received``: items assigned in the period;
- ``done_on_time`` / ``done_late``: items finished in the period (``finished_on`` in it), late
  when at least one working day after the due date (see :mod:`docflow.workdays`);
- ``open`` / ``overdue``: items open at the end of the period (assigned by then, not finished
  or cancelled by then), split by whether they were at least one working day late on
  ``as_of``. The two are disjoint: all open items = ``open`` + ``overdue``.

Per unit, an item counts once for its lead unit (``counts_for_unit``: a sub-task a unit head
handed to a person of the unit does not count again); per person, every item led by a person
counts, sub-tasks included.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Date,
    Integer,
    Select,
    and_,
    case,
    exists,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.sql.elements import ColumnElement

from docflow import audit
from docflow.actors import Actor
from docflow.enums import Role
from docflow.errors import PermissionDeniedError, ValidationError
from docflow.models import Assignment, Document, Organization, Task, Unit, User
from docflow.tasks.states import TaskState
from docflow.uow import UnitOfWork
from docflow.workdays import (
    WorkCalendar,
    last_working_day,
    load_window,
    local_date,
    start_of_day,
)

MAX_DAYS = 800

ITEM_COLUMNS = (
    "unit_id",  # the lead unit (uuid, may be null when a person without unit leads)
    "user_id",  # the lead person (null when a unit as a whole leads)
    "counts_for_unit",  # 1 when the item counts in the per-unit figures, else 0
    "assigned_at",  # when it was assigned (UTC timestamp)
    "due_date",  # its current deadline (date)
    "finished_on",  # the local date it was done (null unless done)
    "closed_at",  # when it was cancelled / withdrawn (UTC timestamp, null otherwise)
)


class GroupBy(StrEnum):
    UNIT = "unit"
    USER = "user"


@dataclass(frozen=True)
class ReportScope:
    """What the reader may count, and the period's bounds (UTC instants)."""

    organization_id: uuid.UUID
    unit_id: uuid.UUID | None  # only this unit's items (a unit head)
    user_id: uuid.UUID | None  # only this person's items (anyone else)
    start: dt.datetime  # the period's first instant
    end: dt.datetime  # the instant after the period
    first_day: dt.date
    # When set: every organisation whose path starts with it (the row-scan roll-up).
    subtree_path: str | None = None

    def organization_filter(self, column: Any) -> ColumnElement[bool]:
        if self.subtree_path is None:
            same: ColumnElement[bool] = column == self.organization_id
            return same
        below = select(Organization.id).where(Organization.path.startswith(self.subtree_path))
        inside: ColumnElement[bool] = column.in_(below.scalar_subquery())
        return inside


DeadlineSource = Callable[[ReportScope], Select[Any]]


def task_items(scope: ReportScope) -> Select[Any]:
    """The tasks source: every task of the organisation that can matter for the period."""
    done = Task.state == TaskState.DONE.value
    finished = case((done, Task.submitted_on), else_=None)
    closed = case((Task.state == TaskState.CANCELLED.value, Task.cancelled_at), else_=None)
    stmt = select(
        Task.lead_unit_id.label("unit_id"),
        Task.lead_user_id.label("user_id"),
        case((Task.parent_id.is_(None), 1), else_=0).label("counts_for_unit"),
        Task.created_at.label("assigned_at"),
        Task.due_date.label("due_date"),
        finished.label("finished_on"),
        closed.label("closed_at"),
    ).where(
        scope.organization_filter(Task.organization_id),
        Task.created_at < scope.end,
        # Finished or cancelled before the period: nothing to count.
        or_(~done, Task.submitted_on >= scope.first_day),
        or_(Task.cancelled_at.is_(None), Task.cancelled_at >= scope.start),
    )
    if scope.unit_id is not None:
        stmt = stmt.where(Task.lead_unit_id == scope.unit_id)
    if scope.user_id is not None:
        stmt = stmt.where(Task.lead_user_id == scope.user_id)
    return stmt


def incoming_items(scope: ReportScope) -> Select[Any]:
    """The incoming-documents source: lead assignments, with a deadline or without one (never
    late nor overdue). The unit-level one counts for the unit; the person a unit head passed it
    to counts for that person; a person the leader named directly counts for them and for
    their unit (DOMAIN.md §9: by unit and by person)."""
    done = Assignment.state == "done"
    unit = func.coalesce(
        Assignment.unit_id,
        select(User.unit_id).where(User.id == Assignment.user_id).scalar_subquery(),
    )
    stmt = (
        select(
            unit.label("unit_id"),
            Assignment.user_id.label("user_id"),
            case((Assignment.parent_id.is_(None), 1), else_=0).label("counts_for_unit"),
            Assignment.assigned_at.label("assigned_at"),
            Assignment.due_date.label("due_date"),
            case((done, Assignment.finished_on), else_=None).label("finished_on"),
            case((Document.state == "recalled", Document.updated_at), else_=None).label(
                "closed_at"
            ),
        )
        .join(Document, Document.id == Assignment.document_id)
        .where(
            scope.organization_filter(Document.organization_id),
            Document.direction == "incoming",
            Assignment.role == "lead",
            Assignment.state != "cancelled",
            Assignment.assigned_at < scope.end,
            or_(~done, Assignment.finished_on >= scope.first_day),
        )
    )
    if scope.unit_id is not None:
        stmt = stmt.where(unit == scope.unit_id)
    if scope.user_id is not None:
        stmt = stmt.where(Assignment.user_id == scope.user_id)
    return stmt


SOURCES: tuple[DeadlineSource, ...] = (task_items, incoming_items)


@dataclass(frozen=True)
class ProcessingRow:
    """The counts of one unit or person (``id`` None in the total row)."""

    id: uuid.UUID | None
    name: str
    received: int
    done_on_time: int
    done_late: int
    open: int
    overdue: int

    @property
    def done(self) -> int:
        return self.done_on_time + self.done_late


@dataclass(frozen=True)
class ProcessingReport:
    """The statistics of a period (see the module docstring for what each figure means)."""

    date_from: dt.date
    date_to: dt.date
    as_of: dt.date
    group_by: GroupBy
    rows: Sequence[ProcessingRow]
    total: ProcessingRow


def _grace_runs(cal: WorkCalendar, start: dt.date, end: dt.date) -> list[tuple[dt.date, dt.date]]:
    """Runs of days off [a, b] as (a - 1, b): an item due on or after a - 1 and finished by b
    is not late, since no working day passed between its deadline and its finish."""
    runs: list[tuple[dt.date, dt.date]] = []
    day = start
    while not cal.is_working_day(day):  # a run that began before ``start`` counts whole
        day -= dt.timedelta(days=1)
    while day <= end:
        if cal.is_working_day(day):
            day += dt.timedelta(days=1)
            continue
        first = day
        while not cal.is_working_day(day + dt.timedelta(days=1)):
            day += dt.timedelta(days=1)
        runs.append((first - dt.timedelta(days=1), day))
        day += dt.timedelta(days=1)
    return runs


def _late(items: Any, runs: list[tuple[dt.date, dt.date]]) -> ColumnElement[bool]:
    """Finished after its deadline (an item without one never is: never NULL here)."""
    if not runs:
        plain: ColumnElement[bool] = and_(
            items.c.due_date.is_not(None), items.c.finished_on > items.c.due_date
        )
        return plain
    grace = union_all(
        *[
            select(literal(a, Date).label("from_due"), literal(b, Date).label("until"))
            for a, b in runs
        ]
    ).subquery("grace")
    excused = exists().where(
        grace.c.from_due <= items.c.due_date, grace.c.until >= items.c.finished_on
    )
    return and_(items.c.due_date.is_not(None), items.c.finished_on > items.c.due_date, ~excused)


def _scope(actor: Actor, group_by: GroupBy) -> tuple[uuid.UUID | None, uuid.UUID | None]:
    if actor.has_role(Role.LEADER):
        return None, None
    if actor.has_role(Role.UNIT_HEAD) and actor.unit_id is not None:
        return actor.unit_id, None
    if group_by is GroupBy.UNIT:
        raise PermissionDeniedError(
            "Thống kê theo đơn vị dành cho lãnh đạo.", code="report_forbidden"
        )
    return None, actor.user_id


def processing_report(
    uow: UnitOfWork,
    actor: Actor,
    *,
    date_from: dt.date,
    date_to: dt.date,
    group_by: GroupBy = GroupBy.UNIT,
    organization_id: uuid.UUID | None = None,
    subtree: bool = False,
) -> ProcessingReport:
    """Counts per unit or per person of the actor's organisation (leaders: all of it; unit
    heads: their unit; others: themselves), for the period [date_from, date_to].

    ``organization_id`` (another organisation, counted whole) and ``subtree`` (it and every
    organisation below it, scanned row by row: the baseline of the pre-aggregated roll-up) are
    for callers that have already checked the reader may see them
    (:func:`docflow.reports.rollup.processing_rollup`, the benchmark)."""
    check_period(date_from, date_to)
    org_id = actor.organization_id if organization_id is None else organization_id
    if org_id == actor.organization_id and not subtree:
        unit_id, user_id = _scope(actor, group_by)
    else:
        unit_id, user_id = None, None
    with uow:
        s = uow.session
        today = local_date(uow.now())
        as_of = min(date_to, today)
        cal = load_window(s, date_from, max(date_to, as_of))
        cutoff = last_working_day(cal, as_of)
        start, end = start_of_day(date_from), start_of_day(date_to, later=1)
        path = None
        if subtree:
            org = s.get(Organization, org_id)
            path = org.path if org is not None else "/nowhere/"
        scope = ReportScope(org_id, unit_id, user_id, start, end, date_from, path)
        items = union_all(*[source(scope) for source in SOURCES]).subquery("items")
        key = items.c.unit_id if group_by is GroupBy.UNIT else items.c.user_id
        finished_in = and_(items.c.finished_on >= date_from, items.c.finished_on <= date_to)
        is_open = and_(
            or_(items.c.finished_on.is_(None), items.c.finished_on > date_to),
            or_(items.c.closed_at.is_(None), items.c.closed_at >= end),
        )
        late = _late(items, _grace_runs(cal, date_from - dt.timedelta(days=1), date_to))

        def count(cond: ColumnElement[bool]) -> Any:
            return func.coalesce(func.sum(case((cond, 1), else_=0)), 0).cast(Integer)

        stmt = select(
            key.label("key"),
            count(items.c.assigned_at >= start).label("received"),
            count(and_(finished_in, ~late)).label("done_on_time"),
            count(and_(finished_in, late)).label("done_late"),
            count(and_(is_open, or_(items.c.due_date.is_(None), items.c.due_date >= cutoff))).label(
                "open"
            ),
            count(and_(is_open, items.c.due_date < cutoff)).label("overdue"),
        ).where(key.is_not(None))
        if group_by is GroupBy.UNIT:
            stmt = stmt.where(items.c.counts_for_unit == 1)
        rows = s.execute(stmt.group_by(key)).all()
        names = _names(uow, group_by, [r.key for r in rows])
        out = sorted(
            (
                ProcessingRow(
                    r.key,
                    names.get(r.key, "?"),
                    r.received,
                    r.done_on_time,
                    r.done_late,
                    r.open,
                    r.overdue,
                )
                for r in rows
                if r.received or r.done_on_time or r.done_late or r.open or r.overdue
            ),
            key=lambda row: (fold(row.name), row.name),
        )
        total = ProcessingRow(
            None,
            "Tổng cộng",
            *(
                sum(getattr(r, f) for r in out)
                for f in ("received", "done_on_time", "done_late", "open", "overdue")
            ),
        )
        audit.record_read(
            uow,
            actor,
            "report.processing_read",
            object_type="report",
            group_by=group_by.value,
            of_organization=str(org_id),
            date_from=date_from,
            date_to=date_to,
        )
        return ProcessingReport(date_from, date_to, as_of, group_by, out, total)


def check_period(date_from: dt.date, date_to: dt.date) -> None:
    if date_to < date_from:
        raise ValidationError.field("to", "Ngày cuối phải sau ngày đầu.")
    if (date_to - date_from).days > MAX_DAYS:
        raise ValidationError.field("to", f"Kỳ thống kê tối đa {MAX_DAYS} ngày.")


def fold(name: str) -> str:
    """A sort key that puts Vietnamese names in dictionary order (Đ with D, accents ignored)."""
    decomposed = unicodedata.normalize("NFD", name.replace("Đ", "D").replace("đ", "d"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _names(uow: UnitOfWork, group_by: GroupBy, ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    model = Unit if group_by is GroupBy.UNIT else User
    label = Unit.name if group_by is GroupBy.UNIT else User.full_name
    return {
        i: n for i, n in uow.session.execute(select(model.id, label).where(model.id.in_(ids))).all()
    }


__all__ = [
    "ITEM_COLUMNS",
    "SOURCES",
    "DeadlineSource",
    "GroupBy",
    "ProcessingReport",
    "ProcessingRow",
    "ReportScope",
    "check_period",
    "fold",
    "processing_report",
    "task_items",
]
