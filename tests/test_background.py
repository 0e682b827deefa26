"""Background work end to end: the app's outbox, a real Redis broker and a real Celery worker."""

from __future__ import annotations

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
