"""OCR of scans and photos with the real Tesseract "vie" model through OCRmyPDF, in the sandbox:
a page of Vietnamese rendered at 300 dpi, turned a little and noisy, as a scanner makes it."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from app.ocr import OcrMyPdfRecognizer, ocr_available
from app.sandbox import Sandbox
from docflow.search import RecognitionError
from signing import (
    make_sample_document,
    prepare_document,
    render_signature_image,
    sign_as_leader,
)
from signing.testpki import (
    DemoPKI,
    OrgSpec,
    UserSpec,
    demo_options,
    demo_signer,
    generate_demo_pki,
)
from tests.conftest import make_test_settings
from tests.incoming.conftest import Incoming
from tests.pdfs import make_pdf
from tests.search.files import scan_jpeg, scan_pdf
from tests.search.test_search_api import search

pytestmark = pytest.mark.skipif(not ocr_available(), reason="ocrmypdf / tesseract-ocr-vie")
CODE, ORG = "000.00.00.Z01", "Ủy ban Trung ương Mặt trận Tổ quốc Việt Nam"


@pytest.fixture
def app(tmp_path: Path, pg_url: str, session_factory: Any, clock: Any, demo: Any) -> Any:
    from app import create_app

    flask_app = create_app(
        make_test_settings(tmp_path, pg_url, ocr=True), session_factory=session_factory, clock=clock
    )
    flask_app.config.update(TESTING=True)
    return flask_app


@pytest.fixture(scope="module")
def pki_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, DemoPKI]]:
    d = tmp_path_factory.mktemp("pki")
    pki = generate_demo_pki(
        d, organizations=[OrgSpec(CODE, ORG)], users=[UserSpec("lanhdao.tw", "Lê Văn Minh", CODE)]
    )
    yield d, pki


def signed_scan(pki: DemoPKI) -> bytes:
    """A scanned page signed by the leader (a PAdES signature over the scan's bytes)."""
    prepared = prepare_document(scan_pdf(), make_sample_document().layout)
    with demo_signer(pki, "lanhdao.tw") as leader:
        return sign_as_leader(
            prepared,
            leader,
            signature_image=render_signature_image("Lê Văn Minh"),
            options=demo_options(pki),
        )


def test_a_signed_scan_is_read_searchable_and_untouched(
    app: Any, flow: Incoming, pki_dir: tuple[Path, DemoPKI]
) -> None:
    import shutil

    from app.runtime import runtime

    shutil.copytree(pki_dir[0], runtime(app).settings.data_dir / "pki")
    original = signed_scan(pki_dir[1])
    r = flow.register(files=[(original, "Bản quét.pdf", "application/pdf")], notation="20/KH-BTT")
    assert r.status_code == 201, r.get_json()
    doc = flow.get("vanthu.tw", r.get_json()["id"]).get_json()
    scan, derived = sorted(doc["files"], key=lambda f: f["derived_from"] is not None)
    # The original: the same bytes, hash and valid signature; its text read by OCR.
    assert scan["text_status"] == "done" and scan["derived_from"] is None
    assert scan["sha256"] == hashlib.sha256(original).hexdigest()
    content = flow.client.get(
        f"/api/v1/documents/{doc['id']}/files/{scan['id']}/content", headers=flow.h("vanthu.tw")
    )
    assert content.data == original
    assert [s["valid"] for s in scan["verification"]["signatures"]] == [True]
    # The searchable PDF/A-2b beside it.
    assert derived["derived_from"] == scan["id"] and derived["kind"] == "searchable"
    pdf = flow.client.get(
        f"/api/v1/documents/{doc['id']}/files/{derived['id']}/content",
        headers=flow.h("vanthu.tw"),
    ).data
    reader = PdfReader(io.BytesIO(pdf))
    xmp = reader.xmp_metadata
    assert xmp is not None
    assert xmp.get_element("", "http://www.aiim.org/pdfa/ns/id/", "part")
    assert b'pdfaid:part="2"' in pdf or b"<pdfaid:part>2</pdfaid:part>" in pdf
    assert "phản biện" in reader.pages[0].extract_text()
    # Found by a word of its body, with and without diacritics, with a snippet.
    for q in ["phan bien xa hoi", "phản biện xã hội", "cong dich vu"]:
        (item,) = search(flow, "vanthu.tw", q)
        assert item["id"] == doc["id"]
    (item,) = search(flow, "vanthu.tw", "giam sat")
    start, end = item["snippet_marks"][0]
    assert item["snippet"][start:end] == "giám sát"
    text = flow.client.get(
        f"/api/v1/documents/{doc['id']}/files/{scan['id']}/text", headers=flow.h("vanthu.tw")
    ).get_data(as_text=True)
    assert "Mặt trận Tổ quốc" in text


def test_a_phone_photo_becomes_a_searchable_pdf(flow: Incoming) -> None:
    r = flow.register(files=[(scan_jpeg(), "Ảnh chụp.jpg", "image/jpeg")], notation="21/KH-BTT")
    assert r.status_code == 201, r.get_json()
    doc = flow.get("vanthu.tw", r.get_json()["id"]).get_json()
    photo, derived = sorted(doc["files"], key=lambda f: f["derived_from"] is not None)
    assert photo["text_status"] == "done" and derived["derived_from"] == photo["id"]
    assert derived["content_type"] == "application/pdf"
    assert [i["id"] for i in search(flow, "vanthu.tw", "truc tuyen nguoi dan")] == [doc["id"]]


def test_a_scan_too_long_fails_without_ocr_and_the_document_stands(flow: Incoming) -> None:
    r = flow.register(files=[(make_pdf(301), "Dày.pdf", "application/pdf")], notation="22/KH-BTT")
    assert r.status_code == 201
    doc = flow.get("vanthu.tw", r.get_json()["id"]).get_json()
    assert [f["text_status"] for f in doc["files"]] == ["failed"]


def test_the_engine_refuses_an_image_bomb_and_stops_on_time() -> None:
    from PIL import Image

    bomb = io.BytesIO()
    Image.new("1", (16000, 16000), 1).save(bomb, "PNG")  # 256 Mpx, a few kB
    engine = OcrMyPdfRecognizer(Sandbox(), timeout=120)
    with pytest.raises(RecognitionError):
        engine.recognize(bomb.getvalue(), "image/png")
    with pytest.raises(RecognitionError) as caught:
        OcrMyPdfRecognizer(Sandbox(), timeout=0.5).recognize(scan_pdf(), "application/pdf")
    assert "giây" in str(caught.value)
    with pytest.raises(RecognitionError):
        engine.recognize(b"%PDF-1.4 broken", "application/pdf")


def test_photos_of_one_paper_become_one_searchable_pdf(flow: Incoming) -> None:
    first = scan_jpeg(["Trang một: kế hoạch giám sát chuyển đổi số"], angle=0.6)
    second = scan_jpeg(["Trang hai: báo cáo phản biện xã hội"], angle=-0.7)
    r = flow.register(
        files=[(first, "Trang 1.jpg", "image/jpeg"), (second, "Trang 2.jpg", "image/jpeg")],
        notation="23/KH-BTT",
    )
    assert r.status_code == 201, r.get_json()
    doc = flow.get("vanthu.tw", r.get_json()["id"]).get_json()
    photos = [f for f in doc["files"] if f["derived_from"] is None]
    (combined,) = [f for f in doc["files"] if f["derived_from"] is not None]
    assert [p["text_status"] for p in photos] == ["done", "done"]
    assert combined["derived_from"] == photos[0]["id"]
    pdf = flow.client.get(
        f"/api/v1/documents/{doc['id']}/files/{combined['id']}/content",
        headers=flow.h("vanthu.tw"),
    ).data
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 2
    assert "phản biện" in reader.pages[1].extract_text()
    assert [i["id"] for i in search(flow, "vanthu.tw", "chuyen doi so")] == [doc["id"]]
