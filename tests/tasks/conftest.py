"""Helpers of the task tests: demo people and units by name, and one-line task moves.

The clock starts on Monday 23 November 2026, 09:00 in Hà Nội (see tests/conftest.py).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select

from docflow.models import AuditEntry, Notification, Task, TaskTrailEntry, Unit, User
from docflow.tasks import (
    CreateSubtask,
    CreateTask,
    TaskActionRequest,
    TaskView,
    act_on_task,
    create_subtask,
    create_task,
    get_task,
)
from tests.conftest import Demo

D = dt.date


@dataclass
class Tasks:
    demo: Demo

    def uid(self, username: str) -> uuid.UUID:
        return self.demo.user(username).id

    def unit(self, abbr: str, org: str = "tw") -> uuid.UUID:
        with self.demo.factory() as s:
            return s.scalars(
                select(Unit.id).where(
                    Unit.organization_id == self.demo.org_id(org), Unit.abbreviation == abbr
                )
            ).one()

    def create(
        self,
        by: str = "lanhdao.tw",
        *,
        unit: str | None = None,
        user: str | None = None,
        due: dt.date | None = None,
        days: int | None = None,
        coop: tuple[dict[str, Any], ...] = (),
        title: str = "Tổng hợp ý kiến giám sát quý IV",
        **extra: Any,
    ) -> TaskView:
        lead = {"unit_id": self.unit(unit)} if unit else {"user_id": self.uid(user or "")}
        if due is None and days is None:
            due = D(2026, 12, 4)
        cmd = CreateTask.model_validate(
            {
                "title": title,
                "lead": lead,
                "cooperating": list(coop),
                "due_date": due,
                "due_in_working_days": days,
                **extra,
            }
        )
        return create_task(self.demo.uow(), self.demo.actor(by), cmd)

    def act(self, by: str, task_id: uuid.UUID, action: str, **params: Any) -> TaskView:
        cmd = TaskActionRequest.model_validate({"action": action, **params}).root
        return act_on_task(self.demo.uow(), self.demo.actor(by), task_id, cmd)

    def split(
        self, by: str, parent_id: uuid.UUID, user: str, due: dt.date | None = None, **extra: Any
    ) -> TaskView:
        cmd = CreateSubtask.model_validate(
            {
                "title": extra.pop("title", "Phần việc của chuyên viên"),
                "lead": {"user_id": self.uid(user)},
                "due_date": due or D(2026, 12, 2),
                **extra,
            }
        )
        return create_subtask(self.demo.uow(), self.demo.actor(by), parent_id, cmd)

    def view(self, by: str, task_id: uuid.UUID) -> TaskView:
        return get_task(self.demo.uow(), self.demo.actor(by), task_id)

    def row(self, task_id: uuid.UUID) -> Task:
        with self.demo.factory() as s:
            task = s.get(Task, task_id)
            assert task is not None
            return task

    def trail(self, task_id: uuid.UUID) -> list[TaskTrailEntry]:
        with self.demo.factory() as s:
            return list(
                s.scalars(
                    select(TaskTrailEntry)
                    .where(TaskTrailEntry.task_id == task_id)
                    .order_by(TaskTrailEntry.seq)
                )
            )

    def audit_count(self, task_id: uuid.UUID) -> int:
        with self.demo.factory() as s:
            return int(
                s.scalar(
                    select(func.count())
                    .select_from(AuditEntry)
                    .where(AuditEntry.object_type == "task", AuditEntry.object_id == str(task_id))
                )
                or 0
            )

    def inbox(self, username: str) -> list[Notification]:
        with self.demo.factory() as s:
            return list(
                s.scalars(
                    select(Notification)
                    .join(User, User.id == Notification.user_id)
                    .where(User.username == username)
                    .order_by(Notification.created_at, Notification.id)
                )
            )

    def set_today(self, day: dt.date, hour: int = 9) -> None:
        local = dt.datetime.combine(day, dt.time(hour), dt.timezone(dt.timedelta(hours=7)))
        self.demo.clock.now = local.astimezone(dt.UTC)


@pytest.fixture
def tasks(demo: Demo) -> Tasks:
    return Tasks(demo)
