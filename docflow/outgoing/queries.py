"""What the outgoing flow reads: the document locked for an action, the current draft version
and its prepared PDF, the latest file of a kind, the names the notation and the seal need."""

from __future__ import annotations

import uuid

from sqlalchemy import and_, or_, select

from docflow.actors import Actor
from docflow.documents import access
from docflow.documents.queries import lock_document
from docflow.documents.views import AnyDocument
from docflow.errors import ConflictError, NotFoundError, ValidationError
from docflow.models import Document, DocumentFile, DraftVersion, Organization, Unit, User
from docflow.outgoing.policy import OutgoingFacts, may_edit, may_sign
from docflow.outgoing.states import OUTGOING_CLOSED_STATES, OutgoingState
from docflow.uow import UnitOfWork


def facts_of(doc: AnyDocument) -> OutgoingFacts:
    """What :mod:`docflow.outgoing.policy` needs to know about ``doc``."""
    return OutgoingFacts(
        state=OutgoingState(doc.state),
        created_by_id=doc.created_by_id,
        submitted_to_id=doc.submitted_to_id,
        signer_user_id=doc.signer_user_id,
    )


def may_edit_draft(actor: Actor, doc: Document) -> bool:
    """Whether the page offers a new version: :func:`docflow.outgoing.policy.may_edit`."""
    return may_edit(actor, facts_of(doc))


def is_closed(doc: Document) -> bool:
    """Issued, dispatched or recalled: the document no longer changes."""
    return OutgoingState(doc.state) in OUTGOING_CLOSED_STATES


def queue_priority(doc: Document) -> int:
    """Outbox priority: urgent documents (any urgency above normal) jump the queue."""
    return 1 if doc.urgency_rank else 5


def lock_outgoing(uow: UnitOfWork, actor: Actor, document_id: uuid.UUID) -> Document:
    """The outgoing document, row-locked for this transaction (404 if the actor cannot see it)."""
    return lock_document(uow, actor, document_id, "outgoing")


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


def waiting_for_my_signature(uow: UnitOfWork, actor: Actor, *, limit: int = 50) -> list[Document]:
    """The drafts the actor may sign now (:func:`~docflow.outgoing.policy.may_sign`): they are
    the designated signer, and the draft was approved or is submitted to them; visibility and
    clearance in the query. Most urgent first, then oldest first."""
    with uow:
        rows = uow.session.scalars(
            select(Document)
            .where(
                Document.direction == "outgoing",
                Document.signer_user_id == actor.user_id,
                or_(
                    Document.state == OutgoingState.APPROVED.value,
                    and_(
                        Document.state == OutgoingState.IN_REVIEW.value,
                        Document.submitted_to_id == actor.user_id,
                    ),
                ),
                access.visible_clause(actor),
            )
            .order_by(Document.urgency_rank.desc(), Document.listed_at, Document.id)
            .limit(limit)
        ).all()
        return [d for d in rows if may_sign(actor, facts_of(d))]


def subjects_of(uow: UnitOfWork, actor: Actor, ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The subjects of the outgoing documents among ``ids`` the actor may see (for a summary)."""
    with uow:
        rows = uow.session.execute(
            select(Document.id, Document.subject).where(
                Document.id.in_(ids),
                Document.direction == "outgoing",
                access.visible_clause(actor),
            )
        ).all()
        return {row[0]: row[1] for row in rows}
