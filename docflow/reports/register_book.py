"""A register for a year, with all its columns (DOMAIN.md §4-5), as the clerk prints and binds it.

The rows come from the database in number order, in batches, so a large year does not load
everything at once; DOCX and XLSX are built from the same rows.

Clearance: a register is read whole by the clerk and the leaders, but an entry above the
reader's clearance keeps only its number and its date (ngày đến / ngày chuyển), with
:data:`~docflow.documents.access.SECRET_MASK` in place of its type and subject and every other
cell empty: the numbering stays visibly continuous (what an archivist checks: every number
accounted for, none skipped), and nothing of the document (notation, issuer, subject, signer,
recipients, note) leaves. A register of a secret series is refused (403) to a reader with no
clearance at all.
"""

from __future__ import annotations

import datetime as dt
import io
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from docx import Document as DocxDocument
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Mm, Pt
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from docflow import audit, spreadsheets
from docflow.actors import Actor, require_role
from docflow.documents import access
from docflow.enums import Direction, Role, Secrecy
from docflow.errors import NotFoundError, PermissionDeniedError
from docflow.models import Document, Organization, Register, TrailEntry, Unit
from docflow.outgoing.states import OutgoingAction, ReplacesKind
from docflow.uow import UnitOfWork
from docflow.workdays import local_date

INCOMING_COLUMNS = [
    "Ngày đến",
    "Số đến",
    "Tác giả (nơi gửi)",
    "Số, ký hiệu",
    "Ngày tháng văn bản",
    "Tên loại và trích yếu nội dung",
    "Đơn vị hoặc người nhận",
    "Ký nhận",
    "Ghi chú",
]
OUTGOING_COLUMNS = [
    "Số, ký hiệu văn bản",
    "Ngày tháng văn bản",
    "Tên loại và trích yếu nội dung",
    "Người ký",
    "Nơi nhận văn bản",
    "Đơn vị, người nhận bản lưu",
    "Số lượng bản",
    "Ngày chuyển",
    "Ký nhận",
    "Ghi chú",
]


@dataclass(frozen=True)
class RegisterBook:
    """A register's header facts and its column names; rows are streamed by :func:`rows`."""

    register_id: uuid.UUID
    name: str
    year: int
    direction: Direction
    organization: str
    columns: list[str]
    reader: Actor  # entries above the reader's clearance are masked


def _d(value: dt.date | dt.datetime | None) -> str:
    if value is None:
        return ""
    day = local_date(value) if isinstance(value, dt.datetime) else value
    return f"{day.day:02d}/{day.month:02d}/{day.year}"


def open_book(uow: UnitOfWork, actor: Actor, register_id: uuid.UUID) -> RegisterBook:
    require_role(actor, Role.CLERK, Role.LEADER)
    with uow:
        reg = uow.session.get(Register, register_id)
        if reg is None or reg.organization_id != actor.organization_id:
            raise NotFoundError("Không tìm thấy sổ văn bản.", code="register_not_found")
        if reg.secret_series and actor.clearance is Secrecy.NONE:
            raise PermissionDeniedError(
                "Bạn chưa được phép xem sổ văn bản mật.", code="clearance_required"
            )
        org = uow.session.get_one(Organization, reg.organization_id)
        direction = Direction(reg.direction)
        audit.record_read(uow, actor, "register.exported", reg, year=reg.year)
        columns = INCOMING_COLUMNS if direction is Direction.INCOMING else OUTGOING_COLUMNS
        return RegisterBook(reg.id, reg.name, reg.year, direction, org.name, columns, actor)


def rows(uow: UnitOfWork, book: RegisterBook, *, batch: int = 500) -> Iterator[list[str]]:
    """The register's entries in number order, each as the printed cells."""
    last = 0
    # An outgoing entry's «Ngày chuyển» is when it was dispatched (its trail's step), not
    # issued; «Đơn vị, người nhận bản lưu» its drafting unit (the "Lưu: VT, <unit>" line).
    dispatched = (
        select(func.min(TrailEntry.at))
        .where(
            TrailEntry.document_id == Document.id,
            TrailEntry.action == OutgoingAction.DISPATCH.value,
        )
        .scalar_subquery()
    )
    # «Ghi chú» of a replacing document or a correction names the one it acts upon (Decree 30
    # Art. 10(3)), if the reader is cleared for that one.
    earlier = aliased(Document)
    while True:
        with uow:
            found = uow.session.execute(
                select(Document, dispatched, Unit.name, earlier.notation, earlier.secrecy_rank)
                .outerjoin(Unit, Unit.id == Document.drafting_unit_id)
                .outerjoin(earlier, earlier.id == Document.replaces_id)
                .where(Document.register_id == book.register_id, Document.register_number > last)
                .order_by(Document.register_number)
                .limit(batch)
            ).all()
            for doc, sent_at, unit_name, acts_on, acts_on_rank in found:
                shown = acts_on if (acts_on_rank or 0) <= book.reader.clearance.rank else None
                yield _row(book, doc, sent_at, unit_name, shown)
        if len(found) < batch:
            return
        last = found[-1][0].register_number or last


def _row(
    book: RegisterBook,
    doc: Document,
    dispatched_at: dt.datetime | None = None,
    keeper: str | None = None,
    acts_on: str | None = None,
) -> list[str]:
    if not access.cleared_for(book.reader, doc):
        return _masked_row(book, doc, dispatched_at)
    note = doc.note or ""
    if acts_on and doc.replaces_kind and book.direction is Direction.OUTGOING:
        kind = ReplacesKind(doc.replaces_kind).label
        note = "; ".join(n for n in (f"{kind} văn bản số {acts_on}", note) if n)
    subject = f"{doc.doc_type}: {doc.subject}" if doc.doc_type not in ("CV", "THC") else doc.subject
    if book.direction is Direction.INCOMING:
        leads = [
            a.user.full_name if a.user else (a.unit.name if a.unit else "")
            for a in doc.assignments
            if a.role == "lead" and a.state != "cancelled" and a.parent_id is None
        ]
        return [
            _d(doc.received_at),
            f"{doc.register_number:02d}" if doc.register_number else "",
            doc.issuer_name or "",
            doc.notation or "",
            _d(doc.issued_date),
            subject,
            ", ".join(leads) or (doc.recipients_text or ""),
            "",
            doc.note or "",
        ]
    return [
        doc.notation or "",
        _d(doc.issued_date),
        subject,
        doc.signer_name or "",
        doc.recipients_text or "",
        f"Văn thư, {keeper}" if keeper else "Văn thư",
        "",
        _d(dispatched_at),
        "",
        note,
    ]


def _masked_row(
    book: RegisterBook, doc: Document, dispatched_at: dt.datetime | None = None
) -> list[str]:
    """An entry above the reader's clearance: its number and date, nothing of the document."""
    mask = access.SECRET_MASK
    if book.direction is Direction.INCOMING:
        number = f"{doc.register_number:02d}" if doc.register_number else ""
        return [_d(doc.received_at), number, "", "", "", mask, "", "", ""]
    number = f"{doc.register_number:02d}" if doc.register_number else ""
    return [number, "", mask, "", "", "", "", _d(dispatched_at), "", ""]


def to_xlsx(uow: UnitOfWork, book: RegisterBook) -> bytes:
    with spreadsheets.streamed_workbook() as wb:
        ws = wb.create_sheet(title=f"Sổ {book.year}")
        ws.append(spreadsheets.row(ws, [book.organization]))
        ws.append(spreadsheets.row(ws, [book.name.upper()]))
        ws.append([])
        ws.append(spreadsheets.row(ws, book.columns))
        for entry in rows(uow, book):
            ws.append(
                spreadsheets.row(ws, entry)
            )  # subjects, issuers, notes: text, never a formula
        out = io.BytesIO()
        wb.save(out)
    return out.getvalue()


def to_docx(uow: UnitOfWork, book: RegisterBook) -> bytes:
    doc = DocxDocument()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Mm(297), Mm(210)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Mm(15))
    style = doc.styles["Normal"]
    style.font.name = "Times New Roman"
    style.font.size = Pt(11)
    doc.add_paragraph(book.organization.upper()).runs[0].bold = True
    title = doc.add_paragraph(book.name.upper())
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title.runs[0].bold = True
    title.runs[0].font.size = Pt(14)
    table = doc.add_table(rows=1, cols=len(book.columns))
    table.style = "Table Grid"
    for cell, name in zip(table.rows[0].cells, book.columns, strict=True):
        cell.text = name
        cell.paragraphs[0].runs[0].bold = True
    for row in rows(uow, book):
        cells = table.add_row().cells
        for cell, value in zip(cells, row, strict=True):
            cell.text = value
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
