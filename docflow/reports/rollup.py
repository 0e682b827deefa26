"""Roll-up statistics up the tree, from a table pre-aggregated per organisation and day.

**The table** (``report_daily_stats``, see :mod:`docflow.models.reports`): for each organisation,
lead unit, lead person and local day, the flows of the day (received, done on time, done late)
and the stock at the end of the day (open, overdue). The figures mean exactly what
:mod:`docflow.reports.processing` counts from the rows (the same sources, the same working-day
rule for "late" and "overdue"), so that for a period [from, to] with ``as_of = min(to, today)``:
flows = the sum over the period's days, stock = the row of the day ``as_of``.

**Keeping it current.** :func:`refresh_organization` recomputes one organisation's rows from its
tasks and assignments (tens of milliseconds for a commune). Nothing in the table is written by
the commands themselves: a command that changes what is counted (tasks created, split, moved,
finished, cancelled; incoming lead assignments made, finished, returned, recalled; documents
imported with their assignment) calls :func:`docflow.statistics.statistics_changed` in its own
transaction, which queues one outbox message (``reports.changed``) per organisation; the worker's
:func:`handle_changed` recomputes that organisation (idempotent: a message handled twice writes
the same rows; messages of the same organisation still waiting are taken along).

**Freshness.** The figures lag the changes by the outbox's lag: the message is handed to the
worker as soon as the command commits (the relay retries within a minute if that fails), so
normally seconds, more when the worker has a backlog (the ``dhtn_outbox_lag_seconds`` metric).
The answer names the oldest day every organisation of the subtree was computed through
(``refreshed_through``). :func:`roll_forward`, run hourly, carries every organisation's stock to
today (the passing days make open items overdue without any write). ``dhtn reports rebuild``
recomputes everything (after moving an organisation, or to repair).

**Reading it.** :func:`processing_rollup` answers ``GET /reports/processing`` with ``scope`` and
``organization_id``: ``scope=self`` reads one organisation live (as before); ``scope=subtree``
sums the table over the organisation and everything below it, grouped by organisation (the
organisation's own figures, then each child with its whole subtree: the drill-down), unit or
person.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Integer, and_, delete, func, insert, select, union_all
from sqlalchemy.orm import Session

from docflow import audit
from docflow.actors import Actor
from docflow.errors import NotFoundError, PermissionDeniedError, ValidationError
from docflow.models import (
    Organization,
    OutboxMessage,
    ReportDailyStat,
    ReportRefresh,
    ReportUnitDailyStat,
    Unit,
    User,
)
from docflow.outbox import Handlers
from docflow.pagination import clamp_limit, decode_cursor, encode_cursor
from docflow.reports import policy
from docflow.reports.processing import (
    SOURCES,
    GroupBy,
    ProcessingReport,
    ProcessingRow,
    ReportScope,
    check_period,
    fold,
    processing_report,
)
from docflow.reports.states import StatsScope
from docflow.statistics import TOPIC as TOPIC_CHANGED
from docflow.uow import UnitOfWork
from docflow.workdays import VN_TZ, WorkCalendar, days_late, load_window, local_date

TOPIC_REFRESH = "reports.refresh"  # the former topic, queued by a session hook
ALL_TIME = ReportScope(
    organization_id=uuid.UUID(int=0),
    unit_id=None,
    user_id=None,
    start=dt.datetime(1970, 1, 1, tzinfo=dt.UTC),
    end=dt.datetime(2200, 1, 1, tzinfo=dt.UTC),
    first_day=dt.date(1970, 1, 1),
)
FIGURES = ("received", "done_on_time", "done_late", "open", "overdue")
UNIT_COLUMNS = (*FIGURES, "open_base", "overdue_base")
_ONE = dt.timedelta(days=1)


class GroupByAll:
    """``group_by`` values of the roll-up: those of :class:`GroupBy` plus ``organization``."""

    ORGANIZATION = "organization"


# --- computing one organisation's rows ---------------------------------------------------


def _next_working_day(cal: WorkCalendar, day: dt.date) -> dt.date:
    day += _ONE
    while not cal.is_working_day(day):
        day += _ONE
    return day


def _month_after(day: dt.date) -> dt.date:
    return (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


def compute_rows(
    items: Iterable[Any], cal: WorkCalendar, through: dt.date
) -> dict[tuple[Any, Any, int], dict[dt.date, list[int]]]:
    """Per (unit, user, unit_level) and day: [received, on time, late, Δopen, Δoverdue,
    open at the start of the month, overdue at the start of the month].

    ``items`` carry the columns of :data:`docflow.reports.processing.ITEM_COLUMNS`. An item is
    open on day D when assigned by D and neither finished nor cancelled by D; overdue on D when
    open and at least one working day has passed since its due date (D on or after the first
    working day after it). The stock is stored as its changes (Δ, on the days it changes; an
    item's turning overdue is known in advance, so those days may lie after ``through``) plus,
    on the first day of each month, its value at the end of the month before: the stock at the
    end of day D = that month's start value + the changes from the 1st through D. Open counts
    all open items; the "open, in time" figure is open − overdue."""
    out: dict[tuple[Any, Any, int], dict[dt.date, list[int]]] = defaultdict(
        lambda: defaultdict(lambda: [0, 0, 0, 0, 0, 0, 0])
    )
    for it in items:
        key = (it.unit_id, it.user_id, int(it.counts_for_unit))
        assigned = local_date(it.assigned_at)
        if assigned > through:
            continue
        days = out[key]
        days[assigned][0] += 1
        end: dt.date | None = None
        if it.finished_on is not None:
            end = it.finished_on
            if it.finished_on <= through:
                late = days_late(cal, it.due_date, it.finished_on) > 0
                days[it.finished_on][2 if late else 1] += 1
        if it.closed_at is not None:
            closed = local_date(it.closed_at)
            end = closed if end is None else min(end, closed)
        if end is not None and end <= assigned:
            continue
        days[assigned][3] += 1
        if end is not None:
            days[end][3] -= 1
        overdue_from = max(assigned, _next_working_day(cal, it.due_date))
        if end is None or overdue_from < end:
            days[overdue_from][4] += 1
            if end is not None:
                days[end][4] -= 1
    last_month = through.replace(day=1)
    for days in out.values():
        changes = sorted(d for d, v in days.items() if v[3] or v[4])
        if not changes:
            continue
        month = _month_after(changes[0])
        open_, overdue, i = 0, 0, 0
        while month <= last_month:
            while i < len(changes) and changes[i] < month:
                open_ += days[changes[i]][3]
                overdue += days[changes[i]][4]
                i += 1
            if open_ or overdue:
                row = days[month]
                row[5], row[6] = open_, overdue
            month = _month_after(month)
    return out


def _figures(
    date_from: dt.date, date_to: dt.date, as_of: dt.date, t: Any = ReportDailyStat
) -> tuple[list[Any], Any]:
    """The five labelled figures over ``report_daily_stats`` (or the per-unit table ``t``) and
    the rows they need."""
    month = as_of.replace(day=1)
    in_period = func.cast(t.day.between(date_from, date_to), Integer)
    base = func.cast(t.day == month, Integer)
    in_month = func.cast(t.day.between(month, as_of), Integer)

    def total(expr: Any) -> Any:
        return func.coalesce(func.sum(expr), 0)

    overdue = total(base * t.overdue_base + in_month * t.overdue)
    figures = [
        total(in_period * t.received).label("received"),
        total(in_period * t.done_on_time).label("done_on_time"),
        total(in_period * t.done_late).label("done_late"),
        (total(base * t.open_base + in_month * t.open) - overdue).label("open"),
        overdue.label("overdue"),
    ]
    # One range the day index can use, then the two windows inside it.
    window = and_(
        t.day.between(min(date_from, month), max(date_to, as_of)),
        t.day.between(date_from, date_to) | t.day.between(month, as_of),
    )
    return figures, window


def _org_items(session: Session, organization_id: uuid.UUID) -> Sequence[Any]:
    scope = ReportScope(
        organization_id, None, None, ALL_TIME.start, ALL_TIME.end, ALL_TIME.first_day
    )
    items = union_all(*[source(scope) for source in SOURCES]).subquery("items")
    return session.execute(select(items)).all()


def refresh_organization(
    uow: UnitOfWork, organization_id: uuid.UUID, *, through: dt.date | None = None
) -> int:
    """Recompute one organisation's daily rows through ``through`` (today by default); the
    rows written. Idempotent."""
    with uow:
        s = uow.session
        today = local_date(uow.now())
        through = through or today
        items = _org_items(s, organization_id)
        first = min((local_date(i.assigned_at) for i in items), default=through)
        dues = [i.due_date for i in items if i.due_date is not None]
        cal = load_window(s, min([first, *dues]), max([through, *dues]))
        rows = compute_rows(items, cal, through)
        s.execute(delete(ReportDailyStat).where(ReportDailyStat.organization_id == organization_id))
        batch = [
            {
                "organization_id": organization_id,
                "unit_id": unit_id,
                "user_id": user_id,
                "unit_level": level,
                "day": day,
                "received": v[0],
                "done_on_time": v[1],
                "done_late": v[2],
                "open": v[3],
                "overdue": v[4],
                "open_base": v[5],
                "overdue_base": v[6],
            }
            for (unit_id, user_id, level), days in rows.items()
            for day, v in days.items()
            if any(v)
        ]
        if batch:
            s.execute(insert(ReportDailyStat), batch)
        _write_unit_rows(s, organization_id)
        state = s.get(ReportRefresh, organization_id)
        if state is None:
            s.add(
                ReportRefresh(
                    organization_id=organization_id, refreshed_at=uow.now(), through_day=through
                )
            )
        else:
            state.refreshed_at = uow.now()
            state.through_day = through
        uow.commit()
        return len(batch)


def _write_unit_rows(s: Session, organization_id: uuid.UUID) -> None:
    """The organisation's per-unit rows (the dashboard's grain), from its per-person rows."""
    d, u = ReportDailyStat, ReportUnitDailyStat
    s.execute(delete(u).where(u.organization_id == organization_id))
    path = select(Organization.path).where(Organization.id == organization_id).scalar_subquery()
    sums = [func.sum(getattr(d, c)) for c in UNIT_COLUMNS]
    s.execute(
        insert(u).from_select(
            ["organization_id", "org_path", "unit_id", "day", *UNIT_COLUMNS],
            select(d.organization_id, path, d.unit_id, d.day, *sums)
            .where(d.organization_id == organization_id, d.unit_level == 1)
            .group_by(d.organization_id, d.unit_id, d.day),
        )
    )


def rebuild_all(uow: UnitOfWork, *, organization_code: str | None = None) -> tuple[int, int]:
    """Recompute every organisation (or one, by code): (organisations, rows)."""
    with uow:
        stmt = select(Organization.id).order_by(Organization.path)
        if organization_code:
            stmt = stmt.where(Organization.code == organization_code)
        ids = list(uow.session.scalars(stmt))
    rows = 0
    for org_id in ids:
        rows += refresh_organization(uow, org_id)
    return len(ids), rows


def roll_forward(uow: UnitOfWork) -> int:
    """Carry every organisation's statistics to today. Within a month nothing needs computing
    (the days items turn overdue are stored ahead); in a new month, organisations with items
    still open get the month's start values (recomputed), the others only move their
    ``through_day``. Organisations never computed are computed. The organisations computed."""
    with uow:
        s = uow.session
        today = local_date(uow.now())
        stale = list(s.scalars(select(ReportRefresh).where(ReportRefresh.through_day < today)))
        busy: list[uuid.UUID] = []
        for state in stale:
            new_month = state.through_day.replace(day=1) < today.replace(day=1)
            has_rows = new_month and s.scalar(
                select(ReportDailyStat.id)
                .where(ReportDailyStat.organization_id == state.organization_id)
                .limit(1)
            )
            if has_rows:
                busy.append(state.organization_id)
            else:
                state.through_day = today
        never = list(
            s.scalars(
                select(Organization.id).where(
                    ~select(ReportRefresh.organization_id)
                    .where(ReportRefresh.organization_id == Organization.id)
                    .exists()
                )
            )
        )
        uow.commit()
    for org_id in busy + never:
        refresh_organization(uow, org_id)
    return len(busy) + len(never)


def handle_changed(uow: UnitOfWork, payload: dict[str, Any]) -> None:
    """Outbox handler of :data:`docflow.statistics.TOPIC`: recompute the organisation's rows.

    A recomputation, not a delta: handling a message twice (delivery is at least once) writes
    the same rows. Messages for the same organisation still waiting are taken along: those
    visible (and not held by another worker) *before* the rows are read were committed with
    their changes, which the read then sees, so they are marked done here and a burst of
    changes in one organisation costs one recomputation, not one each."""
    org_id = uuid.UUID(payload["organization_id"])
    with uow:
        s = uow.session
        stmt = select(OutboxMessage).where(
            OutboxMessage.topic.in_((TOPIC_CHANGED, TOPIC_REFRESH)),
            OutboxMessage.done_at.is_(None),
        )
        if s.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        waiting = [m for m in s.scalars(stmt) if m.payload.get("organization_id") == str(org_id)]
        refresh_organization(uow, org_id)
        for m in waiting:
            m.done_at = uow.now()
            m.attempts += 1
        uow.commit()


# Messages queued under the former topic (before an upgrade) are handled the same way.
handle_refresh = handle_changed


def register_outbox_handlers(handlers: Handlers) -> None:
    """The roll-up's outbox topics."""
    handlers.add(TOPIC_CHANGED, handle_changed)
    handlers.add(TOPIC_REFRESH, handle_changed)


# --- reading --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RollupRow(ProcessingRow):
    """A row of the roll-up: ``organization_id`` of the row (its organisation, or the
    organisation of the unit / person); ``subtree`` when the figures include everything below
    (a child organisation's row: drill down with ``organization_id=<it>``)."""

    organization_id: uuid.UUID | None = None
    organization_name: str | None = None
    subtree: bool = False


@dataclass(frozen=True)
class RollupReport(ProcessingReport):
    organization_id: uuid.UUID | None = None
    scope: StatsScope = StatsScope.SELF
    group: str = "unit"
    source: str = "live"  # live | aggregate
    refreshed_through: dt.date | None = None
    # Paging (``limit`` given): the rows of the whole answer and the next page's cursor.
    total_items: int | None = None
    next_cursor: str | None = None


def _refusal(actor: Actor, org: Organization | None, scope: StatsScope) -> None:
    if org is None:
        raise NotFoundError("Không tìm thấy tổ chức.", code="organization_not_found")
    why = policy.stats_refusal(
        actor.effective_roles,
        reader_path=actor.organization_path,
        org_path=org.path,
        own_org=org.id == actor.organization_id,
        subtree=scope is StatsScope.SUBTREE,
    )
    if why == "not_visible":
        raise NotFoundError("Không tìm thấy tổ chức.", code="organization_not_found")
    if why == "forbidden":
        raise PermissionDeniedError(
            "Thống kê của tổ chức khác hoặc toàn hệ thống bên dưới dành cho lãnh đạo.",
            code="report_forbidden",
        )


def processing_rollup(
    uow: UnitOfWork,
    actor: Actor,
    *,
    date_from: dt.date,
    date_to: dt.date,
    group_by: str = "unit",
    organization_id: uuid.UUID | None = None,
    scope: StatsScope = StatsScope.SELF,
    limit: int | None = None,
    cursor: str | None = None,
) -> RollupReport:
    """Processing statistics of an organisation (``self``) or of it and everything below it
    (``subtree``), grouped by organisation, unit or person. Refusals: an organisation outside
    the reader's subtree → not found; another organisation or a subtree without being a leader
    → forbidden; then the period's checks (and a cursor that is not one, 422).

    With ``limit`` (or ``cursor``), one page of the rows in their order (organisation's name,
    then the row's name, then its id: stable between calls) and ``next_cursor`` for the next;
    ``total`` and ``total_items`` stay those of every row. The centre grouped by unit has
    twelve thousand rows: a page is what a leader reads; the drill-down by organisation
    narrows it."""
    report = _rollup(uow, actor, date_from, date_to, group_by, organization_id, scope)
    if limit is None and cursor is None:
        return replace(report, total_items=len(report.rows))
    return _page(report, clamp_limit(limit), cursor)


def _page(report: RollupReport, limit: int, cursor: str | None) -> RollupReport:
    """One page of the report's rows: the cursor holds the position of the next row and the
    id of the row before it; when rows came or went meanwhile (a unit's first figure), the
    page resumes after that row wherever it now is."""
    key = decode_cursor(cursor)
    rows = report.rows
    start = 0
    if key is not None:
        if len(key) != 2 or not key[0].isdigit() or len(key[0]) > 9:
            raise ValidationError.field("cursor", "Con trỏ phân trang không hợp lệ.")
        start = int(key[0])
        if not 0 < start <= len(rows) or str(rows[start - 1].id) != key[1]:
            moved = [i for i, r in enumerate(rows) if str(r.id) == key[1]]
            if moved:
                start = moved[0] + 1
            elif start > len(rows):
                start = len(rows)
    page = rows[start : start + limit]
    end = start + len(page)
    next_cursor = encode_cursor([end, page[-1].id]) if page and end < len(rows) else None
    return replace(report, rows=page, total_items=len(rows), next_cursor=next_cursor)


def _rollup(
    uow: UnitOfWork,
    actor: Actor,
    date_from: dt.date,
    date_to: dt.date,
    group_by: str,
    organization_id: uuid.UUID | None,
    scope: StatsScope,
) -> RollupReport:
    with uow:
        org = uow.session.get(Organization, organization_id or actor.organization_id)
        _refusal(actor, org, scope)
        assert org is not None
        org_id, org_name, org_path = org.id, org.name, org.path
    check_period(date_from, date_to)
    if scope is StatsScope.SELF:
        if group_by == GroupByAll.ORGANIZATION:
            if org_id == actor.organization_id and not policy.may_read_other_or_subtree(
                actor.effective_roles
            ):
                raise PermissionDeniedError(
                    "Thống kê theo tổ chức dành cho lãnh đạo.", code="report_forbidden"
                )
            live = processing_report(
                uow,
                actor,
                date_from=date_from,
                date_to=date_to,
                group_by=GroupBy.UNIT,
                organization_id=org_id,
            )
            total = live.total
            row = _row(
                org_id,
                org_name,
                [getattr(total, f) for f in FIGURES],
                organization_id=org_id,
                organization_name=org_name,
            )
            return RollupReport(
                live.date_from,
                live.date_to,
                live.as_of,
                live.group_by,
                [row],
                _total([row]),
                org_id,
                scope,
                group_by,
                "live",
                None,
            )
        live = processing_report(
            uow,
            actor,
            date_from=date_from,
            date_to=date_to,
            group_by=GroupBy(group_by),
            organization_id=org_id,
        )
        rows = [
            RollupRow(
                r.id,
                r.name,
                r.received,
                r.done_on_time,
                r.done_late,
                r.open,
                r.overdue,
                organization_id=org_id,
                organization_name=org_name,
            )
            for r in live.rows
        ]
        return RollupReport(
            live.date_from,
            live.date_to,
            live.as_of,
            live.group_by,
            rows,
            live.total,
            org_id,
            scope,
            group_by,
            "live",
            None,
        )
    return _aggregate(uow, actor, org_id, org_path, date_from, date_to, group_by)


def _row(
    id_: uuid.UUID | None,
    name: str,
    figs: Sequence[int],
    *,
    organization_id: uuid.UUID | None,
    organization_name: str | None,
    subtree: bool = False,
) -> RollupRow:
    a, b, c, d, e = (int(x) for x in figs)
    return RollupRow(
        id_,
        name,
        a,
        b,
        c,
        d,
        e,
        organization_id=organization_id,
        organization_name=organization_name,
        subtree=subtree,
    )


def _total(rows: Sequence[ProcessingRow]) -> ProcessingRow:
    return ProcessingRow(None, "Tổng cộng", *(sum(getattr(r, f) for r in rows) for f in FIGURES))


def _aggregate(
    uow: UnitOfWork,
    actor: Actor,
    org_id: uuid.UUID,
    org_path: str,
    date_from: dt.date,
    date_to: dt.date,
    group_by: str,
) -> RollupReport:
    with uow:
        s = uow.session
        today = local_date(uow.now())
        as_of = min(date_to, today)
        in_tree = (
            select(Organization.id).where(Organization.path.startswith(org_path)).scalar_subquery()
        )
        t: Any
        if group_by == GroupBy.USER:  # per person, sub-tasks count too
            t = ReportDailyStat
            key: Any = t.user_id
            figures, period_rows = _figures(date_from, date_to, as_of, t)
            where: tuple[Any, ...] = (t.organization_id.in_(in_tree), period_rows)
        else:  # per organisation or unit: the per-unit table, the subtree one index range
            t = ReportUnitDailyStat
            key = t.organization_id if group_by == GroupByAll.ORGANIZATION else t.unit_id
            figures, period_rows = _figures(date_from, date_to, as_of, t)
            where = (t.org_path.startswith(org_path, autoescape=True), period_rows)
        stmt = select(key.label("key"), t.organization_id.label("org"), *figures).where(*where)
        if group_by != GroupByAll.ORGANIZATION:
            stmt = stmt.where(key.is_not(None))
        result = s.execute(stmt.group_by(key, t.organization_id)).all()
        orgs = {
            o.id: o
            for o in s.execute(
                select(
                    Organization.id, Organization.name, Organization.path, Organization.parent_id
                ).where(Organization.path.startswith(org_path))
            ).all()
        }
        refreshed = s.scalar(
            select(func.min(ReportRefresh.through_day)).where(
                ReportRefresh.organization_id.in_(in_tree)
            )
        )
        if group_by == GroupByAll.ORGANIZATION:
            rows = _by_child(org_id, org_path, orgs, result)
        else:
            rows = _by_member(s, group_by, orgs, result, org_path)
        audit.record_read(
            uow,
            actor,
            "report.processing_read",
            object_type="report",
            group_by=group_by,
            scope="subtree",
            of_organization=str(org_id),
            date_from=date_from,
            date_to=date_to,
        )
        uow.commit()
        gb = GroupBy.USER if group_by == GroupBy.USER else GroupBy.UNIT
        return RollupReport(
            date_from,
            date_to,
            as_of,
            gb,
            rows,
            _total(rows),
            org_id,
            StatsScope.SUBTREE,
            group_by,
            "aggregate",
            refreshed,
        )


def _by_child(
    org_id: uuid.UUID, org_path: str, orgs: dict[uuid.UUID, Any], result: Sequence[Any]
) -> list[RollupRow]:
    """The organisation's own figures, then each direct child with its whole subtree."""
    depth = org_path.count("/")
    sums: dict[uuid.UUID, list[int]] = {}
    for r in result:
        o = orgs.get(r.org)
        if o is None:
            continue
        if o.id == org_id:
            target = org_id
        else:
            parts = o.path.split("/")
            target = uuid.UUID(parts[depth])  # the child of org_id on the way down
        acc = sums.setdefault(target, [0, 0, 0, 0, 0])
        for i, f in enumerate(FIGURES):
            acc[i] += int(getattr(r, f))
    children = [o for o in orgs.values() if o.parent_id == org_id]
    own = orgs[org_id]
    rows = [
        _row(
            own.id,
            own.name,
            sums.get(own.id, [0] * 5),
            organization_id=own.id,
            organization_name=own.name,
            subtree=False,
        )
    ]
    for c in sorted(children, key=lambda o: (fold(o.name), o.name, str(o.id))):
        rows.append(
            _row(
                c.id,
                c.name,
                sums.get(c.id, [0] * 5),
                organization_id=c.id,
                organization_name=c.name,
                subtree=True,
            )
        )
    return rows


def _by_member(
    s: Session, group_by: str, orgs: dict[uuid.UUID, Any], result: Sequence[Any], org_path: str
) -> list[RollupRow]:
    ids = [r.key for r in result]
    m: Any = Unit if group_by == GroupBy.UNIT else User
    name = Unit.name if group_by == GroupBy.UNIT else User.full_name
    if len(ids) > 500:  # the subtree's names in one range read, not a list of thousands of ids
        found = (
            select(m.id, name)
            .join(Organization, Organization.id == m.organization_id)
            .where(Organization.path.startswith(org_path, autoescape=True))
        )
    else:
        found = select(m.id, name).where(m.id.in_(ids))
    names: dict[Any, str] = {k: v for k, v in s.execute(found)}
    # The centre by unit sorts some 17,000 rows: each organisation's key folded once, rows
    # with nothing to show dropped before anything is built.
    org_keys: dict[Any, tuple[str, str | None]] = {}
    keyed = []
    for r in result:
        figs = tuple(int(x) for x in r[2:7])
        if not any(figs):
            continue
        if r.org not in org_keys:
            o_name = orgs[r.org].name if r.org in orgs else None
            org_keys[r.org] = (fold(o_name or ""), o_name)
        o_key, o_name = org_keys[r.org]
        n = names.get(r.key, "?")
        keyed.append(((o_key, fold(n), n, str(r.key)), r.key, n, figs, r.org, o_name))
    keyed.sort(key=lambda k: k[0])
    rows = [
        _row(key, n, figs, organization_id=org, organization_name=o_name)
        for _, key, n, figs, org, o_name in keyed
    ]
    return rows


def as_local_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), VN_TZ).astimezone(dt.UTC)


__all__ = [
    "TOPIC_CHANGED",
    "TOPIC_REFRESH",
    "GroupByAll",
    "RollupReport",
    "RollupRow",
    "compute_rows",
    "handle_changed",
    "handle_refresh",
    "processing_rollup",
    "rebuild_all",
    "refresh_organization",
    "roll_forward",
]


def processing_counts(
    uow: UnitOfWork, organization_id: uuid.UUID, date_from: dt.date, date_to: dt.date
) -> dict[str, int]:
    """The organisation's own totals for a period, from the daily table (no reader checks:
    for services that already decided the reader may see them)."""
    with uow:
        today = local_date(uow.now())
        as_of = min(date_to, today)
        t = ReportDailyStat
        figures, window = _figures(date_from, date_to, as_of)
        row = uow.session.execute(
            select(*figures).where(t.organization_id == organization_id, t.unit_level == 1, window)
        ).one()
        return dict(zip(FIGURES, (int(v) for v in row), strict=True))
