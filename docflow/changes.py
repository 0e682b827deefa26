"""The change log behind the phone's change feed and the cheap list validators (issue #20).

Every flush that creates, modifies or deletes a document, a task, a notification or a citizen
feedback item (or one of their parts: assignments, files, trail entries, reviews, signing
sessions, deliveries, co-operators) adds one row per changed object to ``changes``, in the same
transaction: a change that is rolled back leaves no row, a committed one always has its row.
The rows are written by a session hook (installed once per process, like the roll-up's), so no
service can forget it; bulk statements that bypass the ORM call :func:`record` themselves.

Ordering. ``seq`` is a sequence: numbers are taken in insertion order, not commit order, so a
reader that remembered "up to seq N" could miss a transaction that took N-1 and committed after
it read. Each row therefore carries its transaction id (``txid``) and readers order by
``(txid, seq)`` and only go past rows whose transaction is older than every transaction still
running (``pg_snapshot_xmin``): nothing can later appear behind such a position. On SQLite
(one writer at a time) ``txid`` is 0 and ``seq`` is the commit order.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    event,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    text,
    true,
    tuple_,
)
from sqlalchemy.orm import Session

from docflow.db import rows, utcnow
from docflow.models import (
    Assignment,
    Change,
    Delivery,
    Document,
    DocumentFile,
    DraftVersion,
    FeedbackFile,
    FeedbackItem,
    FeedbackTrailEntry,
    Notification,
    Review,
    SigningSession,
    Task,
    TaskAttachment,
    TaskCooperator,
    TaskTrailEntry,
    TrailEntry,
    User,
)


class ChangeKind(StrEnum):
    DOCUMENT = "document"
    TASK = "task"
    NOTIFICATION = "notification"
    FEEDBACK = "feedback"


class ChangeType(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    REMOVED = "removed"


#: The objects the feed names, and the table each kind's organisation is read from.
ROOTS: dict[type, ChangeKind] = {
    Document: ChangeKind.DOCUMENT,
    Task: ChangeKind.TASK,
    Notification: ChangeKind.NOTIFICATION,
    FeedbackItem: ChangeKind.FEEDBACK,
}
#: Parts whose change is a change of their object: (kind, the attribute holding its id).
PARTS: dict[type, tuple[ChangeKind, str]] = {
    Assignment: (ChangeKind.DOCUMENT, "document_id"),
    DocumentFile: (ChangeKind.DOCUMENT, "document_id"),
    TrailEntry: (ChangeKind.DOCUMENT, "document_id"),
    DraftVersion: (ChangeKind.DOCUMENT, "document_id"),
    Review: (ChangeKind.DOCUMENT, "document_id"),
    SigningSession: (ChangeKind.DOCUMENT, "document_id"),
    Delivery: (ChangeKind.DOCUMENT, "document_id"),
    TaskCooperator: (ChangeKind.TASK, "task_id"),
    TaskAttachment: (ChangeKind.TASK, "task_id"),
    TaskTrailEntry: (ChangeKind.TASK, "task_id"),
    FeedbackTrailEntry: (ChangeKind.FEEDBACK, "feedback_id"),
    FeedbackFile: (ChangeKind.FEEDBACK, "feedback_id"),
}
#: ``session.info`` keys: what this transaction already logged; the clock of the unit of work.
SEEN = "change_feed_seen"
CLOCK = "change_feed_clock"
#: Above every transaction id: SQLite's rows (txid 0) are all settled.
NO_RUNNING = 2**62


@dataclass(frozen=True, order=True)
class Position:
    """A place in the change log: everything at or before ``(txid, seq)`` has been read."""

    txid: int
    seq: int


def _is_pg(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def txid_expr(session: Session) -> ColumnElement[int]:
    """The current transaction's id, as a BIGINT (0 on SQLite)."""
    if _is_pg(session):
        return literal_column("(pg_current_xact_id()::text)::bigint")
    return literal(0)


#: PostgreSQL: the oldest transaction still running (every smaller id has ended).
_SETTLED_BELOW = "(pg_snapshot_xmin(pg_current_snapshot())::text)::bigint"


def settled_below(session: Session) -> int:
    """Every transaction with a smaller id has ended (committed or rolled back)."""
    if not _is_pg(session):
        return NO_RUNNING
    return int(session.execute(select(literal_column(_SETTLED_BELOW))).scalar_one())


def own_txid(session: Session) -> int | None:
    """This transaction's id if it wrote anything (its own rows are settled for itself)."""
    if not _is_pg(session):
        return None
    value: int | None = session.execute(
        select(literal_column("(pg_current_xact_id_if_assigned()::text)::bigint"))
    ).scalar_one()
    return None if value is None else int(value)


def settled_clause(session: Session, below_txid: int | None = None) -> ColumnElement[bool]:
    """SQL: the rows no earlier transaction can still join (``below_txid``: a given bound
    instead of the running transactions', for tests)."""
    bound = settled_below(session) if below_txid is None else below_txid
    below = Change.txid < bound
    own = own_txid(session)
    return or_(below, Change.txid == own) if own is not None else below


# --- writing ---------------------------------------------------------------------------------


def record(
    session: Session, kind: ChangeKind, ids: Iterable[uuid.UUID], change: ChangeType
) -> None:
    """Log ``change`` of the objects ``ids`` of ``kind`` (once per object and transaction;
    a removal is always logged). Their organisation is read from their table, so call it while
    the objects still exist (removals of vanished objects go through :func:`_record_removed`)."""
    seen: dict[tuple[str, uuid.UUID], str] = session.info.setdefault(SEEN, {})
    fresh = sorted(
        {
            i
            for i in ids
            if (i is not None and (kind, i) not in seen) or change is ChangeType.REMOVED
        }
    )
    if not fresh:
        return
    for i in fresh:
        seen[(kind, i)] = change
    clock: Callable[[], dt.datetime] = session.info.get(CLOCK, utcnow)
    common = (
        txid_expr(session).label("txid"),
        literal(kind.value).label("kind"),
        literal(change.value).label("change"),
        literal(clock(), type_=Change.at.type).label("at"),
    )
    cols = ["txid", "kind", "change", "at", "object_id", "organization_id", "user_id"]
    source: Any
    if kind is ChangeKind.NOTIFICATION:
        source = (
            select(*common, Notification.id, User.organization_id, Notification.user_id)
            .join(User, User.id == Notification.user_id)
            .where(Notification.id.in_(fresh))
        )
    else:
        table: Any = {ChangeKind.DOCUMENT: Document, ChangeKind.TASK: Task}.get(kind, FeedbackItem)
        source = select(
            *common, table.id, table.organization_id, literal(None, type_=Change.user_id.type)
        ).where(table.id.in_(fresh))
    session.connection().execute(insert(Change).from_select(cols, source))


def _record_removed(session: Session, obj: Any, kind: ChangeKind) -> None:
    seen: dict[tuple[str, uuid.UUID], str] = session.info.setdefault(SEEN, {})
    seen[(kind, obj.id)] = ChangeType.REMOVED
    user_id = obj.user_id if kind is ChangeKind.NOTIFICATION else None
    if kind is ChangeKind.NOTIFICATION:
        org = (
            session.connection()
            .execute(select(User.organization_id).where(User.id == obj.user_id))
            .scalar()
        )
    else:
        org = obj.organization_id
    if org is None:
        return
    clock: Callable[[], dt.datetime] = session.info.get(CLOCK, utcnow)
    session.connection().execute(
        insert(Change).values(
            txid=txid_expr(session),
            kind=kind.value,
            object_id=obj.id,
            change=ChangeType.REMOVED.value,
            organization_id=org,
            user_id=user_id,
            at=clock(),
        )
    )


def _after_flush(session: Session, _ctx: Any) -> None:
    touched: dict[tuple[ChangeKind, ChangeType], set[uuid.UUID]] = {}

    def mark(kind: ChangeKind, change: ChangeType, object_id: uuid.UUID | None) -> None:
        if object_id is not None:
            touched.setdefault((kind, change), set()).add(object_id)

    for obj in session.new:
        if type(obj) in ROOTS:
            mark(ROOTS[type(obj)], ChangeType.CREATED, obj.id)
        elif type(obj) in PARTS:
            kind, attr = PARTS[type(obj)]
            mark(kind, ChangeType.UPDATED, getattr(obj, attr))
    for obj in session.dirty:
        cls = type(obj)
        if (cls in ROOTS or cls in PARTS) and session.is_modified(obj, include_collections=False):
            if cls in ROOTS:
                mark(ROOTS[cls], ChangeType.UPDATED, obj.id)
            else:
                kind, attr = PARTS[cls]
                mark(kind, ChangeType.UPDATED, getattr(obj, attr))
    for obj in session.deleted:
        if type(obj) in ROOTS:
            _record_removed(session, obj, ROOTS[type(obj)])
        elif type(obj) in PARTS:
            kind, attr = PARTS[type(obj)]
            mark(kind, ChangeType.UPDATED, getattr(obj, attr))
    # Created before updated: an object made and touched in one flush is "created".
    for change in (ChangeType.CREATED, ChangeType.UPDATED):
        for kind in ChangeKind:
            ids = touched.get((kind, change))
            if ids:
                record(session, kind, ids, change)


def _after_end(session: Session, *_: Any) -> None:
    session.info.pop(SEEN, None)


def install() -> None:
    """Write the change log from every session's flushes (once per process)."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "after_commit", _after_end)
        event.listen(Session, "after_rollback", _after_end)


# --- reading ---------------------------------------------------------------------------------


def scope_clause(organization_id: uuid.UUID, user_id: uuid.UUID) -> ColumnElement[bool]:
    """The rows that may concern one person: their organisation's, less others' notifications."""
    return and_(
        Change.organization_id == organization_id,
        or_(Change.user_id.is_(None), Change.user_id == user_id),
    )


def head(session: Session, scope: ColumnElement[bool]) -> Position:
    """A position behind which nothing can appear any more: the start of a feed "from now"
    (every transaction older than the running ones, and this transaction's own rows)."""
    position = Position(settled_below(session) - 1, NO_RUNNING)
    own = own_txid(session)
    if own is not None:
        last = session.execute(
            select(func.max(Change.seq)).where(scope, Change.txid == own)
        ).scalar()
        if last is not None:
            position = max(position, Position(own, int(last)))
    return position


def after(position: Position) -> ColumnElement[bool]:
    return tuple_(Change.txid, Change.seq) > tuple_(literal(position.txid), literal(position.seq))


#: The floor of :func:`organization_validator` moves in steps of this many transactions.
QUANTUM = 4096


_PG_ORGANIZATION_VALIDATOR = text(
    f"WITH f AS (SELECT b - b % :quantum AS floor FROM (SELECT {_SETTLED_BELOW} AS b) AS s)"
    " SELECT f.floor, (SELECT count(*) FROM changes"
    " WHERE changes.organization_id = :org AND changes.txid >= f.floor) FROM f"
).bindparams(quantum=QUANTUM)


def organization_validator(session: Session, organization_id: uuid.UUID) -> str:
    """A value that changes whenever a row is added to the organisation's log, read from the
    index alone.

    It is a floor ``F`` (the oldest running transaction, rounded down to :data:`QUANTUM`) and the
    number of the organisation's rows whose transaction is at or above ``F``. A row that was not
    visible at an earlier read belongs to a transaction that was running or not yet started
    then, so its id is at least that read's floor: with the same floor, the count has grown.
    The count covers only recent transactions (a few index entries), and the floor moves once
    per :data:`QUANTUM` transactions (then every tag changes once: a spurious 200, never a
    wrong 304). On PostgreSQL the floor and the count are one statement (issue 19: every box,
    badge and list read asks for it)."""
    if _is_pg(session):
        row = rows(session, _PG_ORGANIZATION_VALIDATOR, {"org": organization_id}).one()
        return f"{int(row[0])}:{int(row[1])}"
    # SQLite: nothing runs beside a reader (settled_below), so the floor is 0 and every row
    # of the organisation counts.
    recent = session.execute(
        select(func.count()).where(Change.organization_id == organization_id)
    ).scalar_one()
    return f"0:{int(recent)}"


def object_validator_statement(seen: ColumnElement[bool] | None = None) -> Select[Any]:
    """An object's validator, a value that changes whenever the object is logged again: its
    rows' count and last seq (:func:`validator_of` reads the row). The object's id is the
    parameter ``object_id``, so the statement can be built once and kept. With ``seen`` (a
    condition: may the caller see the object?) both come in one statement."""
    stats = (
        select(func.count().label("n"), func.max(Change.seq).label("last"))
        .where(Change.object_id == bindparam("object_id"))
        .subquery()
    )
    return select(stats.c.n, stats.c.last, (seen if seen is not None else true()).label("seen"))


def validator_of(row: Any) -> str | None:
    """The validator of a row of :func:`object_validator_statement` (None: the ``seen``
    condition does not hold)."""
    if not row.seen:
        return None
    return f"{int(row.n)}.{row.last or 0}"
