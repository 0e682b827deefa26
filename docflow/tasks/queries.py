"""Reading tasks: one task with its derived facts, the follow-up lists, the trail.

Lists are keyset-paginated on (due_date, id): the nearest deadline first, which is the order a
person following up wants, and what the indexes on (…, due_date, id) serve.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select, union_all
from sqlalchemy.orm import Session, joinedload, raiseload

from docflow import audit
from docflow.actors import Actor
from docflow.documents import access, shapes
from docflow.enums import Role
from docflow.errors import NotFoundError, PermissionDeniedError, ValidationError
from docflow.models import Task, TaskAttachment, TaskCooperator, TaskTrailEntry, User
from docflow.pagination import Page, clamp_limit, decode_cursor, encode_cursor
from docflow.search import task_text_condition
from docflow.tasks import policy
from docflow.tasks.deadlines import DeadlineStatus, deadline_status, last_working_day, load_window
from docflow.tasks.states import OPEN_STATES, TaskAction, TaskState
from docflow.uow import UnitOfWork
from docflow.workdays import WorkCalendar, local_date


class Box(StrEnum):
    MINE = "mine"  # I lead it or co-operate on it
    ASSIGNED_BY_ME = "assigned_by_me"
    UNIT = "unit"  # my unit leads it or co-operates on it
    ALL = "all"  # the whole organisation (leaders)


@dataclass(frozen=True)
class PersonRef:
    id: uuid.UUID
    name: str


@dataclass(frozen=True)
class TaskView:
    """A task with what is derived from it for the reader.

    Attributes:
        task: the task (relationships loaded; readable after the session closed).
        status: overdue, days late / left (derived from the deadline and the calendar).
        allowed_actions: what the reader may do now.
        children: the sub-tasks, with their own status.
        children_progress: mean progress of the live sub-tasks (done counts 100).
        extension_decider: who decides the pending extension request, if any.
        document_id: the document the task comes from, only when the reader may see it (a
            task linked to a document above the reader's clearance shows no link at all).
    """

    task: Task
    status: DeadlineStatus
    allowed_actions: tuple[TaskAction, ...] = ()
    children: tuple[TaskView, ...] = field(default_factory=tuple)
    children_progress: int | None = None
    extension_decider: PersonRef | None = None
    document_id: uuid.UUID | None = None

    @property
    def id(self) -> uuid.UUID:
        return self.task.id


def status_of(cal: WorkCalendar, task: Task, today: dt.date) -> DeadlineStatus:
    state = TaskState(task.state)
    return deadline_status(
        cal,
        due=task.due_date,
        today=today,
        is_open=state.is_open,
        finished_on=task.submitted_on if state is TaskState.DONE else None,
    )


def extension_decider_id(s: Session, task: Task, new_due: dt.date) -> uuid.UUID:
    """Who decides an extension to ``new_due``: the assigner, or, when the new date is beyond
    the parent task's deadline, whoever decides for the parent (a unit head cannot give more
    time than the unit was given)."""
    current = task
    while current.parent_id is not None:
        parent = s.get(Task, current.parent_id)
        if parent is None or new_due <= parent.due_date:
            break
        current = parent
    return current.assigner_id


def load_task(s: Session, task_id: uuid.UUID, *, lock: bool = False) -> Task | None:
    stmt = select(Task).where(Task.id == task_id).execution_options(populate_existing=True)
    if lock:
        stmt = stmt.with_for_update(of=Task)
    return s.scalars(stmt).unique().one_or_none()


def build_view(uow: UnitOfWork, actor: Actor, task: Task) -> TaskView:
    """The reader's view of ``task``, inside the caller's transaction."""
    s = uow.session
    today = local_date(uow.now())
    children = list(
        s.scalars(select(Task).where(Task.parent_id == task.id).order_by(Task.created_at, Task.id))
    )
    dues = [task.due_date, *(c.due_date for c in children)]
    cal = load_window(s, min([today, *dues]), max([today, *dues]))
    decider = None
    if task.extension_due_date is not None:
        decider_id = extension_decider_id(s, task, task.extension_due_date)
        decider_user = s.get(User, decider_id)
        decider = PersonRef(decider_id, decider_user.full_name if decider_user else "")
    live = [c for c in children if c.state != TaskState.CANCELLED]
    open_children = sum(1 for c in live if TaskState(c.state).is_open)
    progress = None
    if live:
        progress = round(
            sum(100 if c.state == TaskState.DONE else c.progress for c in live) / len(live)
        )
    actions = policy.allowed_actions(
        actor, task, decider_id=decider.id if decider else None, open_children=open_children
    )
    linked = access.find_visible(s, actor, task.document_id)
    return TaskView(
        task=task,
        status=status_of(cal, task, today),
        allowed_actions=tuple(actions),
        children=tuple(TaskView(c, status_of(cal, c, today)) for c in children),
        children_progress=progress,
        extension_decider=decider,
        document_id=linked.id if linked is not None else None,
    )


def get_task(uow: UnitOfWork, actor: Actor, task_id: uuid.UUID) -> TaskView:
    with uow:
        task = policy.ensure_visible(actor, load_task(uow.session, task_id))
        audit.record_read(uow, actor, "task.read", task)
        return build_view(uow, actor, task)


def visible_clause(actor: Actor) -> ColumnElement[bool]:
    """SQL: the tasks ``actor`` may see (the twin of :func:`policy.can_view`)."""
    org = Task.organization_id == actor.organization_id
    if policy.sees_every_task(actor):
        return org
    me = actor.user_id
    coop = [TaskCooperator.user_id == me]
    involved = [Task.assigner_id == me, Task.lead_user_id == me]
    if actor.unit_id is not None:
        coop.append(TaskCooperator.unit_id == actor.unit_id)
        involved.append(Task.lead_unit_id == actor.unit_id)
    cooperating = exists(
        select(TaskCooperator.id).where(TaskCooperator.task_id == Task.id, or_(*coop))
    )
    return and_(org, or_(*involved, cooperating))


def _box_filter(actor: Actor, box: Box) -> Select[Task]:
    stmt = select(Task).where(Task.organization_id == actor.organization_id)
    is_head = actor.has_role(Role.UNIT_HEAD)
    if box is Box.ALL:
        if not actor.has_role(Role.LEADER):
            raise PermissionDeniedError("Chỉ lãnh đạo cơ quan xem được mọi nhiệm vụ.")
        return stmt
    if box is Box.ASSIGNED_BY_ME:
        return stmt.where(Task.assigner_id == actor.user_id)
    # Each reason a task is in the box is its own indexed set of ids, merged: an OR of them
    # over the organisation's tasks was estimated as a large share of the organisation, and
    # PostgreSQL planned a parallel scan of all its tasks (a worker process started per
    # request) for a person who leads thirty (issue 19).
    coop = select(TaskCooperator.task_id)
    if box is Box.UNIT:
        if actor.unit_id is None:
            return stmt.where(Task.id.is_(None))
        return stmt.where(
            Task.id.in_(
                union_all(
                    select(Task.id).where(Task.lead_unit_id == actor.unit_id),
                    coop.where(TaskCooperator.unit_id == actor.unit_id),
                )
            )
        )
    mine = [
        select(Task.id).where(Task.lead_user_id == actor.user_id),
        coop.where(TaskCooperator.user_id == actor.user_id),
    ]
    if is_head and actor.unit_id is not None:
        mine += [
            select(Task.id).where(Task.lead_user_id.is_(None), Task.lead_unit_id == actor.unit_id),
            coop.where(TaskCooperator.unit_id == actor.unit_id),
        ]
    return stmt.where(Task.id.in_(union_all(*mine)))


# A list shows the title, the people and the deadline: load just those people (without their
# organisation, unit and roles), never the co-operators or files (touching them raises).
_PERSON = (raiseload(User.role_rows), raiseload(User.organization), raiseload(User.unit))
LIST_LOADING = (
    raiseload(Task.cooperators),
    raiseload(Task.attachments),
    joinedload(Task.assigner).options(*_PERSON),
    joinedload(Task.lead_user).options(*_PERSON),
)


def _page(
    actor: Actor,
    box: Box,
    state: TaskState | None,
    open_only: bool,
    cutoff: dt.date | None,
    limit: int,
) -> Select[Task]:
    """A box's tasks in their order, at most ``limit``: of ``state``, open ones, and (a
    ``cutoff``) those due before it."""
    stmt = _box_filter(actor, box)
    if state is not None:
        stmt = stmt.where(Task.state == state.value)
    if open_only or cutoff is not None:
        stmt = stmt.where(Task.state.in_([st.value for st in OPEN_STATES]))
    if cutoff is not None:
        stmt = stmt.where(Task.due_date < cutoff)
    return stmt.options(*LIST_LOADING).order_by(Task.due_date, Task.id).limit(limit)


def list_tasks(
    uow: UnitOfWork,
    actor: Actor,
    *,
    box: Box = Box.MINE,
    state: TaskState | None = None,
    open_only: bool = False,
    overdue: bool = False,
    limit: int | None = None,
    cursor: str | None = None,
    q: str | None = None,
) -> Page[TaskView]:
    """A follow-up list, nearest deadline first. ``overdue`` keeps open tasks at least one
    working day past their deadline (computed in SQL from one cut-off date). ``q`` keeps the
    tasks whose title, description or files' text hold its words (docflow.search), inside the
    box's own visibility."""
    limit = clamp_limit(limit)
    page: tuple[Select[Task], dict[str, Any]] | None = None
    with uow:
        s = uow.session
        today = local_date(uow.now())
        cutoff = last_working_day(load_window(s, today, today), today) if overdue else None
        if not q and not cursor:
            # The first page of a box: kept per reader shape (docflow.documents.shapes).
            page = shapes.for_reader(_page, actor, box, state, open_only, cutoff, limit + 1)
        if page is None:
            # The box's refusal (403) first, then the search's, then the cursor's (422).
            stmt = _page(actor, box, state, open_only, cutoff, limit + 1)
            if q:
                postgres = s.get_bind().dialect.name == "postgresql"
                stmt = stmt.where(task_text_condition(actor, q, postgres=postgres)[0])
            after = decode_cursor(cursor)
            if after:
                try:
                    due, last_id = dt.date.fromisoformat(after[0]), uuid.UUID(after[1])
                except (ValueError, IndexError) as exc:
                    raise ValidationError.field(
                        "cursor", "Con trỏ phân trang không hợp lệ."
                    ) from exc
                stmt = stmt.where(
                    or_(Task.due_date > due, and_(Task.due_date == due, Task.id > last_id))
                )
            page = (stmt, {})
        rows = s.scalars(*page).unique().all()
        more = len(rows) > limit
        rows = rows[:limit]
        if not rows:
            return Page([], None)
        cal = load_window(s, min(today, rows[0].due_date), max(today, rows[-1].due_date))
        views = [TaskView(t, status_of(cal, t, today)) for t in rows]
        nxt = encode_cursor([rows[-1].due_date.isoformat(), rows[-1].id]) if more else None
        return Page(views, nxt)


def count_overdue(uow: UnitOfWork, actor: Actor) -> int:
    """How many open tasks of the actor's own box (``mine``) are at least one working day late
    (the phone's badge); the same rule as ``list_tasks(overdue=True)``."""
    with uow:
        s = uow.session
        today = local_date(uow.now())
        cutoff = last_working_day(load_window(s, today, today), today)
        stmt = (
            _box_filter(actor, Box.MINE)
            .where(Task.state.in_([st.value for st in OPEN_STATES]), Task.due_date < cutoff)
            .with_only_columns(func.count(func.distinct(Task.id)))
        )
        return int(s.scalar(stmt) or 0)


@dataclass(frozen=True)
class TrailStep:
    """One step of the trail with the files attached at that step."""

    entry: TaskTrailEntry
    files: Sequence[TaskAttachment]


def task_trail(uow: UnitOfWork, actor: Actor, task_id: uuid.UUID) -> list[TrailStep]:
    """The trail, oldest first."""
    with uow:
        task = policy.ensure_visible(actor, load_task(uow.session, task_id))
        entries = uow.session.scalars(
            select(TaskTrailEntry)
            .where(TaskTrailEntry.task_id == task.id)
            .order_by(TaskTrailEntry.seq)
        ).all()
        by_seq: dict[int, list[TaskAttachment]] = {}
        for f in task.attachments:
            by_seq.setdefault(f.trail_seq, []).append(f)
        return [TrailStep(e, tuple(by_seq.get(e.seq, ()))) for e in entries]


def get_attachment(
    uow: UnitOfWork, actor: Actor, task_id: uuid.UUID, file_id: uuid.UUID
) -> TaskAttachment:
    """A file of a task the actor can see (else 404)."""
    with uow:
        task = policy.ensure_visible(actor, load_task(uow.session, task_id))
        for f in task.attachments:
            if f.id == file_id:
                audit.record_read(uow, actor, "task.file_read", f, task_id=str(task.id))
                return f
        raise NotFoundError("Không tìm thấy tệp.", code="file_not_found")
