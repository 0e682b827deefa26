"""The extraction job holds no transaction while it reads (OCR takes minutes), leaves alone a
file that changed meanwhile, and never retries forever (real PostgreSQL, real outbox).

The recogniser here is a small implementation of the OCR port that watches the database while
it is called; the real engine's behaviour is tested in test_ocr.py."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import select

from docflow import UnitOfWork
from docflow.models import Document, DocumentFile, FileText, OutboxMessage
from docflow.outbox import MAX_ATTEMPTS, Handlers, Outcome, outside_transaction, process_message
from docflow.search import (
    TOPIC_EXTRACT,
    RecognitionError,
    Recognized,
    extract_document_text,
    search_documents,
)
from docflow.search.states import TextStatus
from tests.incoming.conftest import Incoming
from tests.pdfs import make_pdf
from tests.search.test_search_api import register


class Watching:
    """Answers like OCR, and records what the database looked like while it worked."""

    def __init__(self, uow: UnitOfWork, meanwhile: Callable[[], None] | None = None) -> None:
        self.uow, self.meanwhile = uow, meanwhile
        self.seen: list[tuple[int, int]] = []

    def recognize(self, data: bytes, content_type: str) -> Recognized:
        # No unit of work open: no session, so no transaction and no connection held.
        self.seen.append((self.uow.depth, int(self.uow._session is not None)))
        if self.meanwhile is not None:
            self.meanwhile()
        return Recognized(pdf=b"", pages=["Biên bản hội nghị phản biện xã hội"])

    def recognize_photos(self, photos: Sequence[tuple[bytes, str]]) -> Recognized:
        raise RecognitionError("not used")


def _pending_scan(flow: Incoming, notation: str) -> tuple[uuid.UUID, uuid.UUID]:
    """A registered scan whose text is to be read again (as after ``reindex``)."""
    doc = register(flow, [(make_pdf(), "Quét.pdf", "application/pdf")], notation=notation)
    file_id = uuid.UUID(doc["files"][0]["id"])
    with flow.demo.factory() as s, s.begin():
        s.get_one(DocumentFile, file_id).text_status = TextStatus.PENDING.value
        old = s.get(FileText, file_id)
        if old is not None:
            s.delete(old)
    return uuid.UUID(doc["id"]), file_id


def _enqueue(uow: UnitOfWork, doc_id: uuid.UUID) -> uuid.UUID:
    with uow:
        mid = uow.enqueue(TOPIC_EXTRACT, {"document_id": str(doc_id)})
        uow.commit()
    return mid


def _handlers(recognizer: Any) -> Handlers:
    @outside_transaction
    def handler(uow: UnitOfWork, payload: dict[str, Any]) -> None:
        extract_document_text(uow, payload, recognizer=recognizer)

    handlers = Handlers()
    handlers.add(TOPIC_EXTRACT, handler)
    return handlers


def test_ocr_runs_with_no_transaction_open_and_its_text_is_written(flow: Incoming) -> None:
    demo = flow.demo
    doc_id, file_id = _pending_scan(flow, "41/KH-BTT")
    uow = demo.uow()
    mid = _enqueue(uow, doc_id)
    watching = Watching(uow)
    outcome = process_message(uow, mid, _handlers(watching))
    assert outcome is Outcome.DONE, _debug_last_error(demo, mid)
    # While OCR worked: no unit of work open, no session (the outbox row is not locked
    # either: it was claimed, committed, released).
    assert watching.seen == [(0, 0)]
    with demo.factory() as s:
        assert s.get_one(DocumentFile, file_id).text_status == "done"
        assert "phản biện xã hội" in s.get_one(FileText, file_id).text
        msg = s.get_one(OutboxMessage, mid)
        assert msg.done_at is not None and msg.attempts == 1
    found = search_documents(
        demo.uow(),
        demo.actor("vanthu.tw"),
        select(Document).where(Document.organization_id == demo.org_id("tw")),
        "phan bien xa hoi",
        limit=10,
    )
    assert doc_id in [d.id for d in found.items]


def test_a_file_replaced_while_it_was_read_is_left_alone(flow: Incoming) -> None:
    demo = flow.demo
    doc_id, file_id = _pending_scan(flow, "42/KH-BTT")

    def replace() -> None:  # another request changes the file's bytes meanwhile
        with demo.factory() as s, s.begin():
            s.get_one(DocumentFile, file_id).object_key = "sha256/" + "0" * 64

    uow = demo.uow()
    mid = _enqueue(uow, doc_id)
    assert process_message(uow, mid, _handlers(Watching(uow, replace))) is Outcome.DONE
    with demo.factory() as s:
        assert s.get_one(DocumentFile, file_id).text_status == "pending"  # not written
        assert s.get(FileText, file_id) is None


def test_a_job_that_keeps_failing_gives_up(flow: Incoming) -> None:
    """The store lost the object: each attempt fails (the outbox retries with backoff), and
    after MAX_ATTEMPTS the message is set aside; the document stands."""
    demo = flow.demo
    doc_id, file_id = _pending_scan(flow, "43/KH-BTT")
    with demo.factory() as s, s.begin():
        s.get_one(DocumentFile, file_id).object_key = "sha256/" + "f" * 64  # no such object
    uow = demo.uow()
    mid = _enqueue(uow, doc_id)
    handlers = _handlers(Watching(uow))
    outcomes = [process_message(uow, mid, handlers) for _ in range(MAX_ATTEMPTS)]
    assert outcomes[:-1] == [Outcome.RETRY] * (MAX_ATTEMPTS - 1)
    assert outcomes[-1] is Outcome.GAVE_UP
    with demo.factory() as s:
        msg = s.get_one(OutboxMessage, mid)
        assert msg.attempts == MAX_ATTEMPTS and msg.done_at is None and msg.last_error
        assert msg.available_at.year >= 2036  # set aside: not picked again
        assert s.get_one(DocumentFile, file_id).text_status == "pending"


def _debug_last_error(demo: Any, mid: uuid.UUID) -> str:
    with demo.factory() as s:
        return str(s.get_one(OutboxMessage, mid).last_error)
