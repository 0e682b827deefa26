"""The Decree 30 template of an outgoing document, generated as DOCX (python-docx).

Layout (Decree 30/2020 Appendix I): A4, margins 20/20/30/15 mm, Times New Roman; a header
table with the issuing organisation (left) and the national title and motto (right), "Số:" with
the number left blank, the place and date left blank, the type and subject (a công văn has
"V/v …" under its number instead, and "Kính gửi:"), the body, then the recipients ("Nơi nhận:",
last line "- Lưu: VT, <unit>.") beside the signer block (authority prefix, position, a gap for
the signature, name). Page numbers from page 2.

The number, the date and the signature are not written: they are filled into PDF form fields
at issue time (DOMAIN.md §6). To know where those fields go once LibreOffice has laid the page
out, the template leaves invisible markers (white, 2 pt) at the three places;
:mod:`docflow.outgoing.layout` finds them in the converted PDF.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from docx import Document as new_docx
from docx.enum.section import WD_SECTION_START
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

NUMBER_MARK = "DHTNSO"
DATE_MARK = "DHTNNGAY"
SIGNATURE_MARK = "DHTNKY"
MARKS = (NUMBER_MARK, DATE_MARK, SIGNATURE_MARK)

FONT = "Times New Roman"
TEXT_WIDTH_MM = 210 - 30 - 15


@dataclass(frozen=True)
class TemplateContent:
    """What the template needs; the service fills it from the draft and the directory.

    ``type_name`` is empty for a công văn (it shows "V/v <subject>" instead of a title).
    ``recipients`` are the names listed under "Nơi nhận:" (and "Kính gửi:" for a công văn).
    """

    organization_name: str
    parent_name: str | None
    type_name: str
    subject: str
    body: str
    recipients: tuple[str, ...]
    archive_unit: str
    competence: str
    authority: str
    position: str
    signer_name: str
    urgency_label: str | None = None


def render_docx(content: TemplateContent) -> bytes:
    """The draft as a DOCX file in the Decree 30 format."""
    doc = new_docx()
    section = doc.sections[0]
    section.start_type = WD_SECTION_START.NEW_PAGE
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(20), Mm(20)
    section.left_margin, section.right_margin = Mm(30), Mm(15)
    section.header_distance = Mm(10)
    normal = doc.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(14)
    rpr = normal.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is not None:
        fonts.set(qn("w:eastAsia"), FONT)
        fonts.set(qn("w:cs"), FONT)
    normal.paragraph_format.space_after = Pt(0)
    normal.paragraph_format.space_before = Pt(0)
    _page_numbers_from_page_two(section)

    left_mm, right_mm = 70, TEXT_WIDTH_MM - 70
    head = _table(doc, left_mm, right_mm)
    left, right = head.rows[0].cells
    first = True
    if content.parent_name:
        _line(left, content.parent_name.upper(), size=13, first=first)
        first = False
    _line(left, content.organization_name.upper(), size=13, bold=True, first=first)
    _rule(_line(left, "", size=4), left_mm, fraction=0.4)
    number = _line(left, "Số: ", size=13, align=WD_ALIGN_PARAGRAPH.LEFT, indent_mm=4)
    number.paragraph_format.space_before = Pt(4)
    _marker(number, NUMBER_MARK)
    if not content.type_name:
        _line(left, f"V/v {content.subject}", size=12).paragraph_format.space_before = Pt(4)
    if content.urgency_label:
        urgent = _line(left, content.urgency_label.upper(), size=13, bold=True)
        urgent.paragraph_format.space_before = Pt(6)
    _line(right, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", size=12, bold=True, first=True)
    _line(right, "Độc lập - Tự do - Hạnh phúc", size=13, bold=True)
    _rule(_line(right, "", size=4), right_mm, fraction=0.5)
    date = _line(right, "", size=13, italic=True)
    date.paragraph_format.space_before = Pt(4)
    _marker(date, DATE_MARK)

    if content.type_name:
        title = _para(doc, content.type_name.upper(), size=14, bold=True, before=18)
        title.alignment = WD_ALIGN_PARAGRAPH.CENTER
        subject = _para(doc, content.subject, size=14, bold=True)
        subject.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _rule(_para(doc, "", size=4), TEXT_WIDTH_MM, fraction=0.2)
        _para(doc, "", size=6)
    else:
        greeting = _para(doc, "Kính gửi: " + "; ".join(content.recipients) + ".", before=18)
        greeting.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _para(doc, "", size=6)
    for text in _paragraphs(content.body):
        p = _para(doc, text, after=6)
        p.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
        p.paragraph_format.first_line_indent = Mm(12.7)
        p.paragraph_format.line_spacing = 1.15

    _para(doc, "", size=8)
    sign = _table(doc, 75, TEXT_WIDTH_MM - 75)
    where, signer = sign.rows[0].cells
    received = _line(where, "Nơi nhận:", size=12, bold=True, italic=True, first=True)
    received.alignment = WD_ALIGN_PARAGRAPH.LEFT
    lines = ["- Như trên;"] if not content.type_name else []
    lines += [f"- {name};" for name in content.recipients] if content.type_name else []
    lines.append(f"- Lưu: VT, {content.archive_unit}.")
    for text in lines:
        _line(where, text, size=11, align=WD_ALIGN_PARAGRAPH.LEFT)
    first = True
    if content.competence or content.authority:
        prefix = " ".join(p for p in (content.competence, content.authority.upper()) if p)
        _line(signer, prefix, size=13, bold=True, first=True)
        first = False
    _line(signer, content.position.upper(), size=13, bold=True, first=first)
    gap = _line(signer, "", size=13)
    gap.paragraph_format.space_before = Pt(30)
    gap.paragraph_format.space_after = Pt(30)
    _marker(gap, SIGNATURE_MARK)
    _line(signer, content.signer_name, size=14, bold=True)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _paragraphs(body: str) -> list[str]:
    return [" ".join(line.split()) for line in body.replace("\r", "").split("\n") if line.strip()]


def _para(
    doc: object,
    text: str,
    *,
    size: float = 14,
    bold: bool = False,
    before: float = 0,
    after: float = 0,
) -> Paragraph:
    p: Paragraph = doc.add_paragraph()  # type: ignore[attr-defined]
    if text:
        run = p.add_run(text)
        run.font.size = Pt(size)
        run.bold = bold
    else:
        p.paragraph_format.line_spacing = Pt(size + 2)
    p.paragraph_format.space_before = Pt(before)
    p.paragraph_format.space_after = Pt(after)
    return p


def _line(
    cell: _Cell,
    text: str,
    *,
    size: float,
    bold: bool = False,
    italic: bool = False,
    align: Any = WD_ALIGN_PARAGRAPH.CENTER,
    first: bool = False,
    indent_mm: float = 0,
) -> Paragraph:
    p: Paragraph = cell.paragraphs[0] if first else cell.add_paragraph()
    p.alignment = align
    if indent_mm:
        p.paragraph_format.left_indent = Mm(indent_mm)
    if text:
        run = p.add_run(text)
        run.font.size = Pt(size)
        run.bold = bold
        run.italic = italic
    else:
        p.paragraph_format.line_spacing = Pt(size + 2)
    return p


def _marker(p: Paragraph, mark: str) -> None:
    """An invisible marker: white, 2 pt; found in the PDF, never seen on paper."""
    run = p.add_run(mark)
    run.font.size = Pt(2)
    run.font.color.rgb = RGBColor(0xFF, 0xFF, 0xFF)


def _rule(p: Paragraph, width_mm: float, *, fraction: float) -> None:
    """The short horizontal line under the organisation name and the motto: a bottom border
    on an empty paragraph, shortened by indents."""
    inset = Mm(width_mm * (1 - fraction) / 2)
    p.paragraph_format.left_indent = inset
    p.paragraph_format.right_indent = inset
    ppr = p._p.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "000000")):
        bottom.set(qn(key), value)
    borders.append(bottom)
    ppr.append(borders)


def _table(doc: object, *widths_mm: float) -> Table:
    """A borderless one-row table with fixed column widths, never split across pages."""
    table: Table = doc.add_table(rows=1, cols=len(widths_mm))  # type: ignore[attr-defined]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    for column, cell, mm in zip(table.columns, table.rows[0].cells, widths_mm, strict=True):
        column.width = Mm(mm)  # LibreOffice reads the grid; Word reads the cells
        cell.width = Mm(mm)
    tr_pr = table.rows[0]._tr.get_or_add_trPr()
    tr_pr.append(OxmlElement("w:cantSplit"))
    return table


def _page_numbers_from_page_two(section: object) -> None:
    section.different_first_page_header_footer = True  # type: ignore[attr-defined]
    p = section.header.paragraphs[0]  # type: ignore[attr-defined]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = p.add_run()
    begin = OxmlElement("w:fldChar")
    begin.set(qn("w:fldCharType"), "begin")
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = "PAGE"
    end = OxmlElement("w:fldChar")
    end.set(qn("w:fldCharType"), "end")
    run._r.append(begin)
    run._r.append(instr)
    run._r.append(end)
    run.font.size = Pt(13)
