"""The pages: a province leader's dashboard with drill-down, the report box, filling in a
request, the gathering page. Saves the HTML for screenshots when DHTN_SHOTS is set."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from docflow.reports import rebuild_all
from tests.app.test_pages import login
from tests.reports.conftest import Tree
from tests.reports.test_periodic import FORM
from tests.reports.test_rollup import build_tree_history


def save(name: str, html: str) -> None:
    out = os.environ.get("DHTN_SHOTS")
    if out:
        Path(out).mkdir(parents=True, exist_ok=True)
        Path(out, f"{name}.html").write_text(html, encoding="utf-8")


def test_dashboard_box_request_and_results_pages(tree: Tree, app: Any, api: Any) -> None:
    build_tree_history(tree)
    rebuild_all(tree.demo.uow())
    tree.demo.clock.now = tree.demo.clock.now.replace(day=2)
    leader = app.test_client()
    login(leader, "lanhdao.tinh")
    html = leader.get("/thong-ke?from=2026-11-01&to=2026-11-30").get_data(as_text=True)
    save("rollup", html)
    assert "Tình hình xử lý công việc" in html
    assert "Ủy ban Mặt trận Tổ quốc Việt Nam phường Demo" in html and "(cả cấp dưới)" in html
    phuong = tree.demo.org_id("phuong")
    assert f"organization_id={phuong}" in html  # the drill-down link
    down = leader.get(f"/thong-ke?organization_id={phuong}&from=2026-11-01&to=2026-11-30")
    assert down.status_code == 200
    # Another province's leader: not found; a clerk: not permitted.
    other = app.test_client()
    login(other, "lanhdao.tinhkhac")
    r = other.get(f"/thong-ke?organization_id={tree.demo.org_id('tinh')}")
    assert r.status_code == 404
    clerk = app.test_client()
    login(clerk, "vanthu.tinh")
    assert clerk.get("/thong-ke").status_code == 403
    # The centre asks; the province's clerk fills in the request on its page.
    r = app.test_client().post("/api/v1/report-forms", json=FORM, headers=api("lanhdao.tw"))
    assert r.status_code == 201
    form_id = r.json["id"]
    box = clerk.get("/bao-cao").get_data(as_text=True)
    save("box", box)
    assert FORM["title"] in box and "Chưa gửi" in box
    req = re.search(r"/bao-cao/yeu-cau/([0-9a-f-]{36})", box)
    assert req
    page = clerk.get(f"/bao-cao/yeu-cau/{req.group(1)}").get_data(as_text=True)
    save("request", page)
    assert "Hệ thống tự điền" in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    bad = clerk.post(
        f"/bao-cao/yeu-cau/{req.group(1)}",
        data={"csrf_token": token.group(1), "v_signed": "120", "v_trained": "30"},
    )
    assert bad.status_code == 200 and "is-invalid" in bad.get_data(as_text=True)
    ok = clerk.post(
        f"/bao-cao/yeu-cau/{req.group(1)}",
        data={"csrf_token": token.group(1), "v_trained": "30", "v_notes": "Ổn định"},
    )
    assert ok.status_code == 302
    # Filled: the province's leader approves (signs) on the same page, the clerk submits.
    page = leader.get(f"/bao-cao/yeu-cau/{req.group(1)}").get_data(as_text=True)
    assert "Ký duyệt (ký số)" in page and "Đã điền, chờ ký duyệt" in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    r = leader.post(
        f"/bao-cao/yeu-cau/{req.group(1)}", data={"csrf_token": token.group(1), "action": "approve"}
    )
    assert r.status_code == 302
    page = clerk.get(f"/bao-cao/yeu-cau/{req.group(1)}").get_data(as_text=True)
    assert "PDF đã ký" in page and "Gửi báo cáo" in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    r = clerk.post(
        f"/bao-cao/yeu-cau/{req.group(1)}", data={"csrf_token": token.group(1), "action": "submit"}
    )
    assert r.status_code == 302
    pdf = clerk.get(f"/bao-cao/yeu-cau/{req.group(1)}/bao-cao.pdf?version=1")
    assert pdf.status_code == 200 and pdf.data[:5] == b"%PDF-"
    centre = app.test_client()
    login(centre, "lanhdao.tw")
    results = centre.get(f"/bao-cao/mau/{form_id}").get_data(as_text=True)
    save("results", results)
    assert "Đã gửi" in results and "Ổn định" in results
    x = centre.get(f"/bao-cao/mau/{form_id}/tong-hop.xlsx")
    assert x.status_code == 200 and x.data[:2] == b"PK"


def test_dashboard_by_person_pages_its_rows(
    tree: Tree, app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The centre by person, two rows a page: "Trang sau" leads through every row once; the
    total row stays the whole subtree's; a cursor from nowhere starts again at the first page."""
    import app.pages.reports as pages

    monkeypatch.setattr(pages, "PAGE_ROWS", 2)
    build_tree_history(tree)
    rebuild_all(tree.demo.uow())
    centre = app.test_client()
    login(centre, "lanhdao.tw")
    url: str | None = "/thong-ke?group_by=user&from=2026-11-01&to=2026-11-30"
    names: list[str] = []
    while url:
        html = centre.get(url).get_data(as_text=True)
        body = html.split("<tbody>")[1].split("</tbody>")[0]
        rows = re.findall(r"<tr>\s*<td>\s*([^<]+?)\s*<", body)
        assert 1 <= len(rows) <= 2
        names += rows
        assert "Tổng cộng" in html
        nxt = re.search(r'href="([^"]+)">Trang sau<', html)
        url = nxt[1].replace("&amp;", "&") if nxt else None
    assert len(names) == len(set(names)) >= 3
    r = centre.get("/thong-ke?group_by=user&cursor=garbage")
    assert r.status_code == 302 and "cursor" not in r.headers["Location"]
