"""Assigned tasks through the real pages in headless Chromium, on the embedded profile:
lanhdao.tw assigns a task to DCGSPBXH with a deadline, truongban.dcgs splits it for
chuyenvien.dcgs, who reports 50 % and asks for more time, which the leader grants (the new date
is beyond the unit's deadline, so it is the leader's call); the specialist completes, the unit
head accepts the part and reports the task done, the leader approves; the statistics count it.
Screenshots at desktop and phone width land in var/screenshots/tasks-*.png."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

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
    head = _login(browser, base, "truongban.dcgs", DESKTOP, page_errors)
    assert (
        head.locator("a.dhtn-bell:visible").get_attribute("aria-label") == "Thông báo: 1 chưa đọc"
    )
    head.goto(base + "/notifications")
    head.get_by_role("button", name=re.compile("Nhiệm vụ mới")).click()
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
