"""Drafting: upload a DOCX or PDF, or the template; DOCX converted by the warm LibreOffice;
bad input changes nothing; a DOCX LibreOffice cannot convert shows a clear error on the draft."""

from __future__ import annotations

import io
import logging
import zipfile
from pathlib import Path
from typing import Any

import pypdf
import pytest
from docx import Document as new_docx

from app.conversion import LibreOfficeConverter
from docflow.documents.ports import ConversionError
from signing import make_sample_document
from tests.outgoing.conftest import Outgoing
from tests.pdfs import make_docx_bomb

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def make_docx(text: str = "Nội dung dự thảo công văn.") -> bytes:
    doc = new_docx()
    doc.add_paragraph(text)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def broken_docx() -> bytes:
    """A valid package (passes the upload checks) whose main part is cut in half."""
    src = zipfile.ZipFile(io.BytesIO(make_docx()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "word/document.xml":
                data = data[: len(data) // 2]
            z.writestr(info, data)
    return out.getvalue()


def _fields(pdf: bytes) -> set[str]:
    return set((pypdf.PdfReader(io.BytesIO(pdf)).get_fields() or {}).keys())


def _versions(flow: Outgoing, doc: str) -> list[dict[str, Any]]:
    r = flow.client.get(f"/api/v1/documents/{doc}/versions", headers=flow.h("chuyenvien.dcgs"))
    items: list[dict[str, Any]] = r.get_json()["items"]
    return items


FIELDS = {"dhtn_number", "dhtn_date", "dhtn_leader_signature", "dhtn_organization_signature"}


def test_template_draft_is_converted_and_prepared_with_its_markers(flow: Outgoing) -> None:
    r = flow.template(doc_type="CV", subject="Đề nghị báo cáo kết quả giám sát")
    assert r.status_code == 201, r.get_json()
    doc = r.get_json()
    assert (doc["state"], doc["draft_version"], doc["direction"]) == ("draft", 1, "outgoing")
    (version,) = _versions(flow, doc["id"])
    assert version["conversion_state"] == "ready" and version["layout"]["source"] == "placeholders"
    prepared = next(f for f in doc["files"] if f["kind"] == "prepared")
    pdf = flow.file_bytes("chuyenvien.dcgs", doc["id"], prepared["id"])
    assert _fields(pdf) == FIELDS
    text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    for expected in (
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "V/v Đề nghị báo cáo kết quả giám sát",
        "Kính gửi:",
        "Nơi nhận:",
        "- Lưu: VT, DCGSPBXH.",
        "TM. BAN THƯỜNG TRỰC",
        "PHÓ CHỦ TỊCH",
        "Lê Văn Minh",
    ):
        assert expected in text, expected


def test_uploaded_docx_and_pdf_get_the_default_layout(flow: Outgoing) -> None:
    docx = flow.upload(make_docx(), "Dự thảo.docx", DOCX)
    assert docx.status_code == 201, docx.get_json()
    (v,) = _versions(flow, docx.get_json()["id"])
    assert v["conversion_state"] == "ready" and v["layout"]["source"] == "default"
    pdf = flow.upload(make_sample_document(2).pdf, "Dự thảo.pdf", "application/pdf")
    assert pdf.status_code == 201, pdf.get_json()
    (v,) = _versions(flow, pdf.get_json()["id"])
    assert v["conversion_state"] == "ready" and v["layout"]["leader"][0] == 1  # the last page


def test_a_docx_libreoffice_cannot_convert_shows_on_the_draft(
    flow: Outgoing, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="docflow.outgoing.versions"):
        r = flow.upload(broken_docx(), "Hỏng.docx", DOCX)
    assert r.status_code == 201, r.get_json()
    doc = r.get_json()["id"]
    (v,) = _versions(flow, doc)
    assert v["conversion_state"] == "failed"
    assert "LibreOffice không mở được «Hỏng.docx»" in v["conversion_error"]
    # The worker's log says it too (whoever watches the worker sees a converter that fails).
    (logged,) = [r.getMessage() for r in caplog.records if "not converted" in r.getMessage()]
    assert doc in logged and "version 1" in logged and v["conversion_error"] in logged
    flow.ok("chuyenvien.dcgs", doc, "submit_for_review", to_user_id=flow.user_id("lanhdao.tw"))
    for action in ("approve", "sign"):
        got = flow.act("lanhdao.tw", doc, action)
        assert got.status_code == 409 and got.get_json()["error"]["code"] == "conversion_failed"
    # The reviewer holding it uploads a good version, which converts; now it can be signed.
    assert flow.new_version("lanhdao.tw", doc, make_docx(), "Sửa.docx", DOCX).status_code == 201
    assert _versions(flow, doc)[0]["conversion_state"] == "ready"
    assert flow.ok("lanhdao.tw", doc, "sign")["state"] == "signed"


@pytest.mark.parametrize(
    ("meta", "status", "code"),
    [
        ({"doc_type": "XX"}, 422, "invalid_field"),
        ({"signer_user_id": "chuyenvien.tg"}, 422, "invalid_field"),
        ({"recipients": [{"organization_id": "tw"}]}, 422, "invalid_field"),
        (
            {"recipients": [{"organization_id": "tinh"}, {"code": "000.00.01.Z01"}]},
            422,
            "invalid_field",
        ),
        ({"recipients": [{"code": "not-a-code"}]}, 422, "invalid_field"),
        ({"secrecy": "confidential"}, 403, "clearance_required"),
        ({"subject": ""}, 422, "invalid_field"),
    ],
)
def test_bad_meta_changes_nothing(
    flow: Outgoing, meta: dict[str, Any], status: int, code: str
) -> None:
    for key in ("signer_user_id",):
        if key in meta:
            meta[key] = flow.user_id(meta[key])
    for ref in meta.get("recipients", []):
        if "organization_id" in ref:
            ref["organization_id"] = str(flow.demo.org_id(ref["organization_id"]))
    before = flow.counts()
    r = flow.upload(make_sample_document(1).pdf, "Dự thảo.pdf", "application/pdf", **meta)
    assert r.status_code == status, r.get_json()
    assert r.get_json()["error"]["code"] == code
    assert flow.counts() == before


@pytest.mark.parametrize(
    ("data", "name", "ctype", "status"),
    [
        (b"chi la van ban thuong", "ghi-chu.txt", "text/plain", 415),
        (b"", "rong.pdf", "application/pdf", 422),
        (b"%PDF-1.7 not really", "hong.pdf", "application/pdf", 422),
        (make_docx_bomb(), "bom.docx", DOCX, 413),
    ],
)
def test_bad_files_change_nothing(
    flow: Outgoing, data: bytes, name: str, ctype: str, status: int
) -> None:
    before = flow.counts()
    r = flow.upload(data, name, ctype)
    assert r.status_code == status, r.get_json()
    assert flow.counts() == before


def test_only_drafters_draft_and_a_signed_pdf_is_refused(flow: Outgoing, app: Any) -> None:
    before = flow.counts()
    assert flow.upload(make_docx(), "x.docx", DOCX, username="vanthu.tw").status_code == 403
    assert flow.template(username="vanthu.tw").status_code == 403
    # A PDF that is already signed cannot get the signing fields: refused, nothing kept.
    doc = flow.to_dispatched()
    issued = flow.main_pdf("vanthu.tw", doc)
    before = flow.counts()
    r = flow.upload(issued, "Đã ký.pdf", "application/pdf")
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "invalid_draft_pdf"
    assert flow.counts() == before
    r = flow.client.post(
        "/api/v1/outgoing",
        headers=flow.h("chuyenvien.dcgs"),
        data={"meta": "{"},
        content_type="multipart/form-data",
    )
    assert r.status_code == 400 and flow.counts() == before


def test_the_converter_stays_warm_and_times_out_cleanly(tmp_path: Path) -> None:
    converter = LibreOfficeConverter(tmp_path, timeout=60)
    try:
        converter.start()
        for _ in range(3):
            assert converter.to_pdf(make_docx(), "a.docx").startswith(b"%PDF")
        assert converter.starts == 1
        with pytest.raises(ConversionError) as bad:
            converter.to_pdf(broken_docx(), "b.docx")
        assert bad.value.code == "conversion_failed"
        assert converter.starts == 1  # a bad file does not cost a restart
        converter.timeout = 0.001
        with pytest.raises(ConversionError) as slow:
            converter.to_pdf(make_docx(), "c.docx")
        assert slow.value.code == "conversion_timeout"
        converter.timeout = 60
        assert converter.to_pdf(make_docx(), "d.docx").startswith(b"%PDF")
        assert converter.starts == 2  # killed on the timeout, started afresh
        assert (tmp_path / f"profile-{__import__('os').getpid()}").is_dir()
    finally:
        converter.close()


def test_libreoffice_started_in_the_background_outlives_the_start(tmp_path: Path) -> None:
    """The worker's warm-up: LibreOffice started from a background thread is still running
    after the start (the sandbox dies with the thread that started it), and the first draft
    converts without a second start."""
    import time

    from app.conversion import start_in_background

    converter = LibreOfficeConverter(tmp_path, timeout=60)
    try:
        start_in_background(converter)
        deadline = time.monotonic() + 90
        while converter.starts == 0 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert converter.starts == 1
        time.sleep(2)
        office = converter._office
        assert office is not None and office.poll() is None, "LibreOffice did not stay up"
        assert converter.to_pdf(make_docx(), "a.docx").startswith(b"%PDF")
        assert converter.starts == 1
    finally:
        converter.close()
