"""The roll-up's coarse grain (``report_monthly_stats``: months and years), the subtree's pages
summed in the database, and the one-pass rebuild, on PostgreSQL: each against the daily table,
the live count and the former ways (the whole list sorted in Python, per-organisation
refreshes)."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text

from docflow import ValidationError as DomainValidationError
from docflow.models import Organization, ReportDailyStat, ReportUnitDailyStat, Task
from docflow.models.reports import ReportMonthlyStat
from docflow.pagination import encode_cursor
from docflow.reports import (
    GroupBy,
    StatsScope,
    processing_report,
    processing_rollup,
    rebuild_all,
    refresh_organization,
)
from docflow.reports.processing import fold
from docflow.reports.rollup import _window, processing_counts
from tests.reports.conftest import Tree
from tests.reports.test_rollup import FIELDS, assign, build_tree_history, figures
from tests.tasks.test_stats import build_history

D = dt.date


def spring(tree: Tree) -> None:
    """Items months before the task-statistics fixture: the year rows sum several months."""
    t = tree.tasks
    t.set_today(D(2026, 3, 2))
    x = t.create(unit="DCGSPBXH", due=D(2026, 3, 20), title="X: xong muộn tháng Tư").id
    t.set_today(D(2026, 4, 10))
    t.act("truongban.dcgs", x, "submit_completion", comment="Xong")
    t.act("lanhdao.tw", x, "approve_completion")
    t.set_today(D(2026, 5, 4))
    t.create(user="chuyenvien.dcgs", due=D(2026, 6, 1), title="Y: quá hạn từ tháng Sáu")
    t.set_today(D(2026, 7, 1))
    z = t.create(user="chuyenvien.tg", due=D(2026, 7, 10), title="Z: xong đúng hạn").id
    t.set_today(D(2026, 7, 9))
    t.act("chuyenvien.tg", z, "submit_completion", comment="Xong")
    t.act("lanhdao.tw", z, "approve_completion")


def incoming(tree: Tree, org_key: str, unit_abbr: str, user: str | None, **at: D) -> None:
    """An incoming document with its lead assignment (the second source), written directly."""
    demo = tree.demo
    doc, org = uuid.uuid4(), demo.org_id(org_key)
    assigned = dt.datetime.combine(at["assigned"], dt.time(3), dt.UTC)
    finished = at.get("finished")
    with demo.factory() as s:
        s.execute(
            text(
                "INSERT INTO documents (id, organization_id, direction, state, doc_type, subject,"
                " listed_at, urgency, urgency_rank, secrecy, secrecy_rank, source, search_text,"
                " created_at, updated_at, version, due_date) VALUES (:id, :org, 'incoming',"
                " :state, 'CV', 'Công văn kiểm thử', :at, 'normal', 0, 'none', 0, 'paper',"
                " 'cong van kiem thu', :at, :at, 1, :due)"
            ),
            {
                "id": doc,
                "org": org,
                "state": "done" if finished else "assigned",
                "at": assigned,
                "due": at["due"],
            },
        )
        s.execute(
            text(
                "INSERT INTO assignments (id, document_id, role, unit_id, user_id, due_date,"
                " state, assigned_by_id, assigned_at, finished_on) VALUES (:id, :doc, 'lead',"
                " :unit, :user, :due, :state, :by, :at, :finished)"
            ),
            {
                "id": uuid.uuid4(),
                "doc": doc,
                "unit": tree.tasks.unit(unit_abbr, org_key),
                "user": tree.tasks.uid(user) if user else None,
                "due": at["due"],
                "state": "done" if finished else "pending",
                "by": tree.tasks.uid(f"lanhdao.{org_key}"),
                "at": assigned,
                "finished": finished,
            },
        )
        s.commit()


PERIODS = [
    (D(2026, 11, 1), D(2026, 11, 30)),  # a whole month
    (D(2026, 3, 1), D(2026, 3, 31)),
    (D(2026, 7, 1), D(2026, 9, 30)),  # whole months
    (D(2026, 1, 1), D(2026, 12, 2)),  # the year to date: the year's row less December
    (D(2026, 1, 1), D(2026, 11, 30)),
    (D(2026, 1, 1), D(2026, 12, 31)),  # the whole year, ending after today
    (D(2026, 3, 15), D(2026, 11, 14)),  # ragged at both edges
    (D(2026, 4, 10), D(2026, 12, 1)),
    (D(2025, 12, 15), D(2026, 11, 30)),  # across a year's end
    (D(2026, 5, 31), D(2026, 6, 2)),  # two partial months
    (D(2026, 11, 20), D(2026, 11, 20)),
    (D(2026, 12, 1), D(2026, 12, 31)),
]


def test_months_and_years_give_the_daily_and_the_live_figures(tree: Tree) -> None:
    spring(tree)
    build_history(tree.tasks)  # October to 2 December, "today"
    incoming(tree, "tw", "TG", "chuyenvien.tg", assigned=D(2026, 2, 3), due=D(2026, 2, 20))
    incoming(
        tree, "tw", "DCGSPBXH", None, assigned=D(2026, 6, 8), due=D(2026, 6, 12),
        finished=D(2026, 6, 30),
    )  # fmt: skip
    demo = tree.demo
    rebuild_all(demo.uow())
    with demo.factory() as s:  # the year rows are the sums of their months
        for column in ("received", "done_on_time", "done_late"):
            c = getattr(ReportMonthlyStat, column)
            years = s.scalar(select(func.sum(c)).where(ReportMonthlyStat.span == 12))
            months = s.scalar(select(func.sum(c)).where(ReportMonthlyStat.span == 1))
            assert years == months and months
    leader = demo.actor("lanhdao.tw")
    tw = demo.org_id("tw")
    for start, end in PERIODS:
        period = {"date_from": start, "date_to": end}
        for group in (GroupBy.UNIT, GroupBy.USER):
            live = processing_report(demo.uow(), leader, **period, group_by=group)
            kw: dict[str, Any] = {**period, "group_by": group.value, "scope": StatsScope.SUBTREE}
            agg = processing_rollup(demo.uow(), leader, **kw)
            want = sorted((r.name, figures(r)) for r in live.rows)
            assert sorted((r.name, figures(r)) for r in agg.rows) == want, (start, end, group)
            assert figures(agg.total) == figures(live.total), (start, end, group)
            # A page: the total from the organisations' total rows, the count in the database.
            page = processing_rollup(demo.uow(), leader, **kw, limit=1)
            assert figures(page.total) == figures(live.total), (start, end, group)
            assert page.total_items == len(live.rows)
        # By organisation: the coarse rows equal the daily table's sum.
        by_org = processing_rollup(
            demo.uow(), leader, **period, group_by="organization", scope=StatsScope.SUBTREE
        )
        own = next(r for r in by_org.rows if r.organization_id == tw and not r.subtree)
        daily = processing_counts(demo.uow(), tw, start, end)
        assert figures(own) == tuple(daily[f] for f in FIELDS), (start, end)
        unit_live = processing_report(demo.uow(), leader, **period, group_by=GroupBy.UNIT)
        assert figures(by_org.total) == figures(unit_live.total), (start, end)
    # Something happened in the periods: the comparison was not of zeros.
    ytd = processing_rollup(
        demo.uow(), leader, date_from=D(2026, 1, 1), date_to=D(2026, 12, 2),
        group_by="unit", scope=StatsScope.SUBTREE,
    )  # fmt: skip
    assert figures(ytd.total)[0] >= 12 and figures(ytd.total)[4] >= 1


def test_the_window_reads_months_years_and_edges() -> None:
    ytd = _window(D(2026, 1, 1), D(2026, 11, 30), D(2026, 11, 23))
    assert (ytd.years, ytd.minus, ytd.plus, ytd.edges) == (
        (D(2026, 1, 1),),
        (D(2026, 12, 1),),
        (),
        (),
    )
    # The stock of the 23rd: the month's end less the last 7 days (fewer than 23).
    assert (ytd.stock_month, ytd.stock_days, ytd.stock_sign) == (
        D(2026, 11, 1),
        (D(2026, 11, 24), D(2026, 11, 30)),
        -1,
    )
    ragged = _window(D(2026, 3, 15), D(2026, 5, 10), D(2026, 5, 10))
    assert ragged.plus == (D(2026, 4, 1),) and not ragged.years
    assert ragged.edges == ((D(2026, 3, 15), D(2026, 3, 31)), (D(2026, 5, 1), D(2026, 5, 10)))
    assert (ragged.stock_days, ragged.stock_sign) == ((D(2026, 5, 1), D(2026, 5, 10)), 1)
    month_end = _window(D(2026, 11, 1), D(2026, 11, 30), D(2026, 11, 30))
    assert month_end.plus == (D(2026, 11, 1),) and month_end.stock_days is None


def more_people(tree: Tree) -> None:
    """The hand-counted tree plus items of more people and units of the centre."""
    build_tree_history(tree)  # ends on 2 December
    for i, (who, due) in enumerate(
        [
            ("chuyenvien.dcgs", D(2026, 12, 20)),
            ("truongban.dcgs", D(2026, 12, 3)),
            ("chuyenvien.tg", D(2026, 12, 21)),
            ("luutru.tw", D(2026, 12, 22)),
            ("vanthu.tw", D(2026, 12, 2)),
        ]
    ):
        assign(tree, "lanhdao.tw", who, due, f"Việc thêm {i}")


@pytest.mark.parametrize("group", ["unit", "user"])
def test_database_pages_keep_the_published_order(tree: Tree, group: str) -> None:
    more_people(tree)
    demo = tree.demo
    rebuild_all(demo.uow())
    leader = demo.actor("lanhdao.tw")
    kw: dict[str, Any] = {
        "date_from": D(2026, 11, 1),
        "date_to": D(2026, 12, 31),
        "group_by": group,
        "scope": StatsScope.SUBTREE,
    }
    whole = processing_rollup(demo.uow(), leader, **kw)
    assert whole.total_items == len(whole.rows) >= 5
    assert len({r.organization_id for r in whole.rows}) >= 3
    # The published order (the former Python sort): organisation's name, row's name, id.
    published = sorted(
        whole.rows,
        key=lambda r: (fold(r.organization_name or ""), fold(r.name), r.name, str(r.id)),
    )
    assert [r.id for r in whole.rows] == [r.id for r in published]
    for limit in (1, 2, 3):
        seen: list[Any] = []
        cursor = None
        while True:
            page = processing_rollup(demo.uow(), leader, **kw, limit=limit, cursor=cursor)
            assert len(page.rows) <= limit and page.total_items == len(whole.rows)
            assert figures(page.total) == figures(whole.total)
            seen += [(r.id, r.organization_id, figures(r)) for r in page.rows]
            cursor = page.next_cursor
            if cursor is None:
                break
        assert seen == [(r.id, r.organization_id, figures(r)) for r in whole.rows], limit
    # A cursor of the former format (position, id) or of an organisation outside: 422.
    for old in (
        encode_cursor([1, whole.rows[0].id]),
        encode_cursor(["m", uuid.uuid4(), "Ai đó", uuid.uuid4()]),
        encode_cursor(["m", "not-a-uuid", "Ai đó", uuid.uuid4()]),
    ):
        with pytest.raises(DomainValidationError):
            processing_rollup(demo.uow(), leader, **kw, limit=2, cursor=old)


def _snapshot(tree: Tree | Any) -> dict[str, list[str]]:
    """Every row of the three roll-up tables but its id (of a tree, or of a demo)."""
    out: dict[str, list[str]] = {}
    demo = getattr(tree, "demo", tree)
    with demo.factory() as s:
        for model in (ReportDailyStat, ReportUnitDailyStat, ReportMonthlyStat):
            columns = [c for c in model.__table__.columns if c.name != "id"]
            out[model.__tablename__] = sorted(repr(tuple(r)) for r in s.execute(select(*columns)))
    return out


def test_the_one_pass_rebuild_writes_what_per_organisation_refreshes_write(tree: Tree) -> None:
    build_tree_history(tree)
    incoming(
        tree, "tinh", "BTT", None, assigned=D(2026, 11, 3), due=D(2026, 11, 10),
        finished=D(2026, 11, 12),
    )  # fmt: skip
    incoming(tree, "tw", "TG", "chuyenvien.tg", assigned=D(2026, 10, 5), due=D(2026, 10, 30))
    demo = tree.demo
    orgs, rows = rebuild_all(demo.uow())
    one_pass = _snapshot(tree)
    with demo.factory() as s:
        ids = list(s.scalars(select(Organization.id)))
        assert orgs == len(ids)
        assert rows == s.scalar(select(func.count()).select_from(ReportDailyStat))
        # The incoming documents were read: the province's unit BTT has its item.
        assert s.scalar(
            select(func.sum(ReportDailyStat.received)).where(
                ReportDailyStat.organization_id == demo.org_id("tinh"),
                ReportDailyStat.unit_id == tree.tasks.unit("BTT", "tinh"),
            )
        )
    assert all(one_pass.values())
    for org_id in ids:
        refresh_organization(demo.uow(), org_id)
    assert _snapshot(tree) == one_pass
    # And rebuilding again changes nothing (idempotent).
    rebuild_all(demo.uow())
    assert _snapshot(tree) == one_pass


def test_the_coarse_grain_pages_and_the_rebuild_on_sqlite(tmp_path: Path) -> None:
    """The embedded profile (SQLite): the monthly rows (its date functions), the pages and the
    one-pass rebuild (executemany, no COPY) give the live count's figures."""
    from docflow import UnitOfWork
    from tests.conftest import sqlite_demo
    from tests.tasks.conftest import Tasks

    with sqlite_demo(tmp_path) as demo:
        factory, clock = demo.factory, demo.clock
        t = Tasks(demo)
        t.set_today(D(2026, 3, 2))
        x = t.create(unit="DCGSPBXH", due=D(2026, 3, 20), title="Việc X").id
        t.create(user="chuyenvien.tg", due=D(2026, 4, 1), title="Việc Y")
        t.set_today(D(2026, 4, 10))
        t.act("truongban.dcgs", x, "submit_completion", comment="Xong")
        t.act("lanhdao.tw", x, "approve_completion")
        t.set_today(D(2026, 11, 3))
        t.create(user="chuyenvien.dcgs", due=D(2026, 11, 6), title="Việc Z")
        t.create(unit="TG", due=D(2026, 11, 30), title="Việc W")
        t.set_today(D(2026, 11, 23))
        orgs, rows = rebuild_all(UnitOfWork(factory, clock=clock))
        assert orgs == 3 and rows > 0
        leader = t.demo.actor("lanhdao.tw")
        for start, end in (
            (D(2026, 11, 1), D(2026, 11, 30)),
            (D(2026, 1, 1), D(2026, 11, 30)),
            (D(2026, 3, 15), D(2026, 11, 10)),
        ):
            for group in (GroupBy.UNIT, GroupBy.USER):
                period: dict[str, Any] = {"date_from": start, "date_to": end}
                live = processing_report(
                    UnitOfWork(factory, clock=clock), leader, **period, group_by=group
                )
                kw: dict[str, Any] = {**period, "group_by": group.value}
                agg = processing_rollup(
                    UnitOfWork(factory, clock=clock), leader, **kw, scope=StatsScope.SUBTREE
                )
                want = sorted((r.name, figures(r)) for r in live.rows)
                assert sorted((r.name, figures(r)) for r in agg.rows) == want, (start, group)
                page = processing_rollup(
                    UnitOfWork(factory, clock=clock), leader, **kw,
                    scope=StatsScope.SUBTREE, limit=1,
                )  # fmt: skip
                assert figures(page.total) == figures(live.total)
                assert page.total_items == len(live.rows) and len(page.rows) == 1
            by_org = processing_rollup(
                UnitOfWork(factory, clock=clock), leader, date_from=start, date_to=end,
                group_by="organization", scope=StatsScope.SUBTREE,
            )  # fmt: skip
            unit_live = processing_report(
                UnitOfWork(factory, clock=clock), leader, date_from=start, date_to=end
            )
            assert figures(by_org.total) == figures(unit_live.total), start


def _writes(demo: Any, action: Any) -> list[str]:
    """The writes ("INSERT INTO table", "UPDATE table", "DELETE FROM table") ``action`` sent."""
    from sqlalchemy import event

    written: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        found = re.match(r"\s*(INSERT INTO|UPDATE|DELETE FROM)\s+(\w+)", statement)
        if found:
            written.append(f"{found[1]} {found[2]}")

    engine = demo.factory.kw["bind"]
    event.listen(engine, "before_cursor_execute", count)
    try:
        action()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return written


def test_a_refresh_writes_only_the_differences_on_sqlite_too(tmp_path: Path) -> None:
    """The embedded profile: the month keys come back from SQLite's date functions as dates
    (compared with the stored rows, not rewritten each time), a change is written as a
    difference, and the result equals a rebuild."""
    from docflow import UnitOfWork
    from tests.conftest import sqlite_demo
    from tests.tasks.conftest import Tasks

    with sqlite_demo(tmp_path) as demo:
        uow = lambda: UnitOfWork(demo.factory, clock=demo.clock)  # noqa: E731
        t = Tasks(demo)
        t.set_today(D(2026, 10, 5))
        x = t.create(unit="DCGSPBXH", due=D(2026, 10, 20), title="Việc X").id
        t.create(user="chuyenvien.tg", due=D(2026, 11, 6), title="Việc Y")
        t.set_today(D(2026, 11, 3))
        rebuild_all(uow())
        centre = demo.org_id("tw")
        assert [w for w in _writes(demo, lambda: refresh_organization(uow(), centre))
                if "report_refresh" not in w] == []  # fmt: skip
        t.act("truongban.dcgs", x, "submit_completion", comment="Xong")
        t.act("lanhdao.tw", x, "approve_completion")
        changed = _writes(demo, lambda: refresh_organization(uow(), centre))
        assert {w.split()[-1] for w in changed} >= {
            "report_daily_stats",
            "report_monthly_stats",
        }
        refreshed = _snapshot(demo)
        rebuild_all(uow())
        assert _snapshot(demo) == refreshed


def test_a_refresh_writes_only_the_differences_and_ends_where_a_rebuild_does(
    tree: Tree,
) -> None:
    """The refresh compares and writes the differences (rows gone deleted, changed ones
    updated, new ones inserted) instead of rewriting the organisation: after changes of every
    kind — an item cancelled, one added and finished, one moved to another person — the
    tables equal a full rebuild's, and a refresh with nothing changed writes nothing."""
    build_tree_history(tree)
    demo, t = tree.demo, tree.tasks
    rebuild_all(demo.uow())
    province = demo.org_id("tinh")
    with demo.factory() as s:
        b_task = s.scalars(select(Task.id).where(Task.title.startswith("B:"))).one()
    t.set_today(D(2026, 12, 2))
    t.act("lanhdao.tinh", b_task, "cancel", reason="Không còn cần")
    fresh = assign(tree, "lanhdao.tinh", "chuyenvien.tinh", D(2026, 12, 4), "G: mới")
    t.act("chuyenvien.tinh", fresh, "submit_completion", comment="Xong ngay")
    t.act("lanhdao.tinh", fresh, "approve_completion")
    # And one moved to another person behind the commands' back (the old person's rows must
    # vanish, the new person's appear).
    with demo.factory() as s:
        a_task = s.scalars(select(Task).where(Task.title.startswith("A:"))).one()
        a_task.lead_user_id = t.uid("lanhdao.tinh")
        s.commit()
    changed = _writes(demo, lambda: refresh_organization(demo.uow(), province))
    unchanged = _writes(demo, lambda: refresh_organization(demo.uow(), province))
    refreshed = _snapshot(tree)
    rebuild_all(demo.uow())
    assert _snapshot(tree) == refreshed
    # The changes touched each table, by each kind of write; a second refresh rewrote nothing
    # but its own state row.
    assert {w.split()[0] for w in changed} == {"INSERT", "UPDATE", "DELETE"}
    assert {w.split()[-1] for w in changed} >= {
        "report_daily_stats",
        "report_unit_daily_stats",
        "report_monthly_stats",
    }
    assert [w for w in unchanged if "report_refresh" not in w] == []
    # A row written twice (two recomputations racing before they were serialised) is healed
    # by the next one, not counted twice for ever.
    expected = _snapshot(tree)
    with demo.factory() as s:
        row = s.scalars(
            select(ReportDailyStat).where(ReportDailyStat.organization_id == province)
        ).first()
        assert row is not None
        columns = [c.name for c in ReportDailyStat.__table__.columns if c.name != "id"]
        s.add(ReportDailyStat(**{c: getattr(row, c) for c in columns}))
        s.commit()
    assert _snapshot(tree) != expected
    refresh_organization(demo.uow(), province)
    assert _snapshot(tree) == expected
