"""Long jobs (text extraction/OCR, conversion, signature checks) go to their own Celery queue,
so notifications and the exchange are not stuck behind a scan (issue 19)."""

from __future__ import annotations

from app.celery_app import DEFAULT_QUEUE, HEAVY_QUEUE, HEAVY_TOPICS, queues_of
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
