"""Files attached to a task or to a progress report, through the storage upload checks.

Objects are stored before the rows that reference them; if the transaction then fails, the
objects are orphans that ``storage.sweep_orphans`` removes later (never a row without its
object). Identical bytes are stored once (content addressing).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO

from docflow.actors import Actor
from docflow.errors import ConflictError, DomainError, ValidationError
from docflow.models import Task, TaskAttachment
from docflow.tasks.queries import get_attachment
from docflow.uow import UnitOfWork
from storage import ObjectReader, ObjectStore, StorageError, UploadLimits, store_upload

MAX_FILES = 20


@dataclass(frozen=True)
class Upload:
    """A file as it arrives from a person: a stream read once, its name and declared type."""

    stream: IO[bytes]
    filename: str
    content_type: str | None = None


class TaskFileRefusedError(DomainError):
    """An upload the checks refused (too large, wrong type, malformed…): 413/415/422."""

    kind = "invalid"

    def __init__(self, exc: StorageError, filename: str) -> None:
        super().__init__(
            f"«{filename}»: {exc.message}",
            code=exc.code,
            details={"file": filename, "http_status": exc.http_status, **(exc.details or {})},
        )
        self.http_status = exc.http_status


def attach(
    uow: UnitOfWork, actor: Actor, task: Task, seq: int, uploads: Sequence[Upload]
) -> list[TaskAttachment]:
    """Check, store and record ``uploads`` against trail step ``seq`` of ``task``."""
    if not uploads:
        return []
    if len(uploads) > MAX_FILES:
        raise ValidationError.field("files", f"Tối đa {MAX_FILES} tệp mỗi lần.")
    if uow.store is None:
        raise ConflictError("Hệ thống chưa cấu hình kho lưu trữ tệp.", code="storage_unavailable")
    store: ObjectStore = uow.store
    rows = []
    for upload in uploads:
        try:
            checked = store_upload(
                store, upload.stream, upload.filename, upload.content_type, UploadLimits()
            )
        except StorageError as exc:
            raise TaskFileRefusedError(exc, upload.filename) from exc
        row = TaskAttachment(
            task_id=task.id,
            trail_seq=seq,
            filename=checked.filename,
            content_type=checked.ref.content_type,
            size=checked.ref.size,
            sha256=checked.ref.sha256,
            object_key=checked.ref.key,
            uploaded_by_id=actor.user_id,
            created_at=uow.now(),
        )
        uow.session.add(row)
        rows.append(row)
    return rows


def open_attachment(
    uow: UnitOfWork, actor: Actor, task_id: uuid.UUID, file_id: uuid.UUID
) -> tuple[TaskAttachment, ObjectReader]:
    """A file of a task the actor can see, and a reader of its bytes (404 otherwise)."""
    row = get_attachment(uow, actor, task_id, file_id)
    if uow.store is None:
        raise ConflictError("Hệ thống chưa cấu hình kho lưu trữ tệp.", code="storage_unavailable")
    store: ObjectStore = uow.store
    return row, store.open(row.object_key)
