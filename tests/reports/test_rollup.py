"""Roll-up statistics: a hand-counted tree (centre, two provinces, their communes), the
pre-aggregated table against the live count, visibility up and across the tree, the refusal
order, and the outbox refresh."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from sqlalchemy import select

from docflow import NotFoundError, PermissionDeniedError
from docflow import ValidationError as DomainValidationError
from docflow.models import OutboxMessage, ReportDailyStat
from docflow.outbox import process_message
from docflow.reports import (
    TOPIC_CHANGED,
    GroupBy,
    StatsScope,
    handle_changed,
    processing_report,
    processing_rollup,
    rebuild_all,
)
from docflow.tasks import CreateTask, create_task
from tests.reports.conftest import Tree
from tests.tasks.test_stats import build_history

D = dt.date
NOV = {"date_from": D(2026, 11, 1), "date_to": D(2026, 11, 30)}
FIELDS = ("received", "done_on_time", "done_late", "open", "overdue")


def figures(row: Any) -> tuple[int, ...]:
    return tuple(getattr(row, f) for f in FIELDS)


def assign(tree: Tree, by: str, to: str, due: dt.date, title: str) -> uuid.UUID:
    cmd = CreateTask.model_validate(
        {"title": title, "lead": {"user_id": tree.tasks.uid(to)}, "due_date": due}
    )
    return create_task(tree.demo.uow(), tree.demo.actor(by), cmd).id


def build_tree_history(tree: Tree) -> None:
    t = tree.tasks
    on = t.set_today
    on(D(2026, 11, 2))
    a = assign(tree, "lanhdao.tinh", "chuyenvien.tinh", D(2026, 11, 10), "A: tỉnh, đúng hạn")
    on(D(2026, 11, 3))
    assign(tree, "lanhdao.tinh", "chuyenvien.tinh", D(2026, 11, 6), "B: tỉnh, quá hạn")
    on(D(2026, 11, 4))
    c = assign(tree, "lanhdao.phuong", "vanthu.phuong", D(2026, 11, 5), "C: phường, muộn")
    on(D(2026, 11, 5))
    assign(tree, "lanhdao.tw", "chuyenvien.tg", D(2026, 11, 30), "E: trung ương, còn hạn")
    assign(tree, "lanhdao.xakhac", "vanthu.xakhac", D(2026, 11, 9), "F: tỉnh khác, quá hạn")
    on(D(2026, 11, 9))
    t.act("chuyenvien.tinh", a, "submit_completion", comment="Xong")
    on(D(2026, 11, 10))
    t.act("lanhdao.tinh", a, "approve_completion")
    on(D(2026, 11, 12))
    t.act("vanthu.phuong", c, "submit_completion", comment="Xong muộn")
    t.act("lanhdao.phuong", c, "approve_completion")
    on(D(2026, 11, 20))
    assign(tree, "lanhdao.phuong", "vanthu.phuong", D(2026, 12, 15), "D: phường, còn hạn")
    on(D(2026, 12, 2))


def rollup(tree: Tree, who: str, **kw: Any) -> Any:
    args = {**NOV, "scope": StatsScope.SUBTREE, "group_by": "organization", **kw}
    return processing_rollup(tree.demo.uow(), tree.demo.actor(who), **args)


def test_province_and_centre_roll_up_the_hand_counted_tree(tree: Tree) -> None:
    build_tree_history(tree)
    demo = tree.demo
    rebuild_all(demo.uow())
    prov = rollup(tree, "lanhdao.tinh")
    assert prov.source == "aggregate"
    rows = {r.name: (figures(r), r.subtree) for r in prov.rows}
    assert rows == {
        "Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh Demo": ((2, 1, 0, 0, 1), False),
        "Ủy ban Mặt trận Tổ quốc Việt Nam phường Demo": ((2, 0, 1, 1, 0), True),
    }
    assert figures(prov.total) == (4, 1, 1, 1, 1)
    centre = rollup(tree, "lanhdao.tw")
    by_id = {r.organization_id: figures(r) for r in centre.rows}
    assert by_id == {
        demo.org_id("tw"): (1, 0, 0, 1, 0),
        demo.org_id("tinh"): (4, 1, 1, 1, 1),
        tree.other_province: (1, 0, 0, 0, 1),
    }
    assert figures(centre.total) == (6, 1, 1, 2, 2)
    # Drill down: the centre asks for the province's row, then the ward's people.
    down = rollup(tree, "lanhdao.tw", organization_id=demo.org_id("tinh"))
    assert figures(down.total) == (4, 1, 1, 1, 1)
    people = rollup(tree, "lanhdao.tw", organization_id=demo.org_id("phuong"), group_by="user")
    assert [(r.name, figures(r)) for r in people.rows] == [("Đinh Thị Yến", (2, 0, 1, 1, 0))]
    # Every organisation's aggregated figures equal the live count of its rows.
    for key in ("tw", "tinh", "phuong"):
        org = demo.org_id(key)
        live = processing_report(
            demo.uow(),
            demo.actor("lanhdao.tw"),
            **NOV,
            group_by=GroupBy.USER,
            organization_id=org,
        )
        agg = rollup(tree, "lanhdao.tw", organization_id=org, group_by="user")
        own = [r for r in agg.rows if r.organization_id == org]
        assert sorted((r.name, figures(r)) for r in own) == sorted(
            (r.name, figures(r)) for r in live.rows
        )


def test_aggregate_equals_the_live_count_for_every_period(tree: Tree) -> None:
    """The task-statistics fixture (holidays, Saturday finishes, sub-tasks, cancellations)
    counted both ways over many periods."""
    build_history(tree.tasks)
    demo = tree.demo
    rebuild_all(demo.uow())
    leader = demo.actor("lanhdao.tw")
    periods = [
        (D(2026, 11, 1), D(2026, 11, 30)),
        (D(2026, 10, 1), D(2026, 12, 31)),
        (D(2026, 11, 14), D(2026, 11, 16)),
        (D(2026, 11, 20), D(2026, 11, 20)),
        (D(2026, 12, 1), D(2026, 12, 2)),
        (D(2026, 9, 1), D(2026, 10, 19)),
    ]
    for start, end in periods:
        for group in (GroupBy.UNIT, GroupBy.USER):
            live = processing_report(
                demo.uow(), leader, date_from=start, date_to=end, group_by=group
            )
            agg = processing_rollup(
                demo.uow(),
                leader,
                date_from=start,
                date_to=end,
                group_by=group.value,
                scope=StatsScope.SUBTREE,
            )
            want = sorted((r.name, figures(r)) for r in live.rows)
            got = sorted((r.name, figures(r)) for r in agg.rows)
            assert got == want, (start, end, group)
            assert figures(agg.total) == figures(live.total)


def test_a_leader_sees_only_their_own_subtree(tree: Tree) -> None:
    build_tree_history(tree)
    demo = tree.demo
    rebuild_all(demo.uow())
    tinh = demo.org_id("tinh")
    # A ward leader cannot see the province above, nor another province's commune.
    with pytest.raises(NotFoundError):
        rollup(tree, "lanhdao.phuong", organization_id=tinh)
    with pytest.raises(NotFoundError):
        rollup(tree, "lanhdao.phuong", organization_id=tree.other_commune, scope=StatsScope.SELF)
    # A leader of another province sees nothing of this one, self or subtree.
    for scope in StatsScope:
        with pytest.raises(NotFoundError):
            rollup(tree, "lanhdao.tinhkhac", organization_id=tinh, scope=scope)
    # The ward leader's own subtree is just the ward.
    own = rollup(tree, "lanhdao.phuong")
    assert [r.organization_id for r in own.rows] == [demo.org_id("phuong")]
    assert figures(own.total) == (2, 0, 1, 1, 0)
    # The other province's leader: their province and commune only.
    other = rollup(tree, "lanhdao.tinhkhac")
    assert {r.organization_id for r in other.rows} == {tree.other_province, tree.other_commune}
    assert figures(other.total) == (1, 0, 0, 0, 1)
    # The province leader reads the ward live (scope=self).
    ward = rollup(
        tree, "lanhdao.tinh", organization_id=demo.org_id("phuong"), scope=StatsScope.SELF
    )
    assert ward.source == "live"
    assert figures(ward.total) == (2, 0, 1, 1, 0)


def test_refusal_order(tree: Tree) -> None:
    demo = tree.demo
    tinh = demo.org_id("tinh")
    backwards = {"date_from": D(2026, 11, 30), "date_to": D(2026, 11, 1)}
    # Not visible first (404), even with a bad period and without the role.
    with pytest.raises(NotFoundError):
        rollup(tree, "lanhdao.tinhkhac", organization_id=tinh, **backwards)
    with pytest.raises(NotFoundError):
        rollup(tree, "chuyenvien.tinh", organization_id=demo.org_id("tw"), **backwards)
    with pytest.raises(NotFoundError):
        rollup(tree, "lanhdao.tinh", organization_id=uuid.uuid4())
    # Visible but not permitted (403) before the period's check.
    with pytest.raises(PermissionDeniedError):
        rollup(tree, "chuyenvien.tinh", **backwards)
    with pytest.raises(PermissionDeniedError):
        rollup(
            tree, "chuyenvien.tinh", organization_id=demo.org_id("phuong"), scope=StatsScope.SELF
        )
    # Then the parameters (422).
    with pytest.raises(DomainValidationError):
        rollup(tree, "lanhdao.tinh", **backwards)
    with pytest.raises(DomainValidationError):
        rollup(tree, "lanhdao.tinh", date_from=D(2020, 1, 1), date_to=D(2026, 1, 1))


def _messages(demo: Any) -> list[OutboxMessage]:
    with demo.factory() as s:
        return list(
            s.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.topic == TOPIC_CHANGED)
                .order_by(OutboxMessage.created_at, OutboxMessage.id)
            )
        )


def _ward_totals(tree: Tree) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The ward's 1–24 November totals: from the roll-up tables, and counted live."""
    period = {"date_from": D(2026, 11, 1), "date_to": D(2026, 11, 24)}
    ward = rollup(tree, "lanhdao.phuong", **period)
    live = processing_report(
        tree.demo.uow(), tree.demo.actor("lanhdao.phuong"), **period, group_by=GroupBy.UNIT
    )
    return figures(ward.total), figures(live.total)


def test_commands_queue_a_message_and_the_handler_recomputes_once(tree: Tree) -> None:
    """No session hook: the command queues one ``reports.changed`` message in its transaction
    and nothing else (none while one waits); the handler recomputes; a message handled twice
    counts once."""
    demo = tree.demo
    handlers = {TOPIC_CHANGED: [handle_changed]}
    tree.tasks.set_today(D(2026, 11, 24))
    task = assign(tree, "lanhdao.phuong", "vanthu.phuong", D(2026, 11, 26), "Việc mới")
    msgs = _messages(demo)
    assert [m.payload["organization_id"] for m in msgs] == [str(demo.org_id("phuong"))]
    with demo.factory() as s:
        assert s.scalars(select(ReportDailyStat)).first() is None
    # Starting it changes nothing the statistics count: no message.
    tree.tasks.act("vanthu.phuong", task, "start")
    assert len(_messages(demo)) == 1
    assert process_message(demo.uow(), msgs[0].id, handlers).value == "done"
    ward = rollup(tree, "lanhdao.phuong", date_from=D(2026, 11, 1), date_to=D(2026, 11, 24))
    assert figures(ward.total) == (1, 0, 0, 1, 0)
    # Delivered again (at least once): marked not done, handled again, still counted once.
    with demo.factory() as s:
        s.get_one(OutboxMessage, msgs[0].id).done_at = None
        s.commit()
    assert process_message(demo.uow(), msgs[0].id, handlers).value == "done"
    handle_changed(demo.uow(), dict(msgs[0].payload))
    ward = rollup(tree, "lanhdao.phuong", date_from=D(2026, 11, 1), date_to=D(2026, 11, 24))
    assert figures(ward.total) == (1, 0, 0, 1, 0)
    # Two more changes, one message: the second finds the first's waiting and counts on it.
    assign(tree, "lanhdao.phuong", "vanthu.phuong", D(2026, 11, 27), "Việc thứ hai")
    tree.tasks.act("vanthu.phuong", task, "submit_completion", comment="Xong")
    waiting = [m for m in _messages(demo) if m.done_at is None]
    assert len(waiting) == 1
    # A second one written meanwhile (the first was held by a worker: see
    # test_rollup_concurrency) is taken along by the first handled.
    uow = demo.uow()
    with uow:
        uow.enqueue(TOPIC_CHANGED, dict(waiting[0].payload), key=waiting[0].key)
        uow.commit()
    waiting = [m for m in _messages(demo) if m.done_at is None]
    assert len(waiting) == 2
    assert process_message(demo.uow(), waiting[0].id, handlers).value == "done"
    assert process_message(demo.uow(), waiting[1].id, handlers).value == "already_done"
    assert _ward_totals(tree) == ((2, 0, 0, 2, 0),) * 2
    # Time passes without a write: the roll-forward job makes the item overdue.
    from docflow.reports import roll_forward

    tree.tasks.set_today(D(2026, 11, 30))
    roll_forward(demo.uow())
    ward = rollup(tree, "lanhdao.phuong")
    live = processing_report(demo.uow(), demo.actor("lanhdao.phuong"), **NOV, group_by=GroupBy.UNIT)
    assert figures(ward.total) == figures(live.total) == (2, 0, 0, 0, 2)


def test_a_busy_organisation_is_recomputed_at_most_once_per_interval(tree: Tree) -> None:
    """With ``reports_refresh_interval`` (the app's 30 s), a change within the interval after a
    recomputation waits (the message is deferred, not lost, not counted as an attempt); the
    changes that arrive meanwhile count on that message, and the one recomputation at the
    interval's end counts them all. Another organisation is not held back."""
    from dataclasses import replace

    from docflow import UnitOfWork
    from docflow.outbox import Outcome, due_messages

    demo = tree.demo

    def uow() -> UnitOfWork:
        return UnitOfWork(
            demo.factory,
            clock=demo.clock,
            store=demo.store,
            config=replace(demo.config, reports_refresh_interval=dt.timedelta(seconds=30)),
        )

    handlers = {TOPIC_CHANGED: [handle_changed]}

    def ward_total() -> tuple[int, ...]:
        return _ward_totals(tree)[0]

    tree.tasks.set_today(D(2026, 11, 24))
    assign(tree, "lanhdao.phuong", "vanthu.phuong", D(2026, 11, 26), "Việc một")
    (first,) = [m for m in _messages(demo) if m.done_at is None]
    assert process_message(uow(), first.id, handlers) is Outcome.DONE
    assert ward_total() == (1, 0, 0, 1, 0)
    recomputed_at = demo.clock()
    # Ten seconds later, a second task: its message waits until the interval is over.
    demo.clock.advance(seconds=10)
    assign(tree, "lanhdao.phuong", "vanthu.phuong", D(2026, 11, 27), "Việc hai")
    (second,) = [m for m in _messages(demo) if m.done_at is None]
    assert process_message(uow(), second.id, handlers) is Outcome.DEFERRED
    with demo.factory() as s:
        waiting = s.get_one(OutboxMessage, second.id)
        assert waiting.attempts == 0
        assert waiting.available_at == recomputed_at + dt.timedelta(seconds=30)
    assert ward_total() == (1, 0, 0, 1, 0)  # not yet: the figures lag by the interval
    # A third change meanwhile counts on the deferred message (it writes none of its own); the
    # province (another organisation) is recomputed at once.
    demo.clock.advance(seconds=5)
    assign(tree, "lanhdao.phuong", "vanthu.phuong", D(2026, 11, 30), "Việc ba")
    province = assign(tree, "lanhdao.tinh", "vanthu.tinh", D(2026, 11, 30), "Việc tỉnh")
    assert province
    pending = [m for m in _messages(demo) if m.done_at is None]
    assert len(pending) == 2 and second.id in {m.id for m in pending}
    by_org = {m.payload["organization_id"]: m for m in pending if m.id != second.id}
    prov_msg = by_org[str(demo.org_id("tinh"))]
    assert process_message(uow(), prov_msg.id, handlers) is Outcome.DONE
    assert not [m for m in due_messages(uow()) if m == second.id]
    # The interval is over: the relay hands the deferred message out again, and its one
    # recomputation counts the third change too.
    demo.clock.advance(seconds=15)
    assert second.id in due_messages(uow(), grace=dt.timedelta(minutes=5))
    assert process_message(uow(), second.id, handlers) is Outcome.DONE
    assert [m for m in _messages(demo) if m.done_at is None] == []
    assert _ward_totals(tree) == ((3, 0, 0, 3, 0),) * 2


def test_pages_of_a_subtree_cover_every_row_once_and_keep_the_total(tree: Tree) -> None:
    build_tree_history(tree)
    rebuild_all(tree.demo.uow())
    whole = rollup(tree, "lanhdao.tw", group_by="user")
    assert whole.total_items == len(whole.rows) >= 3 and whole.next_cursor is None
    seen: list[Any] = []
    cursor = None
    while True:
        page = rollup(tree, "lanhdao.tw", group_by="user", limit=2, cursor=cursor)
        assert len(page.rows) <= 2 and page.total_items == len(whole.rows)
        assert figures(page.total) == figures(whole.total) == (6, 1, 1, 2, 2)
        seen += [r.id for r in page.rows]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == [r.id for r in whole.rows]
    for bad in ("garbage!", "W10", "WyJ4IiwieSJd"):  # not base64 / not a list / not a position
        with pytest.raises(DomainValidationError):
            rollup(tree, "lanhdao.tw", group_by="user", limit=2, cursor=bad)
    with pytest.raises(DomainValidationError):
        rollup(tree, "lanhdao.tw", group_by="user", limit=0)
