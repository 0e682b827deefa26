"""Small real files for tests, made at run time (nothing binary is committed)."""

from __future__ import annotations

import io
import zipfile

from pypdf import PdfWriter


def make_pdf(pages: int = 1, *, padding: int = 0, title: str = "Văn bản thử") -> bytes:
    """A valid PDF of ``pages`` A4 pages; ``padding`` bytes of metadata make it bigger."""
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Title": title, **({"/Padding": "x" * padding} if padding else {})})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def make_docx_bomb() -> bytes:
    """A .docx-looking zip whose one part inflates a thousandfold (refused by ratio)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "A" * (20 * 1024 * 1024))
    return out.getvalue()


def make_png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()
