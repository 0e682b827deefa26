"""The printable QR poster of a mailbox (A4 PDF): the Front's name, the organisation, what to
do, the QR code (segno) of the public page and its address written out for those who type it.

The address base is the deployment's public URL (``DHTN_PUBLIC_URL``), given by the caller.
"""

from __future__ import annotations

import io
import unicodedata

import segno
from fpdf import FPDF

from signing import FontConfig


def place_slug(place: str) -> str:
    """``Tổ dân phố số 3`` → ``to-dan-pho-so-3``: the place's part of a short address."""
    text = place.replace("đ", "d").replace("Đ", "D")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return "-".join("".join(c if c.isalnum() else " " for c in text).split())[:60]


def poster_url(base: str, code: str, place: str | None = None) -> str:
    """The public page's address: ``<base>/gop-y/<code>`` (``/<village>`` for a village)."""
    url = f"{base.rstrip('/')}/gop-y/{code}"
    return f"{url}/{place_slug(place)}" if place else url


def poster_pdf(organization_name: str, url: str, place: str | None = None) -> bytes:
    """An A4 poster whose QR code encodes ``url``."""
    fonts = FontConfig()
    pdf = FPDF(format="A4", unit="mm")
    pdf.set_title(f"Hòm thư số - {organization_name}")
    pdf.set_author("Mặt trận Tổ quốc Việt Nam")
    pdf.set_auto_page_break(False)
    pdf.add_page()
    pdf.add_font("Body", "", str(fonts.regular_path()))
    pdf.add_font("Body", "B", str(fonts.bold_path()))
    red = (200, 16, 46)
    pdf.set_draw_color(*red)
    pdf.set_line_width(1.5)
    pdf.rect(10, 10, 190, 277)
    pdf.set_text_color(*red)
    pdf.set_font("Body", "B", 15)
    pdf.set_xy(15, 20)
    pdf.cell(180, 8, "MẶT TRẬN TỔ QUỐC VIỆT NAM", align="C")
    pdf.set_text_color(0, 0, 0)
    pdf.set_font("Body", "B", 13)
    pdf.set_xy(15, 30)
    pdf.multi_cell(180, 7, organization_name.upper(), align="C")
    pdf.set_text_color(*red)
    pdf.set_font("Body", "B", 26)
    pdf.set_xy(15, pdf.get_y() + 6)
    pdf.cell(180, 12, "HÒM THƯ SỐ", align="C")
    pdf.set_font("Body", "B", 15)
    pdf.set_xy(15, pdf.get_y() + 13)
    pdf.cell(180, 8, "GÓP Ý - PHẢN ÁNH - KIẾN NGHỊ", align="C")
    pdf.set_text_color(0, 0, 0)
    if place:
        pdf.set_font("Body", "", 14)
        pdf.set_xy(15, pdf.get_y() + 9)
        pdf.cell(180, 8, place, align="C")
    qr = segno.make(url, error="m")
    png = io.BytesIO()
    qr.save(png, kind="png", scale=12, border=4)
    png.seek(0)
    size = 110
    top = pdf.get_y() + 12
    pdf.image(png, x=(210 - size) / 2, y=top, w=size, h=size)
    pdf.set_font("Body", "B", 13)
    pdf.set_xy(15, top + size + 4)
    pdf.cell(180, 7, "Quét mã bằng camera điện thoại, hoặc vào địa chỉ:", align="C")
    pdf.set_font("Body", "", 12)
    pdf.set_xy(15, pdf.get_y() + 8)
    pdf.cell(180, 7, url, align="C")
    pdf.set_font("Body", "", 12)
    steps = [
        "1. Chọn lĩnh vực, ghi nội dung góp ý, phản ánh; có thể gửi kèm tối đa 5 ảnh.",
        "2. Không bắt buộc ghi họ tên. Thông tin người gửi được giữ bí mật.",
        "3. Ghi lại mã theo dõi để tra cứu kết quả trả lời.",
        "Ý kiến được trả lời trong 7 ngày làm việc (vụ việc phức tạp: 20 ngày).",
    ]
    pdf.set_xy(22, pdf.get_y() + 13)
    for line in steps:
        pdf.set_x(22)
        pdf.multi_cell(166, 7, line)
        pdf.set_y(pdf.get_y() + 1)
    return bytes(pdf.output())
