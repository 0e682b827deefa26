"""Issuing (ban hành) by the clerk: the number and time, written into the prepared fields, and
the organisation's signature with its seal, in one transaction with the register entry.

Order matters (DOMAIN.md §2, §6): everything that can be done without the number is done
first (load the leader-signed PDF, the seal key and image, the options); then the number is
allocated, which locks the register row until commit; then the PDF is signed with the number
inside, stored, recorded, committed. A failing signature raises, the transaction rolls back and
the number returns to the register: no gap, no duplicate.

An organisation signature made with a key the server never holds (a signing session) needs the
number before the bytes to sign exist, so the session reserves it on the document; if the
session lapses, the next attempt (session or server seal) reuses the reserved number.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from docflow import audit
from docflow.actors import Actor
from docflow.directory import register_for_numbering
from docflow.documents import access
from docflow.documents.files import PDF, file_from_ref, read_bytes, store_bytes
from docflow.documents.ports import signing_provider
from docflow.documents.text import search_text
from docflow.enums import Direction, Secrecy
from docflow.errors import ConflictError, ValidationError
from docflow.models import Document, DocumentType, Register
from docflow.numbering import allocate_number, format_number
from docflow.outgoing import replacements
from docflow.outgoing.errors import signing_errors
from docflow.outgoing.queries import latest_file, organization_of, unit_abbreviation
from docflow.search import queue_text_extraction
from docflow.uow import UnitOfWork
from docflow.workdays import local_date
from signing import format_issue_date, issue_document, issue_request
from signing.pipeline import SignRequest


def outgoing_register(
    uow: UnitOfWork, actor: Actor, register_id: uuid.UUID | None, secrecy: Secrecy
) -> Register:
    return register_for_numbering(uow, actor, register_id, secrecy, Direction.OUTGOING)


def notation_for(uow: UnitOfWork, doc: Document, number: int) -> str:
    """Số, ký hiệu: 60/KH-MTTW-BTT; a công văn has no type part: 491/MTTW-BTT."""
    dtype = uow.session.get_one(DocumentType, doc.doc_type)
    org = organization_of(uow, doc)
    parts = [p for p in (dtype.abbreviation, org.abbreviation) if p]
    unit = unit_abbreviation(uow, doc.drafting_unit_id)
    if unit:
        parts.append(unit)
    return f"{format_number(number)}/{'-'.join(parts)}"


def reserve_number(
    uow: UnitOfWork, actor: Actor, doc: Document, register_id: uuid.UUID | None
) -> tuple[int, str]:
    """The document's number: the one an earlier signing session reserved this year, else the
    next of the register (row locks held until commit: call this last before signing).

    Number and notation are unique within the year (DOMAIN.md §2), and an organisation may
    keep several series: the registers of one year and kind (ordinary, or secret, which always
    has its own series) are locked together, in one order, and a notation another register of
    them already gave is refused (409 ``duplicate_notation``; the transaction rolls back, so
    no number is consumed). A number reserved in an earlier year (a signing session opened on
    31 December, issued in January) is released, with an audit entry, and this year's taken:
    a document issued in 2027 never carries a number of the 2026 series."""
    replacements.ensure_replaceable(uow, doc)  # before the number: a refusal consumes none
    year = local_date(uow.now()).year
    if doc.register_number is not None and doc.notation:
        reserved = uow.session.get_one(Register, doc.register_id)
        if reserved.year == year:
            return doc.register_number, doc.notation
        audit.record(
            uow,
            "number_released",
            actor=actor,
            organization_id=doc.organization_id,
            object_type="document",
            object_id=doc.id,
            details={
                "register_id": str(reserved.id),
                "year": reserved.year,
                "number": doc.register_number,
                "notation": doc.notation,
            },
        )
        doc.register_id, doc.register_number, doc.notation = None, None, None
    reg = outgoing_register(uow, actor, register_id, Secrecy(doc.secrecy))
    series = uow.session.scalars(
        select(Register.id)
        .where(
            Register.organization_id == reg.organization_id,
            Register.direction == reg.direction,
            Register.year == reg.year,
            Register.secret_series.is_(reg.secret_series),
        )
        .order_by(Register.id)
        .with_for_update()
    ).all()
    number = allocate_number(uow.session, reg.id, year=reg.year)
    notation = notation_for(uow, doc, number)
    taken = uow.session.execute(
        select(Register.name)
        .join(Document, Document.register_id == Register.id)
        .where(Register.id.in_(series), Document.notation == notation, Document.id != doc.id)
        .limit(1)
    ).scalar_one_or_none()
    if taken is not None:
        raise ConflictError(
            f"Số, ký hiệu {notation} đã được cấp trong năm {reg.year} từ sổ «{taken}». "
            "Hãy cấp số từ sổ dùng cho loại văn bản này.",
            code="duplicate_notation",
        )
    doc.register_id = reg.id
    doc.register_number = number
    doc.notation = notation
    return number, notation


def signed_pdf(uow: UnitOfWork, doc: Document) -> bytes:
    row = latest_file(doc, "signed")
    if row is None:
        raise ConflictError("Văn bản chưa có chữ ký của lãnh đạo.", code="not_signed")
    return read_bytes(uow, row)


def seal_request(uow: UnitOfWork, doc: Document, notation: str, at: dt.datetime) -> SignRequest:
    """What the organisation's signature writes: number, place and date, the seal."""
    provider = signing_provider(uow)
    org = organization_of(uow, doc)
    return issue_request(
        number=notation,
        date_text=format_issue_date(doc.issue_place or "Hà Nội", local_date(at)),
        seal_image=provider.seal_image(org.code, org.name),
        organization_name=org.name,
        location=doc.issue_place,
    )


def issue_with_server_seal(
    uow: UnitOfWork,
    actor: Actor,
    doc: Document,
    register_id: uuid.UUID | None,
) -> dict[str, Any]:
    provider = signing_provider(uow)
    pdf = signed_pdf(uow, doc)
    org = organization_of(uow, doc)
    key = provider.organization_signer(org.code)
    seal = provider.seal_image(org.code, org.name)
    options = provider.options()
    now = uow.now()
    # From here to the commit the register row is locked: only the signature happens inside.
    number, notation = reserve_number(uow, actor, doc, register_id)
    with signing_errors():
        issued = issue_document(
            pdf,
            key,
            number=notation,
            date_text=format_issue_date(doc.issue_place or "Hà Nội", local_date(now)),
            seal_image=seal,
            organization_name=org.name,
            options=options,
            location=doc.issue_place,
        )
    record_issued(uow, actor, doc, issued, now)
    return {"register_number": number, "notation": notation, "via": "server_seal"}


def record_issued(
    uow: UnitOfWork,
    actor: Actor,
    doc: Document,
    issued: bytes,
    at: dt.datetime,
) -> None:
    """Store the issued PDF as the document's main file and fill the register's facts."""
    ref = store_bytes(uow, issued, PDF)
    name = f"{(doc.notation or 'van-ban').replace('/', '-')}.pdf"
    uow.session.add(
        file_from_ref(
            ref,
            document_id=doc.id,
            kind="main",
            version=doc.draft_version or 1,
            name=name,
            by=actor.user_id,
        )
    )
    doc.issued_at = at
    doc.issued_date = local_date(at)
    doc.registered_at = at
    doc.search_text = search_text(doc.notation, doc.subject, doc.issuer_name)
    replacements.record_issued(uow, actor, doc)
    queue_text_extraction(uow, doc)


@dataclass(frozen=True)
class IssuePreview:
    """What the clerk's issuing screen shows before issuing: the register, the number the
    document would get if issued now (not reserved: another clerk may take it first, unless a
    signing session already reserved it), the notation and the place-and-date line."""

    registers: list[Register]
    register: Register | None
    number: int | None
    notation: str | None
    date_text: str
    reserved: bool
    error: str | None


def preview_issue(
    uow: UnitOfWork, actor: Actor, document_id: uuid.UUID, register_id: uuid.UUID | None = None
) -> IssuePreview:
    with uow:
        doc = access.ensure_visible(actor, uow.session.get(Document, document_id))
        date_text = format_issue_date(doc.issue_place or "Hà Nội", local_date(uow.now()))
        regs = list(
            uow.session.scalars(
                select(Register).where(
                    Register.organization_id == doc.organization_id,
                    Register.direction == Direction.OUTGOING.value,
                    Register.year == local_date(uow.now()).year,
                    Register.active.is_(True),
                )
            )
        )
        if doc.register_number is not None:
            reg = uow.session.get(Register, doc.register_id) if doc.register_id else None
            return IssuePreview(regs, reg, doc.register_number, doc.notation, date_text, True, None)
        try:
            reg = outgoing_register(uow, actor, register_id, Secrecy(doc.secrecy))
        except ValidationError as exc:
            return IssuePreview(regs, None, None, None, date_text, False, exc.message)
        number = reg.last_number + 1
        return IssuePreview(
            regs, reg, number, notation_for(uow, doc, number), date_text, False, None
        )
