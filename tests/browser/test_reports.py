"""Reports up the tree in headless Chromium on the embedded profile, at desktop and phone width:
the province asks its ward for a report with a fixed-row table (through the API); the ward's
clerk fills it in on its page, the ward's leader approves it (signing its PDF), the clerk
submits it; the province's leader looks at the home page's dashboard (the form's progress, the
trend chart), the roll-up with drill-down and
the gathering page (chart, table, per-cell sums). Screenshots land in var/screenshots/reports-*.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.browser.conftest import DESKTOP, PHONE
from tests.browser.test_tasks import _flash, _login
from tests.conftest import EMBEDDED_PASSWORD

pytestmark = pytest.mark.browser

FORM = {
    "title": "Báo cáo tình hình sử dụng Hệ thống tháng",
    "fields": [
        {"key": "trained", "label": "Số người được tập huấn", "type": "number"},
        {
            "key": "staff",
            "label": "Cán bộ sử dụng hệ thống",
            "type": "table",
            "rows": [
                {"key": "ctt", "label": "Chủ tịch, Phó Chủ tịch"},
                {"key": "cb", "label": "Cán bộ chuyên trách"},
            ],
            "columns": [
                {"key": "n", "label": "Số người", "type": "number"},
                {"key": "acc", "label": "Có tài khoản", "type": "number"},
            ],
        },
        {"key": "notes", "label": "Khó khăn, vướng mắc", "type": "text"},
    ],
    "period": "once",
    "deadline": "2099-12-31",
    "recipients": {"scope": "children"},
}


def _token(base: str, username: str) -> dict[str, str]:
    r = requests.post(
        f"{base}/api/v1/auth/token",
        json={"username": username, "password": EMBEDDED_PASSWORD},
        timeout=10,
    )
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_a_province_gathers_its_wards_report_at_desktop_and_phone_width(
    browser: Any, embedded_server: dict[str, Any], shots: Path
) -> None:
    base = embedded_server["base"]
    errors: list[str] = []
    r = requests.post(
        f"{base}/api/v1/report-forms", json=FORM, headers=_token(base, "lanhdao.tinh"), timeout=30
    )
    assert r.status_code == 201, r.text
    form_id = r.json()["id"]

    # The ward's clerk fills it in on its page (the table's cells by their labels).
    clerk = _login(browser, base, "vanthu.phuong", PHONE, errors)
    clerk.goto(base + "/bao-cao")
    clerk.get_by_role("link", name=re.compile(FORM["title"])).first.click()
    clerk.get_by_label("Số người được tập huấn").fill("14")
    clerk.get_by_label("Chủ tịch, Phó Chủ tịch — Số người").fill("3")
    clerk.get_by_label("Chủ tịch, Phó Chủ tịch — Có tài khoản").fill("3")
    clerk.get_by_label("Cán bộ chuyên trách — Số người").fill("6")
    clerk.get_by_label("Cán bộ chuyên trách — Có tài khoản").fill("abc")
    clerk.get_by_role("button", name="Lưu, trình ký duyệt").click()
    clerk.locator(".is-invalid").first.wait_for()  # the answer's page, not the one clicked
    assert clerk.locator(".is-invalid").count() == 1  # the bad cell, named
    clerk.get_by_label("Cán bộ chuyên trách — Có tài khoản").fill("5")
    clerk.get_by_label("Khó khăn, vướng mắc").fill("Thiếu máy tính")
    clerk.get_by_role("button", name="Lưu, trình ký duyệt").click()
    _flash(clerk, "Đã lưu báo cáo")
    assert clerk.get_by_role("button", name="Ký duyệt (ký số)").count() == 0  # not the leader
    clerk.screenshot(path=str(shots / "reports-request-filled-phone.png"), full_page=True)

    leader = _login(browser, base, "lanhdao.phuong", PHONE, errors)
    leader.goto(clerk.url)
    leader.get_by_role("button", name="Ký duyệt (ký số)").click()
    _flash(leader, "Đã ký duyệt báo cáo")
    assert leader.get_by_role("link", name="PDF đã ký").count() == 1
    leader.screenshot(path=str(shots / "reports-request-approved-phone.png"), full_page=True)

    clerk.reload()
    clerk.get_by_role("button", name="Gửi báo cáo").click()
    _flash(clerk, "Đã gửi báo cáo")
    assert clerk.locator("[data-state]").inner_text() == "Đã gửi"

    # The province's leader: the dashboard and the gathering page, desktop and phone.
    for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page = _login(browser, base, "lanhdao.tinh", viewport, errors)
        # The home page: the leader's dashboard, the form's progress among the wards.
        page.goto(base + "/")
        assert page.get_by_role("heading", name="Tình hình cơ quan").count() == 1
        forms = page.locator(".dhtn-board-forms")
        progress = forms.get_by_role("row", name=re.compile(FORM["title"])).inner_text()
        assert "1/1" in progress, progress
        assert page.locator("svg.dhtn-trend rect").count() == 24  # 12 weeks, in and out
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"] + 1, f"{name}: the home page scrolls sideways ({width}px)"
        page.screenshot(path=str(shots / f"reports-home-{name}.png"), full_page=True)
        forms.get_by_role("link", name=FORM["title"]).click()
        # A click waits only for the navigation to commit; count() does not wait for the page.
        page.wait_for_url(re.compile(r"/bao-cao/mau/"))
        assert page.locator("#gathered").count() == 1  # the number's list: the gathering page
        page.goto(base + "/thong-ke")
        assert page.get_by_role("heading", name="Tình hình xử lý công việc").count() == 1
        ward = page.get_by_role("link", name=re.compile("phường Demo"))
        assert ward.count() >= 1
        page.screenshot(path=str(shots / f"reports-dashboard-{name}.png"), full_page=True)
        page.goto(f"{base}/bao-cao/mau/{form_id}")
        table = page.locator("#gathered")
        row = table.get_by_role("row", name=re.compile("phường Demo"))
        assert "14" in row.inner_text() and "Đã gửi" in row.inner_text()
        sums = page.locator("#table-staff")
        cells = sums.get_by_role("row", name=re.compile("Cán bộ chuyên trách")).inner_text()
        assert re.findall(r"\d+", cells) == ["6", "5"]
        assert page.locator("svg[role=img]").count() == 1  # the chart
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"] + 1, f"{name}: the page scrolls sideways ({width}px)"
        page.screenshot(path=str(shots / f"reports-gathering-{name}.png"), full_page=True)
    assert errors == []
