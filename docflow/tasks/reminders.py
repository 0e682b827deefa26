"""Deadline reminders (đôn đốc), sent once each.

On a working day the scheduler calls :func:`send_task_reminders`. For each open task it picks at
most one reminder, by where the deadline stands today:

- ``due_soon``: 1 … ``days_before`` working days left → the lead;
- ``due_today``: no working day left before the deadline (the due date, or the last working day
  before a deadline that falls on a day off) → the lead;
- ``overdue``: at least one working day late → the lead and the assigner.

Each reminder is first written to ``reminders_sent`` under the key (task, kind, due date), with
``ON CONFLICT DO NOTHING``, in the same transaction as its notifications: only the transaction
that inserted the key notifies, so a second scheduler or a rerun after a crash sends nothing
twice. An extension (new due date) arms the reminders again. Nothing is sent on days off.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from sqlalchemy import and_, exists, select
from sqlalchemy.dialects import postgresql, sqlite

from docflow.models import ReminderSent, Task
from docflow.tasks import notices
from docflow.tasks.deadlines import days_late, days_left, last_working_day, load_window
from docflow.tasks.states import OPEN_STATES
from docflow.uow import UnitOfWork
from docflow.workdays import WorkCalendar, local_date

SOURCE = "task"
BATCH = 200

KIND_TITLES = {
    "due_soon": "Sắp đến hạn",
    "due_today": "Đến hạn hôm nay",
    "overdue": "Quá hạn",
}


def reminder_kind(cal: WorkCalendar, today: dt.date, due: dt.date, days_before: int) -> str | None:
    """Which reminder (if any) an open task due on ``due`` gets on ``today`` (a working day)."""
    if days_late(cal, due, today) > 0:
        return "overdue"
    left = days_left(cal, today, due)
    if left == 0:
        return "due_today"
    if left <= days_before:
        return "due_soon"
    return None


def _claim(uow: UnitOfWork, task: Task, kind: str) -> bool:
    """Insert the reminder's key; True only for the transaction that inserted it."""
    values = {
        "source": SOURCE,
        "item_id": task.id,
        "kind": kind,
        "due_date": task.due_date,
        "sent_at": uow.now(),
    }
    dialect = uow.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = (
        insert(ReminderSent).values(values).on_conflict_do_nothing().returning(ReminderSent.item_id)
    )
    return uow.session.execute(stmt).first() is not None


def _body(kind: str, cal: WorkCalendar, today: dt.date, task: Task) -> str:
    due = f"{task.due_date:%d/%m/%Y}"
    if kind == "overdue":
        return f"Hạn {due}, đã quá {days_late(cal, task.due_date, today)} ngày làm việc."
    if kind == "due_today":
        return f"Hạn hoàn thành {due}: hôm nay là ngày làm việc cuối cùng."
    return f"Hạn hoàn thành {due}: còn {days_left(cal, today, task.due_date)} ngày làm việc."


def _candidates(
    uow: UnitOfWork, horizon: dt.date, after: tuple[dt.date, uuid.UUID] | None
) -> Sequence[Task]:
    """Open tasks due by ``horizon`` with no reminder yet for their current due date (any
    kind: which kinds are still due is decided per task)."""
    stmt = select(Task).where(
        Task.state.in_([s.value for s in OPEN_STATES]), Task.due_date <= horizon
    )
    if after is not None:
        stmt = stmt.where(
            (Task.due_date > after[0]) | and_(Task.due_date == after[0], Task.id > after[1])
        )
    overdue_sent = exists().where(
        ReminderSent.source == SOURCE,
        ReminderSent.item_id == Task.id,
        ReminderSent.due_date == Task.due_date,
        ReminderSent.kind == "overdue",
    )
    stmt = stmt.where(~overdue_sent).order_by(Task.due_date, Task.id).limit(BATCH)
    return uow.session.scalars(stmt).unique().all()


def send_task_reminders(uow: UnitOfWork, *, days_before: int = 2) -> int:
    """Send the reminders due today; returns how many reminders (not notifications) went out."""
    with uow:
        today = local_date(uow.now())
        cal = load_window(uow.session, today, today + dt.timedelta(days=days_before * 3 + 30))
        if not cal.is_working_day(today):
            return 0
        horizon = cal.add_working_days(today, days_before)
        cursor_cal_start = last_working_day(cal, today)
    sent = 0
    after: tuple[dt.date, uuid.UUID] | None = None
    while True:
        # One transaction per batch: a failure loses at most one batch, which the next run
        # sends (its keys were rolled back with it).
        with uow:
            tasks = _candidates(uow, horizon, after)
            if not tasks:
                return sent
            low = min(cursor_cal_start, tasks[0].due_date)
            cal = load_window(uow.session, low, horizon)
            for task in tasks:
                kind = reminder_kind(cal, today, task.due_date, days_before)
                if kind is None or not _claim(uow, task, kind):
                    continue
                people = notices.lead_people(uow, task)
                if kind == "overdue":
                    people = [*people, task.assigner_id]
                notices.tell(
                    uow,
                    people,
                    task,
                    kind=f"task_{kind}",
                    title=KIND_TITLES[kind],
                    body=_body(kind, cal, today, task),
                )
                sent += 1
            uow.commit()
            after = (tasks[-1].due_date, tasks[-1].id)
