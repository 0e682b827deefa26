"""Text extraction in the background and the search index of documents.

After files are stored, the storing service calls :func:`queue_text_extraction` (one outbox
message per document, topic :data:`TOPIC_EXTRACT`); the worker runs :func:`extract_document_text`
(the app's handler, which passes the OCR engine in). Each file ends ``done`` or ``failed`` with a
reason; a failure of the file itself never raises, so the job is not retried forever. A scan's
OCR adds a searchable PDF/A as a separate file ``derived_from`` the scan: the original's bytes,
hash and signatures are untouched.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from docflow import audit
from docflow.actors import Actor
from docflow.documents import access
from docflow.documents.text import fold
from docflow.errors import ConflictError, NotFoundError
from docflow.models import Document, DocumentFile, DocumentSearch, FileText
from docflow.search.extract import language_of
from docflow.search.policy import IMAGE_TYPES, may_read_text, should_read
from docflow.search.ports import TextRecognizer
from docflow.search.reading import (
    ExtractionSettings,
    Reading,
    Searchable,
    Source,
    read_photos,
    read_source,
)
from docflow.search.states import TextAction, TextStatus, next_status
from docflow.uow import UnitOfWork
from docflow.uploads import hold_object

log = logging.getLogger(__name__)

TOPIC_EXTRACT = "search.extract"
# The body indexed per document (the tsvector of PostgreSQL holds at most 1 MB).
MAX_BODY_CHARS = 400_000
SEARCHABLE_KIND = "searchable"


def queue_text_extraction(uow: UnitOfWork, document: Document, *, priority: int = 7) -> bool:
    """Mark the document's unread files ``pending`` and queue one extraction job; called by
    the services that store files, inside their transaction. False when nothing is to read."""
    uow.session.flush()
    rows = uow.session.scalars(
        select(DocumentFile).where(DocumentFile.document_id == document.id)
    ).all()
    queued = False
    for row in rows:
        if row.text_status == TextStatus.NONE and should_read(
            row.kind, row.content_type, row.derived_from_id is not None
        ):
            row.text_status = next_status(row.text_status, TextAction.QUEUE)
            queued = True
    if queued:
        uow.enqueue(TOPIC_EXTRACT, {"document_id": str(document.id)}, priority=priority)
    return queued


def queue_new_files_extraction(
    uow: UnitOfWork,
    files_of: Sequence[tuple[uuid.UUID, Sequence[DocumentFile]]],
    *,
    priority: int = 7,
) -> int:
    """:func:`queue_text_extraction` for documents whose file rows the caller has just made
    (not flushed yet): marks the readable ones ``pending`` and queues one job per document
    that has any, in one flush and without reading the rows back (bulk imports). Returns how
    many jobs were queued."""
    payloads = []
    for document_id, files in files_of:
        queued = False
        for row in files:
            if should_read(row.kind, row.content_type, row.derived_from_id is not None):
                row.text_status = next_status(TextStatus.NONE, TextAction.QUEUE)
                queued = True
        if queued:
            payloads.append({"document_id": str(document_id)})
    if payloads:
        uow.enqueue_many(TOPIC_EXTRACT, payloads, priority=priority)
    return len(payloads)


def extract_document_text(
    uow: UnitOfWork,
    payload: dict[str, Any],
    *,
    recognizer: TextRecognizer | None = None,
    settings: ExtractionSettings | None = None,
) -> int:
    """The outbox handler (run outside the message's transaction: see
    :func:`docflow.outbox.outside_transaction`). Three steps: read the pending files in a
    short transaction and close it; read their text with no transaction (store, parsers, OCR
    in the sandbox — minutes for a long scan); write each result in its own short
    transaction as soon as it is read, skipping a file that was removed or changed meanwhile,
    and refresh the document's index row. Idempotent (files already done are skipped). Returns how many files
    were read."""
    settings = settings or ExtractionSettings()
    document_id = uuid.UUID(str(payload["document_id"]))
    copies: dict[uuid.UUID, FileText] = {}
    with uow:
        doc = uow.session.get(Document, document_id)
        if doc is None:
            return 0
        pending = [
            Source(f.id, f.object_key, f.content_type, f.name)
            for f in doc.files
            if f.text_status == TextStatus.PENDING
        ]
        for src in pending:
            same = _same_content_done(uow, src.id, src.object_key)
            if same is not None:  # a recipient's copy: its bytes were read for the sender
                copies[src.id] = same
    # No transaction while a file is read: the connection is back in the pool. Each result is
    # written as soon as it is known (a short transaction), so a page shows a text file read
    # while a scan of the same document is still being recognised, and a retry after a crash
    # reads only what was not written.
    written = _write_document_readings(
        uow,
        document_id,
        [
            Reading(src, True, c.method, c.text, list(c.pages), c.confidence, None, None)
            for src in pending
            if (c := copies.get(src.id)) is not None
        ],
    )
    to_read = [s for s in pending if s.id not in copies]
    photos = [s for s in to_read if s.content_type in IMAGE_TYPES]
    # Files first (a text layer is read in a moment), then the photos: together as one
    # searchable PDF, or one by one when the engine failed on the set.
    for src in [s for s in to_read if s not in photos]:
        written += _write_document_readings(
            uow, document_id, [read_source(uow, src, recognizer, settings)]
        )
    together = read_photos(uow, photos, recognizer, settings)
    written += _write_document_readings(uow, document_id, together)
    done_ids = {r.source.id for r in together}
    for src in photos:
        if src.id not in done_ids:
            written += _write_document_readings(
                uow, document_id, [read_source(uow, src, recognizer, settings)]
            )
    return written


def _write_document_readings(
    uow: UnitOfWork, document_id: uuid.UUID, readings: list[Reading]
) -> int:
    if not readings:
        return 0
    written = 0
    with uow:
        doc = uow.session.get(Document, document_id)
        if doc is None:  # removed while its files were read: nothing to write
            return 0
        for reading in readings:
            src = reading.source
            row = uow.session.scalars(
                select(DocumentFile).where(DocumentFile.id == src.id).with_for_update()
            ).one_or_none()
            if (
                row is None
                or row.document_id != doc.id
                or row.object_key != src.object_key
                or row.text_status != TextStatus.PENDING
            ):
                continue  # removed, replaced or already written by another run: left alone
            result = uow.session.get(FileText, row.id) or FileText(
                file_id=row.id, document_id=doc.id, pages=[]
            )
            result.attempts = (result.attempts or 0) + 1
            result.updated_at = uow.now()
            uow.session.add(result)
            if reading.ok:
                result.method, result.pages, result.text = (
                    reading.method,
                    reading.pages,
                    reading.text,
                )
                result.confidence, result.language = reading.confidence, reading.language
                result.error = None
                row.text_status = next_status(row.text_status, TextAction.SUCCEED)
                if reading.searchable is not None:
                    _add_searchable_pdf(uow, doc, row, reading.searchable)
            else:
                result.error, result.text, result.pages = reading.error, "", []
                row.text_status = next_status(row.text_status, TextAction.FAIL)
            written += 1
        refresh_index(uow, doc)
        uow.commit()
    return written


def _add_searchable_pdf(uow: UnitOfWork, doc: Document, row: DocumentFile, pdf: Searchable) -> None:
    """A separate file, derived from the scan: the original row and object stay as they are.

    Its bytes were stored before this transaction opened (OCR runs outside any), so nothing
    held them against the orphan sweeper until now: the same bytes stored long ago as an
    orphan may have been deleted meanwhile. They are held from here to the commit
    (:func:`~docflow.uploads.hold_object`) and written only if still there; otherwise the
    scan keeps its text without the copy (a row never names a missing object)."""
    existing = uow.session.scalars(
        select(DocumentFile).where(DocumentFile.derived_from_id == row.id)
    ).first()
    if existing is not None:
        return
    hold_object(uow, pdf.object_key)
    if uow.store is not None and not uow.store.exists(pdf.object_key):
        log.warning("searchable copy of file %s gone before its row: not added", row.id)
        return
    derived = DocumentFile(
        document_id=doc.id,
        kind=SEARCHABLE_KIND,
        version=row.version,
        name=pdf.name,
        size=pdf.size,
        sha256=pdf.sha256,
        content_type="application/pdf",
        object_key=pdf.object_key,
        created_by_id=None,
        created_at=uow.now(),
        derived_from_id=row.id,
        text_status=TextStatus.DONE.value,
    )
    uow.session.add(derived)
    uow.session.flush()
    text = "\n\f".join(str(p["text"]) for p in pdf.pages)
    uow.session.add(
        FileText(
            file_id=derived.id,
            document_id=doc.id,
            method="ocr",
            language=language_of(text),
            text=text,
            pages=pdf.pages,
            confidence=None,
            attempts=1,
            updated_at=uow.now(),
        )
    )


def _same_content_done(uow: UnitOfWork, file_id: uuid.UUID, object_key: str) -> FileText | None:
    return uow.session.scalars(
        select(FileText)
        .join(DocumentFile, DocumentFile.id == FileText.file_id)
        .where(
            DocumentFile.object_key == object_key,
            DocumentFile.id != file_id,
            DocumentFile.text_status == TextStatus.DONE.value,
        )
        .limit(1)
    ).first()


def refresh_index(uow: UnitOfWork, doc: Document) -> None:
    """Rebuild the document's search row from the text of its (non-derived) files."""
    texts = uow.session.scalars(
        select(FileText.text)
        .join(DocumentFile, DocumentFile.id == FileText.file_id)
        .where(FileText.document_id == doc.id, DocumentFile.derived_from_id.is_(None))
        .order_by(DocumentFile.created_at)
    ).all()
    seen: set[str] = set()
    parts = []
    for t in texts:
        if t and t not in seen:
            seen.add(t)
            parts.append(t)
    body = fold("\n".join(parts))[:MAX_BODY_CHARS]
    row = uow.session.get(DocumentSearch, doc.id)
    if row is None:  # the triggers add it with the document; a row of an older database
        row = DocumentSearch(document_id=doc.id, organization_id=doc.organization_id)
        uow.session.add(row)
    # The copies the triggers keep are set here too (same values), and the triggers compute
    # the weighted tsvector (PostgreSQL) and the FTS5 entry (SQLite) from meta and body.
    row.organization_id, row.secrecy_rank = doc.organization_id, doc.secrecy_rank
    row.listed_at, row.meta = doc.listed_at, doc.search_text or ""
    row.body, row.updated_at = body, uow.now()
    uow.session.flush()


def file_text(uow: UnitOfWork, actor: Actor, document_id: uuid.UUID, file_id: uuid.UUID) -> str:
    """The extracted text of a file of a visible document (404 otherwise; 409 not read yet)."""
    with uow:
        doc = uow.session.get(Document, document_id)
        if doc is None or not may_read_text(access.can_see(actor, doc)):
            raise NotFoundError("Không tìm thấy văn bản.", code="document_not_found")
        row = next((f for f in doc.files if f.id == file_id), None)
        if row is None:
            raise NotFoundError("Không tìm thấy tệp.", code="file_not_found")
        result = uow.session.get(FileText, row.id)
        if row.text_status != TextStatus.DONE or result is None:
            raise TextNotReadyError(row.text_status, result.error if result else None)
        audit.record_read(
            uow, actor, "document.file_text_read", row, document_id=str(doc.id), secrecy=doc.secrecy
        )
        uow.commit()
        return result.text


class TextNotReadyError(ConflictError):
    """The file's text is not there (not read yet, or it could not be read)."""

    code = "text_not_ready"

    def __init__(self, status: str, reason: str | None) -> None:
        messages = {
            TextStatus.PENDING: "Đang nhận dạng chữ, hãy thử lại sau.",
            TextStatus.FAILED: f"Không đọc được nội dung tệp: {reason or 'lỗi không rõ'}",
            TextStatus.NONE: "Tệp này chưa được đọc nội dung.",
        }
        super().__init__(
            messages.get(TextStatus(status), "Chưa có nội dung."),
            code="text_failed" if status == TextStatus.FAILED else "text_not_ready",
            details={"text_status": status},
        )


@dataclass(frozen=True)
class ReindexProgress:
    """One batch of :func:`reindex`: how far it got (resume with ``after=last_id``)."""

    done: int
    total: int
    queued: int
    last_id: uuid.UUID


def reindex(
    uow: UnitOfWork,
    *,
    organization_id: uuid.UUID | None = None,
    after: uuid.UUID | None = None,
    batch: int = 200,
    retry_failed: bool = False,
) -> Iterator[ReindexProgress]:
    """Rebuild the search rows of documents in id order, queueing extraction of the files never
    read (and, with ``retry_failed``, of those that failed). Each batch commits; an interrupted
    run resumes from the last id it reported."""
    base = select(Document.id).order_by(Document.id)
    if organization_id is not None:
        base = base.where(Document.organization_id == organization_id)
    with uow:
        remaining = base if after is None else base.where(Document.id > after)
        total = uow.session.scalar(select(func.count()).select_from(remaining.subquery())) or 0
    done = 0
    while True:
        with uow:
            stmt = base if after is None else base.where(Document.id > after)
            ids = uow.session.scalars(stmt.limit(batch)).all()
            if not ids:
                return
            queued = 0
            for doc_id in ids:
                doc = uow.session.get_one(Document, doc_id)
                if retry_failed:
                    for row in doc.files:
                        if row.text_status == TextStatus.FAILED:
                            row.text_status = TextStatus.NONE.value
                if queue_text_extraction(uow, doc, priority=9):
                    queued += 1
                refresh_index(uow, doc)
            uow.commit()
        done += len(ids)
        after = ids[-1]
        yield ReindexProgress(done=done, total=total, queued=queued, last_id=after)
