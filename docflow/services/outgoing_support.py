"""Shared pieces of the outgoing flow: loading and locking, bytes in and out of the store, the
current draft version, the collaborators from the unit of work."""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import select

from docflow.actors import Actor
from docflow.documents import access
from docflow.documents.files import open_file
from docflow.documents.ports import DocumentConverter, SigningProvider
from docflow.errors import ConflictError, NotFoundError, ValidationError
from docflow.models import Document, DocumentFile, DraftVersion, Organization, Unit, User
from docflow.uow import UnitOfWork
from signing import SigningError
from storage import ObjectRef, ObjectStore

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def queue_priority(doc: Document) -> int:
    """Outbox priority: urgent documents (any urgency above normal) jump the queue."""
    return 1 if doc.urgency_rank else 5


def lock_outgoing(uow: UnitOfWork, actor: Actor, document_id: uuid.UUID) -> Document:
    """The outgoing document, row-locked for this transaction (404 if the actor cannot see it)."""
    doc = uow.session.scalars(
        select(Document).where(Document.id == document_id).with_for_update(of=Document)
    ).first()
    if doc is None or doc.direction != "outgoing":
        raise NotFoundError("Không tìm thấy văn bản.", code="document_not_found")
    return access.ensure_visible(actor, doc)


def read_bytes(uow: UnitOfWork, row: DocumentFile) -> bytes:
    with open_file(uow, row) as reader:
        out = io.BytesIO()
        for chunk in reader.iter_chunks():
            out.write(chunk)
        return out.getvalue()


def store_bytes(uow: UnitOfWork, data: bytes, content_type: str) -> ObjectRef:
    """Put bytes the system produced (a PDF, a DOCX); a failed transaction leaves an orphan
    for the sweeper (never deleted here: the same bytes may belong to another row)."""
    if uow.store is None:
        raise RuntimeError("no object store configured")
    store: ObjectStore = uow.store
    ref = store.put(io.BytesIO(data), content_type)
    return ref


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


def current_version(uow: UnitOfWork, doc: Document) -> DraftVersion:
    row = uow.session.scalars(
        select(DraftVersion).where(
            DraftVersion.document_id == doc.id, DraftVersion.version == doc.draft_version
        )
    ).one_or_none()
    if row is None:
        raise NotFoundError("Văn bản chưa có bản dự thảo.", code="draft_missing")
    return row


def prepared_pdf(uow: UnitOfWork, doc: Document) -> tuple[DraftVersion, DocumentFile]:
    """The current version's PDF with its signing fields; refuses while it is not ready."""
    version = current_version(uow, doc)
    if version.conversion_state == "pending" or version.pdf_file_id is None:
        if version.conversion_state == "failed":
            raise ConflictError(
                f"Bản dự thảo {version.version} không chuyển được sang PDF: "
                f"{version.conversion_error}. Hãy tải lên bản khác.",
                code="conversion_failed",
            )
        raise ConflictError(
            f"Bản dự thảo {version.version} đang được chuyển sang PDF, vui lòng đợi giây lát.",
            code="draft_not_ready",
        )
    row = uow.session.get_one(DocumentFile, version.pdf_file_id)
    return version, row


def latest_file(doc: Document, kind: str) -> DocumentFile | None:
    rows = [f for f in doc.files if f.kind == kind]
    return max(rows, key=lambda f: (f.version, f.created_at)) if rows else None


def signing_provider(uow: UnitOfWork) -> SigningProvider:
    if uow.signing is None:
        raise ConflictError("Hệ thống chưa cấu hình ký số.", code="signing_not_configured")
    return uow.signing


def converter(uow: UnitOfWork) -> DocumentConverter:
    if uow.converter is None:
        raise RuntimeError("no document converter configured")
    return uow.converter


def signature_image(uow: UnitOfWork, user_id: uuid.UUID) -> bytes:
    """The person's stored signature image (a transparent PNG)."""
    user = uow.session.get_one(User, user_id)
    if not user.signature_image_key or uow.store is None:
        raise ConflictError(
            f"Chưa có mẫu chữ ký của {user.full_name}; quản trị cần tải lên trước khi ký.",
            code="signature_image_missing",
        )
    with uow.store.open(user.signature_image_key, verify=True) as reader:
        return b"".join(reader.iter_chunks())


def organization_of(uow: UnitOfWork, doc: Document) -> Organization:
    return uow.session.get_one(Organization, doc.organization_id)


def unit_abbreviation(uow: UnitOfWork, unit_id: uuid.UUID | None) -> str | None:
    unit = uow.session.get(Unit, unit_id) if unit_id else None
    return unit.abbreviation if unit else None


def org_user(uow: UnitOfWork, actor: Actor, user_id: uuid.UUID, field: str, message: str) -> User:
    user = uow.session.get(User, user_id)
    if user is None or user.organization_id != actor.organization_id or not user.active:
        raise ValidationError.field(field, message)
    return user


def default_place(org: Organization) -> str:
    """Địa danh for the date line: the last part of the address, else from the name (Decree 30:
    the province or city where the organisation sits); the central Front sits in Hà Nội."""
    if org.address and org.address.strip():
        return org.address.split(",")[-1].strip()[:64]
    name = org.name
    for prefix in ("thành phố ", "tỉnh ", "phường ", "xã ", "đặc khu "):
        at = name.lower().rfind(prefix)
        if at >= 0:
            return name[at + len(prefix) :].strip()[:64]
    return "Hà Nội"


Handler = Callable[[UnitOfWork, dict[str, Any]], None]


class SignatureRefusedError(ConflictError):
    """A signing step refused (certificate, timestamp, session…): the signing library's code
    and Vietnamese message, as a domain refusal (nothing was changed)."""


@contextmanager
def signing_errors() -> Iterator[None]:
    try:
        yield
    except SigningError as exc:
        raise SignatureRefusedError(
            exc.message, code=exc.code, details={k: str(v) for k, v in exc.details.items()}
        ) from exc
