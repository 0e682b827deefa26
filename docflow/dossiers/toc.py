"""The table of contents of a closed dossier (mục lục văn bản, Decree 30 appendix form) as
DOCX; the PDF is the same document through the configured converter."""

from __future__ import annotations

import datetime as dt
import io
from typing import TYPE_CHECKING

from docx import Document as DocxDocument
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Mm, Pt

if TYPE_CHECKING:
    from docflow.dossiers.queries import DossierView

COLUMNS = (
    ("STT", 10),
    ("Số, ký hiệu văn bản", 30),
    ("Ngày tháng văn bản", 22),
    ("Tác giả văn bản", 32),
    ("Trích yếu nội dung văn bản", 60),
    ("Tờ số", 14),
    ("Ghi chú", 18),
)


def _d(day: dt.date | None) -> str:
    return day.strftime("%d/%m/%Y") if day else ""


def retention_label(years: int | None) -> str:
    return "Vĩnh viễn" if years is None else f"{years} năm"


def table_of_contents_docx(view: DossierView) -> bytes:
    """Mục lục văn bản: the dossier's heading facts, then one row per entry with the sheet
    range it occupies (tờ số), then the closing note of counts."""
    doc = DocxDocument()
    section = doc.sections[0]
    section.left_margin = section.right_margin = Mm(20)
    style = doc.styles["Normal"]
    style.font.name = "Times New Roman"
    style.font.size = Pt(12)
    p = doc.add_paragraph(view.organization_name.upper())
    p.alignment = WD_ALIGN_PARAGRAPH.LEFT
    title = doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = title.add_run("MỤC LỤC VĂN BẢN")
    run.bold = True
    run.font.size = Pt(14)
    doc.add_paragraph(f"Hồ sơ số: {view.code}   Năm: {view.year}")
    doc.add_paragraph(f"Tiêu đề hồ sơ: {view.title}")
    if view.unit_name:
        doc.add_paragraph(f"Đơn vị lập hồ sơ: {view.unit_name}")
    doc.add_paragraph(f"Người lập hồ sơ: {view.keeper_name}")
    doc.add_paragraph(
        f"Thời gian: {_d(view.start_date)} – {_d(view.end_date)}   "
        f"Thời hạn bảo quản: {retention_label(view.retention_years)}"
    )
    table = doc.add_table(rows=1, cols=len(COLUMNS))
    table.style = "Table Grid"
    for cell, (name, width) in zip(table.rows[0].cells, COLUMNS, strict=True):
        cell.text = name
        cell.width = Mm(width)
        for r in cell.paragraphs[0].runs:
            r.bold = True
    sheet = 1
    for n, item in enumerate(view.items, start=1):
        pages = item.page_count or 0
        sheets = "" if not pages else (f"{sheet}" if pages == 1 else f"{sheet}–{sheet + pages - 1}")
        sheet += pages
        subject = item.subject if item.kind == "document" else f"Nhiệm vụ: {item.subject}"
        values = (
            str(n),
            item.notation or "",
            _d(item.date),
            item.issuer or "",
            subject,
            sheets,
            "",
        )
        row = table.add_row().cells
        for cell, value in zip(row, values, strict=True):
            cell.text = value
    doc.add_paragraph()
    doc.add_paragraph(
        f"Hồ sơ gồm {len(view.items)} văn bản, {sum(i.page_count or 0 for i in view.items)} tờ."
    )
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


TRANSFER_COLUMNS = (
    "STT",
    "Số, ký hiệu hồ sơ",
    "Tiêu đề hồ sơ",
    "Thời gian bắt đầu – kết thúc",
    "Thời hạn bảo quản",
    "Số tờ",
    "Ghi chú",
)


def transfer_list_docx(
    organization: str, unit: str | None, year: int, rows: list[DossierView], today: dt.date
) -> bytes:
    """Mục lục hồ sơ nộp lưu and, after it, the hand-over record (biên bản giao nhận) with a
    signature block for both sides."""
    doc = DocxDocument()
    style = doc.styles["Normal"]
    style.font.name = "Times New Roman"
    style.font.size = Pt(12)
    doc.add_paragraph(organization.upper())
    title = doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = title.add_run(f"MỤC LỤC HỒ SƠ NỘP LƯU NĂM {year}")
    run.bold = True
    run.font.size = Pt(14)
    if unit:
        doc.add_paragraph(f"Đơn vị nộp lưu: {unit}")
    table = doc.add_table(rows=1, cols=len(TRANSFER_COLUMNS))
    table.style = "Table Grid"
    for cell, name in zip(table.rows[0].cells, TRANSFER_COLUMNS, strict=True):
        cell.text = name
    for n, v in enumerate(rows, start=1):
        values = (
            str(n),
            v.code,
            v.title,
            f"{_d(v.start_date)} – {_d(v.end_date)}",
            retention_label(v.retention_years),
            str(v.page_total or ""),
            v.note or "",
        )
        for cell, value in zip(table.add_row().cells, values, strict=True):
            cell.text = value
    doc.add_page_break()  # type: ignore[no-untyped-call]
    head = doc.add_paragraph()
    head.alignment = WD_ALIGN_PARAGRAPH.CENTER
    r = head.add_run("BIÊN BẢN GIAO NHẬN TÀI LIỆU")
    r.bold = True
    r.font.size = Pt(14)
    doc.add_paragraph(
        f"Hôm nay, {_d(today)}, tại {organization}, bên giao là {unit or '…'} và bên nhận là Lưu trữ cơ quan đã giao nhận:"
    )
    doc.add_paragraph(
        f"Tên khối tài liệu: hồ sơ năm {year}; số lượng: {len(rows)} hồ sơ, "
        f"{sum(v.page_total or 0 for v in rows)} tờ; kèm theo mục lục hồ sơ nộp lưu."
    )
    doc.add_paragraph("Biên bản được lập thành hai bản, mỗi bên giữ một bản.")
    sign = doc.add_table(rows=2, cols=2)
    sign.rows[0].cells[0].text = "ĐẠI DIỆN BÊN GIAO"
    sign.rows[0].cells[1].text = "ĐẠI DIỆN BÊN NHẬN"
    sign.rows[1].cells[0].text = "(Ký, ghi rõ họ tên)"
    sign.rows[1].cells[1].text = "(Ký, ghi rõ họ tên)"
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
