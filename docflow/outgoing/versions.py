"""Versions of a draft: every new version kept (an upload or the template again), DOCX→PDF
conversion in the background, the PDF prepared for signing right after, and reading them back.

A PDF version is prepared in the request (it is quick); a DOCX waits for the converter
(``outgoing.convert`` in the outbox). A version's PDF carries the number/date text fields and
the empty leader and organisation signature fields (:func:`signing.prepare_document`) at the
places :func:`docflow.outgoing.layout.find_layout` found.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from docflow.actors import Actor
from docflow.documents import trail
from docflow.documents.files import DOCX, PDF, file_from_ref, read_bytes, store_bytes
from docflow.documents.ports import ConversionError, converter
from docflow.documents.states import URGENCY_LABELS
from docflow.documents.text import search_text
from docflow.errors import (
    ConflictError,
    PermissionDeniedError,
    TransitionNotAllowedError,
    ValidationError,
)
from docflow.models import (
    Delivery,
    Document,
    DocumentFile,
    DocumentType,
    DraftVersion,
    Organization,
    Unit,
)
from docflow.outbox import Handlers
from docflow.outgoing import policy
from docflow.outgoing.commands import TemplateVersion
from docflow.outgoing.layout import SignedPdfError, UnreadablePdfError, find_layout
from docflow.outgoing.queries import (
    current_version,
    facts_of,
    latest_file,
    lock_outgoing,
    queue_priority,
)
from docflow.outgoing.states import EDITABLE_STATES
from docflow.outgoing.template import TemplateContent, render_docx
from docflow.search import queue_text_extraction
from docflow.uow import UnitOfWork
from docflow.uploads import Upload, store_uploads
from signing import SigningError, prepare_document

#: Outbox topic: convert a DOCX draft version to PDF and prepare it for signing.
TOPIC_CONVERT = "outgoing.convert"

log = logging.getLogger(__name__)


def template_file(
    uow: UnitOfWork,
    actor: Actor,
    doc: Document,
    params: dict[str, Any],
    *,
    version: int,
) -> DocumentFile:
    content = template_content(uow, doc, params)
    ref = store_bytes(uow, render_docx(content), DOCX)
    name = f"Dự thảo {content.type_name or 'Công văn'} - bản {version}.docx"
    row = file_from_ref(
        ref, document_id=doc.id, kind="draft", version=version, name=name, by=actor.user_id
    )
    uow.session.add(row)
    uow.session.flush()
    return row


def template_content(uow: UnitOfWork, doc: Document, params: dict[str, Any]) -> TemplateContent:
    s = uow.session
    org = s.get_one(Organization, doc.organization_id)
    dtype = s.get_one(DocumentType, doc.doc_type)
    names = s.scalars(
        select(Delivery.recipient_name)
        .where(Delivery.document_id == doc.id)
        .order_by(Delivery.position)
    ).all()
    unit = s.get(Unit, doc.drafting_unit_id) if doc.drafting_unit_id else None
    parent = s.get(Organization, org.parent_id) if org.parent_id else None
    del parent  # Front committees are not each other's governing body (no line above)
    return TemplateContent(
        organization_name=org.name,
        parent_name=None,
        type_name="" if not dtype.abbreviation else dtype.name,
        subject=doc.subject,
        body=str(params["body"]),
        recipients=tuple(names),
        archive_unit=unit.abbreviation if unit else "VT",
        competence=str(params.get("competence") or ""),
        authority=str(params.get("authority") or ""),
        position=doc.signer_position or "",
        signer_name=doc.signer_name or "",
        urgency_label=URGENCY_LABELS[doc.urgency] if doc.urgency_rank else None,
    )


def record_version(
    uow: UnitOfWork,
    actor: Actor,
    doc: Document,
    source: DocumentFile,
    *,
    template: dict[str, Any] | None,
    note: str | None,
) -> DraftVersion:
    """Record a version; a PDF is prepared now, a DOCX is queued for conversion."""
    version = DraftVersion(
        document_id=doc.id,
        version=source.version,
        source_file_id=source.id,
        conversion_state="pending",
        template=template,
        note=note,
        created_by_id=actor.user_id,
        created_by_name=actor.full_name,
        created_at=uow.now(),
    )
    uow.session.add(version)
    uow.session.flush()
    if source.content_type == PDF:
        try:
            prepare_version(uow, doc, version, read_bytes(uow, source))
        except ConversionError as exc:
            raise ValidationError.field("files", exc.message, code="invalid_draft_pdf") from exc
    else:
        uow.enqueue(
            TOPIC_CONVERT,
            {"version_id": str(version.id)},
            priority=queue_priority(doc),
        )
    queue_text_extraction(uow, doc)
    return version


def prepare_version(uow: UnitOfWork, doc: Document, version: DraftVersion, pdf: bytes) -> None:
    """Add the signing fields to a version's PDF and record it; ConversionError if it can't."""
    try:
        placed = find_layout(pdf)
        prepared = prepare_document(pdf, placed.layout)
    except SignedPdfError as exc:
        raise ConversionError(
            "Tệp PDF đã có chữ ký số; dự thảo phải là bản chưa ký.", code="draft_already_signed"
        ) from exc
    except UnreadablePdfError as exc:
        raise ConversionError(
            "Không đọc được nội dung tệp PDF.", details={"reason": str(exc)}
        ) from exc
    except SigningError as exc:
        raise ConversionError(
            f"Không chuẩn bị được văn bản để ký: {exc.message}", details={"code": exc.code}
        ) from exc
    ref = store_bytes(uow, prepared, PDF)
    name = f"Dự thảo bản {version.version}.pdf"
    row = file_from_ref(
        ref, document_id=doc.id, kind="prepared", version=version.version, name=name, by=None
    )
    uow.session.add(row)
    uow.session.flush()
    version.pdf_file_id = row.id
    version.conversion_state = "ready"
    version.layout = placed.to_json()
    version.converted_at = uow.now()
    if doc.draft_version == version.version:
        doc.page_count = placed.pages


# ---------------------------------------------------------------- new versions


def check_editable(actor: Actor, doc: Document) -> None:
    """403 unless the actor holds the draft, then 409 unless it may still change."""
    facts = facts_of(doc)
    if not policy.holds_draft(actor, facts):
        raise PermissionDeniedError(
            "Chỉ người đang giữ dự thảo (người soạn, hoặc người đang duyệt) được sửa."
        )
    if facts.state not in EDITABLE_STATES:
        raise TransitionNotAllowedError(
            f"Văn bản ở trạng thái «{facts.state.label}» không còn sửa được.",
            code="draft_locked",
            details={"state": facts.state.value},
        )


def add_version(
    uow: UnitOfWork,
    actor: Actor,
    document_id: uuid.UUID,
    uploads: Sequence[Upload],
    *,
    kind: str = "draft",
    note: str | None = None,
) -> Document:
    """A new version (``kind="draft"``, one DOCX or PDF) or attachments, by whoever holds
    the draft now."""
    if kind not in ("draft", "attachment"):
        raise ValidationError.field("kind", "Loại tệp là «draft» (bản mới) hoặc «attachment».")
    if not uploads or (kind == "draft" and len(uploads) != 1):
        raise ValidationError.field("files", "Gửi đúng một tệp cho mỗi bản dự thảo mới.")
    with uow:
        doc = lock_outgoing(uow, actor, document_id)
        check_editable(actor, doc)
        stored = store_uploads(uow, [u.as_kind(kind) for u in uploads])
        current = doc.draft_version or 0
        if kind == "draft":
            if stored[0].checked.ref.content_type not in (PDF, DOCX):
                raise ValidationError.field(
                    "files", "Dự thảo phải là tệp DOCX hoặc PDF.", code="unsupported_draft_type"
                )
            doc.draft_version = current + 1
        for item in stored:
            row = file_from_ref(
                item.checked.ref,
                document_id=doc.id,
                kind=kind,
                version=doc.draft_version or 1,
                name=item.checked.filename,
                by=actor.user_id,
            )
            uow.session.add(row)
            uow.session.flush()
            if kind == "draft":
                record_version(uow, actor, doc, row, template=None, note=note)
        trail_version(uow, actor, doc, kind, [i.checked.filename for i in stored], note)
        uow.commit()
        return doc


def add_template_version(
    uow: UnitOfWork, actor: Actor, document_id: uuid.UUID, cmd: TemplateVersion
) -> Document:
    """A new version of a template draft with a changed body (and subject)."""
    with uow:
        doc = lock_outgoing(uow, actor, document_id)
        check_editable(actor, doc)
        last = current_version(uow, doc)
        if last.template is None:
            raise ConflictError(
                "Bản hiện tại không soạn theo mẫu: hãy tải lên tệp DOCX hoặc PDF mới.",
                code="not_a_template_draft",
            )
        if cmd.subject:
            doc.subject = cmd.subject
            doc.search_text = search_text(doc.subject, doc.issuer_name)
        params = {**last.template, "body": cmd.body}
        doc.draft_version = last.version + 1
        row = template_file(uow, actor, doc, params, version=doc.draft_version)
        record_version(uow, actor, doc, row, template=params, note=cmd.note)
        trail_version(uow, actor, doc, "draft", [row.name], cmd.note)
        uow.commit()
        return doc


def trail_version(
    uow: UnitOfWork, actor: Actor, doc: Document, kind: str, names: list[str], note: str | None
) -> None:
    trail.append(
        uow,
        doc,
        "new_version" if kind == "draft" else "attach",
        actor=actor,
        from_state=doc.state,
        comment=note,
        details={"version": doc.draft_version, "files": names},
    )


# ---------------------------------------------------------------- conversion (outbox)


def convert_draft_version(uow: UnitOfWork, payload: dict[str, Any]) -> None:
    """Outbox handler ``outgoing.convert``: DOCX → PDF → prepared for signing. A document the
    converter cannot handle marks the version failed (with the reason shown on the draft);
    the converter being unavailable raises, so the message is retried later."""
    convert = converter(uow)
    with uow:
        version = uow.session.scalars(
            select(DraftVersion)
            .where(DraftVersion.id == uuid.UUID(payload["version_id"]))
            .with_for_update()
        ).one_or_none()
        if version is None or version.conversion_state != "pending":
            return  # already done: delivery is at least once
        doc = uow.session.get_one(Document, version.document_id)
        source = uow.session.get_one(DocumentFile, version.source_file_id)
        try:
            pdf = convert.to_pdf(read_bytes(uow, source), source.name)
            prepare_version(uow, doc, version, pdf)
        except ConversionError as exc:
            # The document's fault, not the system's: the draft shows why; the log says it too,
            # for whoever looks at the worker (a converter that fails every draft shows here).
            log.warning(
                "draft %s version %s not converted (%s): %s",
                doc.id,
                version.version,
                exc.code,
                exc.message,
            )
            version.conversion_state = "failed"
            version.conversion_error = exc.message
            version.converted_at = uow.now()
        uow.commit()


# ---------------------------------------------------------------- reading


def list_versions(uow: UnitOfWork, actor: Actor, document_id: uuid.UUID) -> list[DraftVersion]:
    """Every version of a draft, newest first (404 if the document is not visible)."""
    from docflow.documents.queries import get_document

    doc = get_document(uow, actor, document_id)
    with uow:
        return list(
            uow.session.scalars(
                select(DraftVersion)
                .where(DraftVersion.document_id == doc.id)
                .order_by(DraftVersion.version.desc())
            )
        )


def signing_page(
    uow: UnitOfWork, actor: Actor, document_id: uuid.UUID, *, stage: str
) -> tuple[bytes, dict[str, Any]] | None:
    """The PDF a signer or the clerk is about to sign and where the fields are on it: the
    current version's prepared PDF (``stage="sign"``) or the leader-signed one (``"issue"``),
    with the version's layout; None while there is none yet."""
    from docflow.documents.queries import get_document

    doc = get_document(uow, actor, document_id)
    with uow:
        version = uow.session.scalars(
            select(DraftVersion).where(
                DraftVersion.document_id == doc.id, DraftVersion.version == doc.draft_version
            )
        ).one_or_none()
        if version is None or version.layout is None:
            return None
        if stage == "issue":
            row = latest_file(doc, "main") or latest_file(doc, "signed")
        else:
            row = next((f for f in doc.files if f.id == version.pdf_file_id), None)
        if row is None:
            return None
        return read_bytes(uow, row), version.layout


def register_outbox_handlers(handlers: Handlers) -> None:
    handlers.add(TOPIC_CONVERT, convert_draft_version)
