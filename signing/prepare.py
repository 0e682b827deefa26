# mypy: allow-untyped-calls
# (pyHanko and pyhanko-certvalidator leave parts of their API unannotated; we call it here.)
"""Preparing a PDF before its first signature: the form fields every later step fills.

DOMAIN.md §6: the number and the date are filled into form fields prepared before the first
signature, never by rewriting page content after it. So a document to be issued gets, in one
revision before the leader signs: a text field for the number/notation, one for the place and
date, an empty signature field for the leader and one for the organisation over the left third of
the leader's, exactly where the seal goes. Later steps only fill and sign these.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from io import BytesIO

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.content import RawContent
from pyhanko.pdf_utils.generic import pdf_name, pdf_string
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.layout import BoxConstraints
from pyhanko.sign.fields import SigFieldSpec, VisibleSigSettings, append_signature_field

from .appearance import mm
from .errors import InvalidDocumentError, SignatureFieldError
from .pdfio import open_incremental, page_size

__all__ = [
    "FIELD_ATTACHMENT",
    "FIELD_COPY",
    "FIELD_DATE",
    "FIELD_LEADER",
    "FIELD_NUMBER",
    "FIELD_ORGANIZATION",
    "DocumentLayout",
    "FieldBox",
    "format_issue_date",
    "prepare_document",
    "seal_box_for",
    "top_right_box",
]

FIELD_NUMBER = "dhtn_number"
FIELD_DATE = "dhtn_date"
FIELD_LEADER = "dhtn_leader_signature"
FIELD_ORGANIZATION = "dhtn_organization_signature"
FIELD_ATTACHMENT = "dhtn_attachment_signature"
FIELD_COPY = "dhtn_copy_signature"


@dataclass(frozen=True)
class FieldBox:
    """A rectangle on a page: ``page`` is 0-based (negative counts from the end, -1 = last),
    (``x``, ``y``) the lower-left corner in PDF points, from the page's lower-left corner."""

    page: int
    x: float
    y: float
    width: float
    height: float

    def rect(self) -> tuple[float, float, float, float]:
        return (self.x, self.y, self.x + self.width, self.y + self.height)


@dataclass(frozen=True)
class DocumentLayout:
    """Where the fields of a document to issue go. ``organization`` defaults to a seal-sized
    box over the left third of ``leader`` (:func:`seal_box_for`)."""

    leader: FieldBox
    number: FieldBox | None = None
    date: FieldBox | None = None
    organization: FieldBox | None = None

    def organization_box(self) -> FieldBox:
        return self.organization or seal_box_for(self.leader)


def seal_box_for(
    leader: FieldBox, *, seal_diameter: float = mm(36), caption_height: float = 17
) -> FieldBox:
    """A box for the organisation's seal (real size, 36 mm by default) whose right edge lies a
    third of the way into the leader's signature box, centred on it vertically, with room for the
    two caption lines under the seal."""
    right = leader.x + leader.width / 3
    centre_y = leader.y + leader.height / 2
    top = centre_y + seal_diameter / 2
    return FieldBox(
        leader.page,
        right - seal_diameter,
        top - seal_diameter - caption_height,
        seal_diameter,
        seal_diameter + caption_height,
    )


def top_right_box(
    page_width: float,
    page_height: float,
    width: float,
    height: float,
    *,
    margin_right: float = mm(15),
    margin_top: float = mm(8),
    page: int = 0,
) -> FieldBox:
    """A box in the top-right corner of a page (attachment and copy stamps)."""
    return FieldBox(
        page, page_width - margin_right - width, page_height - margin_top - height, width, height
    )


def format_issue_date(place: str, day: date) -> str:
    """Decree 30's place-and-date line, e.g. ``Hà Nội, ngày 05 tháng 3 năm 2026`` (leading zero
    for days below 10 and for months 1 and 2)."""
    month = f"{day.month:02d}" if day.month <= 2 else str(day.month)
    return f"{place}, ngày {day.day:02d} tháng {month} năm {day.year}"


def prepare_document(pdf: bytes, layout: DocumentLayout) -> bytes:
    """Add the number/date text fields and the leader/organisation signature fields in one
    incremental revision. Idempotent: a document that already has all of them is returned
    unchanged. Refuses a document that is already signed (the fields must precede the first
    signature)."""
    writer = open_incremental(pdf)
    existing = _field_names(writer)
    wanted = {FIELD_LEADER, FIELD_ORGANIZATION}
    if layout.number is not None:
        wanted.add(FIELD_NUMBER)
    if layout.date is not None:
        wanted.add(FIELD_DATE)
    if wanted <= existing:
        return pdf
    if _has_signatures(writer):
        raise SignatureFieldError("Văn bản đã được ký; không thể thêm ô số, ngày và ô chữ ký.")
    if layout.number is not None and FIELD_NUMBER not in existing:
        add_text_field(writer, FIELD_NUMBER, layout.number, "Số, ký hiệu văn bản")
    if layout.date is not None and FIELD_DATE not in existing:
        add_text_field(writer, FIELD_DATE, layout.date, "Địa danh, ngày tháng năm ban hành")
    if FIELD_LEADER not in existing:
        add_signature_field(writer, FIELD_LEADER, layout.leader, "Chữ ký của người có thẩm quyền")
    if FIELD_ORGANIZATION not in existing:
        add_signature_field(
            writer, FIELD_ORGANIZATION, layout.organization_box(), "Chữ ký số của cơ quan, tổ chức"
        )
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def add_signature_field(
    writer: IncrementalPdfFileWriter, name: str, box: FieldBox, tooltip: str
) -> None:
    """An empty, visible, printable signature field."""
    x0, y0, x1, y1 = box.rect()
    try:
        append_signature_field(
            writer,
            SigFieldSpec(
                name,
                on_page=box.page,
                box=(x0, y0, x1, y1),  # type: ignore[arg-type]
                readable_field_name=tooltip,
                visible_sig_settings=VisibleSigSettings(print_signature=True),
            ),
        )
    except (IndexError, KeyError) as exc:
        raise SignatureFieldError(
            f"Trang {box.page} không có trong văn bản.", details={"field": name}
        ) from exc


def add_text_field(
    writer: IncrementalPdfFileWriter, name: str, box: FieldBox, tooltip: str
) -> None:
    """A single-line text field with an empty appearance (it is filled at issue time)."""
    try:
        page_ref = writer.find_page_for_modification(box.page)[0]
    except (IndexError, KeyError) as exc:
        raise SignatureFieldError(f"Trang {box.page} không có trong văn bản.") from exc
    form = _ensure_acroform(writer)
    empty = RawContent(b"", box=BoxConstraints(width=box.width, height=box.height))
    field = generic.DictionaryObject(
        {
            pdf_name("/FT"): pdf_name("/Tx"),
            pdf_name("/T"): pdf_string(name),
            pdf_name("/TU"): pdf_string(tooltip),
            pdf_name("/Type"): pdf_name("/Annot"),
            pdf_name("/Subtype"): pdf_name("/Widget"),
            pdf_name("/Rect"): generic.ArrayObject(generic.FloatObject(v) for v in box.rect()),
            pdf_name("/F"): generic.NumberObject(4),  # print
            pdf_name("/P"): page_ref,
            pdf_name("/DA"): pdf_string("/Helv 0 Tf 0 g"),
            pdf_name("/AP"): generic.DictionaryObject(
                {pdf_name("/N"): writer.add_object(empty.as_form_xobject())}
            ),
        }
    )
    field_ref = writer.add_object(field)
    fields = form["/Fields"]
    fields.append(field_ref)
    writer.update_container(fields)
    writer.register_annotation(page_ref, field_ref)


def _ensure_acroform(writer: IncrementalPdfFileWriter) -> generic.DictionaryObject:
    root = writer.root
    if "/AcroForm" not in root:
        root["/AcroForm"] = writer.add_object(
            generic.DictionaryObject({pdf_name("/Fields"): generic.ArrayObject()})
        )
        writer.update_root()
    form = root["/AcroForm"]
    if "/Fields" not in form:
        form["/Fields"] = generic.ArrayObject()
        writer.update_container(form)
    if "/DR" not in form:
        # /DA above names /Helv; give it a resource so the field is valid for viewers.
        helv = generic.DictionaryObject(
            {
                pdf_name("/Type"): pdf_name("/Font"),
                pdf_name("/Subtype"): pdf_name("/Type1"),
                pdf_name("/BaseFont"): pdf_name("/Helvetica"),
                pdf_name("/Encoding"): pdf_name("/WinAnsiEncoding"),
            }
        )
        form["/DR"] = generic.DictionaryObject(
            {pdf_name("/Font"): generic.DictionaryObject({pdf_name("/Helv"): helv})}
        )
        writer.update_container(form)
    return form  # type: ignore[no-any-return]


def _field_names(writer: IncrementalPdfFileWriter) -> set[str]:
    try:
        fields = writer.root["/AcroForm"]["/Fields"]
    except KeyError:
        return set()
    names = set()
    for ref in fields:
        field = ref.get_object()
        if "/T" in field:
            names.add(str(field["/T"]))
    return names


def _has_signatures(writer: IncrementalPdfFileWriter) -> bool:
    return bool(writer.prev.embedded_signatures)


def attachment_box(pdf: bytes, *, width: float = mm(75), height: float = mm(12)) -> FieldBox:
    """Top right of page 1, sized for two 10 pt lines (the attachment stamp)."""
    w, h = page_size(open_incremental(pdf).prev, 0)
    return top_right_box(w, h, width, height)


def copy_box(pdf: bytes, *, width: float = mm(100), height: float = mm(37)) -> FieldBox:
    """Top right of page 1, sized for the seal and three lines (SAO Y)."""
    try:
        w, h = page_size(open_incremental(pdf).prev, 0)
    except (IndexError, KeyError) as exc:
        raise InvalidDocumentError() from exc
    return top_right_box(w, h, width, height)
