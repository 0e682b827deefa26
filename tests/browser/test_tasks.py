"""Assigned tasks through the real pages in headless Chromium, on the embedded profile:
lanhdao.tw assigns a task to DCGSPBXH with a deadline, truongban.dcgs splits it for
chuyenvien.dcgs, who reports 50 % and asks for more time, which the leader grants (the new date
is beyond the unit's deadline, so it is the leader's call); the specialist completes, the unit
head accepts the part and reports the task done, the leader approves; the statistics count it.
Screenshots at desktop and phone width land in var/screenshots/tasks-*.png."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import shutil
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests

from tests.browser.conftest import DESKTOP, PHONE, new_page
from tests.conftest import EMBEDDED_PASSWORD

pytestmark = pytest.mark.browser

DCGS = "Ban Dân chủ, Giám sát và Phản biện xã hội"
TITLE = "Giám sát việc lấy ý kiến Nhân dân về dự thảo"


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


def _unread(page: Any) -> int:
    """The count the bell announces ("Thông báo: N chưa đọc"; no count when nothing is unread)."""
    label = page.locator("a.dhtn-bell:visible").get_attribute("aria-label") or ""
    found = re.search(r"(\d+) chưa đọc", label)
    return int(found.group(1)) if found else 0


def _flash(page: Any, text: str) -> None:
    page.get_by_role("alert").filter(has_text=text).first.wait_for()


def _stats_row(page: Any, base: str) -> list[int]:
    """The unit's row of the statistics page: received, on time, late, open, overdue."""
    page.goto(base + "/tasks/stats")
    row = page.get_by_role("row", name=re.compile(DCGS))
    if row.count() == 0:
        return [0, 0, 0, 0, 0]
    cells = [c.strip() for c in row.get_by_role("cell").all_inner_texts()]
    return [int(c) for c in cells[1:6]]


def test_assign_split_extend_complete_and_count(
    browser: Any, embedded_server: dict[str, Any], shots: Path, page_errors: list[str]
) -> None:
    base = embedded_server["base"]
    today = dt.datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date()
    due = today + dt.timedelta(days=14)
    extended = today + dt.timedelta(days=21)

    # The leader assigns the task to the unit. The embedded server is shared with other browser
    # tests (their documents count too), so the statistics are compared before and after.
    # The other browser tests share the server and may have left the unit head unread
    # notifications of their own, so the bell is read before and after.
    head = _login(browser, base, "truongban.dcgs", DESKTOP, page_errors)
    unread_before = _unread(head)
    leader = _login(browser, base, "lanhdao.tw", DESKTOP, page_errors)
    before = _stats_row(leader, base)
    leader.get_by_role("link", name="Nhiệm vụ").first.click()
    leader.get_by_role("link", name="Giao nhiệm vụ").click()
    leader.get_by_label("Tên nhiệm vụ").fill(TITLE)
    leader.get_by_label("Nội dung, yêu cầu").fill("Tổng hợp ý kiến, báo cáo Thường trực.")
    leader.get_by_label("Chủ trì").select_option(label=DCGS)
    leader.get_by_label("Đến ngày").fill(due.isoformat())
    leader.get_by_label("Mức độ").select_option(label="Quan trọng")
    leader.screenshot(path=str(shots / "tasks-assign-desktop.png"), full_page=True)
    leader.get_by_role("button", name="Giao nhiệm vụ").click()
    _flash(leader, "Đã giao nhiệm vụ.")
    task_url = leader.url
    assert re.search(r"/tasks/[0-9a-f-]{36}$", task_url)
    assert leader.get_by_role("heading", name=TITLE).is_visible()

    # The unit head sees the bell, opens the task and hands a part to the specialist.
    head.goto(base + "/")
    assert _unread(head) == unread_before + 1
    head.goto(base + "/notifications")
    head.get_by_role("button", name=re.compile(f"Nhiệm vụ mới: {TITLE}")).click()
    head.wait_for_url(task_url)
    head.get_by_label("Phần việc").fill("Tổng hợp ý kiến các tỉnh phía Bắc")
    head.get_by_label("Giao cho").select_option(label="Đỗ Quang Huy")
    assert head.get_by_label("Hạn của việc con").input_value() == due.isoformat()
    head.get_by_role("button", name="Giao việc con").click()
    _flash(head, "Đã giao việc con.")
    sub_url = head.url
    assert sub_url != task_url
    head.goto(task_url)
    head.screenshot(path=str(shots / "tasks-split-desktop.png"), full_page=True)

    # The specialist starts, reports 50 % and asks for a week more.
    me = _login(browser, base, "chuyenvien.dcgs", DESKTOP, page_errors)
    me.goto(sub_url)
    me.get_by_role("button", name="Bắt đầu thực hiện").click()
    _flash(me, "bắt đầu thực hiện")
    me.get_by_label("Hoàn thành (%)").fill("50")
    me.get_by_label("Nội dung báo cáo").fill("Đã có ý kiến của 3/6 tỉnh.")
    me.get_by_role("button", name="Gửi báo cáo tiến độ").click()
    _flash(me, "báo cáo tiến độ")
    me.get_by_label("Hạn mới").fill(extended.isoformat())
    me.get_by_label("Lý do xin gia hạn").fill("Chờ ý kiến của các tỉnh còn lại.")
    me.get_by_role("button", name="Gửi đề nghị gia hạn").click()
    _flash(me, "xin gia hạn")
    assert me.get_by_text("Chờ Lê Văn Minh quyết định.").is_visible()
    me.screenshot(path=str(shots / "tasks-subtask-desktop.png"), full_page=True)

    # The leader is told, and grants it from the notification.
    leader.goto(base + "/notifications")
    leader.get_by_role("button", name=re.compile("Đề nghị gia hạn")).click()
    leader.wait_for_url(sub_url)
    leader.screenshot(path=str(shots / "tasks-extension-desktop.png"), full_page=True)
    leader.get_by_role("button", name="Đồng ý gia hạn").click()
    _flash(leader, "quyết định gia hạn")
    leader.goto(task_url)
    assert leader.get_by_text("Các việc con: 50%").is_visible()
    # The unit's deadline moved with the granted extension (dates as Decree 30 writes them).
    month = f"{extended.month:02d}" if extended.month < 3 else str(extended.month)
    assert leader.get_by_text(f"{extended.day:02d}/{month}/{extended.year}").first.is_visible()

    # The specialist completes; the head accepts the part and reports the task done.
    me.goto(sub_url)
    me.get_by_label("Kết quả thực hiện").fill("Đã tổng hợp đủ ý kiến 6 tỉnh.")
    me.get_by_role("button", name="Báo cáo hoàn thành").click()
    _flash(me, "báo cáo hoàn thành")
    head.goto(sub_url)
    head.get_by_role("button", name="Duyệt hoàn thành").click()
    _flash(head, "duyệt hoàn thành")
    head.goto(task_url)
    head.get_by_label("Kết quả thực hiện").fill("Báo cáo tổng hợp đã gửi Thường trực.")
    head.get_by_role("button", name="Báo cáo hoàn thành").click()
    _flash(head, "báo cáo hoàn thành")

    # The leader approves; the task is done on time.
    leader.goto(task_url)
    leader.get_by_label("Ý kiến duyệt").fill("Đạt yêu cầu.")
    leader.get_by_role("button", name="Duyệt hoàn thành").click()
    _flash(leader, "duyệt hoàn thành")
    assert leader.locator(".badge", has_text="Hoàn thành").first.is_visible()
    leader.screenshot(path=str(shots / "tasks-done-desktop.png"), full_page=True)

    # The statistics count it: one received, one done on time, for the unit.
    after = _stats_row(leader, base)
    received, on_time, late, open_, overdue = (a - b for a, b in zip(after, before, strict=True))
    assert (received, on_time, late, open_, overdue) == (1, 1, 0, 0, 0), (before, after)
    assert leader.locator("svg.dhtn-bar rect.dhtn-fill-ontime").count() >= 1
    leader.screenshot(path=str(shots / "tasks-stats-desktop.png"), full_page=True)

    # The same pages at phone width.
    phone = _login(browser, base, "lanhdao.tw", PHONE, page_errors)
    # On a phone the bell stays beside the menu button, with its count (the leader has unread ones).
    assert re.match(
        r"Thông báo: \d+ chưa đọc", phone.locator("a.dhtn-bell:visible").get_attribute("aria-label")
    )
    for name, url in [
        ("list", "/tasks"),
        ("detail", task_url.removeprefix(base)),
        ("subtask", sub_url.removeprefix(base)),
        ("stats", "/tasks/stats"),
        ("notifications", "/notifications"),
    ]:
        phone.goto(base + url)
        phone.screenshot(path=str(shots / f"tasks-{name}-phone.png"), full_page=True)
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], "the page scrolls sideways on a phone"
    assert page_errors == []
    for p in (leader, head, me, phone):
        p.context.close()


def _statuses(page: Any) -> dict[str, str]:
    """File name → (status code, what the page says of its text), from the attachment list."""
    out = {}
    for item in page.locator("li:has(.dhtn-text-status)").all():
        name = item.get_by_role("link").first.inner_text().strip()
        status = item.locator(".dhtn-text-status")
        note = status.inner_text().removeprefix("·").strip()
        out[name] = f"{status.get_attribute('data-text-status')}: {note}"
    return out


@pytest.mark.skipif(not shutil.which("ocrmypdf"), reason="ocrmypdf / tesseract-ocr-vie")
def test_the_task_page_shows_what_became_of_the_text_of_its_files(
    browser: Any, embedded_server: dict[str, Any], shots: Path, page_errors: list[str]
) -> None:
    """A task of its own (the server is shared) with three files: a PDF with text (read), a
    scan of 301 pages (refused, with the reason) and a scan of three pages (OCR takes seconds,
    so the page first says "Đang nhận dạng chữ…", then that it was recognised) — at desktop and
    phone width."""
    from tests.pdfs import make_pdf
    from tests.search.files import scan_image, text_pdf

    base = embedded_server["base"]
    token = requests.post(
        f"{base}/api/v1/auth/token",
        json={"username": "lanhdao.tw", "password": EMBEDDED_PASSWORD},
        timeout=60,
    ).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    org = requests.get(f"{base}/api/v1/me", headers=auth, timeout=60).json()["organization"]["id"]
    people = requests.get(f"{base}/api/v1/organizations/{org}/users", headers=auth, timeout=60)
    lead = next(u["id"] for u in people.json()["items"] if u["username"] == "chuyenvien.dcgs")
    title = "Tổng hợp văn bản quét về cổng dịch vụ công"
    meta = {
        "title": title,
        "lead": {"user_id": lead},
        "due_date": (dt.date.today() + dt.timedelta(days=7)).isoformat(),
    }
    # Three scanned pages (OCR takes seconds a page) with words no other file or title has.
    pages = [
        scan_image([f"Trang {n}: biên bản tiếp xúc cử tri về chỉnh trang đô thị"], angle=angle)
        for n, angle in ((1, 0.7), (2, -0.5), (3, 0.4))
    ]
    out = io.BytesIO()
    pages[0].save(out, "PDF", resolution=300, save_all=True, append_images=pages[1:])  # type: ignore[attr-defined]
    scan = out.getvalue()
    r = requests.post(
        f"{base}/api/v1/tasks",
        headers=auth,
        data={"meta": json.dumps(meta)},
        files=[
            ("files", ("Kế hoạch.pdf", text_pdf(), "application/pdf")),
            ("files", ("Dày.pdf", make_pdf(301), "application/pdf")),
            ("files", ("Bản quét.pdf", scan, "application/pdf")),
        ],
        timeout=120,
    )
    assert r.status_code == 201, r.text
    task_url = f"{base}/tasks/{r.json()['id']}"

    desktop = _login(browser, base, "chuyenvien.dcgs", DESKTOP, page_errors)
    phone = _login(browser, base, "chuyenvien.dcgs", PHONE, page_errors)
    # The text PDF and the long scan are settled within seconds; the scan is still being read.
    deadline = time.monotonic() + 60
    while True:
        desktop.goto(task_url)
        seen = _statuses(desktop)
        if not seen["Kế hoạch.pdf"].startswith("pending") and not seen["Dày.pdf"].startswith(
            "pending"
        ):
            break
        assert time.monotonic() < deadline, seen
        time.sleep(0.5)
    assert seen["Kế hoạch.pdf"] == "done: Đã đọc nội dung", seen
    assert seen["Dày.pdf"].startswith("failed: "), seen
    assert "301 trang, quá 300 trang" in seen["Dày.pdf"], seen
    if seen["Bản quét.pdf"].startswith("pending"):
        assert seen["Bản quét.pdf"] == "pending: Đang nhận dạng chữ…", seen
        desktop.screenshot(path=str(shots / "tasks-text-pending-desktop.png"), full_page=True)
        phone.goto(task_url)
        phone.screenshot(path=str(shots / "tasks-text-pending-phone.png"), full_page=True)
    # OCR finishes (three pages; minutes on a loaded machine) and the page says so.
    deadline = time.monotonic() + 600
    while seen["Bản quét.pdf"].startswith("pending"):
        assert time.monotonic() < deadline, seen
        time.sleep(2)
        desktop.goto(task_url)
        seen = _statuses(desktop)
    assert seen["Bản quét.pdf"] == "done: Đã nhận dạng chữ (OCR)", seen
    desktop.screenshot(path=str(shots / "tasks-text-done-desktop.png"), full_page=True)
    phone.goto(task_url)
    phone.screenshot(path=str(shots / "tasks-text-done-phone.png"), full_page=True)
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # And the scan's words find the task (the embedded profile's search, accents left out).
    found = requests.get(
        f"{base}/api/v1/tasks",
        params={"q": "chinh trang do thi", "box": "all"},
        headers=auth,
        timeout=60,
    )
    assert r.json()["id"] in [t["id"] for t in found.json()["items"]]
    assert page_errors == []
    for p in (desktop, phone):
        p.context.close()
