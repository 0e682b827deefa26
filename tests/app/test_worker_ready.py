"""Celery's ``worker_ready`` is one signal for the whole process: every app created in it
hears every worker's. An app starts its LibreOffice (and its start-up jobs) only for its own
worker. Before, each app warmed its converter on any worker's signal, so one test sending the
signal started a LibreOffice for every app the test process had created (about 250 in one
`make test` worker, with 11 GB in use and a load average of 70 while they started)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import Clock, Demo, make_test_settings

pytestmark = [pytest.mark.pg]


class Recording:
    """Stands in for the app's LibreOfficeConverter: this test is about who is started, the
    converter's own tests start LibreOffice itself."""

    def __init__(self) -> None:
        self.started = threading.Event()

    def start(self) -> None:
        self.started.set()


class Consumer:
    """What Celery passes as the signal's sender: it carries its Celery app."""

    def __init__(self, celery: Any) -> None:
        self.app = celery


def test_a_worker_warms_the_converter_of_its_own_app_only(
    tmp_path: Path,
    pg_url: str,
    session_factory: sessionmaker[Session],
    clock: Clock,
    demo: Demo,
) -> None:
    from celery.signals import worker_ready

    from app import create_app
    from app.celery_app import celery_of
    from app.runtime import runtime

    apps = [
        create_app(
            make_test_settings(tmp_path / name, pg_url),
            session_factory=session_factory,
            clock=clock,
        )
        for name in ("a", "b")
    ]
    ours, other = Recording(), Recording()
    runtime(apps[0]).converter = ours
    runtime(apps[1]).converter = other

    worker_ready.send(sender=Consumer(object()))  # a worker of no app of ours
    assert not ours.started.wait(1) and not other.started.is_set()
    worker_ready.send(sender=Consumer(celery_of(apps[0])))
    assert ours.started.wait(30)
    # The other app's would have started at the same moment (a thread each).
    assert not other.started.wait(2)
