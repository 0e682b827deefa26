"""Storing the files of a document: through the upload checks.

Objects are written before the rows that reference them (so a committed row never points at
nothing). A request never deletes an object, not even one its own failed attempt wrote: storage
is content-addressed, so the same bytes may already belong to a task attachment, a signature
image or another document, or to a transaction of another request that is about to commit a
reference. What a refused or failed attempt leaves behind is an orphan that only the sweeper
(:func:`docflow.objects.sweep`) removes, after a grace period that covers transactions still in
flight, and only when no row of any table that references objects
(:data:`docflow.objects.OBJECT_KEY_COLUMNS`) names it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO, Any

from docflow.errors import DomainError
from docflow.models import DocumentFile
from docflow.uow import UnitOfWork
from storage import CheckedUpload, ObjectStore, StorageError, UploadLimits, store_upload


@dataclass(frozen=True)
class Upload:
    """A file as it arrives from a person: a stream read once, its name and declared type."""

    stream: IO[bytes]
    filename: str
    content_type: str | None = None
    kind: str = "main"


class FileRefusedError(DomainError):
    """An upload the checks refused (too large, wrong type, malformed…)."""

    kind = "invalid"

    def __init__(self, exc: StorageError, filename: str) -> None:
        super().__init__(
            f"«{filename}»: {exc.message}",
            code=exc.code,
            details={"file": filename, "http_status": exc.http_status, **(exc.details or {})},
        )
        self.http_status = exc.http_status


@dataclass(frozen=True)
class StoredUpload:
    upload: Upload
    checked: CheckedUpload


def _store(uow: UnitOfWork) -> ObjectStore:
    if uow.store is None:
        raise RuntimeError("no object store configured")
    store: ObjectStore = uow.store
    return store


def store_uploads(uow: UnitOfWork, uploads: Sequence[Upload]) -> list[StoredUpload]:
    """Check and store each upload (an upload refused after others were stored leaves those
    as orphans for the sweeper: see the module's docstring)."""
    limits = UploadLimits(max_size=uow.config.max_upload_bytes)
    stored = []
    for upload in uploads:
        try:
            checked = store_upload(
                _store(uow), upload.stream, upload.filename, upload.content_type, limits
            )
        except StorageError as exc:
            raise FileRefusedError(exc, upload.filename) from exc
        stored.append(StoredUpload(upload, checked))
    return stored


def file_row(
    stored: StoredUpload, *, document_id: uuid.UUID, version: int, created_by: uuid.UUID | None
) -> DocumentFile:
    ref = stored.checked.ref
    return DocumentFile(
        document_id=document_id,
        kind=stored.upload.kind,
        version=version,
        name=stored.checked.filename,
        size=ref.size,
        sha256=ref.sha256,
        content_type=ref.content_type,
        object_key=ref.key,
        created_by_id=created_by,
    )


def open_file(uow: UnitOfWork, row: DocumentFile) -> Any:
    """A streaming reader of the file's bytes, checked against its hash as it is read."""
    return _store(uow).open(row.object_key, verify=True)
