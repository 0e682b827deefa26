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

from docflow.actors import Actor
from docflow.engine import REFUSED, Decision
from docflow.enums import Role
from docflow.errors import NotFoundError, PermissionDeniedError
from docflow.models import Task
from docflow.tasks.states import TaskAction, TaskState, allowed_in


def may_assign(actor: Actor) -> bool:
    """Who gives tasks: the organisation's leaders, and unit heads (inside their unit)."""
    return actor.has_role(Role.LEADER) or actor.has_role(Role.UNIT_HEAD)


def assigns_in_own_unit_only(actor: Actor) -> bool:
    """A unit head assigns (and picks people) only inside their unit; a leader, anywhere."""
    return not actor.has_role(Role.LEADER)


def sees_every_task(actor: Actor) -> bool:
    """Leaders see every task of the organisation (the "all" box)."""
    return actor.has_role(Role.LEADER)


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


def as_user(actor: Actor, user_id: uuid.UUID | None, roles: frozenset[Role]) -> Decision:
    """The actor is ``user_id``, or holds today a delegation from them of one of ``roles``
    (a delegation of one role does not let the delegate act for everything the delegator
    does; the delegated roles are those the delegator still holds, see
    :func:`docflow.actors.delegation_refusal`)."""
    if user_id is None:
        return REFUSED
    if actor.user_id == user_id:
        return Decision(True)
    acting = next(
        (d for d in actor.delegated if d.delegator_id == user_id and d.role in roles), None
    )
    return Decision(True, acting) if acting else REFUSED


def as_lead(actor: Actor, task: Task) -> Decision:
    if task.lead_user_id is not None:
        return as_user(actor, task.lead_user_id, HANDLING_ROLES)
    if actor.unit_id == task.lead_unit_id and actor.has_role(Role.UNIT_HEAD):
        return Decision(True, actor.acting_for(Role.UNIT_HEAD))
    return REFUSED


def as_cooperator(actor: Actor, task: Task) -> Decision:
    for c in task.cooperators:
        if c.user_id == actor.user_id or (c.unit_id is not None and c.unit_id == actor.unit_id):
            return Decision(True)
    return REFUSED


def standing(
    actor: Actor, task: Task, action: TaskAction, *, decider_id: uuid.UUID | None = None
) -> Decision:
    """Whether the actor's role lets them do ``action`` (the state is checked separately)."""
    if action in (TaskAction.START, TaskAction.SUBMIT_COMPLETION, TaskAction.REQUEST_EXTENSION):
        return as_lead(actor, task)
    if action is TaskAction.SPLIT:
        # Only a unit head splits, and only a task their own unit leads.
        if actor.unit_id is None or actor.unit_id != task.lead_unit_id:
            return REFUSED
        if not actor.has_role(Role.UNIT_HEAD):
            return REFUSED
        return Decision(True, actor.acting_for(Role.UNIT_HEAD))
    if action is TaskAction.REPORT_PROGRESS:
        lead = as_lead(actor, task)
        return lead if lead.allowed else as_cooperator(actor, task)
    if action is TaskAction.DECIDE_EXTENSION:
        return as_assigner(actor, decider_id, task)
    if action in (
        TaskAction.APPROVE_COMPLETION,
        TaskAction.REJECT_COMPLETION,
        TaskAction.CANCEL,
    ):
        return as_assigner(actor, task.assigner_id, task)
    return REFUSED


def as_assigner(actor: Actor, user_id: uuid.UUID | None, task: Task) -> Decision:
    """The assigner ``user_id`` (or their delegate), who still gives tasks: one whose roles
    were lowered since (no longer a leader or a unit head) no longer decides."""
    decision = as_user(actor, user_id, assigning_roles(actor, task))
    if decision.allowed and decision.acting is None and not may_assign(actor):
        return REFUSED
    return decision


def forbidden(action: TaskAction) -> PermissionDeniedError:
    """The 403 of a task action."""
    return PermissionDeniedError(
        f"Bạn không có quyền «{action.label.lower()}» với nhiệm vụ này.",
        code="task_action_forbidden",
        details={"action": action.value},
    )


def require(
    actor: Actor, task: Task, action: TaskAction, *, decider_id: uuid.UUID | None = None
) -> Decision:
    s = standing(actor, task, action, decider_id=decider_id)
    if not s.allowed:
        raise forbidden(action)
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
