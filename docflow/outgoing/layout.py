"""Where the number, the date and the signatures go on a draft's PDF.

Drafts made from our template carry invisible markers (:mod:`docflow.outgoing.template`);
their baselines, found with pypdf, place the fields exactly where the blanks are. A PDF or
DOCX without markers gets the documented default:

* number: top margin of page 1, from the left margin (30 mm), 70 mm wide;
* date: top margin of page 1, right-aligned to the right margin, 90 mm wide;
* leader's signature: bottom right of the last page, 60 × 26 mm above a 22 mm margin;
* organisation's seal: over the left third of the leader's signature (signing.seal_box_for).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import pypdf

from docflow.outgoing.template import DATE_MARK, NUMBER_MARK, SIGNATURE_MARK
from signing import DocumentLayout, FieldBox, mm

FIELD_HEIGHT = 17.0  # one 13 pt line; signing draws the text 4 pt above the box's bottom
BASELINE_OFFSET = 4.0
LEADER_WIDTH, LEADER_HEIGHT = mm(60), mm(26)


class UnreadablePdfError(Exception):
    """pypdf could not read the pages."""


class SignedPdfError(Exception):
    """The PDF already carries a signature: fields can no longer be added before it."""


@dataclass(frozen=True)
class PlacedLayout:
    layout: DocumentLayout
    source: str  # "placeholders" (all three markers found) or "default" (some or none)
    pages: int

    def to_json(self) -> dict[str, Any]:
        def box(b: FieldBox | None) -> list[float] | None:
            return None if b is None else [b.page, b.x, b.y, b.width, b.height]

        return {
            "source": self.source,
            "pages": self.pages,
            "number": box(self.layout.number),
            "date": box(self.layout.date),
            "leader": box(self.layout.leader),
            "organization": box(self.layout.organization_box()),
        }


def layout_from_json(data: dict[str, Any]) -> DocumentLayout:
    def box(value: list[float] | None) -> FieldBox | None:
        if value is None:
            return None
        page, x, y, w, h = value
        return FieldBox(int(page), x, y, w, h)

    leader = box(data["leader"])
    assert leader is not None
    return DocumentLayout(leader=leader, number=box(data.get("number")), date=box(data.get("date")))


def find_layout(pdf: bytes) -> PlacedLayout:
    """The fields' boxes for this PDF: from the template's markers, else the defaults.
    Raises :class:`SignedPdfError` for a PDF that is already signed."""
    try:
        reader = pypdf.PdfReader(io.BytesIO(pdf))
        fields = reader.get_fields() or {}
        if any(f.get("/FT") == "/Sig" and f.get("/V") is not None for f in fields.values()):
            raise SignedPdfError()
        sizes = [(float(p.mediabox.width), float(p.mediabox.height)) for p in reader.pages]
        marks: dict[str, tuple[int, float, float, float]] = {}
        for index, page in enumerate(reader.pages):
            page.extract_text(visitor_text=_collector(index, marks))
    except SignedPdfError:
        raise
    except Exception as exc:  # pypdf raises many kinds on damaged files
        raise UnreadablePdfError(str(exc)) from exc
    if not sizes:
        raise UnreadablePdfError("no pages")
    width, height = sizes[0]
    last_w, _ = sizes[-1]
    date = _date_box(marks.get(DATE_MARK)) or FieldBox(
        0, width - mm(15) - mm(90), height - mm(17), mm(90), FIELD_HEIGHT
    )
    number = _number_box(marks.get(NUMBER_MARK), date) or FieldBox(
        0, mm(30), height - mm(17), mm(70), FIELD_HEIGHT
    )
    leader = _leader_box(marks.get(SIGNATURE_MARK)) or FieldBox(
        len(sizes) - 1, last_w - mm(15) - mm(65), mm(22), LEADER_WIDTH, LEADER_HEIGHT
    )
    source = "placeholders" if len(marks) == 3 else "default"
    return PlacedLayout(DocumentLayout(leader, number, date), source, len(sizes))


def _collector(index: int, marks: dict[str, tuple[int, float, float, float]]) -> Any:
    def visit(text: str, cm: list[float], tm: list[float], _font: Any, size: float) -> None:
        word = text.strip()
        if word in (NUMBER_MARK, DATE_MARK, SIGNATURE_MARK) and word not in marks:
            m = pypdf.mult(tm, cm)
            scale = (m[0] ** 2 + m[1] ** 2) ** 0.5 or 1.0
            # Serif capitals are about 0.65 em wide.
            marks[word] = (index, float(m[4]), float(m[5]), len(word) * size * scale * 0.65)

    return visit


def _date_box(mark: tuple[int, float, float, float] | None) -> FieldBox | None:
    if mark is None:
        return None
    page, x, baseline, width = mark
    centre = x + width / 2
    return FieldBox(page, centre - mm(45), baseline - BASELINE_OFFSET, mm(90), FIELD_HEIGHT)


def _number_box(mark: tuple[int, float, float, float] | None, date: FieldBox) -> FieldBox | None:
    if mark is None:
        return None
    page, x, baseline, _ = mark
    width = mm(58)
    if date.page == page and date.x > x:
        width = min(width, date.x - x - 2)
    return FieldBox(page, x, baseline - BASELINE_OFFSET, width, FIELD_HEIGHT)


def _leader_box(mark: tuple[int, float, float, float] | None) -> FieldBox | None:
    if mark is None:
        return None
    page, x, baseline, width = mark
    centre_x, centre_y = x + width / 2, baseline + 1
    return FieldBox(
        page, centre_x - LEADER_WIDTH / 2, centre_y - LEADER_HEIGHT / 2, LEADER_WIDTH, LEADER_HEIGHT
    )
