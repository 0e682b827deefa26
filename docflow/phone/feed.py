"""The phone's change feed (``GET /api/v1/changes``): what changed for the caller since a
position of the change log (:mod:`docflow.changes`), and the cheap validators of the lists.

Visibility and clearance are applied in the query, per kind, with the same clauses as the
lists: a document's change is listed only if the caller can see the document now (its
organisation, their clearance, their involvement unless they see the whole organisation); a
task's likewise; a notification only to the person it is for; a feedback item only to the
organisation's feedback officers. A removed document or task (nothing is left to check) is
listed only to those who see all of the organisation's documents or tasks.

Each call reads at most :data:`SCAN` rows of the organisation's log, so its cost does not depend
on how much the caller cannot see; the position moves past what was read either way.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    case,
    exists,
    false,
    literal,
    or_,
    select,
)

from docflow import audit, changes, feedback, tasks
from docflow.actors import Actor
from docflow.changes import ChangeKind, ChangeType, Position
from docflow.db import rows
from docflow.documents import access, shapes
from docflow.models import Change, Document, Task
from docflow.pagination import clamp_limit
from docflow.uow import UnitOfWork

#: Rows of the organisation's log read per call at most (visible to the caller or not).
SCAN = 1000


@dataclass(frozen=True)
class ChangeItem:
    kind: ChangeKind
    id: uuid.UUID
    change: ChangeType
    at: dt.datetime


@dataclass(frozen=True)
class FeedPage:
    """``items`` oldest first; ``position`` where the next call starts; ``more``: call again
    now (the page was cut by ``limit`` or by :data:`SCAN`)."""

    items: list[ChangeItem]
    position: Position
    more: bool


def _visible(actor: Actor) -> ColumnElement[bool]:
    removed = Change.change == ChangeType.REMOVED.value
    document = or_(
        exists(
            select(Document.id).where(Document.id == Change.object_id, access.visible_clause(actor))
        ),
        and_(removed, literal(access.sees_whole_organisation(actor))),
    )
    task = or_(
        exists(select(Task.id).where(Task.id == Change.object_id, tasks.visible_clause(actor))),
        and_(removed, literal(tasks.sees_every_task(actor))),
    )
    return case(
        (Change.kind == ChangeKind.DOCUMENT.value, document),
        (Change.kind == ChangeKind.TASK.value, task),
        (Change.kind == ChangeKind.NOTIFICATION.value, Change.user_id == actor.user_id),
        (Change.kind == ChangeKind.FEEDBACK.value, literal(feedback.is_feedback_officer(actor))),
        else_=false(),
    )


def changes_since(
    uow: UnitOfWork, actor: Actor, since: Position | None, limit: int | None = None
) -> FeedPage:
    """The changes the caller may see after ``since``; without ``since``, none and the
    position of "now" (a phone loads its lists, then follows the feed from there)."""
    limit = clamp_limit(limit)
    with uow:
        s = uow.session
        scope = changes.scope_clause(actor.organization_id, actor.user_id)
        if since is None:
            return FeedPage([], changes.head(s, scope), False)
        rows = s.execute(
            select(
                Change.txid,
                Change.seq,
                Change.kind,
                Change.object_id,
                Change.change,
                Change.at,
                _visible(actor).label("visible"),
            )
            .where(scope, changes.settled_clause(s), changes.after(since))
            .order_by(Change.txid, Change.seq)
            .limit(SCAN)
        ).all()
    taken: list[Any] = []
    position, cut = since, len(rows) == SCAN
    for row in rows:
        if row.visible:
            if len(taken) == limit:
                cut = True
                break
            taken.append(row)
        position = Position(int(row.txid), int(row.seq))
    return FeedPage(_collapse(taken), position, cut)


def _collapse(rows: Sequence[Any]) -> list[ChangeItem]:
    """One item per object, at its last change; "created" stays "created" unless removed."""
    latest: dict[tuple[str, uuid.UUID], ChangeItem] = {}
    for row in rows:
        key = (row.kind, row.object_id)
        change = ChangeType(row.change)
        before = latest.pop(key, None)
        if (
            before is not None
            and before.change is ChangeType.CREATED
            and change is not ChangeType.REMOVED
        ):
            change = ChangeType.CREATED
        latest[key] = ChangeItem(
            ChangeKind(row.kind),
            row.object_id,
            change,
            row.at,
        )
    return list(latest.values())


def list_validator(uow: UnitOfWork, actor: Actor) -> str:
    """Changes whenever anything in the caller's organisation's log changes (two index reads):
    a list computed for this caller is the same as long as this value is."""
    with uow:
        return changes.organization_validator(uow.session, actor.organization_id)


def document_validator(uow: UnitOfWork, actor: Actor, document_id: uuid.UUID) -> str | None:
    """The validator of one document for this caller, or None when they may not see it (the
    read itself then answers 404)."""
    # One statement: whether the caller may see it, and its log's count and last seq; kept
    # per reader shape (docflow.documents.shapes).
    kept = shapes.for_reader(_seen_and_logged, actor)
    assert kept is not None
    stmt, params = kept
    with uow:
        row = rows(uow.session, stmt, {**params, "object_id": document_id}).one()
        return changes.validator_of(row)


def _seen_and_logged(actor: Actor) -> Select[Any]:
    seen = exists().where(Document.id == bindparam("object_id"), access.visible_clause(actor))
    return changes.object_validator_statement(seen)


def record_cached_read(uow: UnitOfWork, actor: Actor, document_id: uuid.UUID) -> None:
    """A document answered 304 is still a read the audit log records (without the body)."""
    with uow:
        audit.record_read(
            uow,
            actor,
            "document.read",
            object_type="document",
            object_id=document_id,
            organization_id=actor.organization_id,
            cached=True,
        )
        uow.commit()
