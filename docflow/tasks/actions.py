"""The effect of each task action on the task (API.md §5), and who hears about it.

:func:`apply` is called by :func:`docflow.tasks.services.act_on_task` after the permission and
state checks, inside its transaction; it returns the trail comment and details. A refusal here
(409/422) raises before the caller writes anything.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from docflow.actors import Actor
from docflow.errors import ConflictError, ValidationError
from docflow.models import Task
from docflow.tasks import notices, policy
from docflow.tasks.commands import (
    ActionCommand,
    ApproveCompletion,
    Cancel,
    DecideExtension,
    RejectCompletion,
    ReportProgress,
    RequestExtension,
    Start,
    SubmitCompletion,
)
from docflow.tasks.queries import extension_decider_id, load_task
from docflow.tasks.states import OPEN_STATES, TaskAction, TaskState, next_state
from docflow.tasks.trail import append
from docflow.uow import UnitOfWork
from docflow.workdays import local_date

Outcome = tuple[str | None, dict[str, object]]


def _start(uow: UnitOfWork, actor: Actor, task: Task, cmd: Start) -> Outcome:
    task.started_at = task.started_at or uow.now()
    return cmd.comment, {}


def _progress(uow: UnitOfWork, actor: Actor, task: Task, cmd: ReportProgress) -> Outcome:
    by_lead = policy.as_lead(actor, task).allowed
    if by_lead:  # a co-operator's report is in the trail; the task's figure is the lead's
        task.progress = cmd.percent
    return cmd.comment, {"percent": cmd.percent, "by": "lead" if by_lead else "cooperating"}


def _request(uow: UnitOfWork, actor: Actor, task: Task, cmd: RequestExtension) -> Outcome:
    if task.extension_due_date is not None:
        raise ConflictError(
            "Đã có một đề nghị gia hạn đang chờ quyết định.", code="extension_pending"
        )
    if cmd.new_due_date <= task.due_date:
        raise ValidationError.field("new_due_date", "Hạn mới phải sau hạn hiện tại.")
    task.extension_due_date = cmd.new_due_date
    task.extension_reason = cmd.reason
    task.extension_requested_by_id = actor.user_id
    return cmd.reason, {"from": task.due_date.isoformat(), "to": cmd.new_due_date.isoformat()}


def _decide(uow: UnitOfWork, actor: Actor, task: Task, cmd: DecideExtension) -> Outcome:
    if task.extension_due_date is None:
        raise ConflictError("Không có đề nghị gia hạn nào đang chờ.", code="no_extension_pending")
    old, new = task.due_date, task.extension_due_date
    details: dict[str, object] = {
        "approve": cmd.approve,
        "from": old.isoformat(),
        "to": new.isoformat(),
    }
    if cmd.approve:
        task.due_date = new
        _extend_ancestors(uow, actor, task, new)
    task.extension_due_date = task.extension_reason = task.extension_requested_by_id = None
    return cmd.comment, details


def _extend_ancestors(uow: UnitOfWork, actor: Actor, task: Task, new: dt.date) -> None:
    """A granted extension beyond a parent's deadline moves the parent's deadline too."""
    current = task
    while current.parent_id is not None:
        parent = load_task(uow.session, current.parent_id, lock=True)
        if parent is None or parent.due_date >= new:
            return
        old = parent.due_date
        parent.due_date = new
        state = TaskState(parent.state)
        next_state(state, TaskAction.EXTENDED)
        append(
            uow,
            parent,
            TaskAction.EXTENDED,
            actor=actor,
            from_state=state.value,
            acting=policy.as_user(
                actor, parent.assigner_id, policy.assigning_roles(actor, parent)
            ).acting,
            details={"from": old.isoformat(), "to": new.isoformat(), "subtask_id": str(task.id)},
        )
        current = parent


def _submit(uow: UnitOfWork, actor: Actor, task: Task, cmd: SubmitCompletion) -> Outcome:
    open_children = uow.session.scalars(
        select(Task.id)
        .where(Task.parent_id == task.id, Task.state.in_([st.value for st in OPEN_STATES]))
        .limit(1)
    ).first()
    if open_children is not None:
        raise ConflictError("Còn việc con chưa hoàn thành.", code="subtasks_open")
    details: dict[str, object] = {}
    if task.extension_due_date is not None:
        details["extension_withdrawn"] = task.extension_due_date.isoformat()
        task.extension_due_date = task.extension_reason = task.extension_requested_by_id = None
    task.submitted_on = local_date(uow.now())
    return cmd.comment, details


def _approve(uow: UnitOfWork, actor: Actor, task: Task, cmd: ApproveCompletion) -> Outcome:
    task.completed_at = uow.now()
    task.progress = 100
    return cmd.comment, {
        "submitted_on": task.submitted_on.isoformat() if task.submitted_on else None
    }


def _reject(uow: UnitOfWork, actor: Actor, task: Task, cmd: RejectCompletion) -> Outcome:
    task.submitted_on = None
    return cmd.comment, {}


def _cancel(uow: UnitOfWork, actor: Actor, task: Task, cmd: Cancel) -> Outcome:
    now = uow.now()
    task.cancelled_at = now
    task.extension_due_date = task.extension_reason = task.extension_requested_by_id = None
    children = uow.session.scalars(
        select(Task.id).where(Task.parent_id == task.id).order_by(Task.created_at, Task.id)
    ).all()
    cancelled = []
    for child_id in children:
        child = load_task(uow.session, child_id, lock=True)
        if child is None or not TaskState(child.state).is_open:
            continue
        before = child.state
        child.state = next_state(TaskState(before), TaskAction.CANCEL).value
        child.cancelled_at = now
        append(
            uow,
            child,
            TaskAction.CANCEL,
            actor=actor,
            from_state=before,
            acting=policy.as_user(
                actor, task.assigner_id, policy.assigning_roles(actor, task)
            ).acting,
            comment=cmd.reason,
            details={"with_parent": str(task.id)},
        )
        notices.tell(
            uow,
            notices.lead_people(uow, child),
            child,
            kind="task_cancelled",
            title="Nhiệm vụ đã hủy",
            body=cmd.reason,
            skip=actor.user_id,
        )
        cancelled.append(str(child.id))
    return cmd.reason, {"subtasks_cancelled": cancelled} if cancelled else {}


def apply(uow: UnitOfWork, actor: Actor, task: Task, cmd: ActionCommand) -> Outcome:
    """The action's own effect on the task (the state move is the caller's)."""
    match cmd:
        case Start():
            return _start(uow, actor, task, cmd)
        case ReportProgress():
            return _progress(uow, actor, task, cmd)
        case RequestExtension():
            return _request(uow, actor, task, cmd)
        case DecideExtension():
            return _decide(uow, actor, task, cmd)
        case SubmitCompletion():
            return _submit(uow, actor, task, cmd)
        case ApproveCompletion():
            return _approve(uow, actor, task, cmd)
        case RejectCompletion():
            return _reject(uow, actor, task, cmd)
        case Cancel():
            return _cancel(uow, actor, task, cmd)


def tell(uow: UnitOfWork, actor: Actor, task: Task, cmd: ActionCommand) -> None:
    """Notify whoever the action concerns (never the actor)."""
    lead = notices.lead_people(uow, task)
    me = actor.user_id
    if isinstance(cmd, ReportProgress):
        notices.tell(
            uow,
            [task.assigner_id],
            task,
            kind="task_progress",
            title=f"Tiến độ {cmd.percent}%",
            body=cmd.comment or "",
            skip=me,
        )
    elif isinstance(cmd, RequestExtension):
        target = extension_decider_id(uow.session, task, cmd.new_due_date)
        notices.tell(
            uow,
            [target],
            task,
            kind="task_extension_requested",
            title="Đề nghị gia hạn",
            skip=me,
            body=f"Xin gia hạn đến {cmd.new_due_date:%d/%m/%Y}: {cmd.reason}",
        )
    elif isinstance(cmd, DecideExtension):
        verdict = "Đồng ý gia hạn" if cmd.approve else "Không đồng ý gia hạn"
        notices.tell(
            uow,
            lead,
            task,
            kind="task_extension_decided",
            title=verdict,
            body=f"Hạn hiện tại: {task.due_date:%d/%m/%Y}. {cmd.comment or ''}".strip(),
            skip=me,
        )
    elif isinstance(cmd, SubmitCompletion):
        notices.tell(
            uow,
            [task.assigner_id],
            task,
            kind="task_submitted",
            title="Báo cáo hoàn thành, chờ duyệt",
            body=cmd.comment,
            skip=me,
        )
    elif isinstance(cmd, ApproveCompletion):
        notices.tell(
            uow,
            lead,
            task,
            kind="task_approved",
            title="Đã duyệt hoàn thành",
            body=cmd.comment or "",
            skip=me,
        )
    elif isinstance(cmd, RejectCompletion):
        notices.tell(
            uow,
            lead,
            task,
            kind="task_rejected",
            title="Kết quả chưa đạt, làm tiếp",
            body=cmd.comment or "",
            skip=me,
        )
    elif isinstance(cmd, Cancel):
        notices.tell(
            uow,
            lead + notices.cooperating_people(uow, task),
            task,
            kind="task_cancelled",
            title="Nhiệm vụ đã hủy",
            body=cmd.reason,
            skip=me,
        )
