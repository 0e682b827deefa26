"""The embedded profile's database (SQLite): the same flow, statistics and once-only reminders
work there, on a migrated file database with real commits."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from docflow import UnitOfWork
from docflow.reports import GroupBy, processing_report
from docflow.tasks import send_task_reminders
from tests.conftest import sqlite_demo
from tests.tasks.conftest import Tasks

D = dt.date


def test_flow_statistics_and_reminders_on_sqlite(tmp_path: Path) -> None:
    with sqlite_demo(tmp_path) as demo:
        factory, clock = demo.factory, demo.clock
        t = Tasks(demo)
        task = t.create(unit="DCGSPBXH", due=D(2026, 11, 27))  # Friday
        child = t.split("truongban.dcgs", task.id, "chuyenvien.dcgs", due=D(2026, 11, 26))
        t.act("chuyenvien.dcgs", child.id, "start")
        t.act("chuyenvien.dcgs", child.id, "report_progress", percent=50)
        t.act(
            "chuyenvien.dcgs", child.id, "request_extension", new_due_date="2026-12-02", reason="x"
        )
        t.act("lanhdao.tw", child.id, "decide_extension", approve=True)
        assert t.row(task.id).due_date == D(2026, 12, 2)
        late = t.create(unit="TG", due=D(2026, 11, 24), title="Việc của Ban Tuyên giáo")
        t.set_today(D(2026, 11, 26))
        # TG is overdue; the extended tasks (due Wed 2/12) have 4 working days left.
        assert send_task_reminders(UnitOfWork(factory, clock=clock)) == 1
        assert send_task_reminders(UnitOfWork(factory, clock=clock)) == 0
        t.act("chuyenvien.dcgs", child.id, "submit_completion", comment="Xong")
        t.act("truongban.dcgs", child.id, "approve_completion")
        t.act("truongban.dcgs", task.id, "submit_completion", comment="Xong")
        t.act("lanhdao.tw", task.id, "approve_completion")
        report = processing_report(
            UnitOfWork(factory, clock=clock),
            t.demo.actor("lanhdao.tw"),
            date_from=D(2026, 11, 1),
            date_to=D(2026, 11, 30),
            group_by=GroupBy.UNIT,
        )
        rows = {
            r.name: (r.received, r.done_on_time, r.done_late, r.open, r.overdue)
            for r in report.rows
        }
        assert rows == {
            "Ban Dân chủ, Giám sát và Phản biện xã hội": (1, 1, 0, 0, 0),
            "Ban Tuyên giáo": (1, 0, 0, 0, 1),
        }
        assert t.view("lanhdao.tw", late.id).status.days_late == 2
