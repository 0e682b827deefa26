"""Celery wired to Flask: tasks run inside the app context; the outbox feeds them.

The embedded profile uses kombu's SQLAlchemy transport on a SQLite file in the data dir (no
broker to install); production and the integration tests use Redis or RabbitMQ.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from collections.abc import Sequence
from typing import Any

from celery import Celery, Task
from celery.signals import worker_ready
from flask import Flask

from app.config import Settings
from app.conversion import start_in_background
from app.logs import current_request_id, job_request_id
from app.runtime import runtime
from docflow.outbox import Outcome, due_messages, process_message
from docflow.uow import Queued

log = logging.getLogger(__name__)

PROCESS_TASK = "dhtn.outbox.process"
RELAY_TASK = "dhtn.outbox.relay"
# Two queues: the jobs that take seconds to minutes per message (reading a file's text, OCR,
# converting a draft, checking the signatures of a received file) on their own, so that
# notifications, e-mail, push and the exchange are never stuck behind a long scan. A worker
# consumes both unless told otherwise (``dhtn worker --queues``); production runs one set of
# workers per queue (deploy/systemd).
DEFAULT_QUEUE = "celery"
HEAVY_QUEUE = "heavy"
HEAVY_TOPICS = frozenset(
    {
        "search.extract",
        "search.extract_task",
        "outgoing.convert",
        "documents.verify_signatures",
    }
)


def use_one_queue(celery: Celery, name: str) -> None:
    """Send every message, heavy or not, to the queue ``name`` (a test's worker of its own on
    a shared broker)."""
    celery.conf.task_default_queue = name
    celery.conf.dhtn_heavy_queue = name


def _queue_name(celery: Celery, kind: str) -> str:
    """The broker queue of a kind of message: the app's default queue, or its heavy queue."""
    if kind == HEAVY_QUEUE:
        return str(celery.conf.get("dhtn_heavy_queue") or HEAVY_QUEUE)
    return str(celery.conf.task_default_queue)


def by_queue(messages: Sequence[Queued]) -> dict[str, list[uuid.UUID]]:
    """The messages by the queue their topic goes to."""
    out: dict[str, list[uuid.UUID]] = {}
    for message_id, topic in messages:
        queue = HEAVY_QUEUE if topic in HEAVY_TOPICS else DEFAULT_QUEUE
        out.setdefault(queue, []).append(message_id)
    return out


def queues_of(session_factory: Any, ids: Sequence[uuid.UUID]) -> dict[str, list[uuid.UUID]]:
    """:func:`by_queue` for messages known by id only (the relay's): their topics are read in
    one indexed read by primary key."""
    from sqlalchemy import select

    from docflow.models import OutboxMessage

    with session_factory() as session:
        topics = dict(
            session.execute(
                select(OutboxMessage.id, OutboxMessage.topic).where(OutboxMessage.id.in_(ids))
            ).all()
        )
    return by_queue([Queued(i, topics.get(i, "")) for i in ids])


# Leave freshly published messages to the workers that already have them (retries are due at
# the end of their backoff: docflow.outbox.due_messages).
RELAY_GRACE = dt.timedelta(seconds=30)
# How often the relay looks for due messages: a retry after its backoff and a roll-up put off
# to its interval are handed out by the relay alone, so this bounds their outbox lag (at 15 s
# the soak saw 7 s). One indexed query per tick (ix_outbox_messages_pending). The worker does
# not instead publish them again with a countdown: the broker then holds them unacknowledged,
# and a worker holding such messages died when Redis restarted (kombu fails restoring them).
RELAY_EVERY_S = 2.0
# The embedded profile's broker is a SQLite table the worker polls: a tick every 2 s would add
# to the one writer's traffic for a lag nobody waits for on a single machine's try-out.
RELAY_EVERY_EMBEDDED_S = 15.0


def relay_every(settings: Settings) -> float:
    """Seconds between two runs of the relay with these settings (see RELAY_EVERY_S)."""
    return RELAY_EVERY_EMBEDDED_S if settings.embedded_broker else RELAY_EVERY_S


def make_celery(app: Flask) -> Celery:
    settings = runtime(app).settings
    tick = relay_every(settings)

    class FlaskTask(Task):  # type: ignore[misc]
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            # The id of the request that queued this job, for the worker's log lines.
            rid = getattr(self.request, "request_id", None) or (
                getattr(self.request, "headers", None) or {}
            ).get("request_id")
            token = job_request_id.set(rid if isinstance(rid, str) else None)
            try:
                with app.app_context():
                    return self.run(*args, **kwargs)
            finally:
                job_request_id.reset(token)

    celery = Celery(app.import_name, task_cls=FlaskTask)
    celery.conf.update(
        broker_url=settings.celery_broker_url,
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=3,
        task_ignore_result=True,
        task_always_eager=settings.tasks_eager,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        worker_hijack_root_logger=False,
        timezone="Asia/Ho_Chi_Minh",
        beat_schedule={
            "outbox-relay": {
                "task": RELAY_TASK,
                "schedule": tick,
                # A tick still waiting when the next is due is dropped, not piled up.
                "options": {"expires": tick * 5},
            },
        },
    )

    @celery.task(name=PROCESS_TASK, bind=True, shared=False)  # type: ignore[untyped-decorator]
    def process(self: Task, message_id: str) -> str:
        rt = runtime()
        started = time.perf_counter()
        outcome = process_message(rt.uow(), uuid.UUID(message_id), rt.handlers)
        if outcome is Outcome.GAVE_UP:
            log.error("outbox message %s failed for good", message_id)
        else:
            log.info(
                "outbox message %s: %s",
                message_id,
                outcome.value,
                extra={"duration_ms": round((time.perf_counter() - started) * 1000, 2)},
            )
        return outcome.value

    @celery.task(name=RELAY_TASK, shared=False)  # type: ignore[untyped-decorator]
    def relay() -> int:
        """Republish what the after-commit publish missed (broker down, crash), retries whose
        backoff ended and messages put off whose time came."""
        rt = runtime()
        ids = due_messages(rt.uow(), grace=RELAY_GRACE)
        if ids:
            for kind, some in queues_of(rt.session_factory, ids).items():
                for message_id in some:
                    process.apply_async(args=[str(message_id)], queue=_queue_name(celery, kind))
        return len(ids)

    from app.jobs import AT_WORKER_START, JOBS

    # shared=False: each Flask app builds its own Celery app; a shared task would be registered
    # on every Celery app of the process under the first app's callable.
    for name, job in JOBS.items():
        task_name = f"dhtn.job.{name}"

        def run_job(_job: Any = job) -> int:
            return int(_job.run(runtime()))

        celery.task(name=task_name, shared=False)(run_job)
        period = job.period(settings)
        celery.conf.beat_schedule[f"job-{name}"] = {
            "task": task_name,
            "schedule": period,
            # A run still waiting when the next one is due is dropped, not piled up.
            "options": {"expires": period},
        }

    start_tasks = []
    for name, run in AT_WORKER_START.items():

        def run_start(_run: Any = run) -> int:
            return int(_run(runtime()))

        start_tasks.append(celery.task(name=f"dhtn.start.{name}", shared=False)(run_start))

    def on_worker_ready(sender: Any = None, **_: Any) -> None:
        """A worker of this app is up: start LibreOffice in the background, so that even the
        first draft converts warm (web processes never start it: they do not convert), and
        queue the start-up jobs (registering our organisations with the axis, reading its
        directory) instead of waiting for the beat's first tick. Another app's worker (a
        process holding several apps: the tests) starts nothing of this one."""
        if getattr(sender, "app", None) is not celery:
            return
        converter = runtime(app).converter
        if converter is not None:
            start_in_background(converter)
        for task in start_tasks:
            task.apply_async()

    # The signal keeps a weak reference: the Celery app holds the handler as long as it lives.
    celery.dhtn_on_worker_ready = on_worker_ready
    worker_ready.connect(on_worker_ready)

    def publish(messages: Sequence[Queued]) -> None:
        """After a commit: each message to its worker queue (the topic comes with it)."""
        rid = current_request_id()
        headers = {"request_id": rid} if rid else None
        for kind, some in by_queue(messages).items():
            queue = _queue_name(celery, kind)
            for message_id in some:
                process.apply_async(args=[str(message_id)], headers=headers, queue=queue)

    runtime(app).publisher = publish
    app.extensions["celery"] = celery
    return celery


def celery_of(app: Flask) -> Celery:
    celery: Celery = app.extensions["celery"]
    return celery
