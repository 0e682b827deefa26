"""Storing the files of a document: through the upload checks, and without litter.

Objects are written before the rows that reference them (so a committed row never points at
nothing). If the transaction then fails, :func:`discard_unreferenced` removes the objects this
attempt wrote that no row references; the orphan sweeper is the backstop for crashes.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import IO, Any

from sqlalchemy import select

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


def store_uploads(
    uow: UnitOfWork, uploads: Sequence[Upload], written: list[str]
) -> list[StoredUpload]:
    """Check and store each upload; keys written are appended to ``written`` as they land."""
    limits = UploadLimits(max_size=uow.config.max_upload_bytes)
    stored = []
    for upload in uploads:
        try:
            checked = store_upload(
                _store(uow), upload.stream, upload.filename, upload.content_type, limits
            )
        except StorageError as exc:
            raise FileRefusedError(exc, upload.filename) from exc
        written.append(checked.ref.key)
        stored.append(StoredUpload(upload, checked))
    return stored


def discard_unreferenced(uow: UnitOfWork, keys: Sequence[str]) -> None:
    """Delete objects this attempt wrote that no committed row references (same bytes may
    belong to another document: those stay)."""
    if not keys:
        return
    store = _store(uow)
    with uow.fresh_session() as session:
        referenced = set(
            session.scalars(
                select(DocumentFile.object_key).where(DocumentFile.object_key.in_(keys))
            )
        )
    for key in set(keys) - referenced:
        with suppress(StorageError):  # the sweeper removes it after its grace period
            store.delete(key)


@contextmanager
def cleanup_on_failure(uow: UnitOfWork) -> Iterator[list[str]]:
    """Collect keys written inside the block; if it raises, discard the unreferenced ones.

    Use it *outside* ``with uow:`` so that the failed transaction is closed before the check.
    """
    written: list[str] = []
    try:
        yield written
    except BaseException:
        discard_unreferenced(uow, written)
        raise


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
