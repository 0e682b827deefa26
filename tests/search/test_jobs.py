"""The extraction job holds no transaction while it reads (OCR takes minutes), leaves alone a
file that changed meanwhile, and never retries forever (real PostgreSQL, real outbox).

The recogniser here is a small implementation of the OCR port that watches the database while
it is called; the real engine's behaviour is tested in test_ocr.py."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from sqlalchemy import select

from docflow import UnitOfWork
from docflow.models import Document, DocumentFile, FileText, OutboxMessage
from docflow.outbox import MAX_ATTEMPTS, Handlers, Outcome, outside_transaction, process_message
from docflow.search import (
    TOPIC_EXTRACT,
    RecognitionError,
    Recognized,
    extract_document_text,
    reading,
    search_documents,
)
from docflow.search.states import TextStatus
from docflow.uploads import store_bytes
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


def _pending_scan(
    flow: Incoming, notation: str, pdf: bytes | None = None
) -> tuple[uuid.UUID, uuid.UUID]:
    """A registered scan whose text is to be read again (as after ``reindex``)."""
    pdf = pdf or make_pdf()
    doc = register(flow, [(pdf, "Quét.pdf", "application/pdf")], notation=notation)
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


class Searching(Watching):
    """Answers like OCR of a scan, with a searchable PDF of its own."""

    def recognize(self, data: bytes, content_type: str) -> Recognized:
        super().recognize(data, content_type)
        return Recognized(
            pdf=make_pdf(title=f"Có lớp chữ {uuid.uuid4()}"),
            pages=["Biên bản hội nghị phản biện xã hội"],
        )


def _copies(demo: Any, file_id: uuid.UUID) -> list[DocumentFile]:
    with demo.factory() as s:
        return list(
            s.scalars(select(DocumentFile).where(DocumentFile.derived_from_id == file_id)).all()
        )


def test_a_searchable_copy_swept_before_its_row_is_not_named_by_one(
    flow: Incoming, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The searchable copy is stored while no transaction is open (OCR runs outside any), so
    the sweeper may delete it as an orphan before the job writes its row (the same bytes
    stored long ago, the sweeper's last check between the store and the row). The row is then
    not written: the scan keeps its text, and no file of the document names a missing
    object. Without that deletion, the copy is added (the same job, the other branch)."""
    demo = flow.demo
    swept: list[str] = []

    def store_then_sweep(uow: UnitOfWork, data: bytes, content_type: str) -> Any:
        ref = store_bytes(uow, data, content_type)
        assert uow.store is not None and uow.store.delete(ref.key)  # as the sweeper would
        swept.append(ref.key)
        return ref

    doc_id, file_id = _pending_scan(flow, "44/KH-BTT", make_pdf(title="Quét 44"))
    uow = demo.uow()
    mid = _enqueue(uow, doc_id)
    with monkeypatch.context() as patched:
        patched.setattr(reading, "store_bytes", store_then_sweep)
        assert process_message(uow, mid, _handlers(Searching(uow))) is Outcome.DONE
    assert len(swept) == 1
    assert _copies(demo, file_id) == []
    with demo.factory() as s:
        assert s.get_one(DocumentFile, file_id).text_status == "done"
        assert "phản biện xã hội" in s.get_one(FileText, file_id).text
        assert (
            s.scalars(select(DocumentFile).where(DocumentFile.object_key == swept[0])).all() == []
        )

    doc_id, file_id = _pending_scan(flow, "45/KH-BTT", make_pdf(title="Quét 45"))
    mid = _enqueue(uow, doc_id)
    assert process_message(uow, mid, _handlers(Searching(uow))) is Outcome.DONE
    (copy,) = _copies(demo, file_id)
    assert copy.kind == "searchable"
    assert uow.store is not None and uow.store.exists(copy.object_key)


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
