"""Real files with Vietnamese text, made at run time: a PDF with a text layer (fpdf2), a DOCX
(python-docx), and a scan (text rendered by Pillow at 300 dpi, slightly rotated and noisy,
wrapped in a PDF)."""

from __future__ import annotations

import io
import random
from collections.abc import Sequence

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
SERIF = "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf"

BODY = [
    "Thực hiện Chương trình phối hợp giám sát và phản biện xã hội năm 2026,",
    "Ban Thường trực Ủy ban Mặt trận Tổ quốc tỉnh đề nghị các đơn vị",
    "tổ chức hội nghị lấy ý kiến về dự thảo Đề án cổng dịch vụ công",
    "trực tuyến phục vụ người dân 24/7 tại phường.",
]


def text_pdf(lines: Sequence[str] = BODY, pages: int = 1) -> bytes:
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.add_font("DejaVu", fname=FONT)
    for _ in range(pages):
        pdf.add_page()
        pdf.set_font("DejaVu", size=12)
        for line in lines:
            pdf.multi_cell(0, 8, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def docx_file(paragraphs: Sequence[str] = BODY, table: Sequence[Sequence[str]] = ()) -> bytes:
    import docx

    document = docx.Document()
    for p in paragraphs:
        document.add_paragraph(p)
    if table:
        t = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                t.cell(r, c).text = value
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def scan_image(lines: Sequence[str] = BODY, *, dpi: int = 300, angle: float = 1.2) -> object:
    """An A4 page image: the lines in a 12-point serif at ``dpi``, rotated ``angle`` degrees,
    with salt-and-pepper noise (a scanner's specks)."""
    from PIL import Image, ImageDraw, ImageFont

    width, height = int(8.27 * dpi), int(11.69 * dpi)
    page = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(SERIF, size=int(14 * dpi / 72))
    y = int(1.2 * dpi)
    for line in lines:
        draw.text((int(0.9 * dpi), y), line, font=font, fill=0)
        y += int(24 * dpi / 72)
    page = page.rotate(angle, resample=Image.Resampling.BICUBIC, fillcolor=255, expand=False)
    rng = random.Random(14)
    pixels = page.load()
    for _ in range(width * height // 400):
        x, yy = rng.randrange(width), rng.randrange(height)
        pixels[x, yy] = rng.choice((0, 90, 160))
    return page


def scan_pdf(lines: Sequence[str] = BODY, *, dpi: int = 300, angle: float = 1.2) -> bytes:
    """The scan as an image-only PDF (what a scanner produces)."""
    out = io.BytesIO()
    scan_image(lines, dpi=dpi, angle=angle).save(out, "PDF", resolution=dpi)  # type: ignore[attr-defined]
    return out.getvalue()


def scan_jpeg(lines: Sequence[str] = BODY, *, dpi: int = 300, angle: float = -0.8) -> bytes:
    out = io.BytesIO()
    scan_image(lines, dpi=dpi, angle=angle).save(out, "JPEG", quality=85, dpi=(dpi, dpi))  # type: ignore[attr-defined]
    return out.getvalue()
