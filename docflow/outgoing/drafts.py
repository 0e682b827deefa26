"""Drafting outgoing documents (Decree 30 Art. 10-11): a draft from an uploaded DOCX or PDF or
from the template, with its designated signer and recipients. Its versions (new ones, the
conversion, the preparation for signing) are :mod:`docflow.outgoing.versions`."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from docflow.actors import Actor
from docflow.documents import access, trail
from docflow.documents.files import DOCX, PDF, file_from_ref
from docflow.documents.states import URGENCY_RANK
from docflow.documents.text import search_text
from docflow.enums import Direction, Secrecy
from docflow.errors import (
    PermissionDeniedError,
    ValidationError,
)
from docflow.models import (
    Delivery,
    Document,
    DocumentType,
    ExternalAgency,
    Organization,
    User,
)
from docflow.outgoing import policy
from docflow.outgoing.commands import DraftMeta, TemplateDraft
from docflow.outgoing.queries import org_user
from docflow.outgoing.replacements import (
    ReplacesKind,
    link,
    previous_recipients,
    replaced_for_draft,
)
from docflow.outgoing.states import DeliveryState, OutgoingState
from docflow.outgoing.versions import record_version, template_file
from docflow.uow import UnitOfWork
from docflow.uploads import Upload, store_uploads

# ---------------------------------------------------------------- checks


def _doc_type(uow: UnitOfWork, code: str) -> DocumentType:
    row = uow.session.get(DocumentType, code)
    if row is None or not row.active:
        raise ValidationError.field("doc_type", f"Loại văn bản «{code}» không có trong danh mục.")
    return row


def _signer(uow: UnitOfWork, actor: Actor, user_id: uuid.UUID) -> User:
    user = org_user(uow, actor, user_id, "signer_user_id", "Người ký phải là lãnh đạo của cơ quan.")
    if not policy.may_be_signer(user.roles):
        raise ValidationError.field("signer_user_id", "Người ký phải là lãnh đạo của cơ quan.")
    return user


def _check_secrecy(uow: UnitOfWork, actor: Actor, meta: DraftMeta) -> None:
    if meta.secrecy.rank > actor.clearance.rank:
        raise PermissionDeniedError(
            "Bạn chưa được phép soạn văn bản có độ mật này.", code="clearance_required"
        )
    if meta.secrecy is not Secrecy.NONE and not uow.config.secret_network:
        raise ValidationError.field(
            "secrecy",
            "Văn bản mật không được soạn thảo, lưu trữ trên hệ thống này (chỉ trên mạng mật).",
            code="secret_metadata_only",
        )


def _recipients(uow: UnitOfWork, actor: Actor, meta: DraftMeta) -> list[Delivery]:
    """Planned deliveries: our organisations are internal, other codes go through the axis."""
    s = uow.session
    rows: list[Delivery] = []
    seen: set[str] = set()
    for index, ref in enumerate(meta.recipients):
        org = None
        if ref.organization_id is not None:
            org = s.get(Organization, ref.organization_id)
            if org is None or not org.active:
                raise ValidationError.field("recipients", "Không tìm thấy cơ quan nhận.")
        else:
            org = s.scalars(select(Organization).where(Organization.code == ref.code)).first()
        if org is not None and org.id == actor.organization_id:
            raise ValidationError.field("recipients", "Không gửi văn bản cho chính cơ quan mình.")
        key = str(org.id) if org else str(ref.code)
        if key in seen:
            raise ValidationError.field("recipients", "Một nơi nhận chỉ được ghi một lần.")
        seen.add(key)
        if org is None and meta.secrecy is not Secrecy.NONE:
            raise ValidationError.field(
                "recipients", "Văn bản mật không được gửi qua Trục liên thông văn bản quốc gia."
            )
        rows.append(
            Delivery(
                position=index + 1,
                recipient_organization_id=org.id if org else None,
                recipient_code=org.code if org else ref.code,
                recipient_name=org.name if org else _external_name(s, ref.name, str(ref.code)),
                channel="internal" if org else "axis",
                state=DeliveryState.PLANNED.value,
            )
        )
    return rows


def _external_name(s: Session, given: str | None, code: str) -> str:
    """An external recipient's name: as given, else the axis directory's, else its code."""
    if given:
        return given
    known = s.scalars(select(ExternalAgency.name).where(ExternalAgency.code == code)).first()
    return (known or code)[:255]


# ---------------------------------------------------------------- drafts


def create_draft(
    uow: UnitOfWork, actor: Actor, meta: DraftMeta, uploads: Sequence[Upload]
) -> Document:
    """A draft from an uploaded DOCX or PDF (the first file; the others are attachments).

    Refused without a trace: no document, no row; a file stored before the refusal is an orphan
    for the sweeper."""
    if not policy.may_draft(actor.effective_roles):
        raise PermissionDeniedError()
    if not uploads:
        raise ValidationError.field("files", "Cần tệp dự thảo (DOCX hoặc PDF).")
    with uow:
        doc, deliveries = _new_document(uow, actor, meta)
        stored = store_uploads(
            uow,
            [u.as_kind("draft" if i == 0 else "attachment") for i, u in enumerate(uploads)],
        )
        main = stored[0].checked.ref
        if main.content_type not in (PDF, DOCX):
            raise ValidationError.field(
                "files", "Dự thảo phải là tệp DOCX hoặc PDF.", code="unsupported_draft_type"
            )
        _save(uow, actor, doc, deliveries)
        for i, item in enumerate(stored):
            row = file_from_ref(
                item.checked.ref,
                document_id=doc.id,
                kind="draft" if i == 0 else "attachment",
                version=1,
                name=item.checked.filename,
                by=actor.user_id,
            )
            uow.session.add(row)
            if i == 0:
                uow.session.flush()
                record_version(uow, actor, doc, row, template=None, note=meta.note)
        _trail_draft(uow, actor, doc, stored[0].checked.filename)
        uow.commit()
        return doc


def create_template_draft(uow: UnitOfWork, actor: Actor, cmd: TemplateDraft) -> Document:
    """A draft written in the Decree 30 template (DOCX generated here, converted like any)."""
    if not policy.may_draft(actor.effective_roles):
        raise PermissionDeniedError()
    with uow:
        doc, deliveries = _new_document(uow, actor, cmd)
        _save(uow, actor, doc, deliveries)
        params = {
            "body": cmd.body,
            "competence": cmd.competence,
            "authority": cmd.authority,
        }
        row = template_file(uow, actor, doc, params, version=1)
        record_version(uow, actor, doc, row, template=params, note=cmd.note)
        _trail_draft(uow, actor, doc, row.name)
        uow.commit()
        return doc


def _new_document(
    uow: UnitOfWork, actor: Actor, meta: DraftMeta
) -> tuple[Document, list[Delivery]]:
    now = uow.now()
    dtype = _doc_type(uow, meta.doc_type)
    _check_secrecy(uow, actor, meta)
    signer = _signer(uow, actor, meta.signer_user_id)
    if not access.user_cleared_for(signer, meta.secrecy.rank):
        raise ValidationError.field(
            "signer_user_id",
            "Người ký chưa được phép xem văn bản có độ mật này.",
            code="recipient_not_cleared",
        )
    replaced = None
    if meta.replaces_document_id is not None:
        kind = ReplacesKind(meta.replaces_kind)
        replaced = replaced_for_draft(
            uow, actor, meta.replaces_document_id, kind, dtype.code, meta.secrecy
        )
        if not meta.recipients:
            meta = meta.model_copy(update={"recipients": previous_recipients(uow, replaced)})
    deliveries = _recipients(uow, actor, meta)
    org = uow.session.get_one(Organization, actor.organization_id)
    doc = Document(
        organization_id=actor.organization_id,
        direction=Direction.OUTGOING.value,
        state=OutgoingState.DRAFT.value,
        doc_type=dtype.code,
        subject=meta.subject,
        issuer_name=org.name,
        issuer_code=org.code,
        listed_at=now,
        urgency=meta.urgency.value,
        urgency_rank=URGENCY_RANK[meta.urgency.value],
        secrecy=meta.secrecy.value,
        secrecy_rank=meta.secrecy.rank,
        due_date=meta.due_date,
        source="drafted",
        signer_user_id=signer.id,
        signer_name=signer.full_name,
        signer_position=signer.position,
        signer_competence=meta.competence or None,
        signer_authority=meta.authority or None,
        drafting_unit_id=actor.unit_id,
        issue_place=meta.place or default_place(org),
        recipients_text="; ".join(d.recipient_name for d in deliveries) or None,
        note=meta.note,
        search_text=search_text(meta.subject, org.name),
        draft_version=1,
        created_by_id=actor.user_id,
        created_at=now,
        updated_at=now,
    )
    if replaced is not None:
        link(doc, replaced, meta.replaces_kind)
    return doc, deliveries


def _save(uow: UnitOfWork, actor: Actor, doc: Document, deliveries: list[Delivery]) -> None:
    uow.session.add(doc)
    uow.session.flush()
    for d in deliveries:
        d.document_id = doc.id
        d.created_at = d.updated_at = uow.now()
        uow.session.add(d)


def _trail_draft(uow: UnitOfWork, actor: Actor, doc: Document, filename: str) -> None:
    trail.append(
        uow,
        doc,
        "draft",
        actor=actor,
        from_state=None,
        details={"version": 1, "file": filename},
    )


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
