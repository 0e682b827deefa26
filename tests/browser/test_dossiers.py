"""Dossiers through the real pages in headless Chromium, on the embedded profile: a received
document is handled by DCGSPBXH; chuyenvien.dcgs opens a dossier, files the document from the
document page («Đưa vào hồ sơ») and another from the dossier's list (bulk), closes it (the
table of contents appears) and hands it to the archive; luutru.tw (archivist) checks and accepts
it. Screenshots at desktop and phone width land in var/screenshots/dossiers-*.png."""

from __future__ import annotations

import io
import itertools
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.browser.conftest import DESKTOP, PHONE, new_page
from tests.conftest import EMBEDDED_PASSWORD
from tests.pdfs import make_pdf

pytestmark = pytest.mark.browser


def _token(base: str, username: str) -> dict[str, str]:
    r = requests.post(
        f"{base}/api/v1/auth/token",
        json={"username": username, "password": EMBEDDED_PASSWORD},
        timeout=30,
    )
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


# One number per document registered here: two drawn at random from 900 once met on the same
# server, and the second was refused as a possible duplicate (409) of the first.
_NOTATIONS = itertools.count(1000 + uuid.uuid4().int % 8000)


def _handled_document(base: str, subject: str) -> str:
    """Registered by the clerk, assigned by the leader to DCGSPBXH (through the API)."""
    clerk, leader = _token(base, "vanthu.tw"), _token(base, "lanhdao.tw")
    meta = {
        "notation": f"{next(_NOTATIONS)}/KH-MTTW-BTT",
        "doc_type": "KH",
        "subject": subject,
        "issuer": {"name": "Ủy ban MTTQ Việt Nam tỉnh Demo"},
        "issued_date": "2026-11-20",
    }
    r = requests.post(
        f"{base}/api/v1/incoming",
        headers=clerk,
        data={"meta": json.dumps(meta)},
        files={"files": ("ke-hoach.pdf", io.BytesIO(make_pdf()), "application/pdf")},
        timeout=60,
    )
    assert r.status_code == 201, r.text
    doc = r.json()["id"]
    units = requests.get(f"{base}/api/v1/me", headers=leader, timeout=30).json()["organization"][
        "id"
    ]
    unit = next(
        u["id"]
        for u in requests.get(
            f"{base}/api/v1/organizations/{units}/units", headers=_token(base, "admin"), timeout=30
        ).json()["items"]
        if u["abbreviation"] == "DCGSPBXH"
    )
    r = requests.post(
        f"{base}/api/v1/documents/{doc}/actions",
        headers=leader,
        json={"action": "assign", "lead": {"unit_id": unit}, "due_in_working_days": 5},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    return str(doc)


def _login(
    browser: Any, base: str, username: str, viewport: dict[str, int], errors: list[str]
) -> Any:
    page = new_page(browser, viewport, errors)
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 500 else None)
    page.goto(base + "/login")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(EMBEDDED_PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(base + "/")
    return page


def test_specialist_files_and_closes_archivist_accepts(
    browser: Any, embedded_server: dict[str, Any], shots: Path, page_errors: list[str]
) -> None:
    base = embedded_server["base"]
    run = uuid.uuid4().hex[:6].upper()
    first = _handled_document(base, f"Kế hoạch giám sát an sinh xã hội {run}")
    second = _handled_document(base, f"Báo cáo kết quả giám sát {run}")

    page = _login(browser, base, "chuyenvien.dcgs", DESKTOP, page_errors)
    page.goto(base + "/dossiers/new")
    page.get_by_label("Số và ký hiệu hồ sơ").fill(f"GS.{run}")
    page.get_by_label("Tiêu đề hồ sơ").fill(f"Hồ sơ giám sát chính sách an sinh xã hội {run}")
    page.get_by_role("button", name="Mở hồ sơ").click()
    page.get_by_role("alert").filter(has_text="Đã mở hồ sơ").wait_for()
    dossier_url = page.url

    # From the document page: «Đưa vào hồ sơ».
    page.goto(f"{base}/documents/{first}")
    page.get_by_label("Hồ sơ").select_option(
        label=f"GS.{run} · Hồ sơ giám sát chính sách an sinh xã hội {run}"
    )
    page.get_by_role("button", name="Đưa vào hồ sơ").click()
    page.get_by_role("alert").filter(has_text="Đã đưa 1 văn bản vào hồ sơ").wait_for()
    page.get_by_text("Trong hồ sơ").wait_for()

    # From the dossier's list (bulk).
    page.goto(dossier_url)
    page.get_by_label("Tìm văn bản").fill(run)
    page.get_by_role("button", name="Tìm").click()
    page.get_by_role("checkbox").first.check()
    page.get_by_role("button", name="Đưa các văn bản đã chọn vào hồ sơ").click()
    page.get_by_role("alert").filter(has_text="Đã đưa 1 văn bản vào hồ sơ").wait_for()
    assert page.locator(".dhtn-dossier-items li").count() == 2
    page.screenshot(path=str(shots / "dossiers-open-desktop.png"), full_page=True)

    page.get_by_role("button", name="Kết thúc hồ sơ").click()
    page.get_by_role("alert").filter(has_text="kết thúc hồ sơ").wait_for()
    page.get_by_role("link", name="Mục lục (DOCX)").wait_for()
    phone = _login(browser, base, "chuyenvien.dcgs", PHONE, page_errors)
    phone.goto(dossier_url)
    phone.screenshot(path=str(shots / "dossiers-closed-phone.png"), full_page=True)
    page.get_by_role("button", name="Nộp lưu").click()
    page.get_by_role("alert").filter(has_text="nộp lưu").wait_for()

    archivist = _login(browser, base, "luutru.tw", PHONE, page_errors)
    archivist.goto(base + "/dossiers?state=transferred")
    archivist.get_by_role("link", name=f"GS.{run}").first.click()
    archivist.get_by_role("button", name="Kiểm tra và tiếp nhận").click()
    archivist.get_by_role("alert").filter(has_text="tiếp nhận vào lưu trữ").wait_for()
    archivist.get_by_text("Đã vào Lưu trữ cơ quan").first.wait_for()
    archivist.screenshot(path=str(shots / "dossiers-archived-phone.png"), full_page=True)
    # The holding is read-only: no moves left for anyone here.
    assert archivist.get_by_role("button", name="Trả lại hồ sơ").count() == 0
    r = requests.get(f"{archivist.url}/package", timeout=60, allow_redirects=False)
    assert r.status_code in (302, 401, 403)  # not without a session
    # The clerk drafts next year's plan from this year's (phone width).
    clerk = _login(browser, base, "vanthu.tw", PHONE, page_errors)
    clerk.goto(base + "/file-plan?year=2026")
    if clerk.get_by_role("button", name="Lập danh mục trống").count():
        clerk.get_by_role("button", name="Lập danh mục trống").click()
        clerk.get_by_role("alert").filter(has_text="Đã lập danh mục hồ sơ").wait_for()
    clerk.get_by_role("link", name="Tải Excel (mẫu in)").wait_for()
    clerk.screenshot(path=str(shots / "dossiers-file-plan-phone.png"), full_page=True)
    assert not page_errors, page_errors
    assert second


def test_completing_suggests_filing_and_task_page_files(
    browser: Any, embedded_server: dict[str, Any], shots: Path, page_errors: list[str]
) -> None:
    """The unit head completes a document in the page and lands on it with «Đưa vào hồ sơ»
    asking, the dossier of its related task pre-selected; the task's page files the task."""
    base = embedded_server["base"]
    run = uuid.uuid4().hex[:6].upper()
    doc = _handled_document(base, f"Kế hoạch kiểm tra công tác dân vận {run}")
    head, leader = _token(base, "truongban.dcgs"), _token(base, "lanhdao.tw")
    me = requests.get(f"{base}/api/v1/me", headers=head, timeout=30).json()
    org, unit = me["organization"]["id"], (me.get("unit") or {}).get("id")
    codes = {}
    for code, title in (("A", "Hồ sơ công tác chung"), ("B", "Hồ sơ kiểm tra công tác dân vận")):
        r = requests.post(
            f"{base}/api/v1/dossiers",
            headers=head,
            json={"organization_id": org, "year": 2026, "code": f"{code}.{run}",
                  "title": f"{title} {run}", "retention_years": 10},
            timeout=30,
        )  # fmt: skip
        assert r.status_code == 201, r.text
        codes[code] = r.json()["id"]
    task_body: dict[str, Any] = {
        "title": f"Tổng hợp kết quả kiểm tra {run}",
        "due_date": "2026-12-10",
        "document_id": doc,
        "lead": {"unit_id": unit} if unit else {"user_id": me["id"]},
    }
    r = requests.post(f"{base}/api/v1/tasks", headers=leader, json=task_body, timeout=30)
    assert r.status_code == 201, r.text
    task = r.json()["id"]
    r = requests.post(
        f"{base}/api/v1/dossiers/{codes['B']}/documents",
        headers=head,
        json={"task_id": task},
        timeout=30,
    )
    assert r.status_code == 200, r.text

    phone = _login(browser, base, "truongban.dcgs", PHONE, page_errors)
    phone.goto(f"{base}/documents/{doc}")
    phone.get_by_label("Kết quả xử lý").fill("Đã kiểm tra, báo cáo lãnh đạo.")
    phone.get_by_role("button", name="Hoàn thành").click()
    phone.get_by_text("Đã thực hiện: Hoàn thành.").wait_for()
    phone.get_by_text("Văn bản đã xử lý xong: đề nghị đưa vào hồ sơ").wait_for()
    chosen = phone.locator("select.dhtn-dossier-choice").input_value()
    assert chosen == codes["B"]  # the dossier holding its task
    phone.screenshot(path=str(shots / "dossiers-suggest-phone.png"), full_page=True)
    phone.get_by_role("button", name="Đưa vào hồ sơ").click()
    phone.get_by_role("alert").filter(has_text="Đã đưa 1 văn bản vào hồ sơ").wait_for()
    phone.get_by_text("Trong hồ sơ").wait_for()

    # A second task of the document, filed from its page: the document's dossier is proposed.
    task_body["title"] = f"Xây dựng báo cáo chuyên đề {run}"
    r = requests.post(f"{base}/api/v1/tasks", headers=leader, json=task_body, timeout=30)
    assert r.status_code == 201, r.text
    phone.goto(f"{base}/tasks/{r.json()['id']}")
    assert phone.locator("select.dhtn-dossier-choice").input_value() == codes["B"]
    phone.screenshot(path=str(shots / "dossiers-task-filing-phone.png"), full_page=True)
    phone.get_by_role("button", name="Đưa vào hồ sơ").click()
    phone.get_by_role("alert").filter(has_text="Đã đưa nhiệm vụ vào hồ sơ").wait_for()
    phone.get_by_text("Trong hồ sơ").wait_for()
    assert not page_errors, page_errors
