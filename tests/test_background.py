"""Background work end to end: the app's outbox, a real Redis broker and a real Celery worker."""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from celery.contrib.testing.worker import start_worker
from sqlalchemy import select

from docflow import audit
from docflow.demo import seed_demo
from docflow.models import AuditEntry, OutboxMessage
from migrations import upgrade
from tests.conftest import DEMO_PASSWORD, fresh_pg_database, make_test_settings

pytestmark = [pytest.mark.pg, pytest.mark.redis]


@pytest.fixture
def worker_app(tmp_path: Path) -> Any:
    from app import create_app
    from app.runtime import runtime

    url = fresh_pg_database("_worker")
    upgrade(url)
    redis_url = os.environ.get("DHTN_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    settings = make_test_settings(tmp_path, url, broker_url=redis_url, tasks_eager=False)
    app = create_app(settings)
    seed_demo(runtime(app).uow(), password=DEMO_PASSWORD)
    done = threading.Event()

    def handler(uow: Any, payload: dict[str, Any]) -> None:
        audit.record(uow, "background_done", actor_name="worker", details=payload)
        uow.after_commit(done.set)

    runtime(app).handlers.add("test.ping", handler)
    app.extensions["test_done"] = done
    yield app
    engine = runtime(app).engine
    if engine is not None:
        engine.dispose()


def test_committed_work_reaches_the_worker_and_rolled_back_work_never_does(worker_app: Any) -> None:
    from app.celery_app import celery_of
    from app.runtime import runtime

    rt = runtime(worker_app)
    celery = celery_of(worker_app)
    with start_worker(
        celery, pool="threads", concurrency=1, perform_ping_check=False, loglevel="WARNING"
    ):
        uow = rt.uow()
        with pytest.raises(RuntimeError), uow:
            uow.enqueue("test.ping", {"which": "rolled back"})
            raise RuntimeError("service failed")
        uow = rt.uow()
        with uow:
            uow.enqueue("test.ping", {"which": "committed"})
            uow.commit()
        assert worker_app.extensions["test_done"].wait(20), "the worker never handled the message"
        time.sleep(0.5)  # let a wrongly queued second message show up if there were one
    with rt.session_factory() as s:
        done = s.scalars(select(AuditEntry).where(AuditEntry.event == "background_done")).all()
        assert [e.details for e in done] == [{"which": "committed"}]
        msgs = s.scalars(select(OutboxMessage)).all()
        assert len(msgs) == 1 and msgs[0].done_at is not None
        assert audit.verify(s, key=rt.config.audit_key).ok


def test_a_message_put_off_is_handed_out_again_by_the_relay_within_its_tick(
    worker_app: Any,
) -> None:
    """A handler that asks for later (the roll-up's interval): the relay, run as often as
    beat runs it, hands the message out again once its time has come, so it waits about its
    time and one tick, not the 15 s tick that gave the soak 7 s of outbox lag. Beat is played
    by the test (start_worker runs none); the schedule it plays is beat's own."""
    from app.celery_app import RELAY_EVERY_S, RELAY_TASK, celery_of
    from app.runtime import runtime
    from docflow.outbox import Later

    celery = celery_of(worker_app)
    schedule = celery.conf.beat_schedule["outbox-relay"]
    assert schedule["task"] == RELAY_TASK and schedule["schedule"] == RELAY_EVERY_S
    assert RELAY_EVERY_S <= 2.5  # the soak's target is an outbox lag under 5 s
    rt = runtime(worker_app)
    calls: list[float] = []
    done = threading.Event()

    def later(uow: Any, payload: dict[str, Any]) -> None:
        calls.append(time.monotonic())
        if len(calls) == 1:
            raise Later(uow.now() + dt.timedelta(seconds=1))
        uow.after_commit(done.set)

    rt.handlers.add("test.later", later)
    with start_worker(
        celery, pool="threads", concurrency=1, perform_ping_check=False, loglevel="WARNING"
    ):
        uow = rt.uow()
        with uow:
            uow.enqueue("test.later", {})
            uow.commit()
        end = time.monotonic() + 30
        while not done.is_set() and time.monotonic() < end:
            celery.send_task(RELAY_TASK)  # what beat sends every RELAY_EVERY_S
            done.wait(RELAY_EVERY_S)
        assert done.is_set(), f"not handed out again: {len(calls)} call(s)"
    assert len(calls) == 2
    # Its time (1 s after the first try), then at most a tick and the hand-over.
    assert 1.0 <= calls[1] - calls[0] <= 1.0 + 2 * RELAY_EVERY_S + 2
    with rt.session_factory() as s:
        (msg,) = s.scalars(select(OutboxMessage)).all()
        assert msg.done_at is not None and msg.attempts == 1
