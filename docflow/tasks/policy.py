"""Who may see a task and who may move it (API.md §5 "Who").

- The **lead** is the lead person, or, when the lead is a unit, that unit's head (own role or
  delegated: the trail then names both).
- The **assigner** (or whoever holds the assigner's delegated role today) decides: approves or
  rejects completion, cancels, and decides extensions; an extension beyond a parent task's
  deadline goes up to the parent's assigner (see :func:`docflow.tasks.services.extension_decider`).
- **Co-operators** (a person, or the members of a unit) report progress.
- Everyone of the organisation's leadership sees every task of the organisation; members of the
  lead and co-operating units see their units' tasks. Anyone else, in particular anyone of
  another organisation, is told the task does not exist (404).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from docflow.actors import Actor, DelegatedRole
from docflow.enums import Role
from docflow.errors import NotFoundError, PermissionDeniedError
from docflow.models import Task
from docflow.tasks.states import TaskAction, TaskState, allowed_in


@dataclass(frozen=True)
class Standing:
    """How the actor stands to a task; ``acting`` is the delegation used, if any."""

    allowed: bool
    acting: DelegatedRole | None = None


NO = Standing(False)


def is_org_leader(actor: Actor, org_id: uuid.UUID) -> bool:
    return actor.organization_id == org_id and actor.has_role(Role.LEADER)


def can_view(actor: Actor, task: Task) -> bool:
    if task.organization_id != actor.organization_id:
        return False
    if actor.has_role(Role.LEADER) or actor.user_id in (task.assigner_id, task.lead_user_id):
        return True
    if actor.unit_id is not None and actor.unit_id == task.lead_unit_id:
        return True
    return any(
        c.user_id == actor.user_id or (c.unit_id is not None and c.unit_id == actor.unit_id)
        for c in task.cooperators
    )


def ensure_visible(actor: Actor, task: Task | None) -> Task:
    if task is None or not can_view(actor, task):
        raise NotFoundError("Không tìm thấy nhiệm vụ.", code="task_not_found")
    return task


# The roles in which a person handles the work they lead: a delegation of the clerk's duties
# alone does not hand over the clerk's own assignments.
HANDLING_ROLES = frozenset({Role.LEADER, Role.UNIT_HEAD, Role.SPECIALIST})


def assigning_roles(actor: Actor, task: Task) -> frozenset[Role]:
    """The delegated roles that carry an assigner's powers over ``task``: a leader's always; a
    unit head's only for a task inside the unit (the delegate of a unit head is of that unit)."""
    if (
        task.assigner_unit_id is not None
        and task.lead_unit_id == task.assigner_unit_id
        and actor.unit_id == task.assigner_unit_id
    ):
        return frozenset({Role.LEADER, Role.UNIT_HEAD})
    return frozenset({Role.LEADER})


def as_user(actor: Actor, user_id: uuid.UUID | None, roles: frozenset[Role]) -> Standing:
    """The actor is ``user_id``, or holds today a delegation from them of one of ``roles``
    (a delegation of one role does not let the delegate act for everything the delegator
    does; the delegated roles are those the delegator still holds, see
    :func:`docflow.actors.delegation_refusal`)."""
    if user_id is None:
        return NO
    if actor.user_id == user_id:
        return Standing(True)
    acting = next(
        (d for d in actor.delegated if d.delegator_id == user_id and d.role in roles), None
    )
    return Standing(True, acting) if acting else NO


def as_lead(actor: Actor, task: Task) -> Standing:
    if task.lead_user_id is not None:
        return as_user(actor, task.lead_user_id, HANDLING_ROLES)
    if actor.unit_id == task.lead_unit_id and actor.has_role(Role.UNIT_HEAD):
        return Standing(True, actor.acting_for(Role.UNIT_HEAD))
    return NO


def as_cooperator(actor: Actor, task: Task) -> Standing:
    for c in task.cooperators:
        if c.user_id == actor.user_id or (c.unit_id is not None and c.unit_id == actor.unit_id):
            return Standing(True)
    return NO


def standing(
    actor: Actor, task: Task, action: TaskAction, *, decider_id: uuid.UUID | None = None
) -> Standing:
    """Whether the actor's role lets them do ``action`` (the state is checked separately)."""
    if action in (TaskAction.START, TaskAction.SUBMIT_COMPLETION, TaskAction.REQUEST_EXTENSION):
        return as_lead(actor, task)
    if action is TaskAction.SPLIT:
        # Only a unit head splits, and only a task their own unit leads.
        if actor.unit_id is None or actor.unit_id != task.lead_unit_id:
            return NO
        if not actor.has_role(Role.UNIT_HEAD):
            return NO
        return Standing(True, actor.acting_for(Role.UNIT_HEAD))
    if action is TaskAction.REPORT_PROGRESS:
        lead = as_lead(actor, task)
        return lead if lead.allowed else as_cooperator(actor, task)
    if action is TaskAction.DECIDE_EXTENSION:
        return as_user(actor, decider_id, assigning_roles(actor, task))
    if action in (
        TaskAction.APPROVE_COMPLETION,
        TaskAction.REJECT_COMPLETION,
        TaskAction.CANCEL,
    ):
        return as_user(actor, task.assigner_id, assigning_roles(actor, task))
    return NO


def require(
    actor: Actor, task: Task, action: TaskAction, *, decider_id: uuid.UUID | None = None
) -> Standing:
    s = standing(actor, task, action, decider_id=decider_id)
    if not s.allowed:
        raise PermissionDeniedError(
            f"Bạn không có quyền «{action.label.lower()}» với nhiệm vụ này.",
            code="task_action_forbidden",
            details={"action": action.value},
        )
    return s


ACTIONS_OFFERED = (
    TaskAction.START,
    TaskAction.REPORT_PROGRESS,
    TaskAction.REQUEST_EXTENSION,
    TaskAction.DECIDE_EXTENSION,
    TaskAction.SPLIT,
    TaskAction.SUBMIT_COMPLETION,
    TaskAction.APPROVE_COMPLETION,
    TaskAction.REJECT_COMPLETION,
    TaskAction.CANCEL,
)


def allowed_actions(
    actor: Actor,
    task: Task,
    *,
    decider_id: uuid.UUID | None,
    open_children: int,
) -> list[TaskAction]:
    """The actions the actor could take now (what the API's ``allowed_actions`` lists)."""
    state = TaskState(task.state)
    possible = allowed_in(state)
    pending = task.extension_due_date is not None
    out: list[TaskAction] = []
    for action in ACTIONS_OFFERED:
        if action not in possible:
            continue
        if action is TaskAction.DECIDE_EXTENSION and not pending:
            continue
        if action is TaskAction.REQUEST_EXTENSION and pending:
            continue
        if action is TaskAction.SUBMIT_COMPLETION and open_children:
            continue
        if action is TaskAction.SPLIT and task.parent_id is not None:
            continue
        if standing(actor, task, action, decider_id=decider_id).allowed:
            out.append(action)
    return out
