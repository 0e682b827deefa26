"""What the simulated people send, shared by the load test (``locustfile.py``) and the in-process
CPU benchmark (``cpu.py``): the searched words and the registration of a 1 MB PDF. Imports
nothing of Locust (which patches the standard library with gevent when imported)."""

from __future__ import annotations

import io
import json

from urllib3 import encode_multipart_formdata

SEARCHES = ["giam sat phan bien", "kế hoạch", "chuyển đổi số", "an sinh", "hoi nghi", "dan van"]


def pdf_of_one_megabyte() -> bytes:
    """A one-page PDF padded to about 1 MB (its metadata), as clerks upload scans."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Padding": "x" * (1024 * 1024)})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def numbered(pdf: bytes, n: int) -> bytes:
    """``pdf`` made unique by ``n`` (no two registrations upload the same file)."""
    return pdf.replace(b"/Padding (xxxxxxxx", b"/Padding (" + f"{n:08d}".encode(), 1)


def registration(pdf: bytes, n: int, sender: str) -> tuple[bytes, str]:
    """The multipart body (and its content type) of ``POST /api/v1/incoming``: a plan numbered
    ``n`` from the province ``sender`` (the notation's last part), with ``pdf`` made unique by
    ``n``. Duplicates are confirmed: the subjects repeat."""
    meta = {
        "notation": f"{n % 99_999 + 1}/KH-{sender}",
        "doc_type": "KH",
        "subject": f"Kế hoạch tổ chức hội nghị giám sát số {n}",
        "issuer": {"name": "Ủy ban MTTQ Việt Nam tỉnh Tải"},
        "issued_date": "2026-11-20",
        "confirm_duplicate": True,
    }
    return encode_multipart_formdata(
        [
            ("meta", json.dumps(meta)),
            ("files", (f"ke-hoach-{n}.pdf", numbered(pdf, n), "application/pdf")),
        ]
    )
