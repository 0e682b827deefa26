"""The file plan: draft, approve, changes after approval, XLSX in the printed form (export,
import, hostile files), copy of last year's plan; unplanned dossiers join it for approval."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook, load_workbook

from tests.conftest import Demo
from tests.dossiers.conftest import Dossiers
from tests.pdfs import make_pdf


def _plan(d: Dossiers, demo: Demo, year: int = 2026, **extra: Any) -> Any:
    return d.client.post(
        "/api/v1/file-plans",
        headers=d.h("vanthu.tw"),
        json={"organization_id": str(demo.org_id("tw")), "year": year, **extra},
    )


def _xlsx(rows: list[tuple[Any, ...]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(("DANH MỤC HỒ SƠ NĂM 2026",))
    ws.append(("Số và ký hiệu hồ sơ", "Tên đề mục và tiêu đề hồ sơ", "Thời hạn bảo quản", "Đơn vị / người lập hồ sơ", "Ghi chú"))  # fmt: skip
    for r in rows:
        ws.append(r)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _import(
    d: Dossiers, plan: str, data: bytes, name: str = "dmhs.xlsx", who: str = "vanthu.tw"
) -> Any:
    return d.client.post(
        f"/api/v1/file-plans/{plan}/xlsx",
        headers=d.h(who),
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


ROWS = [
    ("I", "Ban Thường trực", None, None, None),
    ("01.BTT", "Hồ sơ Hội nghị Ủy ban năm 2026", "Vĩnh viễn", "BTT", None),
    ("02.BTT", "Tập công văn trao đổi", "10 năm", "Ban Thường trực", "Công văn đi, đến"),
    ("II", "Ban Tuyên giáo", None, None, None),
    ("01.TG", "Hồ sơ tuyên truyền Ngày hội Đại đoàn kết", 5, "TG", None),
    ("02.TG", '=HYPERLINK("http://x","bấm")', "5", "TG", None),
]


def test_import_export_roundtrip_and_copy(dossiers: Dossiers, demo: Demo) -> None:
    d = dossiers
    plan = _plan(d, demo).get_json()["id"]
    r = _import(d, plan, _xlsx(ROWS))
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert [h["title"] for h in body["headings"]] == ["Ban Thường trực", "Ban Tuyên giáo"]
    items = [i for h in body["headings"] for i in h["items"]]
    assert [(i["code"], i["retention_years"]) for i in items] == [
        ("01.BTT", None), ("02.BTT", 10), ("01.TG", 5), ("02.TG", 5),
    ]  # fmt: skip
    assert items[1]["unit"]["name"] == "Ban Thường trực"
    # Export: the printed form; a formula typed into a title comes back as text, not a formula.
    r = d.client.get(f"/api/v1/file-plans/{plan}/xlsx", headers=d.h("chuyenvien.dcgs"))
    assert r.status_code == 200
    ws = load_workbook(io.BytesIO(r.data)).active
    rows = [tuple(c for c in row) for row in ws.iter_rows(values_only=True)]
    assert rows[3][0] == "Số và ký hiệu hồ sơ"
    assert rows[5][:3] == ("01.BTT", "Hồ sơ Hội nghị Ủy ban năm 2026", "Vĩnh viễn")
    formula = next(
        c for row in ws.iter_rows() for c in row if str(c.value).startswith("=HYPERLINK")
    )
    assert formula.data_type == "s" and formula.quotePrefix  # text, never a formula
    # Approve, then copy to next year: same headings and dossiers, a draft.
    d.client.post(
        f"/api/v1/file-plans/{plan}/actions", headers=d.h("lanhdao.tw"), json={"action": "approve"}
    )
    r = _plan(d, demo, 2027, copy_from_year=2026)
    assert r.status_code == 201, r.get_json()
    copy = r.get_json()
    assert copy["state"] == "draft" and copy["year"] == 2027
    assert [i["code"] for h in copy["headings"] for i in h["items"]] == [i["code"] for i in items]
    # The export re-imports into the copy unchanged.
    r = _import(
        d,
        copy["id"],
        bytes(d.client.get(f"/api/v1/file-plans/{plan}/xlsx", headers=d.h("vanthu.tw")).data),
    )
    assert r.status_code == 200, r.get_json()
    assert [i["code"] for h in r.get_json()["headings"] for i in h["items"]] == [
        i["code"] for i in items
    ]
    assert _plan(d, demo).status_code == 409
    assert _plan(d, demo, 2028, copy_from_year=2020).status_code == 422


def test_changes_after_approval_wait_for_the_head(dossiers: Dossiers, demo: Demo) -> None:
    d = dossiers
    plan = _plan(d, demo).get_json()["id"]
    _import(d, plan, _xlsx(ROWS[:2]))
    assert d.client.post(f"/api/v1/file-plans/{plan}/actions", headers=d.h("vanthu.tw"), json={"action": "approve"}).status_code == 403  # fmt: skip
    r = d.client.post(
        f"/api/v1/file-plans/{plan}/actions", headers=d.h("lanhdao.tw"), json={"action": "approve"}
    )
    assert r.get_json()["state"] == "approved" and r.get_json()["pending_changes"] == 0
    # Re-import of an approved plan: 409; nothing pending to approve: 409.
    assert _import(d, plan, _xlsx(ROWS)).status_code == 409
    assert d.client.post(f"/api/v1/file-plans/{plan}/actions", headers=d.h("lanhdao.tw"), json={"action": "approve"}).status_code == 409  # fmt: skip
    # An unplanned dossier joins the plan, waiting for approval.
    opened = d.open(
        code="PS.01", title="Hồ sơ đoàn công tác đột xuất", retention_years=5
    ).get_json()
    assert opened["planned"] is False
    body = d.client.get(f"/api/v1/file-plans/{plan}", headers=d.h("lanhdao.tw")).get_json()
    assert body["pending_changes"] == 1 and body["allowed_actions"] == ["approve"]
    r = d.client.post(
        f"/api/v1/file-plans/{plan}/actions", headers=d.h("lanhdao.tw"), json={"action": "approve"}
    )
    assert r.get_json()["pending_changes"] == 0
    # The planned one: opened from its item; the item then points at the dossier; twice: 409.
    item = body["headings"][0]["items"][0]["id"]
    org = str(demo.org_id("tw"))
    r = d.client.post("/api/v1/dossiers", headers=d.h("truongban.dcgs"), json={"organization_id": org, "year": 2026, "plan_item_id": item, "unit_id": d.incoming.unit_id("DCGSPBXH")})  # fmt: skip
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["code"] == "01.BTT" and r.get_json()["retention_years"] is None
    r2 = d.client.post("/api/v1/dossiers", headers=d.h("truongban.dcgs"), json={"organization_id": org, "year": 2026, "plan_item_id": item})  # fmt: skip
    assert r2.status_code == 409
    body = d.client.get(f"/api/v1/file-plans/{plan}", headers=d.h("lanhdao.tw")).get_json()
    assert body["headings"][0]["items"][0]["dossier_id"] == r.get_json()["id"]


def test_hostile_spreadsheets_change_nothing(dossiers: Dossiers, demo: Demo) -> None:
    d = dossiers
    plan = _plan(d, demo).get_json()["id"]
    _import(d, plan, _xlsx(ROWS[:2]))
    before = d.client.get(f"/api/v1/file-plans/{plan}", headers=d.h("vanthu.tw")).get_json()
    bad_rows = [
        ("01.X", "Hồ sơ trước đề mục", "5", None, None),
        ("I", "Đề mục", None, None, None),
        ("", "Thiếu số", "5", None, None),
        ("02.X", "Hồ sơ", "mãi mãi", None, None),
        ("03.X", "Hồ sơ của đơn vị lạ", "5", "KHÔNG CÓ", None),
        ("04.X", "Hồ sơ trùng", "5", None, None),
        ("04.X", "Hồ sơ trùng", "5", None, None),
    ]
    r = _import(d, plan, _xlsx(bad_rows))
    assert r.status_code == 422
    assert r.get_json()["error"]["code"] == "file_plan_rows_invalid"
    assert set(r.get_json()["error"]["details"]["rows"]) == {"3", "5", "6", "7", "9"}
    # Not a spreadsheet, a PDF named .xlsx, a form that is not the plan's, a zip bomb.
    assert _import(d, plan, make_pdf(), "dmhs.pdf").status_code == 415
    assert _import(d, plan, make_pdf(), "dmhs.xlsx").status_code in (415, 422)
    assert _import(d, plan, b"just text", "dmhs.xlsx").status_code in (415, 422)
    wb = Workbook()
    wb.active.append(("Họ tên", "Địa chỉ"))
    out = io.BytesIO()
    wb.save(out)
    r = _import(d, plan, out.getvalue())
    assert r.status_code == 422 and "file" in r.get_json()["error"]["details"]["fields"]
    r = d.client.post(
        f"/api/v1/file-plans/{plan}/xlsx",
        headers=d.h("vanthu.tw"),
        data={},
        content_type="multipart/form-data",
    )
    assert r.status_code == 422
    # Not the office: 403 (before looking at the file); another organisation: 404.
    assert _import(d, plan, _xlsx(ROWS), who="chuyenvien.dcgs").status_code == 403
    assert _import(d, plan, _xlsx(ROWS), who="vanthu.tinh").status_code == 404
    assert d.client.get(f"/api/v1/file-plans/{plan}", headers=d.h("vanthu.tinh")).status_code == 404
    after = d.client.get(f"/api/v1/file-plans/{plan}", headers=d.h("vanthu.tw")).get_json()
    assert after["headings"] == before["headings"]
