"""The incoming register as XLSX/DOCX with all its columns, and the processing slip."""

from __future__ import annotations

import io

from docx import Document as Docx
from openpyxl import load_workbook

from docflow.reports.register_book import INCOMING_COLUMNS
from tests.incoming.conftest import Incoming


def _register_id(flow: Incoming) -> str:
    r = flow.client.get(
        f"/api/v1/organizations/{flow.demo.org_id('tw')}/registers?direction=incoming",
        headers=flow.h("vanthu.tw"),
    )
    return str(r.get_json()["items"][0]["id"])


def test_register_xlsx_has_every_column_and_the_rows_in_number_order(flow: Incoming) -> None:
    flow.to_assigned()
    flow.register(
        notation="8/BC-MTTQ",
        doc_type="BC",
        subject="Báo cáo kết quả giám sát",
        issuer={"name": "Sở Nội vụ"},
    )
    r = flow.client.get(
        f"/api/v1/reports/registers/{_register_id(flow)}?format=xlsx&year=2026",
        headers=flow.h("vanthu.tw"),
    )
    assert r.status_code == 200 and "spreadsheetml" in r.mimetype
    rows = list(load_workbook(io.BytesIO(r.data)).active.iter_rows(values_only=True))
    assert rows[3] == tuple(INCOMING_COLUMNS)
    first, second = rows[4], rows[5]
    assert first[:5] == (
        "23/11/2026",
        "01",
        "Ủy ban MTTQ Việt Nam tỉnh Demo",
        "60/KH-MTTW-BTT",
        "20/11/2026",
    )
    assert first[6] == "Ban Dân chủ, Giám sát và Phản biện xã hội"
    assert second[1] == "02" and second[5] == "BC: Báo cáo kết quả giám sát"


def test_register_docx_is_a_landscape_table(flow: Incoming) -> None:
    flow.register()
    r = flow.client.get(
        f"/api/v1/reports/registers/{_register_id(flow)}?format=docx", headers=flow.h("lanhdao.tw")
    )
    doc = Docx(io.BytesIO(r.data))
    assert doc.sections[0].page_width > doc.sections[0].page_height
    table = doc.tables[0]
    assert [c.text for c in table.rows[0].cells] == INCOMING_COLUMNS
    assert table.rows[1].cells[3].text == "60/KH-MTTW-BTT"


def test_register_export_is_refused_outside_the_office(flow: Incoming) -> None:
    reg = _register_id(flow)
    assert (
        flow.client.get(
            f"/api/v1/reports/registers/{reg}", headers=flow.h("chuyenvien.dcgs")
        ).status_code
        == 403
    )
    assert (
        flow.client.get(
            f"/api/v1/reports/registers/{reg}", headers=flow.h("vanthu.tinh")
        ).status_code
        == 404
    )
    assert (
        flow.client.get(
            f"/api/v1/reports/registers/{reg}?year=2025", headers=flow.h("vanthu.tw")
        ).status_code
        == 404
    )


def test_processing_slip_carries_the_three_opinions(flow: Incoming) -> None:
    doc = flow.to_assigned(comment="Giao Ban DCGSPBXH chủ trì tham mưu")
    flow.act(
        "truongban.dcgs",
        doc,
        "assign",
        lead={"user_id": flow.user_id("chuyenvien.dcgs")},
        comment="Đồng chí Huy xử lý",
    )
    flow.act("chuyenvien.dcgs", doc, "complete", comment="Đề xuất trả lời bằng công văn")
    r = flow.client.get(f"/api/v1/documents/{doc}/slip", headers=flow.h("lanhdao.tw"))
    assert r.status_code == 200
    text = "\n".join(p.text for p in Docx(io.BytesIO(r.data)).paragraphs)
    assert "PHIẾU GIẢI QUYẾT VĂN BẢN ĐẾN" in text
    leader = text.index("1. Ý kiến chỉ đạo")
    unit = text.index("2. Ý kiến của lãnh đạo đơn vị")
    handler = text.index("3. Ý kiến đề xuất")
    assert leader < text.index("Giao Ban DCGSPBXH chủ trì tham mưu — Lê Văn Minh") < unit
    assert unit < text.index("Đồng chí Huy xử lý — Phạm Thị Hạnh") < handler
    assert handler < text.index("Đề xuất trả lời bằng công văn — Đỗ Quang Huy")
    assert (
        flow.client.get(f"/api/v1/documents/{doc}/slip", headers=flow.h("vanthu.tinh")).status_code
        == 404
    )
