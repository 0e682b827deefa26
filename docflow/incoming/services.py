"""Documents coming in (Decree 30 Art. 20-22): a paper or e-mailed document registered at once
(:func:`register_incoming`), a copy another organisation sent us arriving (:func:`receive_document`),
and the one place the incoming register numbers a document (:func:`number_in_register`).

The actions that follow (register an arrived copy, present, direct, handle, recall decisions)
are :mod:`docflow.incoming.actions`, run by :mod:`docflow.engine`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from docflow.actors import Actor, require_role
from docflow.directory import register_for_numbering
from docflow.documents import access, trail
from docflow.documents.files import file_row
from docflow.documents.notation import parse_notation
from docflow.documents.queries import TOPIC_VERIFY_SIGNATURES
from docflow.documents.states import URGENCY_RANK
from docflow.documents.text import search_text
from docflow.enums import Direction, Role, Secrecy
from docflow.errors import ConflictError, PermissionDeniedError, ValidationError
from docflow.incoming.commands import RegisterIncoming
from docflow.incoming.states import IncomingState
from docflow.models import Document, DocumentFile, DocumentType, Register
from docflow.numbering import allocate_number
from docflow.search import queue_text_extraction
from docflow.uow import UnitOfWork
from docflow.uploads import Upload, store_uploads
from docflow.workdays import due_after, local_date

# ---------------------------------------------------------------- registration


def _doc_type(uow: UnitOfWork, code: str) -> DocumentType:
    row = uow.session.get(DocumentType, code)
    if row is None or not row.active:
        raise ValidationError.field("doc_type", f"Loại văn bản «{code}» không có trong danh mục.")
    return row


def _check_notation(uow: UnitOfWork, notation: str, dtype: DocumentType) -> str:
    abbrs = frozenset(
        a
        for a in uow.session.scalars(
            select(DocumentType.abbreviation).where(DocumentType.abbreviation != "")
        )
    )
    parse_notation(notation, type_abbr=dtype.abbreviation, known_abbrs=abbrs)
    return " ".join(notation.split())


def incoming_register(
    uow: UnitOfWork, actor: Actor, register_id: uuid.UUID | None, secrecy: Secrecy
) -> Register:
    return register_for_numbering(uow, actor, register_id, secrecy, Direction.INCOMING)


def number_in_register(uow: UnitOfWork, doc: Document, reg: Register) -> int:
    """Vào sổ: the next number of the incoming register ``reg`` (of the register's year), for
    a paper document registered at once and for an arrived copy alike. Call it last: the
    register row stays locked until the commit (no gap, no duplicate; :mod:`docflow.numbering`).
    """
    doc.register_id = reg.id
    doc.register_number = allocate_number(uow.session, reg.id, year=reg.year)
    return doc.register_number


def _due(uow: UnitOfWork, due_date: dt.date | None, working_days: int | None) -> dt.date | None:
    if working_days is None:
        return due_date
    return due_after(uow.session, local_date(uow.now()), working_days)


def find_duplicate(
    uow: UnitOfWork, actor: Actor, issuer: str, notation: str, issued: dt.date
) -> Document | None:
    """An earlier registration of the same document that ``actor`` can see.

    One the actor cannot see (above their clearance) is treated as if it did not exist: it
    neither blocks the registration nor shows in the answer, since a refusal naming it (or
    only refusing) would tell an uncleared clerk that a secret record with that issuer,
    notation and date exists. The registration then goes ahead as a record of its own; a
    cleared clerk sees both and can reconcile them.
    """
    return uow.session.scalars(
        select(Document)
        .where(
            access.visible_clause(actor),
            Document.direction == Direction.INCOMING.value,
            Document.issuer_name == issuer,
            Document.notation == notation,
            Document.issued_date == issued,
            Document.state != IncomingState.REJECTED.value,
        )
        .limit(1)
    ).first()


def _check_secrecy(
    uow: UnitOfWork, actor: Actor, secrecy: Secrecy, uploads: Sequence[Upload]
) -> None:
    if secrecy.rank > actor.clearance.rank:
        raise PermissionDeniedError(
            "Bạn chưa được phép xử lý văn bản có độ mật này.", code="clearance_required"
        )
    if secrecy is not Secrecy.NONE and uploads and not uow.config.secret_network:
        raise ValidationError.field(
            "files",
            "Văn bản mật chỉ được vào sổ dạng thông tin (bản giấy), không tải nội dung lên hệ thống này.",
            code="secret_metadata_only",
        )
    if secrecy is Secrecy.NONE and not uploads:
        raise ValidationError.field(
            "files", "Cần ít nhất một tệp văn bản (bản quét hoặc bản điện tử)."
        )


def register_incoming(
    uow: UnitOfWork, actor: Actor, cmd: RegisterIncoming, uploads: Sequence[Upload]
) -> Document:
    """Register a received document: checks first, files next, the number last, one commit.

    A refusal at any step leaves no document and no consumed number; a file stored before the
    refusal is an orphan the sweeper removes later (never deleted here: see docflow.uploads).
    """
    require_role(actor, Role.CLERK)
    with uow:
        s = uow.session
        now = uow.now()
        dtype = _doc_type(uow, cmd.doc_type)
        notation = _check_notation(uow, cmd.notation, dtype)
        _check_secrecy(uow, actor, cmd.secrecy, uploads)
        reg = incoming_register(uow, actor, cmd.register_id, cmd.secrecy)
        dup = find_duplicate(uow, actor, cmd.issuer.name, notation, cmd.issued_date)
        if dup is not None and not cmd.confirm_duplicate:
            raise ConflictError(
                f"Văn bản {notation} của {cmd.issuer.name} ngày {cmd.issued_date:%d/%m/%Y} đã vào sổ"
                f" (số đến {dup.register_number}). Gửi lại với confirm_duplicate nếu đúng là văn bản khác.",
                code="possible_duplicate",
                details={"document_id": str(dup.id), "register_number": dup.register_number},
            )
        due = _due(uow, cmd.due_date, cmd.due_in_working_days)
        stored = store_uploads(uow, uploads)
        doc = Document(
            organization_id=actor.organization_id,
            direction=Direction.INCOMING.value,
            state=IncomingState.REGISTERED.value,
            notation=notation,
            doc_type=dtype.code,
            subject=cmd.subject,
            issuer_name=cmd.issuer.name,
            issuer_code=cmd.issuer.code,
            issued_date=cmd.issued_date,
            received_at=now,
            registered_at=now,
            listed_at=now,
            urgency=cmd.urgency.value,
            urgency_rank=URGENCY_RANK[cmd.urgency.value],
            secrecy=cmd.secrecy.value,
            secrecy_rank=cmd.secrecy.rank,
            due_date=due,
            page_count=cmd.page_count,
            source=cmd.source,
            recipients_text=cmd.recipients_text,
            note=cmd.note,
            search_text=search_text(notation, cmd.subject, cmd.issuer.name),
            created_by_id=actor.user_id,
            created_at=now,
            updated_at=now,
        )
        s.add(doc)
        s.flush()
        for item in stored:
            s.add(file_row(item, document_id=doc.id, version=1, created_by=actor.user_id))
        # The number is allocated last: its row lock is held only until the commit below.
        number_in_register(uow, doc, reg)
        trail.append(
            uow,
            doc,
            "register",
            actor=actor,
            from_state=None,
            acting=actor.acting_for(Role.CLERK),
            details={"register_number": doc.register_number, "source": cmd.source},
        )
        _queue_verification(
            uow,
            doc,
            stored_pdf=any(i.checked.ref.content_type == "application/pdf" for i in stored),
        )
        queue_text_extraction(uow, doc, priority=6 if doc.urgency_rank else 7)
        uow.commit()
    return doc


def _queue_verification(uow: UnitOfWork, doc: Document, *, stored_pdf: bool) -> None:
    if stored_pdf and uow.verifier is not None:
        priority = 1 if doc.urgency_rank else 5
        uow.enqueue(TOPIC_VERIFY_SIGNATURES, {"document_id": str(doc.id)}, priority=priority)


def receive_document(
    uow: UnitOfWork,
    organization_id: uuid.UUID,
    *,
    meta: dict[str, Any],
    file_refs: Sequence[dict[str, Any]],
    source: str,
) -> Document:
    """A document arrives from another organisation (internal dispatch or the axis): state
    ``arrived``, no number yet; its files point at objects already stored."""
    with uow:
        s = uow.session
        now = uow.now()
        urgency = str(meta.get("urgency", "normal"))
        secrecy = Secrecy(meta.get("secrecy", "none"))
        doc = Document(
            organization_id=organization_id,
            direction=Direction.INCOMING.value,
            state=IncomingState.ARRIVED.value,
            notation=meta.get("notation"),
            doc_type=str(meta["doc_type"]),
            subject=str(meta["subject"]),
            issuer_name=meta.get("issuer_name"),
            issuer_code=meta.get("issuer_code"),
            issued_date=meta.get("issued_date"),
            received_at=now,
            listed_at=now,
            urgency=urgency,
            urgency_rank=URGENCY_RANK.get(urgency, 0),
            secrecy=secrecy.value,
            secrecy_rank=secrecy.rank,
            due_date=meta.get("due_date"),
            page_count=meta.get("page_count"),
            source=source,
            signer_name=meta.get("signer_name"),
            signer_position=meta.get("signer_position"),
            signer_competence=meta.get("signer_competence"),
            note=meta.get("note"),
            search_text=search_text(
                meta.get("notation"), str(meta["subject"]), meta.get("issuer_name")
            ),
            created_at=now,
            updated_at=now,
        )
        s.add(doc)
        s.flush()
        for ref in file_refs:
            s.add(DocumentFile(document_id=doc.id, **ref))
        trail.append(uow, doc, "arrive", actor=None, from_state=None, details={"source": source})
        _queue_verification(
            uow, doc, stored_pdf=any(r.get("content_type") == "application/pdf" for r in file_refs)
        )
        queue_text_extraction(uow, doc)
        uow.commit()
        return doc
