"""Reading the text of a file: a PDF's text layer (pypdf), a DOCX's paragraphs and tables
(python-docx), plain text; pages without text are left to OCR (:mod:`docflow.search.ports`).

Pure functions of bytes: no database, no store. Every failure is an :class:`ExtractionError`
with a Vietnamese message the document page shows."""

from __future__ import annotations

import io
import logging
import zipfile
from dataclasses import dataclass

from docflow.search.policy import IMAGE_TYPES

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
# A page with fewer characters than this is taken as a scan (OCR it).
MIN_PAGE_CHARS = 20
MAX_PAGES = 2000
MAX_TEXT_CHARS = 2_000_000
MAX_DOCX_UNCOMPRESSED = 200 * 1024 * 1024
VIETNAMESE_LETTERS = frozenset("ăâđêôơưĂÂĐÊÔƠƯ")
TONE_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323")


class ExtractionError(Exception):
    """The file could not be read; ``message`` is what the page shows."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Extracted:
    """Text read without OCR.

    Attributes:
        method: ``text_layer``, ``docx`` or ``plain``.
        pages: the text of each page (one item for a DOCX or a text file).
        scanned_pages: 1-based numbers of the pages without text (OCR would read them).
    """

    method: str
    pages: list[str]
    scanned_pages: list[int]

    @property
    def needs_ocr(self) -> bool:
        return bool(self.scanned_pages)


def language_of(text: str) -> str | None:
    """``vi`` when the text carries Vietnamese letters or tone marks, ``und`` otherwise."""
    if not text.strip():
        return None
    import unicodedata

    sample = unicodedata.normalize("NFD", text[:20000])
    if any(c in VIETNAMESE_LETTERS or c in TONE_MARKS for c in sample):
        return "vi"
    return "und"


def extract(data: bytes, content_type: str) -> Extracted:
    """The text of a PDF, a DOCX or a text file; an image is all scan (one page)."""
    if content_type == "application/pdf":
        return pdf_text(data)
    if content_type == DOCX:
        return Extracted("docx", [docx_text(data)], [])
    if content_type == "text/plain":
        return Extracted("plain", [data.decode("utf-8", errors="replace")[:MAX_TEXT_CHARS]], [])
    if content_type in IMAGE_TYPES:
        return Extracted("image", [""], [1])
    raise ExtractionError("Không đọc được loại tệp này.")


def pdf_text(data: bytes) -> Extracted:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            # An empty user password still opens many "protected" PDFs (printing restrictions).
            try:
                if not reader.decrypt(""):
                    raise ExtractionError("Tệp PDF có mật khẩu: không đọc được nội dung.")
            except NotImplementedError as exc:
                raise ExtractionError("Tệp PDF có mật khẩu: không đọc được nội dung.") from exc
        count = len(reader.pages)
        if count > MAX_PAGES:
            raise ExtractionError(f"Tệp có {count} trang, quá {MAX_PAGES} trang để đọc.")
        pages, scanned, total = [], [], 0
        for number, page in enumerate(reader.pages, start=1):
            try:
                text = page.extract_text() or ""
            except Exception:  # a damaged page: OCR may still read it
                text = ""
            text = text.replace("\x00", "")
            total += len(text)
            if total > MAX_TEXT_CHARS:
                text = text[: max(0, MAX_TEXT_CHARS - (total - len(text)))]
            pages.append(text)
            if len(text.strip()) < MIN_PAGE_CHARS:
                scanned.append(number)
    except ExtractionError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        raise ExtractionError("Tệp PDF bị hỏng: không đọc được nội dung.") from exc
    return Extracted("text_layer", pages, scanned)


def docx_text(data: bytes) -> str:
    """Paragraphs, then table cells, in document order (python-docx)."""
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(i.file_size for i in archive.infolist()) > MAX_DOCX_UNCOMPRESSED:
                raise ExtractionError("Tệp DOCX quá lớn khi giải nén: không đọc nội dung.")
        document = docx.Document(io.BytesIO(data))
        lines: list[str] = []
        for block in document.iter_inner_content():
            if isinstance(block, Paragraph):
                lines.append(block.text)
            elif isinstance(block, Table):
                for row in block.rows:
                    cells: list[str] = []
                    for cell in row.cells:
                        if not cells or cells[-1] != cell.text:  # merged cells repeat
                            cells.append(cell.text)
                    lines.append("\t".join(cells))
    except ExtractionError:
        raise
    except Exception as exc:  # python-docx raises many kinds on a damaged package
        raise ExtractionError("Tệp DOCX bị hỏng: không đọc được nội dung.") from exc
    return "\n".join(lines)[:MAX_TEXT_CHARS]
