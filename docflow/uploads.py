"""Files from people: the one :class:`Upload` type and the one checked path every upload takes.

Every path that receives files (incoming documents, outgoing versions, task attachments,
received packages' attachments) stores them with :func:`store_uploads`: the size limit of the
deployment (``DomainConfig.max_upload_bytes``), type sniffing and the structural checks of
``storage.store_upload``, content addressing. Every stored file is read back with
:func:`open_object`, which checks the bytes against their hash as they are read. A file that is
only examined, never stored (a PDF whose signatures are verified), is read with
:func:`read_checked`: the same size limit and type sniffing, nothing stored.

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

import functools
import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import IO

from sqlalchemy import text

from docflow.errors import ConflictError, DomainError, ValidationError
from docflow.uow import UnitOfWork
from storage import (
    CheckedUpload,
    FileTooLargeError,
    FileType,
    ObjectReader,
    ObjectRef,
    ObjectStore,
    StorageError,
    UnsupportedFileTypeError,
    UploadLimits,
    check_upload,
    store_upload,
)
from storage.filetypes import family_types, sniff


@dataclass(frozen=True)
class Upload:
    """A file as it arrives from a person: a stream read once, its name and declared type, and
    the role it plays in a document (``main``, ``attachment``, ``draft``…; tasks ignore it)."""

    stream: IO[bytes]
    filename: str
    content_type: str | None = None
    kind: str = "main"

    def as_kind(self, kind: str) -> Upload:
        return replace(self, kind=kind)


class FileRefusedError(DomainError):
    """An upload the checks refused (too large, wrong type, malformed…): 413/415/422."""

    kind = "invalid"

    def __init__(self, exc: StorageError, filename: str) -> None:
        filename = filename[:100]  # echoed back: a hostile name stays short
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


def object_store(uow: UnitOfWork) -> ObjectStore:
    """The unit of work's object store (409 ``storage_unavailable`` when none is configured)."""
    if uow.store is None:
        raise ConflictError("Hệ thống chưa cấu hình kho lưu trữ tệp.", code="storage_unavailable")
    store: ObjectStore = uow.store
    return store


def hold_object(uow: UnitOfWork, key: str) -> None:
    """In ``uow``'s transaction: hold the object ``key`` against the orphan sweeper until the
    transaction ends (a shared PostgreSQL advisory lock; the sweeper takes it exclusive around
    its last check and the deletion, :func:`docflow.objects.sweep`). Taken before the store
    looks the key up, so bytes already stored as an orphan are not deleted between that look
    and the commit of the row that names them. A no-op on SQLite (one process), and outside a
    transaction: bytes stored before the unit that writes their row opens (a searchable copy
    made by OCR) are held when that unit opens, and their row is written only if the object
    is still there (:func:`docflow.search.services._add_searchable_pdf`)."""
    if uow.depth > 0:
        lock_object(uow, key, shared=True)


def lock_object(uow: UnitOfWork, key: str, *, shared: bool) -> None:
    """Take the object ``key``'s advisory lock until ``uow``'s transaction ends: shared for a
    write of the object, exclusive for the sweeper's deletion (PostgreSQL; nothing on SQLite).
    Its id is 64 bits of a hash of the key, in a namespace of its own."""
    session = uow.session
    if session.get_bind().dialect.name != "postgresql":
        return
    digest = hashlib.sha256(b"dhtn-object:" + key.encode()).digest()
    lock = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    session.execute(
        text(f"SELECT {lock}(:k)"), {"k": int.from_bytes(digest[:8], "big", signed=True)}
    )


def store_bytes(uow: UnitOfWork, data: bytes, content_type: str) -> ObjectRef:
    """Put bytes the system produced (a PDF, a DOCX), held for ``uow``'s transaction
    (:func:`hold_object`); a failed transaction leaves an orphan for the sweeper (never deleted
    here: the same bytes may belong to another row)."""
    return object_store(uow).put(
        io.BytesIO(data), content_type, before=functools.partial(hold_object, uow)
    )


#: The most files one request may store (a document's main file and its appendices, a task
#: step's attachments): each costs a check, an object, a row, its text and perhaps OCR.
MAX_FILES = 20


def _count_checked(uploads: Sequence[Upload], most: int = MAX_FILES) -> None:
    if len(uploads) > most:
        raise ValidationError.field(
            "files", f"Mỗi lần gửi tối đa {most} tệp.", code="too_many_files"
        )


def upload_limits(uow: UnitOfWork) -> UploadLimits:
    """What a person may upload in this deployment."""
    return UploadLimits(max_size=uow.config.max_upload_bytes)


def store_uploads(
    uow: UnitOfWork, uploads: Sequence[Upload], limits: UploadLimits | None = None
) -> list[StoredUpload]:
    """Check and store each upload (an upload refused after others were stored leaves those
    as orphans for the sweeper: see the module's docstring). A capability that takes fewer
    kinds or smaller files (citizens' photos, a file plan workbook) passes its ``limits``; they
    never exceed the deployment's size limit."""
    if not uploads:
        return []
    _count_checked(uploads)
    store = object_store(uow)
    deployment = upload_limits(uow)
    if limits is None:
        limits = deployment
    elif limits.max_size > deployment.max_size:
        limits = replace(limits, max_size=deployment.max_size)
    stored = []
    for upload in uploads:
        try:
            checked = store_upload(
                store,
                upload.stream,
                upload.filename,
                upload.content_type,
                limits,
                before_put=functools.partial(hold_object, uow),
            )
        except StorageError as exc:
            raise FileRefusedError(exc, upload.filename) from exc
        stored.append(StoredUpload(upload, checked))
    return stored


def check_uploads(uow: UnitOfWork, uploads: Sequence[Upload]) -> None:
    """The checks of :func:`store_uploads`, storing nothing (raises the same
    :class:`FileRefusedError`): for a caller that stores a set of files only when every one
    passes, so that a refusal leaves no orphan."""
    _count_checked(uploads)
    store = object_store(uow)
    limits = upload_limits(uow)
    for upload in uploads:
        try:
            check_upload(store, upload.stream, upload.filename, upload.content_type, limits)
        except StorageError as exc:
            raise FileRefusedError(exc, upload.filename) from exc


def open_object(uow: UnitOfWork, key: str) -> ObjectReader:
    """A streaming reader of a stored file, checked against its hash as it is read."""
    return object_store(uow).open(key, verify=True)


def read_checked(upload: Upload, *, max_size: int, allowed: FileType = FileType.PDF) -> bytes:
    """The bytes of a file that is examined, not stored: at most ``max_size`` of them (413
    ``file_too_large``), and they must start as ``allowed`` does (415
    ``unsupported_file_type``; leading white space is tolerated, as PDF readers do)."""
    data = upload.stream.read(max_size + 1)
    if len(data) > max_size:
        exc: StorageError = FileTooLargeError(max_bytes=max_size)
        raise FileRefusedError(exc, upload.filename)
    family = sniff(data.lstrip()[:16])
    if family is None or allowed not in family_types(family):
        exc = UnsupportedFileTypeError()
        raise FileRefusedError(exc, upload.filename)
    return data
