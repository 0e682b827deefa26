"""The roll-up kept by the real outbox: the hand-counted tree of ``test_rollup`` built through
the commands with the app's units of work (which hand their messages to Celery), a real Celery
worker on Redis handling ``reports.changed``, and no rebuild: once the outbox is empty, the
province's and the centre's figures are the hand-counted ones."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from celery.contrib.testing.worker import start_worker
from sqlalchemy import func, select

from app.celery_app import RELAY_EVERY_S, RELAY_TASK
from docflow.models import OutboxMessage, ReportDailyStat
from docflow.reports import TOPIC_CHANGED
from tests.conftest import Clock, Demo, worker_backed_app
from tests.reports.conftest import Tree, add_org, add_user
from tests.reports.test_rollup import build_tree_history, figures, rollup
from tests.tasks.conftest import Tasks


@dataclass
class AppDemo(Demo):
    """The demo whose units of work are the app's: committed for real, published to Celery."""

    rt: Any = None

    def uow(self) -> Any:
        return self.rt.uow()


@pytest.fixture
def worker_tree(tmp_path: Path) -> Iterator[tuple[Tree, Any]]:
    from app.celery_app import celery_of
    from app.runtime import runtime

    clock = Clock()
    with worker_backed_app(tmp_path, "rollup-worker", clock=clock) as app:
        rt = runtime(app)
        demo = AppDemo(factory=rt.session_factory, clock=clock, store=rt.store, rt=rt)
        other = add_org(demo, "tw", "Ủy ban MTTQ tỉnh Khác", "000.00.02.Z01", "province")
        commune = add_org(demo, str(other), "Ủy ban MTTQ xã Khác", "000.02.01.Z01", "commune")
        add_user(demo, other, "lanhdao.tinhkhac", "leader")
        add_user(demo, commune, "lanhdao.xakhac", "leader")
        add_user(demo, commune, "vanthu.xakhac", "clerk")
        yield Tree(demo, Tasks(demo), other, commune), celery_of(app)


def _pending(demo: Demo) -> int:
    with demo.factory() as s:
        return int(
            s.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.topic == TOPIC_CHANGED, OutboxMessage.done_at.is_(None))
            )
            or 0
        )


def test_the_worker_keeps_the_hand_counted_figures(worker_tree: tuple[Tree, Any]) -> None:
    tree, celery = worker_tree
    demo = tree.demo
    with start_worker(
        celery, pool="threads", concurrency=1, perform_ping_check=False, loglevel="WARNING"
    ):
        build_tree_history(tree)
        with demo.factory() as s:
            queued = s.scalars(
                select(OutboxMessage.key).where(OutboxMessage.topic == TOPIC_CHANGED)
            ).all()
        # Six tasks created and four moves that count (two submissions, two approvals): at most
        # one message per command (none while its organisation's is still waiting, which
        # depends on how fast this worker is), none for anything else.
        # Each message names its organisation as its key: the four whose figures changed.
        touched = {demo.org_id("tw"), demo.org_id("tinh"), demo.org_id("phuong")}
        assert set(queued) == {str(o) for o in (*touched, tree.other_commune)}
        assert len(queued) <= 10
        # Then time passes, as it does for a real worker, and the test plays beat (start_worker
        # runs none). A message handled while its organisation is being recomputed, or within
        # the interval after, is put off to the interval's end, and only the relay hands it out
        # again; the test's clock stands still between its jumps, so that end never came. (On
        # a loaded machine the worker falls a step behind the commands: CI saw the last message
        # of an organisation left so.) Each tick here is a whole interval of the clock.
        interval = demo.rt.config.reports_refresh_interval
        end = time.monotonic() + 60
        while _pending(demo) and time.monotonic() < end:
            demo.clock.advance(seconds=interval.total_seconds() + 1)
            celery.send_task(RELAY_TASK)
            time.sleep(RELAY_EVERY_S)
        assert _pending(demo) == 0, "the worker did not empty the outbox in time"
    with demo.factory() as s:
        assert s.scalar(select(func.count()).select_from(ReportDailyStat))
    prov = rollup(tree, "lanhdao.tinh")
    assert prov.source == "aggregate"
    rows = {r.name: (figures(r), r.subtree) for r in prov.rows}
    assert rows == {
        "Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh Demo": ((2, 1, 0, 0, 1), False),
        "Ủy ban Mặt trận Tổ quốc Việt Nam phường Demo": ((2, 0, 1, 1, 0), True),
    }
    centre = rollup(tree, "lanhdao.tw")
    assert {r.organization_id: figures(r) for r in centre.rows} == {
        demo.org_id("tw"): (1, 0, 0, 1, 0),
        demo.org_id("tinh"): (4, 1, 1, 1, 1),
        tree.other_province: (1, 0, 0, 0, 1),
    }
    assert figures(centre.total) == (6, 1, 1, 2, 2)
