"""Deadline reminders: the right kind on the right working day, to the right people, once —
also with two schedulers at the same moment (a real second connection, real commits)."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

from sqlalchemy import select

from docflow import UnitOfWork, make_engine, make_session_factory
from docflow.demo import seed_demo
from docflow.models import Holiday, Notification, User
from docflow.tasks import send_task_reminders
from migrations import upgrade
from tests.conftest import DEMO_PASSWORD, Clock, Demo, fresh_pg_database
from tests.tasks.conftest import Tasks

D = dt.date


def _kinds(tasks: Tasks, username: str) -> list[str]:
    return [
        n.kind
        for n in tasks.inbox(username)
        if n.kind.startswith("task_due") or n.kind == "task_overdue"
    ]


def _run(tasks: Tasks, day: dt.date, days_before: int = 2) -> int:
    tasks.set_today(day)
    return send_task_reminders(tasks.demo.uow(), days_before=days_before)


def test_reminders_walk_the_working_days_once_each(tasks: Tasks) -> None:
    task = tasks.create(unit="DCGSPBXH", due=D(2026, 11, 25))  # Monday, due Wednesday
    assert _run(tasks, D(2026, 11, 23)) == 1  # 2 working days left
    assert _run(tasks, D(2026, 11, 23)) == 0  # a second run the same day sends nothing
    assert _run(tasks, D(2026, 11, 24)) == 0  # due_soon was sent for this due date
    assert _run(tasks, D(2026, 11, 25)) == 1  # the day itself
    assert _run(tasks, D(2026, 11, 26)) == 1  # one working day late
    assert _run(tasks, D(2026, 11, 27)) == 0
    assert _kinds(tasks, "truongban.dcgs") == ["task_due_soon", "task_due_today", "task_overdue"]
    # The assigner hears only of the overdue task; nobody else hears anything.
    assert _kinds(tasks, "lanhdao.tw") == ["task_overdue"]
    assert _kinds(tasks, "chuyenvien.dcgs") == []
    overdue = tasks.inbox("lanhdao.tw")[-1]
    assert overdue.link == f"/tasks/{task.id}" and "quá 1 ngày làm việc" in overdue.body


def test_weekend_and_days_off_send_nothing_and_count_working_days(tasks: Tasks) -> None:
    tasks.create(user="chuyenvien.dcgs", due=D(2026, 12, 1))  # Tuesday
    assert _run(tasks, D(2026, 11, 26)) == 0  # Thursday: Fri, Mon, Tue = 3 left
    assert _run(tasks, D(2026, 11, 27)) == 1  # Friday: 2 left
    assert _run(tasks, D(2026, 11, 28)) == 0  # Saturday: nobody works
    assert _kinds(tasks, "chuyenvien.dcgs") == ["task_due_soon"]
    assert _kinds(tasks, "truongban.dcgs") == []  # a person leads: not the unit head


def test_tet_is_skipped_when_counting_days_before(tasks: Tasks) -> None:
    tasks.set_today(D(2026, 2, 10))
    tasks.create(user="chuyenvien.dcgs", due=D(2026, 2, 23))  # the Monday after Tết
    assert _run(tasks, D(2026, 2, 11)) == 0  # Thu 12, Fri 13, Mon 23: 3 left
    assert _run(tasks, D(2026, 2, 12)) == 1  # 2 left
    assert _run(tasks, D(2026, 2, 17)) == 0  # Tết
    assert _run(tasks, D(2026, 2, 20)) == 0  # Tết, the Friday (not "due today")
    assert _run(tasks, D(2026, 2, 23)) == 1
    assert _kinds(tasks, "chuyenvien.dcgs") == ["task_due_soon", "task_due_today"]


def test_a_swapped_saturday_is_a_reminder_day(tasks: Tasks) -> None:
    with tasks.demo.factory() as s, s.begin():
        s.add(Holiday(day=D(2026, 12, 5), name="Làm bù", kind="workday"))  # a Saturday worked
    tasks.create(user="chuyenvien.dcgs", due=D(2026, 12, 7))  # Monday
    assert _run(tasks, D(2026, 12, 3)) == 0  # Thu: Fri, Sat (worked), Mon = 3 left
    assert _run(tasks, D(2026, 12, 4)) == 1  # Fri: 2 left
    assert _run(tasks, D(2026, 12, 5)) == 0  # Sat (worked): already reminded for this date
    assert _run(tasks, D(2026, 12, 7)) == 1


def test_an_extension_arms_the_reminders_again_and_closed_tasks_get_none(tasks: Tasks) -> None:
    task = tasks.create(unit="DCGSPBXH", due=D(2026, 11, 24))
    done = tasks.create(unit="DCGSPBXH", due=D(2026, 11, 24), title="Việc đã xong sớm")
    tasks.act("truongban.dcgs", done.id, "submit_completion", comment="xong")
    tasks.act("lanhdao.tw", done.id, "approve_completion")
    assert _run(tasks, D(2026, 11, 25)) == 1  # only the open one: overdue
    tasks.act(
        "truongban.dcgs", task.id, "request_extension", new_due_date="2026-11-30", reason="Chờ"
    )
    tasks.act("lanhdao.tw", task.id, "decide_extension", approve=True)
    assert _run(tasks, D(2026, 11, 26)) == 1  # Thu → Mon 30: 2 left, for the new date
    assert _run(tasks, D(2026, 11, 30)) == 1
    assert _kinds(tasks, "truongban.dcgs") == ["task_overdue", "task_due_soon", "task_due_today"]


def test_the_job_uses_the_runtimes_clock_and_the_configured_days(app: Any, tasks: Tasks) -> None:
    from app.jobs import JOBS
    from app.runtime import runtime

    rt = runtime(app)
    rt.settings = rt.settings.with_overrides(reminder_days=3)
    tasks.create(user="chuyenvien.dcgs", due=D(2026, 11, 26))  # Thursday
    tasks.set_today(D(2026, 11, 23))  # Monday: 3 working days left
    assert JOBS["task_reminders"].run(rt) == 1
    assert _kinds(tasks, "chuyenvien.dcgs") == ["task_due_soon"]
    # The scheduler (Celery beat, also the embedded worker's) runs it every quarter of an hour.
    from app.celery_app import celery_of

    celery = celery_of(app)
    entry = celery.conf.beat_schedule["job-task_reminders"]
    assert (entry["task"], entry["schedule"]) == ("dhtn.job.task_reminders", 900)


def test_two_schedulers_at_once_send_each_reminder_once() -> None:
    """Two workers with their own connections run the job at the same moment on a real
    database: the reminders' keys make one of them send and the other skip."""
    url = fresh_pg_database("_reminders")
    upgrade(url)
    engine = make_engine(url, pool_size=4)
    try:
        factory = make_session_factory(engine)
        clock = Clock()
        seed_demo(UnitOfWork(factory, clock=clock), password=DEMO_PASSWORD)
        t = Tasks(Demo(factory, clock))
        for i in range(30):
            t.create(user="chuyenvien.dcgs", due=D(2026, 11, 24), title=f"Nhiệm vụ số {i:02d}")
        t.create(unit="DCGSPBXH", due=D(2026, 11, 24), title="Nhiệm vụ của ban")
        clock.now = dt.datetime(2026, 11, 24, 2, 0, tzinfo=dt.UTC)
        barrier = threading.Barrier(2)
        counts: list[int] = []

        def worker() -> None:
            barrier.wait()
            counts.append(send_task_reminders(UnitOfWork(factory, clock=clock), days_before=2))

        threads = [threading.Thread(target=worker) for _ in range(2)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(30)
        assert sum(counts) == 31, counts
        with factory() as s:
            rows = s.execute(
                select(User.username, Notification.kind)
                .join(User, User.id == Notification.user_id)
                .where(Notification.kind.like("task_due%"))
            ).all()
        assert sorted(set(rows)) == [
            ("chuyenvien.dcgs", "task_due_today"),
            ("truongban.dcgs", "task_due_today"),
        ]
        assert len(rows) == 31
    finally:
        engine.dispose()
