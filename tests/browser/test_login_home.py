"""A clerk logs in through the real page in headless Chromium and sees the home page, at
desktop and phone width; an admin reaches the admin pages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import DESKTOP, PHONE, new_page
from tests.conftest import EMBEDDED_PASSWORD

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(("label", "viewport"), [("desktop", DESKTOP), ("phone", PHONE)])
def test_clerk_logs_in_and_sees_home(
    browser: Any,
    embedded_server: dict[str, Any],
    shots: Path,
    page_errors: list[str],
    label: str,
    viewport: dict[str, int],
) -> None:
    page = new_page(browser, viewport, page_errors)
    page.goto(embedded_server["base"] + "/")
    assert page.url.endswith("/login?next=/")
    page.screenshot(path=str(shots / f"login-{label}.png"), full_page=True)
    page.get_by_label("Tên đăng nhập").fill("vanthu.tw")
    page.get_by_label("Mật khẩu").fill(EMBEDDED_PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(embedded_server["base"] + "/")
    assert page.get_by_role("heading", name="Xin chào, Trần Thị Thu").is_visible()
    assert page.get_by_text("Sổ văn bản đến năm").first.is_visible()
    page.screenshot(path=str(shots / f"home-clerk-{label}.png"), full_page=True)
    if label == "phone":
        # The menu folds behind the toggler on a phone and opens on tap.
        toggler = page.get_by_role("button", name="Mở menu")
        assert toggler.is_visible()
        toggler.click()
        page.get_by_role("button", name="Đăng xuất").wait_for(state="visible")
        page.screenshot(path=str(shots / f"home-clerk-{label}-menu.png"))
    assert page_errors == []
    page.context.close()


def test_wrong_password_is_explained(
    browser: Any, embedded_server: dict[str, Any], page_errors: list[str]
) -> None:
    page = new_page(browser, DESKTOP, page_errors)
    page.goto(embedded_server["base"] + "/login")
    page.get_by_label("Tên đăng nhập").fill("vanthu.tinh")
    page.get_by_label("Mật khẩu").fill("sai-mat-khau")
    page.get_by_role("button", name="Đăng nhập").click()
    assert page.get_by_role("alert").inner_text() == "Tên đăng nhập hoặc mật khẩu không đúng."
    page.context.close()


@pytest.mark.parametrize(("label", "viewport"), [("desktop", DESKTOP), ("phone", PHONE)])
def test_admin_pages(
    browser: Any,
    embedded_server: dict[str, Any],
    shots: Path,
    page_errors: list[str],
    label: str,
    viewport: dict[str, int],
) -> None:
    page = new_page(browser, viewport, page_errors)
    page.goto(embedded_server["base"] + "/login")
    page.get_by_label("Tên đăng nhập").fill("admin")
    page.get_by_label("Mật khẩu").fill(EMBEDDED_PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(embedded_server["base"] + "/")
    page.screenshot(path=str(shots / f"home-admin-{label}.png"), full_page=True)
    page.goto(embedded_server["base"] + "/admin")
    assert page.get_by_text("Ủy ban Mặt trận Tổ quốc Việt Nam phường Demo").is_visible()
    page.screenshot(path=str(shots / f"admin-orgs-{label}.png"), full_page=True)
    page.get_by_role("link", name="Ủy ban Trung ương Mặt trận Tổ quốc Việt Nam").first.click()
    page.get_by_role("heading", name="Ủy ban Trung ương Mặt trận Tổ quốc Việt Nam").wait_for()
    page.screenshot(path=str(shots / f"admin-org-{label}.png"), full_page=True)
    page.goto(embedded_server["base"] + "/admin/holidays?year=2026")
    assert page.get_by_text("Tết Nguyên đán Bính Ngọ").first.is_visible()
    page.screenshot(path=str(shots / f"holidays-{label}.png"), full_page=True)
    assert page_errors == []
    page.context.close()
