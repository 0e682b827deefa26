"""Use cases of tasks: assign, split, and every move of API.md §5.

Each is one transaction: load (and lock) the task (404 if invisible), then the action engine
(:mod:`docflow.engine`): who may act (:mod:`policy`, 403), the move (:mod:`states`, 409), the
parameters (422), the effect, the trail and the audit entry; notify, commit. A refusal
raises before anything is written, so bad input changes nothing.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from docflow import engine
from docflow.actors import Actor, DelegatedRole
from docflow.documents import access
from docflow.engine import Effect, Move
from docflow.enums import Role
from docflow.errors import ConflictError, PermissionDeniedError, ValidationError
from docflow.models import Task, TaskCooperator, TaskTrailEntry, Unit, User
from docflow.statistics import statistics_changed
from docflow.tasks import actions, notices, policy
from docflow.tasks.commands import (
    ActionCommand,
    CreateSubtask,
    CreateTask,
    Deadline,
    Party,
)
from docflow.tasks.files import attach
from docflow.tasks.queries import TaskView, build_view, extension_decider_id, load_task
from docflow.tasks.states import TaskAction, TaskState, next_state
from docflow.tasks.trail import append
from docflow.uow import UnitOfWork
from docflow.uploads import Upload
from docflow.workdays import due_after, local_date


def _party(
    uow: UnitOfWork, actor: Actor, party: Party, field: str
) -> tuple[Unit | None, User | None]:
    """Resolve a unit or person of the actor's organisation (else a 422 on ``field``)."""
    s = uow.session
    if party.unit_id is not None:
        unit = s.get(Unit, party.unit_id)
        if unit is None or unit.organization_id != actor.organization_id or not unit.active:
            raise ValidationError.field(field, "Đơn vị không thuộc cơ quan của bạn.")
        return unit, None
    user = s.get(User, party.user_id)
    if user is None or user.organization_id != actor.organization_id or not user.active:
        raise ValidationError.field(field, "Người được giao không thuộc cơ quan của bạn.")
    return user.unit, user


def _due(uow: UnitOfWork, cmd: Deadline, today: dt.date) -> dt.date:
    if cmd.due_date is not None:
        if cmd.due_date < today:
            raise ValidationError.field("due_date", "Hạn hoàn thành không được trước hôm nay.")
        return cmd.due_date
    assert cmd.due_in_working_days is not None
    return due_after(uow.session, today, cmd.due_in_working_days)


def _assigner_role(actor: Actor) -> DelegatedRole | None:
    if actor.has_role(Role.LEADER):
        return actor.acting_for(Role.LEADER)
    if actor.has_role(Role.UNIT_HEAD):
        return actor.acting_for(Role.UNIT_HEAD)
    raise PermissionDeniedError(
        "Chỉ lãnh đạo cơ quan hoặc lãnh đạo đơn vị được giao nhiệm vụ.", code="cannot_assign"
    )


def _new_task(
    uow: UnitOfWork,
    actor: Actor,
    cmd: CreateTask | CreateSubtask,
    *,
    parent: Task | None,
    own_unit_only: bool,
    files: Sequence[Upload],
    acting: DelegatedRole | None,
) -> Task:
    s = uow.session
    today = local_date(uow.now())
    lead_unit, lead_user = _party(uow, actor, cmd.lead, "lead")
    coops = [_party(uow, actor, p, f"cooperating.{i}") for i, p in enumerate(cmd.cooperating)]
    if own_unit_only:
        for i, (unit, user) in enumerate([(lead_unit, lead_user), *coops]):
            if actor.unit_id is None or unit is None or unit.id != actor.unit_id or user is None:
                where = "lead" if i == 0 else f"cooperating.{i - 1}"
                raise ValidationError.field(where, "Chỉ giao cho người trong đơn vị của bạn.")
    document_id = getattr(cmd, "document_id", None)
    # Only a document the assigner can see; an invisible one reads as a missing one.
    if document_id is not None and access.find_visible(s, actor, document_id) is None:
        raise ValidationError.field("document_id", "Văn bản không thuộc cơ quan của bạn.")
    due = _due(uow, cmd, today)
    if parent is not None and due > parent.due_date:
        raise ValidationError.field(
            "due_date", "Hạn của việc con không được sau hạn của nhiệm vụ chính."
        )
    lead_key = (lead_unit.id if lead_unit else None, lead_user.id if lead_user else None)
    seen: set[tuple[uuid.UUID | None, uuid.UUID | None]] = {lead_key}
    cooperators: list[TaskCooperator] = []
    for unit, user in coops:
        key = (None, user.id) if user else (unit.id if unit else None, None)
        if key in seen or (user is not None and user.id == lead_key[1]):
            continue
        seen.add(key)
        cooperators.append(
            TaskCooperator(
                position=len(cooperators),
                unit_id=None if user else (unit.id if unit else None),
                user_id=user.id if user else None,
            )
        )
    priority = cmd.priority or (parent.priority if parent else "normal")
    task = Task(
        organization_id=actor.organization_id,
        parent_id=parent.id if parent else None,
        document_id=document_id,
        title=cmd.title,
        description=cmd.description,
        priority=str(priority),
        state=TaskState.ASSIGNED.value,
        assigner_id=actor.user_id,
        assigner_unit_id=actor.unit_id,
        lead_unit_id=lead_unit.id if lead_unit else None,
        lead_user_id=lead_user.id if lead_user else None,
        due_date=due,
        original_due_date=due,
        created_at=uow.now(),
        cooperators=cooperators,
    )
    s.add(task)
    s.flush()
    entry = append(
        uow,
        task,
        TaskAction.ASSIGN,
        actor=actor,
        from_state=None,
        acting=acting,
        details={
            "due_date": due.isoformat(),
            "lead": {
                "unit_id": str(lead_key[0]) if lead_key[0] else None,
                "user_id": str(lead_key[1]) if lead_key[1] else None,
            },
            **({"parent_id": str(parent.id)} if parent else {}),
        },
    )
    attach(uow, actor, task, entry.seq, files)
    s.flush()
    s.refresh(task)
    notices.tell(
        uow,
        notices.lead_people(uow, task),
        task,
        kind="task_assigned",
        title="Nhiệm vụ mới",
        body=f"Hạn hoàn thành: {due:%d/%m/%Y}.",
        skip=actor.user_id,
    )
    notices.tell(
        uow,
        notices.cooperating_people(uow, task),
        task,
        kind="task_cooperating",
        title="Phối hợp thực hiện",
        body=f"Hạn hoàn thành: {due:%d/%m/%Y}.",
        skip=actor.user_id,
    )
    return task


def create_task(
    uow: UnitOfWork, actor: Actor, cmd: CreateTask, files: Sequence[Upload] = ()
) -> TaskView:
    """Giao nhiệm vụ. Leaders assign to any unit or person of the organisation; a unit head
    only to people of their own unit."""
    with uow:
        acting = _assigner_role(actor)
        own_unit_only = policy.assigns_in_own_unit_only(actor)
        task = _new_task(
            uow, actor, cmd, parent=None, own_unit_only=own_unit_only, files=files, acting=acting
        )
        statistics_changed(uow, task.organization_id)
        view = build_view(uow, actor, task)
        uow.commit()
        return view


def create_subtask(
    uow: UnitOfWork, actor: Actor, parent_id: uuid.UUID, cmd: CreateSubtask
) -> TaskView:
    """A unit head splits their unit's task: a sub-task for a person of the unit, due no later
    than the task. The task moves to "in progress" and its trail records the split."""
    with uow:
        s = uow.session
        parent = policy.ensure_visible(actor, load_task(s, parent_id, lock=True))
        standing = policy.require(actor, parent, TaskAction.SPLIT)
        if parent.parent_id is not None:
            raise ConflictError("Việc con không chia tiếp được.", code="subtask_of_subtask")
        if cmd.lead.user_id is None:
            raise ValidationError.field("lead", "Việc con giao cho một người trong đơn vị.")
        before = parent.state
        parent.state = next_state(TaskState(before), TaskAction.SPLIT).value
        child = _new_task(
            uow, actor, cmd, parent=parent, own_unit_only=True, files=(), acting=standing.acting
        )
        if parent.started_at is None:
            parent.started_at = uow.now()
        append(
            uow,
            parent,
            TaskAction.SPLIT,
            actor=actor,
            from_state=before,
            acting=standing.acting,
            details={
                "subtask_id": str(child.id),
                "title": child.title,
                "lead_user_id": str(child.lead_user_id),
            },
        )
        statistics_changed(uow, child.organization_id)
        view = build_view(uow, actor, child)
        uow.commit()
        return view


# The actions that change what the processing statistics count (due date, finished, cancelled).
COUNTED_ACTIONS = frozenset(
    {
        TaskAction.DECIDE_EXTENSION,
        TaskAction.SUBMIT_COMPLETION,
        TaskAction.APPROVE_COMPLETION,
        TaskAction.REJECT_COMPLETION,
        TaskAction.CANCEL,
    }
)


def act_on_task(
    uow: UnitOfWork,
    actor: Actor,
    task_id: uuid.UUID,
    cmd: ActionCommand,
    files: Sequence[Upload] = (),
) -> TaskView:
    """Apply one action of API.md §5 (``cmd.action``) to the task; returns the task after it."""
    with uow:
        s = uow.session
        task = policy.ensure_visible(actor, load_task(s, task_id))
        if task.parent_id is not None:
            # Locks go parent first, as cancelling a task locks it and then its sub-tasks.
            load_task(s, task.parent_id, lock=True)
        task = policy.ensure_visible(actor, load_task(s, task_id, lock=True))
        action = TaskAction(cmd.action)
        # With nothing pending the assigner is asked, so that the refusal is "nothing to decide"
        # (409), not "not yours" (403).
        decider = (
            extension_decider_id(s, task, task.extension_due_date)
            if task.extension_due_date is not None
            else task.assigner_id
        )

        def parse() -> ActionCommand:
            if files and action not in (TaskAction.REPORT_PROGRESS, TaskAction.SUBMIT_COMPLETION):
                raise ValidationError.field("files", "Thao tác này không kèm tệp.")
            return cmd

        def effect(command: ActionCommand) -> Effect:
            comment, details = actions.apply(uow, actor, task, command)
            return Effect(comment, details)

        def set_state(after: TaskState) -> None:
            task.state = after.value

        def record(move: Move[TaskState], done: Effect) -> TaskTrailEntry:
            return append(
                uow,
                task,
                action,
                actor=actor,
                from_state=move.before.value,
                acting=move.decision.acting,
                comment=done.comment,
                details=done.details,
            )

        _, entry = engine.perform(
            policy.standing(actor, task, action, decider_id=decider),
            TaskState(task.state),
            lambda state: next_state(state, action),
            forbidden=lambda: policy.forbidden(action),
            parse=parse,
            effect=effect,
            set_state=set_state,
            record=record,
        )
        if files:
            attach(uow, actor, task, entry.seq, files)
            s.flush()
            s.refresh(task)
        actions.tell(uow, actor, task, cmd)
        if action in COUNTED_ACTIONS:
            statistics_changed(uow, task.organization_id)
        view = build_view(uow, actor, task)
        uow.commit()
        return view
