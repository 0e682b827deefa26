"""Who hears about a task, and what they read (in-app and by e-mail)."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from docflow.enums import Role
from docflow.models import Task, User, UserRole
from docflow.notifications import notify
from docflow.uow import UnitOfWork


def task_link(task_id: uuid.UUID) -> str:
    return f"/tasks/{task_id}"


def unit_heads(uow: UnitOfWork, unit_id: uuid.UUID) -> list[uuid.UUID]:
    return list(
        uow.session.scalars(
            select(User.id)
            .join(UserRole, UserRole.user_id == User.id)
            .where(
                User.unit_id == unit_id,
                User.active.is_(True),
                UserRole.role == Role.UNIT_HEAD.value,
            )
            .order_by(User.id)
        )
    )


def lead_people(uow: UnitOfWork, task: Task) -> list[uuid.UUID]:
    """The lead person, or the heads of the lead unit."""
    if task.lead_user_id is not None:
        return [task.lead_user_id]
    return unit_heads(uow, task.lead_unit_id) if task.lead_unit_id else []


def cooperating_people(uow: UnitOfWork, task: Task) -> list[uuid.UUID]:
    out: list[uuid.UUID] = []
    for c in task.cooperators:
        if c.user_id is not None:
            out.append(c.user_id)
        elif c.unit_id is not None:
            out.extend(unit_heads(uow, c.unit_id))
    return out


def tell(
    uow: UnitOfWork,
    people: list[uuid.UUID],
    task: Task,
    *,
    kind: str,
    title: str,
    body: str = "",
    skip: uuid.UUID | None = None,
) -> None:
    """Notify ``people`` about ``task`` (never the person who caused it: ``skip``)."""
    notify(
        uow,
        [p for p in people if p != skip],
        kind=kind,
        title=f"{title}: {task.title}",
        body=body,
        link=task_link(task.id),
    )
