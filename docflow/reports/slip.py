"""Phiếu giải quyết văn bản đến: the leader's direction, the unit head's opinion and the
handler's proposal, each with its author and time, taken from the processing trail."""

from __future__ import annotations

import io
import uuid

from docx import Document as DocxDocument
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Mm, Pt

from docflow import audit
from docflow.actors import Actor
from docflow.documents import access
from docflow.enums import Role
from docflow.models import Document, Organization, TrailEntry
from docflow.uow import UnitOfWork
from docflow.workdays import local_time


def _when(e: TrailEntry) -> str:
    t = local_time(e.at)
    return f"{t:%H:%M} ngày {t.day:02d}/{t.month:02d}/{t.year}"


def processing_slip(uow: UnitOfWork, actor: Actor, document_id: uuid.UUID) -> bytes:
    """The slip as DOCX (A4, Times New Roman)."""
    with uow:
        s = uow.session
        doc = access.ensure_visible(actor, s.get(Document, document_id))
        audit.record_read(uow, actor, "document.slip_printed", doc)
        org = s.get_one(Organization, doc.organization_id)
        trail = list(
            s.query(TrailEntry).filter(TrailEntry.document_id == doc.id).order_by(TrailEntry.seq)
        )
        from docflow.models import User

        def role_of(e: TrailEntry) -> set[Role]:
            user = s.get(User, e.actor_id) if e.actor_id else None
            return set(user.roles) if user else set()

        leader = [
            e
            for e in trail
            if e.action == "assign" and (Role.LEADER in role_of(e) or e.on_behalf_of_id)
        ]
        unit = [e for e in trail if e.action == "assign" and e not in leader]
        handler = [
            e for e in trail if e.action in ("complete", "comment") and e not in leader + unit
        ]

    d = DocxDocument()
    section = d.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin, section.right_margin = Mm(30), Mm(20)
    style = d.styles["Normal"]
    style.font.name = "Times New Roman"
    style.font.size = Pt(13)
    d.add_paragraph(org.name.upper()).runs[0].bold = True
    title = d.add_paragraph("PHIẾU GIẢI QUYẾT VĂN BẢN ĐẾN")
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title.runs[0].bold = True
    info = [
        ("Số đến", f"{doc.register_number:02d}" if doc.register_number else ""),
        ("Ngày đến", f"{local_time(doc.received_at):%d/%m/%Y}" if doc.received_at else ""),
        ("Số, ký hiệu", doc.notation or ""),
        ("Nơi gửi", doc.issuer_name or ""),
        ("Trích yếu", doc.subject),
        ("Hạn giải quyết", f"{doc.due_date:%d/%m/%Y}" if doc.due_date else ""),
    ]
    for label, value in info:
        p = d.add_paragraph()
        p.add_run(f"{label}: ").bold = True
        p.add_run(value)
    for heading, entries in [
        ("1. Ý kiến chỉ đạo của lãnh đạo", leader),
        ("2. Ý kiến của lãnh đạo đơn vị", unit),
        ("3. Ý kiến đề xuất của người giải quyết", handler),
    ]:
        d.add_paragraph(heading).runs[0].bold = True
        if not entries:
            d.add_paragraph("……………………………………………………………………")
        for e in entries:
            who = e.actor_name + (
                f" ({e.competence} {e.on_behalf_of_name})" if e.on_behalf_of_name else ""
            )
            text = e.comment or ", ".join(
                f"{a.get('role')}: {a.get('user') or a.get('unit')}"
                for a in e.details.get("assignments", [])
            )
            p = d.add_paragraph(text or "")
            p.add_run(f" — {who}, {_when(e)}").italic = True
    out = io.BytesIO()
    d.save(out)
    return out.getvalue()
