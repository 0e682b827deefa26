"""The incoming document's page shows its PDF as page images too (a phone's browser shows a
framed PDF empty or as its first page only), through the outgoing page's page-image view, and
those images are refused to whoever may not read the file."""

from __future__ import annotations

import io
import re
import uuid
from typing import Any

from PIL import Image

from docflow import search
from tests.app.test_pages import login
from tests.incoming.conftest import Incoming
from tests.pdfs import make_pdf
from tests.search.files import text_pdf


def _page_client(app: Any, username: str) -> Any:
    client = app.test_client()
    assert login(client, username).status_code in (302, 303)
    return client


def test_the_page_offers_page_images_and_the_pdf_link(flow: Incoming, app: Any) -> None:
    pdf = text_pdf(pages=3)
    body = flow.register(files=[(pdf, "Kế hoạch.pdf", "application/pdf")]).get_json()
    doc, file_id = body["id"], body["files"][0]["id"]
    # Registering queued the reading of its text, which counted its pages: the page uses that.
    assert search.page_count(flow.demo.uow(), uuid.UUID(file_id)) == 3
    clerk = _page_client(app, "vanthu.tw")
    html = clerk.get(f"/documents/{doc}").get_data(as_text=True)

    # The same HTML serves every width; dhtn.css shows the images on a phone or a touch screen
    # (.dhtn-narrow-only) and the frame on a desktop (.dhtn-wide-only).
    section = html[html.index('id="document-pdf"') : html.index("Thông tin văn bản")]
    file_url = f"/documents/{doc}/files/{file_id}"
    assert re.search(rf'<a [^>]*href="{file_url}"[^>]*>Mở tệp PDF</a>', section), section
    assert re.search(r'<iframe class="[^"]*\bdhtn-wide-only\b[^"]*"', section), section
    assert 'class="dhtn-pages dhtn-narrow-only"' in section
    images = re.findall(r'<img class="dhtn-page"[^>]*\bsrc="([^"]+)"', section)
    # As many images as the PDF has pages: as its reading for search counted them.
    assert images == [f"{file_url}/pages/{n}.png" for n in (1, 2, 3)], images
    assert "· 3 trang" in section

    for n in (1, 3):
        r = clerk.get(f"{file_url}/pages/{n}.png")
        assert (r.status_code, r.mimetype) == (200, "image/png"), n
        with Image.open(io.BytesIO(r.data)) as png:
            assert png.width > 300 and png.height > png.width  # an A4 page at 80 dpi
    assert clerk.get(f"{file_url}/pages/4.png").status_code == 404  # no such page
    assert clerk.get(f"{file_url}/pages/1.png?dpi=120").status_code == 200  # the 2x srcset
    # The same view answers under /outgoing/ (the outgoing pages' address): one mechanism.
    assert clerk.get(f"/outgoing/{doc}/files/{file_id}/pages/1.png").mimetype == "image/png"


def test_page_images_are_refused_like_the_file(flow: Incoming, app: Any) -> None:
    body = flow.register(files=[(make_pdf(2), "Kế hoạch.pdf", "application/pdf")]).get_json()
    doc, file_id = body["id"], body["files"][0]["id"]
    file_url = f"/documents/{doc}/files/{file_id}"
    image = f"{file_url}/pages/1.png"
    # A clerk of another organisation, and a specialist of this one the document was not given
    # to: the document is not theirs to see, so the file, its page images and the page are 404.
    for username in ("vanthu.tinh", "chuyenvien.dcgs"):
        c = _page_client(app, username)
        assert c.get(f"/documents/{doc}").status_code == 404, username
        assert c.get(file_url).status_code == 404, username
        assert c.get(image).status_code == 404, username
        assert c.get(f"/outgoing/{doc}/files/{file_id}/pages/1.png").status_code == 404
    # A file id of another document, under this one: not this document's file.
    other = flow.register(notation="61/KH-MTTW-BTT").get_json()
    clerk = _page_client(app, "vanthu.tw")
    assert (
        clerk.get(f"/documents/{doc}/files/{other['files'][0]['id']}/pages/1.png").status_code
        == 404
    )
    # Signed out: the sign-in page, no image.
    r = app.test_client().get(image)
    assert r.status_code in (302, 303) and "/login" in r.headers["Location"]
    # The reader who may see it gets the image.
    assert clerk.get(image).mimetype == "image/png"


def test_a_pdf_not_read_yet_offers_its_first_page_and_the_link(flow: Incoming, app: Any) -> None:
    """Before the worker has read the PDF (and without a «Số trang»), the page does not open
    the file on the request path to count its pages: it offers the first page's image and the
    link to the whole file; the frame stays for a desktop."""
    from docflow.models import FileText

    body = flow.register(files=[(make_pdf(2), "Kế hoạch.pdf", "application/pdf")]).get_json()
    with flow.demo.factory() as s:
        s.query(FileText).filter(FileText.document_id == body["id"]).delete()
        s.commit()
    r = _page_client(app, "vanthu.tw").get(f"/documents/{body['id']}")
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    section = html[html.index('id="document-pdf"') : html.index("Thông tin văn bản")]
    images = re.findall(r'<img class="dhtn-page"[^>]*\bsrc="([^"]+)"', section)
    assert images == [f"/documents/{body['id']}/files/{body['files'][0]['id']}/pages/1.png"]
    assert "để xem toàn bộ văn bản" in section and "· 2 trang" not in section
    assert re.search(r'<iframe class="[^"]*\bdhtn-wide-only\b', section)
