"""Issuing: the number, date and the organisation's seal in one step; the issued PDF verifies
(our verification endpoint and poppler's pdfsig); the seal sits over the left third of the
leader's signature; a failing signature consumes no number and stores nothing."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from PIL import Image

from app.runtime import runtime
from tests.outgoing.conftest import Outgoing
from tests.signing.pdfsig import PdfSig

DPI = 100


@pytest.fixture(scope="session")
def pdfsig(tmp_path_factory: pytest.TempPathFactory) -> PdfSig:
    return PdfSig(tmp_path_factory.mktemp("pdfsig"))


def test_issued_pdf_verifies_with_two_signatures(flow: Outgoing, pdfsig: PdfSig) -> None:
    doc = flow.to_signed()
    flow.ok("vanthu.tw", doc, "issue")
    pdf = flow.main_pdf("vanthu.tw", doc)
    r = flow.client.post(
        "/api/v1/verifications",
        data={"file": (io.BytesIO(pdf), "vb.pdf", "application/pdf")},
        content_type="multipart/form-data",
    )
    report = r.get_json()
    assert r.status_code == 200 and report["summary"] == "valid", report
    leader, org = report["signatures"]
    assert leader["signer"]["name"] == "Lê Văn Minh"
    assert org["signer"]["name"] == "Ủy ban Trung ương Mặt trận Tổ quốc Việt Nam"
    assert all(s["intact"] and s["valid"] and s["trusted"] for s in report["signatures"])
    # After the leader certified it, only the prepared fields were filled (number, date).
    assert (leader["modifications"], org["modifications"]) == ("form_filling", "none")
    assert (leader["coverage"], org["coverage"]) == ("entire_revision", "entire_file")
    pdfsig.assert_valid(pdf, signatures=2)


def _render(pdf: bytes, out: Path, page: int) -> Image.Image:
    out.with_suffix(".pdf").write_bytes(pdf)
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            str(DPI),
            "-png",
            "-singlefile",
            "-f",
            str(page),
            "-l",
            str(page),
            str(out.with_suffix(".pdf")),
            str(out),
        ],
        check=True,
        timeout=60,
    )
    return Image.open(out.with_suffix(".png")).convert("RGB")


def test_number_date_and_seal_are_where_the_template_left_room(
    flow: Outgoing, tmp_path: Path
) -> None:
    doc = flow.to_signed()
    issued = flow.ok("vanthu.tw", doc, "issue")
    pdf = flow.main_pdf("vanthu.tw", doc)
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    assert f"Số: {issued['notation']}" in text
    assert "Hà Nội, ngày 23 tháng 11 năm 2026" in text
    versions = flow.client.get(
        f"/api/v1/documents/{doc}/versions", headers=flow.h("vanthu.tw")
    ).get_json()["items"]
    layout = versions[0]["layout"]
    assert layout["source"] == "placeholders"
    page, x, y, width, height = layout["leader"]
    image = _render(pdf, tmp_path / "issued", page + 1)
    scale = DPI / 72
    top, bottom = image.height - (y + height) * scale, image.height - y * scale
    left, right = x * scale, (x + width) * scale
    third = left + (right - left) / 3
    rgb = image.load()
    assert rgb is not None

    def count(x0: float, x1: float, test: Any) -> int:
        return sum(
            test(*rgb[i, j]) for i in range(int(x0), int(x1)) for j in range(int(top), int(bottom))
        )

    def red(r: int, g: int, b: int) -> bool:
        return r > 170 and g < 110 and b < 110

    def blue(r: int, g: int, b: int) -> bool:
        return b > 110 and r < 110 and b - r > 60

    assert count(left, third, red) > 200  # the seal covers the left third of the signature…
    assert count(third + 2, right, red) == 0  # …and only that third
    assert count(third + 2, right, blue) > 200  # the signature stays visible beside it


def test_numbers_follow_each_other_and_a_cong_van_has_no_type_part(flow: Outgoing) -> None:
    first = flow.to_signed()
    second = flow.to_signed(doc_type="CV", subject="Đề nghị báo cáo kết quả giám sát")
    assert flow.ok("vanthu.tw", first, "issue")["notation"] == "01/KH-MTTW-DCGSPBXH"
    assert flow.ok("vanthu.tw", second, "issue")["notation"] == "02/MTTW-DCGSPBXH"
    # The outgoing register gets its entries (printable as XLSX and DOCX).
    register = flow.get("vanthu.tw", first).get_json()["register"]["id"]
    r = flow.client.get(
        f"/api/v1/reports/registers/{register}?format=xlsx", headers=flow.h("vanthu.tw")
    )
    assert r.status_code == 200
    rows = list(load_workbook(io.BytesIO(r.data)).active.iter_rows(values_only=True))
    cells = [row[:4] for row in rows[4:]]
    assert cells[0][0] == "01/KH-MTTW-DCGSPBXH" and cells[1][0] == "02/MTTW-DCGSPBXH"
    assert cells[0][1] == "23/11/2026" and cells[0][3] == "Lê Văn Minh"
    docx = flow.client.get(
        f"/api/v1/reports/registers/{register}?format=docx", headers=flow.h("vanthu.tw")
    )
    assert docx.status_code == 200 and docx.data.startswith(b"PK")


def test_a_failing_signature_consumes_no_number(flow: Outgoing, app: Any) -> None:
    doc = flow.to_signed()
    provider = runtime(app).signing
    good = provider.options()
    # An unreachable timestamp service: signing fails after the number was allocated.
    from dataclasses import replace

    broken = replace(good, timestamper=None, tsa_url="http://127.0.0.1:9/tsa", tsa_timeout=2)
    provider._options = (float("inf"), broken)
    before = flow.counts()
    r = flow.act("vanthu.tw", doc, "issue")
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "timestamp_unavailable", (
        r.get_json()
    )
    assert flow.counts() == before  # no number, no stored object
    got = flow.get("vanthu.tw", doc).get_json()
    assert (got["state"], got["register_number"], got["notation"]) == ("signed", None, None)
    provider._options = None
    assert flow.ok("vanthu.tw", doc, "issue")["register_number"] == 1  # the number came back


def test_issue_refused_without_a_register(flow: Outgoing) -> None:
    doc = flow.to_signed()
    from sqlalchemy import update

    from docflow.models import Register

    with flow.demo.factory() as s, s.begin():
        s.execute(update(Register).where(Register.direction == "outgoing").values(active=False))
    before = flow.counts()
    r = flow.act("vanthu.tw", doc, "issue")
    assert r.status_code == 422 and "sổ văn bản đi" in r.get_json()["error"]["message"]
    assert flow.counts() == before
