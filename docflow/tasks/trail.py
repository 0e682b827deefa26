"""Appending to a task's trail, together with the audit log (one call, both records)."""

from __future__ import annotations

from typing import Any

from docflow import audit
from docflow.actors import Actor, DelegatedRole
from docflow.models import Task, TaskTrailEntry, Unit
from docflow.tasks.states import TaskAction
from docflow.uow import UnitOfWork


def append(
    uow: UnitOfWork,
    task: Task,
    action: TaskAction,
    *,
    actor: Actor,
    from_state: str | None,
    acting: DelegatedRole | None = None,
    comment: str | None = None,
    details: dict[str, Any] | None = None,
) -> TaskTrailEntry:
    """One step of the trail. The caller holds the task's row lock, so ``seq`` only grows."""
    s = uow.session
    task.trail_seq += 1
    unit = s.get(Unit, actor.unit_id) if actor.unit_id else None
    entry = TaskTrailEntry(
        task_id=task.id,
        seq=task.trail_seq,
        at=uow.now(),
        actor_id=actor.user_id,
        actor_name=actor.full_name,
        unit_id=unit.id if unit else None,
        unit_name=unit.name if unit else None,
        on_behalf_of_id=acting.delegator_id if acting else None,
        on_behalf_of_name=acting.delegator_name if acting else None,
        competence=acting.competence if acting else None,
        action=action.value,
        from_state=from_state,
        to_state=task.state,
        comment=comment or None,
        details=details or {},
    )
    s.add(entry)
    audit.record(
        uow,
        f"task_{action.value}",
        actor=actor,
        acting_as=acting,
        organization_id=task.organization_id,
        object_type="task",
        object_id=task.id,
        details={
            "seq": entry.seq,
            "from": from_state,
            "to": task.state,
            **({"comment": comment} if comment else {}),
            **(details or {}),
        },
    )
    return entry
