"""Roll-up statistics up the tree, from a table pre-aggregated per organisation and day.

**The table** (``report_daily_stats``, see :mod:`docflow.models.reports`): for each organisation,
lead unit, lead person and local day, the flows of the day (received, done on time, done late)
and the stock at the end of the day (open, overdue). The figures mean exactly what
:mod:`docflow.reports.processing` counts from the rows (the same sources, the same working-day
rule for "late" and "overdue"), so that for a period [from, to] with ``as_of = min(to, today)``:
flows = the sum over the period's days, stock = the row of the day ``as_of``.

**The coarse grain** (``report_monthly_stats``): the same figures per organisation and month
(and per year, flows only), each grouping's rows (per organisation, per unit, per person) with
the organisation's path. A period reads the month rows (or a
year's row less its months outside the period) for its whole months and the daily rows only
for its ragged edges; the stock at ``as_of`` is the month row's start stock plus the daily
changes through ``as_of``, or its end stock less the changes after it (whichever reads fewer
days). The per-unit daily rows (``report_unit_daily_stats``) serve the per-unit edges.

**Keeping it current.** :func:`refresh_organization` recomputes one organisation's rows from its
tasks and assignments (tens of milliseconds for a commune), then its per-unit and per-month rows
from them in the same transaction (:func:`_write_unit_rows`). Nothing in the tables is written
by the commands themselves: a command that changes what is counted (tasks created, split, moved,
finished, cancelled; incoming lead assignments made, finished, returned, recalled; documents
imported with their assignment) calls :func:`docflow.statistics.statistics_changed` in its own
transaction, which queues one outbox message (``reports.changed``) per organisation, unless one
is already waiting for it (that one then counts the change too); the worker's
:func:`handle_changed` recomputes that organisation (idempotent: a message handled twice writes
the same rows; messages of the same organisation still waiting are taken along).

**Freshness.** The figures lag the changes by the outbox's lag: the message is handed to the
worker as soon as the command commits (the relay retries within a minute if that fails), so
normally seconds, more when the worker has a backlog (the ``dhtn_outbox_lag_seconds`` metric).
The answer names the oldest day every organisation of the subtree was computed through
(``refreshed_through``). :func:`roll_forward`, run hourly, carries every organisation's stock to
today (the passing days make open items overdue without any write). ``dhtn reports rebuild``
(:func:`rebuild_all`) recomputes everything in one pass (after moving an organisation, or to
repair).

**Reading it.** :func:`processing_rollup` answers ``GET /reports/processing`` with ``scope`` and
``organization_id``: ``scope=self`` reads one organisation live (as before); ``scope=subtree``
sums the tables over the organisation and everything below it, grouped by organisation (the
organisation's own figures, then each child with its whole subtree: the drill-down), unit or
person. A page by unit or person (``limit``) is summed in the database for the organisations it
reaches only; its total row and ``total_items`` come from one separate aggregate.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import (
    Date,
    Integer,
    and_,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    text,
    true,
    type_coerce,
    union_all,
    update,
)
from sqlalchemy.orm import Session

from docflow import audit
from docflow.actors import Actor
from docflow.db import mark_written
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
from docflow.models.reports import ReportMonthlyStat
from docflow.outbox import Handlers, Later
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
from docflow.workdays import (
    WorkCalendar,
    days_late,
    load_calendar,
    load_window,
    local_date,
    start_of_day,
)

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
                late = it.due_date is not None and days_late(cal, it.due_date, it.finished_on) > 0
                days[it.finished_on][2 if late else 1] += 1
        if it.closed_at is not None:
            closed = local_date(it.closed_at)
            end = closed if end is None else min(end, closed)
        if end is not None and end <= assigned:
            continue
        days[assigned][3] += 1
        if end is not None:
            days[end][3] -= 1
        if it.due_date is None:  # no deadline: never overdue
            continue
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


def stock_and_flows(
    date_from: dt.date, date_to: dt.date, as_of: dt.date, t: Any = ReportDailyStat
) -> tuple[list[Any], Any]:
    """The five labelled figures over ``report_daily_stats`` (or the per-unit table ``t``) and
    the rows they need: flows summed over the period, the stock (``open`` in time,
    ``overdue``) at the end of ``as_of`` from the month's start value and the day changes."""
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


DAILY_COLUMNS = ("organization_id", "unit_id", "user_id", "unit_level", "day", *UNIT_COLUMNS)


def _daily_rows(
    organization_id: uuid.UUID, rows: dict[tuple[Any, Any, int], dict[dt.date, list[int]]]
) -> Iterator[tuple[Any, ...]]:
    """The organisation's per-person daily rows (:data:`DAILY_COLUMNS`), those not all zero."""
    for (unit_id, user_id, level), days in rows.items():
        for day, v in days.items():
            if any(v):
                yield (organization_id, unit_id, user_id, level, day, *v)


def refresh_organization(
    uow: UnitOfWork, organization_id: uuid.UUID, *, through: dt.date | None = None
) -> int:
    """Recompute one organisation's daily rows through ``through`` (today by default), and
    its per-unit and per-month rows from them; the daily rows written. Idempotent."""
    with uow:
        s = uow.session
        # One recomputation of an organisation at a time: a second one waits here for the
        # first's commit, then reads the rows it wrote (each statement of READ COMMITTED sees
        # what committed before it), so two never insert the same new rows side by side.
        s.execute(
            select(ReportRefresh.organization_id)
            .where(ReportRefresh.organization_id == organization_id)
            .with_for_update()
        )
        today = local_date(uow.now())
        through = through or today
        items = _org_items(s, organization_id)
        first = min((local_date(i.assigned_at) for i in items), default=through)
        dues = [i.due_date for i in items if i.due_date is not None]
        cal = load_window(s, min([first, *dues]), max([through, *dues]))
        rows = compute_rows(items, cal, through)
        batch = [r[1:] for r in _daily_rows(organization_id, rows)]
        d = ReportDailyStat
        _sync_rows(
            s,
            d,
            (d.organization_id == organization_id,),
            {"organization_id": organization_id},
            ("unit_id", "user_id", "unit_level", "day"),
            UNIT_COLUMNS,
            batch,
        )
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


def _start_of(s: Session, unit: str, day: Any) -> Any:
    """The first day of the month / year of a date column, in the session's SQL dialect."""
    if s.get_bind().dialect.name == "postgresql":
        return func.cast(func.date_trunc(unit, day), Date)
    return func.date(day, f"start of {unit}")


# grain of report_monthly_stats → (the row's unit or person, which per-person daily rows)
_D = ReportDailyStat
MONTHLY_GRAINS: dict[str, tuple[Any, tuple[Any, ...]]] = {
    "org": (None, (_D.unit_level == 1,)),
    "unit": (_D.unit_id, (_D.unit_level == 1, _D.unit_id.is_not(None))),
    "user": (_D.user_id, (_D.user_id.is_not(None),)),
}


def _sync_rows(
    s: Session,
    table: Any,
    where: tuple[Any, ...],
    fixed: dict[str, Any],
    keys: Sequence[str],
    values: Sequence[str],
    rows: Iterable[Sequence[Any]],
) -> None:
    """Make the rows of ``table`` matching ``where`` equal to ``rows`` (each: the ``keys``, then
    the ``values``; ``fixed`` columns are the same for all), writing only what differs: the
    rows whose key is gone deleted, those whose values changed updated by primary key, the new
    ones inserted. A recomputation after one change rewrites a handful of rows, not the
    organisation's thousands (deleting and inserting them all left the tables bloated and made
    every recomputation of a busy organisation slower than the one before)."""
    n = len(keys)
    existing: dict[tuple[Any, ...], tuple[int, tuple[Any, ...]]] = {}
    columns = [getattr(table, c) for c in (*keys, *values)]
    twice: list[int] = []  # a key held by two rows (an older race): the extra one goes
    for r in s.execute(select(table.id, *columns).where(*where)):
        key = tuple(r[1 : 1 + n])
        if key in existing:
            twice.append(r[0])
            continue
        existing[key] = (r[0], tuple(r[1 + n :]))
    inserts, updates = [], []
    for row in rows:
        key, vals = tuple(row[:n]), tuple(row[n:])
        old = existing.pop(key, None)
        if old is None:
            inserts.append(
                {
                    **fixed,
                    **dict(zip(keys, key, strict=True)),
                    **dict(zip(values, vals, strict=True)),
                }
            )
        elif old[1] != vals:
            updates.append({"id": old[0], **dict(zip(values, vals, strict=True))})
    gone = [row_id for row_id, _ in existing.values()] + twice
    for i in range(0, len(gone), 5000):
        s.execute(delete(table).where(table.id.in_(gone[i : i + 5000])))
    if updates:
        s.execute(update(table), updates)
    if inserts:
        s.execute(insert(table), inserts)


def _unit_select(own: tuple[Any, ...]) -> Any:
    """Per-unit daily rows from the per-person ones: organisation, path, unit, day, figures."""
    d, path = ReportDailyStat, Organization.path
    return (
        select(d.organization_id, path, d.unit_id, d.day, *_column_sums(d))
        .join(Organization, Organization.id == d.organization_id)
        .where(*own, d.unit_level == 1)
        .group_by(d.organization_id, path, d.unit_id, d.day)
    )


def _column_sums(table: Any) -> list[Any]:
    return [func.sum(getattr(table, c)) for c in UNIT_COLUMNS]


def _month_selects(s: Session, own: tuple[Any, ...]) -> Iterator[Any]:
    """Per-month rows of each grain from the per-person daily rows: organisation, path, grain,
    row, span (1), month, figures."""
    d, path = ReportDailyStat, Organization.path
    month = type_coerce(_start_of(s, "month", d.day), Date)
    for grain, (row, where) in MONTHLY_GRAINS.items():
        keys = [] if row is None else [row]
        row_col = row if row is not None else cast(null(), d.unit_id.type)
        yield (
            select(
                d.organization_id,
                path,
                literal(grain),
                row_col,
                literal(1),
                month,
                *_column_sums(d),
            )
            .join(Organization, Organization.id == d.organization_id)
            .where(*own, *where)
            .group_by(d.organization_id, path, *keys, month)
        )


def _year_select(s: Session, mine: tuple[Any, ...]) -> Any:
    """Each year's flows (no stock) from its month rows: the same columns as a month's."""
    m = ReportMonthlyStat
    year = type_coerce(_start_of(s, "year", m.month), Date)
    zero = literal(0)
    return (
        select(
            m.organization_id,
            m.org_path,
            m.grain,
            m.row_id,
            literal(12),
            year,
            func.sum(m.received),
            func.sum(m.done_on_time),
            func.sum(m.done_late),
            zero,
            zero,
            zero,
            zero,
        )
        .where(*mine, m.span == 1)
        .group_by(m.organization_id, m.org_path, m.grain, m.row_id, year)
    )


def _write_unit_rows(s: Session, organization_id: uuid.UUID | None) -> None:
    """The organisation's (``None``: every organisation's) per-unit daily rows (the
    dashboard's grain) and per-month rows (each grain of :data:`MONTHLY_GRAINS`), from its
    per-person daily rows, in the caller's transaction: always consistent with them.

    Every organisation (the rebuild): deleted and inserted by set-based statements. One
    organisation (a refresh): the new rows are read and only the differences written
    (:func:`_sync_rows`)."""
    d, u, m = ReportDailyStat, ReportUnitDailyStat, ReportMonthlyStat
    columns = ["organization_id", "org_path", "grain", "row_id", "span", "month", *UNIT_COLUMNS]
    if organization_id is None:
        s.execute(delete(u))
        s.execute(delete(m))
        s.execute(
            insert(u).from_select(
                ["organization_id", "org_path", "unit_id", "day", *UNIT_COLUMNS], _unit_select(())
            )
        )
        for stmt in _month_selects(s, ()):
            s.execute(insert(m).from_select(columns, stmt))
        s.execute(insert(m).from_select(columns, _year_select(s, ())))
        return
    org = {"organization_id": organization_id}
    own = (d.organization_id == organization_id,)
    unit_rows = [r[2:] + r[1:2] for r in s.execute(_unit_select(own))]
    _sync_rows(
        s,
        u,
        (u.organization_id == organization_id,),
        org,
        ("unit_id", "day"),
        (*UNIT_COLUMNS, "org_path"),
        unit_rows,
    )
    # Rows: (org, path, grain, row, span, month, *figures) -> keys (grain, row, span, month),
    # values (*figures, path).
    month_rows = [r[2:] + r[1:2] for stmt in _month_selects(s, own) for r in s.execute(stmt)]
    monthly_keys = ("grain", "row_id", "span", "month")
    _sync_rows(
        s,
        m,
        (m.organization_id == organization_id, m.span == 1),
        org,
        monthly_keys,
        (*UNIT_COLUMNS, "org_path"),
        month_rows,
    )
    s.flush()
    mine = (m.organization_id == organization_id,)
    year_rows = [r[2:] + r[1:2] for r in s.execute(_year_select(s, mine))]
    _sync_rows(
        s,
        m,
        (m.organization_id == organization_id, m.span == 12),
        org,
        monthly_keys,
        (*UNIT_COLUMNS, "org_path"),
        year_rows,
    )


@dataclass(frozen=True)
class _EveryOrganization(ReportScope):
    """A scope over every organisation that notes each source's organisation column (every
    source filters by organisation through :meth:`ReportScope.organization_filter`)."""

    columns: list[Any] = field(default_factory=list)

    def organization_filter(self, column: Any) -> Any:
        self.columns.append(column)
        return true()


def _every_item() -> Any:
    """Every deadline item of every source with its organisation, ordered by organisation."""
    stmts = []
    for source in SOURCES:
        scope = _EveryOrganization(
            ALL_TIME.organization_id, None, None, ALL_TIME.start, ALL_TIME.end, ALL_TIME.first_day
        )
        stmt = source(scope)
        (org_column,) = scope.columns
        stmts.append(stmt.add_columns(org_column.label("organization_id")))
    items = union_all(*stmts).subquery("items")
    return select(items).order_by(items.c.organization_id)


def rebuild_all(uow: UnitOfWork, *, organization_code: str | None = None) -> tuple[int, int]:
    """Recompute every organisation (or one, by code): (organisations, per-person daily rows).

    Every organisation: one pass in one transaction (readers see the former figures until it
    commits): the items of every source read once, ordered by organisation and streamed;
    each organisation's rows computed (:func:`compute_rows`) and written in bulk (COPY on
    PostgreSQL with psycopg, executemany otherwise); then the per-unit and per-month rows of
    everything from them in two set-based statements. One organisation: its refresh."""
    if organization_code:
        with uow:
            ids = list(
                uow.session.scalars(
                    select(Organization.id).where(Organization.code == organization_code)
                )
            )
        return len(ids), sum(refresh_organization(uow, org_id) for org_id in ids)
    with uow:
        s = uow.session
        now = uow.now()
        today = local_date(now)
        cal = load_calendar(s, dt.date(1900, 1, 1), dt.date(2200, 1, 1))
        for t in (ReportDailyStat, ReportUnitDailyStat, ReportMonthlyStat, ReportRefresh):
            s.execute(delete(t))
        writer = _BulkWriter(s)
        stmt = _every_item()
        if writer.copying:
            result: Iterable[Any] = s.execute(stmt.execution_options(yield_per=20_000))
        else:
            result = s.execute(stmt).all()
        for org_id, items in itertools.groupby(result, key=lambda r: r.organization_id):
            writer.add(_daily_rows(org_id, compute_rows(items, cal, today)))
        writer.flush()
        _write_unit_rows(s, None)
        s.execute(
            insert(ReportRefresh).from_select(
                ["organization_id", "refreshed_at", "through_day"],
                select(Organization.id, literal(now), literal(today, Date)),
            )
        )
        n_orgs = s.scalar(select(func.count()).select_from(Organization)) or 0
        uow.commit()
        return n_orgs, writer.written


class _BulkWriter:
    """Per-person daily rows written in batches: COPY when the session's connection is
    psycopg's (between the fetches of a streamed read), executemany otherwise."""

    BATCH = 50_000

    def __init__(self, s: Session) -> None:
        self.s = s
        self.rows: list[tuple[Any, ...]] = []
        self.written = 0
        connection = s.connection()
        raw: Any = connection.connection.driver_connection
        self.copying = (
            s.get_bind().dialect.name == "postgresql"
            and raw is not None
            and hasattr(raw.cursor(), "copy")
        )
        self.raw = raw
        if self.copying:  # COPY goes to the driver, past the engine's events (docflow.db)
            mark_written(connection)

    def add(self, rows: Iterable[tuple[Any, ...]]) -> None:
        self.rows.extend(rows)
        if len(self.rows) >= self.BATCH:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        if self.copying:
            columns = ", ".join(f'"{c}"' for c in DAILY_COLUMNS)
            sql = f"COPY report_daily_stats ({columns}) FROM STDIN"
            with self.raw.cursor() as cur, cur.copy(sql) as copy:
                for row in self.rows:
                    copy.write_row(row)
        else:
            self.s.execute(
                insert(ReportDailyStat),
                [dict(zip(DAILY_COLUMNS, r, strict=True)) for r in self.rows],
            )
        self.written += len(self.rows)
        self.rows = []


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
    changes in one organisation costs one recomputation, not one each.

    At most one recomputation per organisation per ``reports_refresh_interval`` (the app's
    ``DHTN_REPORTS_REFRESH_SECONDS``, 30 s): a message for an organisation recomputed less than
    that ago waits until then (:class:`docflow.outbox.Later`), and the messages that arrive
    meanwhile are taken along by that one recomputation. A busy organisation (a province's
    registry at the start of the day) then costs one recomputation per interval, not one per
    change, and its figures are at most the interval (plus the relay's tick of a few seconds,
    app.celery_app.RELAY_EVERY_S) behind."""
    org_id = uuid.UUID(payload["organization_id"])
    with uow:
        s = uow.session
        interval = uow.config.reports_refresh_interval
        if interval:
            # Read under the organisation's refresh lock (the one refresh_organization takes):
            # a second worker that got a message for the same organisation at the same moment
            # waits for the first's commit, then sees its time and defers, instead of
            # recomputing the same rows right after it (seen in the load test: ~1 s waits
            # followed by a second recomputation).
            last = s.scalar(
                select(ReportRefresh.refreshed_at)
                .where(ReportRefresh.organization_id == org_id)
                .with_for_update()
            )
            if last is not None and uow.now() < last + interval:
                raise Later(last + interval)
        # This organisation's messages only, chosen in the statement: the lock is taken on the
        # rows the statement returns, and a filter in Python after it locked every waiting
        # message of every organisation for the whole recomputation, so another worker handed
        # another organisation's message found it held and left it to the relay (tens of
        # seconds of outbox lag).
        stmt = select(OutboxMessage).where(
            OutboxMessage.topic.in_((TOPIC_CHANGED, TOPIC_REFRESH)),
            OutboxMessage.done_at.is_(None),
            OutboxMessage.payload["organization_id"].as_string() == str(org_id),
        )
        if s.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        waiting = list(s.scalars(stmt))
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
    → forbidden; then the period's checks (and a limit out of range or a cursor that is not
    one, 422).

    With ``limit`` (or ``cursor``), one page of the rows in their order (organisation's name,
    then the row's name, then its id: stable between calls) and ``next_cursor`` for the next;
    ``total`` and ``total_items`` stay those of every row. The centre grouped by unit has
    twelve thousand rows: a page is what a leader reads; the drill-down by organisation
    narrows it. A subtree's page by unit or person is summed only for the organisations it
    reaches (in their order); its total and ``total_items`` come from one separate aggregate."""
    paged = limit is not None or cursor is not None
    report = _rollup(
        uow, actor, date_from, date_to, group_by, organization_id, scope, limit, cursor, paged
    )
    if report.total_items is not None:  # paged in the database
        return report
    if not paged:
        return replace(report, total_items=len(report.rows))
    return _page(report, clamp_limit(limit), cursor)


def _page(report: RollupReport, limit: int, cursor: str | None) -> RollupReport:
    """One page of a report's rows counted whole (the live ``scope=self`` ones, a subtree by
    organisation: tens of rows): the cursor holds the position of the next row and the id of
    the row before it; when rows came or went meanwhile (a unit's first figure), the page
    resumes after that row wherever it now is."""
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
    limit: int | None = None,
    cursor: str | None = None,
    paged: bool = False,
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
    page = clamp_limit(limit) if paged and group_by != GroupByAll.ORGANIZATION else None
    return _aggregate(uow, actor, org_id, org_path, date_from, date_to, group_by, page, cursor)


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


@dataclass(frozen=True)
class _Window:
    """Which rows give a period's figures (see :func:`_window`)."""

    months: tuple[dt.date, dt.date] | None  # the whole months inside (first days), flows
    plus: tuple[dt.date, ...]  # …read as these month rows
    minus: tuple[dt.date, ...]  # …less these (a year's months after the period)
    years: tuple[dt.date, ...]  # …plus these year rows
    edges: tuple[tuple[dt.date, dt.date], ...]  # the other days of the period, flows
    stock_month: dt.date  # the month of ``as_of``: its start (or end) stock from its row
    stock_days: tuple[dt.date, dt.date] | None  # daily changes added (or subtracted)
    stock_sign: int  # +1: start + changes of stock_days; -1: end − changes of stock_days


def _window(date_from: dt.date, date_to: dt.date, as_of: dt.date) -> _Window:
    """The flows of [from, to] = the monthly rows of its whole months + the daily rows of
    its ragged edges; the stock at the end of ``as_of`` = the month row's start stock + the
    daily changes from the 1st through ``as_of``, or its end stock (start + the month's
    change) − the changes after ``as_of``, whichever reads fewer days (none at a month's
    end)."""
    first_full = date_from if date_from.day == 1 else _month_after(date_from)
    end_full = (date_to + _ONE).replace(day=1)  # the 1st after the last whole month
    months: tuple[dt.date, dt.date] | None = None
    edges: list[tuple[dt.date, dt.date]] = []
    if first_full < end_full:
        months = (first_full, (end_full - _ONE).replace(day=1))
        if date_from < first_full:
            edges.append((date_from, first_full - _ONE))
        if end_full <= date_to:
            edges.append((end_full, date_to))
    else:
        edges.append((date_from, date_to))
    plus: list[dt.date] = []
    minus: list[dt.date] = []
    years: list[dt.date] = []
    if months:
        for y in range(months[0].year, months[1].year + 1):
            inside = [dt.date(y, k, 1) for k in range(1, 13)]
            inside = [d for d in inside if months[0] <= d <= months[1]]
            if len(inside) > 6:  # the year's row less the months outside the period
                years.append(dt.date(y, 1, 1))
                minus += [dt.date(y, k, 1) for k in range(1, 13) if dt.date(y, k, 1) not in inside]
            else:
                plus += inside
    month = as_of.replace(day=1)
    last = _month_after(as_of) - _ONE
    if as_of == last:
        days, sign = None, -1
    elif (as_of - month).days < (last - as_of).days:
        days, sign = (month, as_of), 1
    else:
        days, sign = (as_of + _ONE, last), -1
    return _Window(months, tuple(plus), tuple(minus), tuple(years), tuple(edges), month, days, sign)


@dataclass(frozen=True)
class _Orgs:
    """The organisations summed: a subtree (by its path) or a list (a page's)."""

    path: str | None = None
    ids: tuple[uuid.UUID, ...] = ()

    def with_path(self, t: Any) -> Any:
        """On a table with the organisation's path (one index range per subtree)."""
        if self.path is not None:
            return t.org_path.startswith(self.path, autoescape=True)
        return t.organization_id.in_(self.ids)

    def with_id(self, t: Any) -> Any:
        if self.path is not None:
            below = select(Organization.id).where(
                Organization.path.startswith(self.path, autoescape=True)
            )
            return t.organization_id.in_(below.scalar_subquery())
        return t.organization_id.in_(self.ids)


_U = ReportUnitDailyStat
# grain → the daily table of its ragged edges, the row's key there, which rows
_DAILY_OF: dict[str, tuple[Any, Any, tuple[Any, ...]]] = {
    "org": (_U, None, ()),
    "unit": (_U, _U.unit_id, (_U.unit_id.is_not(None),)),
    "user": (_D, _D.user_id, (_D.user_id.is_not(None),)),
}
_SUMMED = ("received", "done_on_time", "done_late", "open_total", "overdue_total")


def _union(grain: str, w: _Window, orgs: _Orgs, child_of: int | None = None) -> Any:
    """The monthly and daily rows of a grain weighted for the period: columns ``key`` (the
    unit or person; absent for ``org`` and the totals), ``org`` and :data:`_SUMMED`. With
    ``child_of`` (``org`` grain), ``org`` is the first ``child_of`` characters of the row's
    path: the path of the subtree's direct child it lies in (or the subtree's own)."""
    m = ReportMonthlyStat
    t, key, extra = _DAILY_OF[grain]

    def org_of(table: Any) -> Any:
        if child_of is None:
            return table.organization_id.label("org")
        return func.substr(table.org_path, 1, child_of).label("org")

    keyed = key is not None
    zero = literal(0)
    weights = [
        *((m.month == d, 1) for d in w.plus),
        *((m.month == d, -1) for d in w.minus),
    ]
    flows = case(*weights, else_=0) if weights else zero
    base = case((m.month == w.stock_month, 1), else_=0)
    change = base if w.stock_sign < 0 else zero
    months = sorted({*w.plus, *w.minus, w.stock_month})
    parts = [
        select(
            *([m.row_id.label("key")] if keyed else []),
            org_of(m),
            (m.received * flows).label("received"),
            (m.done_on_time * flows).label("done_on_time"),
            (m.done_late * flows).label("done_late"),
            (m.open_base * base + m.open * change).label("open_total"),
            (m.overdue_base * base + m.overdue * change).label("overdue_total"),
        ).where(m.grain == grain, m.span == 1, orgs.with_path(m), m.month.in_(months))
    ]
    if w.years:
        parts.append(
            select(
                *([m.row_id.label("key")] if keyed else []),
                org_of(m),
                m.received.label("received"),
                m.done_on_time.label("done_on_time"),
                m.done_late.label("done_late"),
                zero.label("open_total"),
                zero.label("overdue_total"),
            ).where(m.grain == grain, m.span == 12, orgs.with_path(m), m.month.in_(w.years))
        )
    edge = [t.day.between(a, b) for a, b in w.edges]
    stock = [t.day.between(*w.stock_days)] if w.stock_days else []
    if edge or stock:
        flow = case((or_(*edge), 1), else_=0) if edge else zero
        sign = case((stock[0], w.stock_sign), else_=0) if stock else zero
        where = orgs.with_path(t) if t is _U else orgs.with_id(t)
        spans = [*w.edges, *([w.stock_days] if w.stock_days else [])]
        first, last = min(a for a, _ in spans), max(b for _, b in spans)
        parts.append(
            select(
                *([key.label("key")] if keyed else []),
                org_of(t),
                (t.received * flow).label("received"),
                (t.done_on_time * flow).label("done_on_time"),
                (t.done_late * flow).label("done_late"),
                (t.open * sign).label("open_total"),
                (t.overdue * sign).label("overdue_total"),
            ).where(where, *extra, t.day.between(first, last), or_(*edge, *stock))
        )
    return union_all(*parts).subquery("weighted")


def _sums(u: Any) -> list[Any]:
    def total(c: Any) -> Any:
        return func.coalesce(func.sum(c), 0)

    overdue = total(u.c.overdue_total)
    return [
        total(u.c.received).label("received"),
        total(u.c.done_on_time).label("done_on_time"),
        total(u.c.done_late).label("done_late"),
        (total(u.c.open_total) - overdue).label("open"),
        overdue.label("overdue"),
    ]


def _grouped(grain: str, w: _Window, orgs: _Orgs, child_of: int | None = None) -> Any:
    """Per organisation (``org``; with ``child_of``, per direct child of the subtree) or per
    unit / person and organisation: the five figures."""
    u = _union(grain, w, orgs, child_of)
    keys = [u.c.org] if grain == "org" else [u.c.key, u.c.org]
    return select(*keys, *_sums(u)).group_by(*keys)


def _count_and_total(grain: str, w: _Window, orgs: _Orgs) -> Any:
    """One pass over a subtree's unit / person sums: how many have a figure that is not zero,
    and the five figures' totals (the sum of every row, shown or zero)."""
    u = _union(grain, w, orgs)
    per = (
        select(u.c.key, u.c.org, *(func.sum(u.c[c]).label(c) for c in _SUMMED))
        .group_by(u.c.key, u.c.org)
        .subquery("per_row")
    )
    shown = or_(*(per.c[c] != 0 for c in _SUMMED))
    overdue = func.coalesce(func.sum(per.c.overdue_total), 0)
    return select(
        func.count().filter(shown),
        func.coalesce(func.sum(per.c.received), 0),
        func.coalesce(func.sum(per.c.done_on_time), 0),
        func.coalesce(func.sum(per.c.done_late), 0),
        func.coalesce(func.sum(per.c.open_total), 0) - overdue,
        overdue,
    )


_fold = functools.lru_cache(maxsize=65_536)(fold)


def _ordered(orgs: Iterable[Any]) -> list[Any]:
    """The organisations in the published order: name (folded: Vietnamese dictionary
    order), name, id."""
    return sorted(orgs, key=lambda o: (_fold(o.name), o.name, str(o.id)))


def _aggregate(
    uow: UnitOfWork,
    actor: Actor,
    org_id: uuid.UUID,
    org_path: str,
    date_from: dt.date,
    date_to: dt.date,
    group_by: str,
    limit: int | None,
    cursor: str | None,
) -> RollupReport:
    """A subtree's figures from the monthly and daily tables; with ``limit`` (unit / person),
    one page summed in the database for the organisations it reaches."""
    with uow:
        s = uow.session
        today = local_date(uow.now())
        as_of = min(date_to, today)
        w = _window(date_from, date_to, as_of)
        subtree = _Orgs(path=org_path)
        if s.get_bind().dialect.name == "postgresql":  # a subtree's groups stay in memory
            s.execute(text("SET LOCAL work_mem = '64MB'"))
        by_org = group_by == GroupByAll.ORGANIZATION
        which = (
            or_(Organization.id == org_id, Organization.parent_id == org_id)
            if by_org
            else Organization.path.startswith(org_path, autoescape=True)
        )
        orgs = {
            o.id: o
            for o in s.execute(
                select(
                    Organization.id, Organization.name, Organization.path, Organization.parent_id
                ).where(which)
            ).all()
        }
        refreshed = s.scalar(
            select(func.min(ReportRefresh.through_day)).where(subtree.with_id(ReportRefresh))
        )
        total_items: int | None = None
        next_cursor: str | None = None
        if group_by == GroupByAll.ORGANIZATION:
            # Summed per direct child in the database (its path: the parent's + id + "/").
            child_of = len(org_path) + len(str(org_id)) + 1
            result = s.execute(_grouped("org", w, subtree, child_of)).all()
            rows = _by_child(org_id, orgs, result)
            total = _total(rows)
        else:
            grain = "unit" if group_by == GroupBy.UNIT else "user"
            order = _ordered(orgs.values())
            if limit is None:
                result = s.execute(_grouped(grain, w, subtree)).all()
                rows = _by_member(s, grain, order, result, org_path)
                total = _total(rows)
            else:
                rows, next_cursor = _member_page(s, grain, w, order, limit, cursor)
                count, *sums = s.execute(_count_and_total(grain, w, subtree)).one()
                total = ProcessingRow(None, "Tổng cộng", *(int(v) for v in sums))
                total_items = int(count)
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
            total,
            org_id,
            StatsScope.SUBTREE,
            group_by,
            "aggregate",
            refreshed,
            total_items,
            next_cursor,
        )


def _by_child(
    org_id: uuid.UUID, orgs: dict[uuid.UUID, Any], result: Sequence[Any]
) -> list[RollupRow]:
    """The organisation's own figures, then each direct child with its whole subtree (the
    result's ``org``: the path of the row's child, or the organisation's own path)."""
    by_path = {o.path: o.id for o in orgs.values()}
    sums: dict[uuid.UUID, list[int]] = {}
    for r in result:
        target = by_path.get(r.org)
        if target is not None:
            sums[target] = [
                int(r.received),
                int(r.done_on_time),
                int(r.done_late),
                int(r.open),
                int(r.overdue),
            ]
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


def _names(s: Session, grain: str, ids: Sequence[Any], org_path: str | None) -> dict[Any, str]:
    m: Any = Unit if grain == "unit" else User
    name = Unit.name if grain == "unit" else User.full_name
    if org_path is not None and len(ids) > 500:
        # The subtree's names in one range read, not a list of thousands of ids.
        found = (
            select(m.id, name)
            .join(Organization, Organization.id == m.organization_id)
            .where(Organization.path.startswith(org_path, autoescape=True))
        )
    else:
        found = select(m.id, name).where(m.id.in_(list(ids)))
    return {k: v for k, v in s.execute(found)}


def _keyed(
    result: Iterable[Any], names: dict[Any, str]
) -> dict[Any, list[tuple[tuple[str, str, str], Any, str, tuple[int, ...]]]]:
    """Per organisation, its rows with a figure, in order: (sort key, id, name, figures)."""
    out: dict[Any, list[tuple[tuple[str, str, str], Any, str, tuple[int, ...]]]] = {}
    for r in result:
        figs = tuple(int(getattr(r, f)) for f in FIGURES)
        if not any(figs):
            continue
        n = names.get(r.key, "?")
        out.setdefault(r.org, []).append(((_fold(n), n, str(r.key)), r.key, n, figs))
    for rows in out.values():
        rows.sort(key=lambda k: k[0])
    return out


def _by_member(
    s: Session, grain: str, order: Sequence[Any], result: Sequence[Any], org_path: str
) -> list[RollupRow]:
    """Every unit / person row of the subtree (no page: the export, the API without limit)."""
    per_org = _keyed(result, _names(s, grain, [r.key for r in result], org_path))
    return [
        _row(key, n, figs, organization_id=o.id, organization_name=o.name)
        for o in order
        for _, key, n, figs in per_org.get(o.id, ())
    ]


CURSOR_KIND = "m"  # a subtree's page by unit / person: [kind, org id, row name, row id]


def _member_page(
    s: Session, grain: str, w: _Window, order: Sequence[Any], limit: int, cursor: str | None
) -> tuple[list[RollupRow], str | None]:
    """One page of a subtree's unit / person rows: the organisations walked in order from the
    cursor's, summed in the database a batch at a time (16, then 64, … organisations) until
    the page is full. The cursor holds the last row's organisation, name and id: the next page
    starts after it (a row renamed or come meanwhile lands where its name puts it)."""
    start, after = 0, None
    key = decode_cursor(cursor)
    if key is not None:
        bad = ValidationError.field("cursor", "Con trỏ phân trang không hợp lệ.")
        if len(key) != 4 or key[0] != CURSOR_KIND:
            raise bad
        try:
            org = uuid.UUID(key[1])
        except ValueError:
            raise bad from None
        where = [i for i, o in enumerate(order) if o.id == org]
        if not where:  # the organisation left the subtree meanwhile
            raise bad
        start, after = where[0], (_fold(key[2]), key[2], key[3])
    out: list[RollupRow] = []
    i, size = start, 16
    while i < len(order) and len(out) <= limit:
        batch = order[i : i + size]
        i += size
        size = min(size * 4, 2048)
        result = s.execute(_grouped(grain, w, _Orgs(ids=tuple(o.id for o in batch)))).all()
        per_org = _keyed(result, _names(s, grain, [r.key for r in result], None))
        for o in batch:
            for sort_key, k, n, figs in per_org.get(o.id, ()):
                if after is not None and o.id == order[start].id and sort_key <= after:
                    continue
                out.append(_row(k, n, figs, organization_id=o.id, organization_name=o.name))
    page = out[:limit]
    if len(out) <= limit:
        return page, None
    last = page[-1]
    return page, encode_cursor([CURSOR_KIND, last.organization_id, last.name, last.id])


def as_local_midnight(day: dt.date) -> dt.datetime:
    return start_of_day(day)


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
        figures, window = stock_and_flows(date_from, date_to, as_of)
        row = uow.session.execute(
            select(*figures).where(t.organization_id == organization_id, t.unit_level == 1, window)
        ).one()
        return dict(zip(FIGURES, (int(v) for v in row), strict=True))
