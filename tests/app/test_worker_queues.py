"""Long jobs (text extraction/OCR, conversion, signature checks) go to their own Celery queue,
so notifications and the exchange are not stuck behind a scan (issue 19)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import event

from app.celery_app import DEFAULT_QUEUE, HEAVY_QUEUE, HEAVY_TOPICS, by_queue, queues_of
from docflow import UnitOfWork
from docflow.notifications import EMAIL_TOPIC
from docflow.search import TOPIC_EXTRACT
from docflow.uow import Queued
from tests.conftest import Demo


def test_messages_are_routed_by_topic(demo: Demo) -> None:
    uow = demo.uow()
    with uow:
        scan = uow.enqueue("search.extract", {"document_id": "x"})
        mail = uow.enqueue("notify.email", {"notification_id": "y"})
        convert = uow.enqueue("outgoing.convert", {"document_id": "z"})
        push = uow.enqueue("push.send", {"subscription_id": "w"})
        uow.commit()
    routed = queues_of(demo.factory, [scan, mail, convert, push])
    assert routed == {HEAVY_QUEUE: [scan, convert], DEFAULT_QUEUE: [mail, push]}


def test_the_publisher_is_handed_the_topics_and_reads_nothing(app: Any) -> None:
    """After the commit the app's publisher gets each message with its topic and sends it to
    its queue without reading the topics back (it used to take a connection and a SELECT of
    them per commit). The test app runs the jobs inline, so what they read is left aside."""
    from app.runtime import runtime

    rt = runtime(app)
    real = rt.publisher
    assert real is not None
    handed: list[Queued] = []
    during: list[str] = []
    publishing = False

    def publish(queued: Sequence[Queued]) -> None:
        nonlocal publishing
        handed.extend(queued)
        publishing = True
        try:
            real(queued)
        finally:
            publishing = False

    def seen(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if publishing:
            during.append(statement)

    engine = rt.session_factory.kw["bind"]
    event.listen(engine, "before_cursor_execute", seen)
    try:
        uow = UnitOfWork(rt.session_factory, clock=rt.clock, publisher=publish)
        with uow:
            scan = uow.enqueue(TOPIC_EXTRACT, {"document_id": str(uuid.uuid4())})
            [mail] = uow.enqueue_many(EMAIL_TOPIC, [{"notification_id": str(uuid.uuid4())}])
            uow.commit()
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert handed == [Queued(scan, TOPIC_EXTRACT), Queued(mail, EMAIL_TOPIC)]
    assert by_queue(handed) == {HEAVY_QUEUE: [scan], DEFAULT_QUEUE: [mail]}
    topics_read = [
        q for q in during if q.startswith("SELECT outbox_messages.id, outbox_messages.topic")
    ]
    assert during and topics_read == []


def test_the_heavy_topics_are_the_registered_long_ones() -> None:
    from docflow.documents.queries import TOPIC_VERIFY_SIGNATURES
    from docflow.outgoing.versions import TOPIC_CONVERT
    from docflow.search import TOPIC_EXTRACT, TOPIC_EXTRACT_TASK

    assert {
        TOPIC_EXTRACT,
        TOPIC_EXTRACT_TASK,
        TOPIC_CONVERT,
        TOPIC_VERIFY_SIGNATURES,
    } == HEAVY_TOPICS
