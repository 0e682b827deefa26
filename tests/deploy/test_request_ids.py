"""Request ids across web and worker: taken from X-Request-ID only behind a trusted proxy, sent
with the jobs the request queues (real Redis, real Celery worker), and written in the worker's
JSON log lines."""

from __future__ import annotations

import io
import json
import logging
import os
import threading
import uuid
from pathlib import Path
from typing import Any

import pytest
from celery.contrib.testing.worker import start_worker

from migrations import upgrade
from tests.conftest import fresh_pg_database, make_test_settings

pytestmark = [pytest.mark.pg, pytest.mark.redis]


@pytest.fixture(scope="module")
def database() -> str:
    url = fresh_pg_database("_rid")
    upgrade(url)
    return url


def _app(tmp_path: Path, url: str, proxies: int) -> Any:
    from app import create_app
    from app.runtime import make_uow, runtime

    redis_url = os.environ.get("DHTN_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    settings = make_test_settings(
        tmp_path, url, broker_url=redis_url, tasks_eager=False, trusted_proxies=proxies
    )
    app = create_app(settings)
    seen: list[str | None] = []
    done = threading.Event()

    def handler(uow: Any, payload: dict[str, Any]) -> None:
        from app.logs import current_request_id

        seen.append(current_request_id())
        uow.after_commit(done.set)

    runtime(app).handlers.add("test.request_id", handler)

    def probe() -> str:
        uow = make_uow()
        with uow:
            uow.enqueue("test.request_id", {})
            uow.commit()
        return "ok"

    app.add_url_rule("/_probe", "probe", probe, methods=["POST"])
    app.config.update(WTF_CSRF_ENABLED=False)
    app.extensions["test"] = (seen, done)
    return app


def _run(app: Any, headers: dict[str, str]) -> tuple[str, str | None, list[dict[str, Any]]]:
    from app.celery_app import celery_of, use_one_queue
    from app.logs import JsonFormatter

    seen, done = app.extensions["test"]
    # A queue of our own: other suites' workers may listen on the shared Redis's "celery".
    use_one_queue(celery_of(app), f"rid-{uuid.uuid4().hex}")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("app.celery_app")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        with start_worker(
            celery_of(app), pool="threads", concurrency=1, perform_ping_check=False,
            loglevel="WARNING",
        ):  # fmt: skip
            r = app.test_client().post("/_probe", headers=headers)
            assert r.status_code == 200
            assert done.wait(30), "the worker did not run the job"
    finally:
        logger.removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line]
    return r.headers["X-Request-ID"], seen[-1], lines


def test_behind_a_trusted_proxy_its_request_id_reaches_the_worker(
    tmp_path: Path, database: str
) -> None:
    app = _app(tmp_path, database, proxies=1)
    rid, seen, lines = _run(app, {"X-Request-ID": "proxy-set-id-42"})
    assert rid == "proxy-set-id-42" and seen == "proxy-set-id-42"
    assert any(
        e["msg"].startswith("outbox message") and e.get("request_id") == "proxy-set-id-42"
        for e in lines
    ), lines


def test_without_a_trusted_proxy_the_id_is_generated_and_still_reaches_the_worker(
    tmp_path: Path, database: str
) -> None:
    app = _app(tmp_path, database, proxies=0)
    rid, seen, _ = _run(app, {"X-Request-ID": "client-chosen-id"})
    assert rid != "client-chosen-id" and len(rid) == 32
    assert seen == rid
