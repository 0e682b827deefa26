# mypy: allow-untyped-calls
# (pyHanko and pyhanko-certvalidator leave parts of their API unannotated; we call it here.)
"""Reading PDF input defensively: anything that is not a readable PDF becomes one clean error."""

from __future__ import annotations

from io import BytesIO

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader

from .errors import InvalidDocumentError

__all__ = ["open_incremental", "open_reader", "page_size"]

# Input is hostile: cap its size before parsing (a signed official document is far smaller).
MAX_PDF_BYTES = 200 * 1024 * 1024


def _check(pdf: bytes) -> None:
    if not isinstance(pdf, bytes | bytearray | memoryview):
        raise InvalidDocumentError("Dữ liệu vào không phải là tệp.")
    if len(pdf) > MAX_PDF_BYTES:
        raise InvalidDocumentError("Tệp PDF quá lớn.", details={"max_bytes": MAX_PDF_BYTES})
    if b"%PDF-" not in bytes(pdf[:1024]):
        raise InvalidDocumentError()


def open_reader(pdf: bytes) -> PdfFileReader:
    """A strict-off pyHanko reader (real-world PDFs are often slightly malformed)."""
    _check(pdf)
    try:
        reader = PdfFileReader(BytesIO(pdf), strict=False)
        reader.root  # noqa: B018  (forces the trailer and catalogue to parse now)
    except (PdfError, ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
        raise InvalidDocumentError(details={"reason": str(exc)[:200]}) from exc
    if reader.encrypted:
        raise InvalidDocumentError("Tệp PDF được mã hóa; hãy gửi bản không mã hóa.")
    return reader


def open_incremental(pdf: bytes) -> IncrementalPdfFileWriter:
    """A writer that appends a new revision and never rewrites earlier ones."""
    _check(pdf)
    try:
        writer = IncrementalPdfFileWriter(BytesIO(pdf), strict=False)
        writer.root  # noqa: B018
    except (PdfError, ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
        raise InvalidDocumentError(details={"reason": str(exc)[:200]}) from exc
    if writer.prev.encrypted:
        raise InvalidDocumentError("Tệp PDF được mã hóa; hãy gửi bản không mã hóa.")
    return writer


def page_size(reader: PdfFileReader, index: int) -> tuple[float, float]:
    """Width and height (points) of a page's media box."""
    page = reader.root["/Pages"]
    page_obj = reader.find_page_for_modification(index)[0].get_object()
    box = page_obj.get("/MediaBox") or page.get("/MediaBox")
    x0, y0, x1, y1 = (float(v) for v in box)
    return abs(x1 - x0), abs(y1 - y0)
