"""What the simulated people send, shared by the load test (``locustfile.py``) and the in-process
CPU benchmark (``cpu.py``): the searched words and the 1 MB PDF a clerk registers. Imports
nothing of Locust (which patches the standard library with gevent when imported)."""

from __future__ import annotations

import io

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
