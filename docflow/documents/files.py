"""The rows of a document's files: stored through :mod:`docflow.uploads` (the one checked path
for files from people; see there why a request never deletes an object)."""

from __future__ import annotations

import io
import uuid

from docflow.models import DocumentFile
from docflow.uow import UnitOfWork
from docflow.uploads import StoredUpload, open_object
from docflow.uploads import store_bytes as store_bytes  # for the outgoing documents
from storage import ObjectReader, ObjectRef


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


def open_file(uow: UnitOfWork, row: DocumentFile) -> ObjectReader:
    """A streaming reader of the file's bytes, checked against its hash as it is read."""
    return open_object(uow, row.object_key)


# Bytes the system produces (a signed PDF, a rendered DOCX) and reads back whole.

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def read_bytes(uow: UnitOfWork, row: DocumentFile) -> bytes:
    with open_file(uow, row) as reader:
        out = io.BytesIO()
        for chunk in reader.iter_chunks():
            out.write(chunk)
        return out.getvalue()


def file_from_ref(
    ref: ObjectRef,
    *,
    document_id: uuid.UUID,
    kind: str,
    version: int,
    name: str,
    by: uuid.UUID | None,
) -> DocumentFile:
    return DocumentFile(
        document_id=document_id,
        kind=kind,
        version=version,
        name=name,
        size=ref.size,
        sha256=ref.sha256,
        content_type=ref.content_type,
        object_key=ref.key,
        created_by_id=by,
    )
