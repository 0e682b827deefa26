"""Text of task attachments (the files of a task and of its progress reports), and the
condition that finds tasks by it.

Stored files are queued by :func:`queue_task_text_extraction` (one outbox message per task,
topic :data:`TOPIC_EXTRACT_TASK`); the worker runs :func:`extract_task_text` in the same three
steps as a document's files (short read, reading/OCR with no transaction, short write that
leaves a removed or replaced file alone). The text is searched by the task list through
:func:`task_text_condition`, inside the task list's own visibility (the box's query): whoever
cannot see a task never finds it by the words of its files.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, false, func, or_, select

from docflow.actors import Actor
from docflow.documents.text import fold
from docflow.models import Task, TaskAttachment, TaskFileText
from docflow.search.commands import SearchTerms, parse_query
from docflow.search.policy import should_read
from docflow.search.ports import TextRecognizer
from docflow.search.queries import is_words, tsquery_text
from docflow.search.reading import ExtractionSettings, Reading, Source, read_source
from docflow.search.services import MAX_BODY_CHARS
from docflow.search.states import TextAction, TextStatus, next_status
from docflow.uow import UnitOfWork

TOPIC_EXTRACT_TASK = "search.extract_task"


def queue_task_text_extraction(uow: UnitOfWork, task_id: uuid.UUID) -> bool:
    """Mark the task's unread attachments ``pending`` and queue one job (inside the storing
    transaction). False when there is nothing to read."""
    uow.session.flush()
    rows = uow.session.scalars(select(TaskAttachment).where(TaskAttachment.task_id == task_id))
    queued = False
    for row in rows:
        if row.text_status == TextStatus.NONE and should_read(
            "attachment", row.content_type, False
        ):
            row.text_status = next_status(row.text_status, TextAction.QUEUE)
            queued = True
    if queued:
        uow.enqueue(TOPIC_EXTRACT_TASK, {"task_id": str(task_id)}, priority=7)
    return queued


def extract_task_text(
    uow: UnitOfWork,
    payload: dict[str, Any],
    *,
    recognizer: TextRecognizer | None = None,
    settings: ExtractionSettings | None = None,
) -> int:
    """The outbox handler: read the task's pending attachments one by one (OCR with no
    transaction open), writing each one's text as soon as it is read. No searchable PDF is added to a task. Returns how many
    files were written."""
    base = settings or ExtractionSettings()
    settings = ExtractionSettings(ocr=base.ocr, max_ocr_pages=base.max_ocr_pages)
    task_id = uuid.UUID(str(payload["task_id"]))
    with uow:
        task = uow.session.get(Task, task_id)
        if task is None:
            return 0
        pending = [
            Source(a.id, a.object_key, a.content_type, a.filename)
            for a in task.attachments
            if a.text_status == TextStatus.PENDING
        ]
    # Each file is written as soon as it is read (a short transaction): the page shows a text
    # file read while a scan of the same task is still being recognised.
    return sum(
        _write_task_reading(uow, task_id, read_source(uow, src, recognizer, settings))
        for src in pending
    )


def _write_task_reading(uow: UnitOfWork, task_id: uuid.UUID, reading: Reading) -> int:
    """Write one file's text, unless the file was removed or replaced meanwhile (0 then)."""
    written = 0
    with uow:
        task = uow.session.get(Task, task_id)
        if task is None:
            return 0
        src = reading.source
        row = uow.session.scalars(
            select(TaskAttachment).where(TaskAttachment.id == src.id).with_for_update()
        ).one_or_none()
        if (
            row is not None
            and row.task_id == task.id
            and row.object_key == src.object_key
            and row.text_status == TextStatus.PENDING
        ):
            result = uow.session.get(TaskFileText, row.id) or TaskFileText(
                attachment_id=row.id, task_id=task.id, organization_id=task.organization_id
            )
            result.attempts = (result.attempts or 0) + 1
            result.updated_at = uow.now()
            if reading.ok:
                result.method, result.text, result.pages = (
                    reading.method,
                    reading.text,
                    reading.pages,
                )
                result.body = fold(reading.text)[:MAX_BODY_CHARS]
                result.confidence, result.language = reading.confidence, reading.language
                result.error = None
                row.text_status = next_status(row.text_status, TextAction.SUCCEED)
            else:
                result.error, result.text, result.body, result.pages = reading.error, "", "", []
                row.text_status = next_status(row.text_status, TextAction.FAIL)
            uow.session.add(result)
            written += 1
        uow.commit()
    return written


def task_text_condition(
    actor: Actor, q: str, *, postgres: bool
) -> tuple[ColumnElement[bool], SearchTerms]:
    """SQL condition on ``Task``: the words of ``q`` are in the title or description
    (case-insensitive) or in the text of one of its files (diacritics-insensitive; the GIN
    index of (organisation, tsvector) on PostgreSQL). The caller adds it to the task list's
    query, which already holds the visibility of tasks. 422 for an empty query."""
    terms = parse_query(q)
    org = TaskFileText.organization_id == actor.organization_id
    include = SearchTerms(terms.include, (), terms.folded)
    tsq = tsquery_text(include) if postgres else None
    in_files: Select[Any] = select(TaskFileText.task_id).where(org)
    if tsq is not None and all(is_words(t) for t in terms.include):
        in_files = in_files.where(TaskFileText.tsv.op("@@")(func.to_tsquery("simple", tsq)))
    else:
        for t in terms.include:
            in_files = in_files.where(TaskFileText.body.contains(t, autoescape=True))
    # An excluded word in any file of the task excludes the task.
    excluded = select(TaskFileText.task_id).where(
        org, or_(false(), *[TaskFileText.body.contains(t, autoescape=True) for t in terms.exclude])
    )
    raw = [w for w in q.replace('"', " ").split() if w and not w.startswith("-")]
    in_title = and_(
        *[
            func.lower(Task.title + " " + func.coalesce(Task.description, "")).contains(
                w.lower(), autoescape=True
            )
            for w in raw
        ]
    )
    found: ColumnElement[bool] = or_(Task.id.in_(in_files), in_title)
    if terms.exclude:
        found = and_(found, ~Task.id.in_(excluded))
    return found, terms


def task_text_notes(uow: UnitOfWork, task: Task) -> dict[uuid.UUID, str]:
    """What the task page says of each attachment's text, as the document page says it of a
    document's files (the reason a file could not be read, "Đã nhận dạng chữ (OCR)", the pages
    that could not be read). ``task`` is one the caller was allowed to load."""
    from docflow.search.queries import text_note

    with uow:
        results = {
            r.attachment_id: r
            for r in uow.session.scalars(
                select(TaskFileText).where(TaskFileText.task_id == task.id)
            )
        }
    notes: dict[uuid.UUID, str] = {}
    for f in task.attachments:
        note = text_note(f.text_status, results.get(f.id))
        if note:
            notes[f.id] = note
    return notes
