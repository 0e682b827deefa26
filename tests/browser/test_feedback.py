"""Citizen feedback through the real pages in headless Chromium at phone width, on the embedded
profile: a citizen opens the ward's mailbox, sends a reflection with a photo and a script tag in
it, and gets a tracking code; the ward's leader finds it in the box, classifies and answers it;
the citizen looks the answer up. Screenshots land in var/screenshots/feedback-*.png."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.browser.conftest import PHONE, new_page
from tests.browser.test_tasks import _login

pytestmark = pytest.mark.browser

CONTENT = "Cống thoát nước ngõ 4 bị tắc <script>alert(1)</script> gây ngập khi mưa."


def test_citizen_sends_and_officer_answers_on_a_phone(
    browser: Any, embedded_server: dict[str, Any], shots: Path, tmp_path: Path
) -> None:
    base = embedded_server["base"]
    errors: list[str] = []
    officer = _login(browser, base, "lanhdao.phuong", PHONE, errors)
    officer.goto(base + "/feedback/mailbox")
    link = officer.locator("a[href*='/gop-y/']").first.get_attribute("href")
    assert link
    code = link.rstrip("/").rsplit("/", 1)[-1]

    citizen = new_page(browser, PHONE, errors)
    citizen.goto(f"{base}/gop-y/{code}")
    citizen.screenshot(path=str(shots / "feedback-public-phone.png"), full_page=True)
    citizen.get_by_label("Lĩnh vực").select_option("Môi trường, vệ sinh")
    citizen.get_by_label(re.compile("^Nội dung")).fill(CONTENT)
    pic = tmp_path / "cong.png"
    buf = io.BytesIO()
    Image.new("RGB", (320, 240), (90, 120, 160)).save(buf, "PNG")
    pic.write_bytes(buf.getvalue())
    citizen.get_by_label(re.compile("^Ảnh hoặc tệp")).set_input_files(str(pic))
    citizen.get_by_label("Số điện thoại").fill("0912 345 678")
    citizen.get_by_label(re.compile("Tôi đồng ý")).check()
    citizen.get_by_role("button", name="Gửi ý kiến").click()
    tracking = citizen.locator(".code").inner_text().strip()
    assert re.fullmatch(r"PA-[A-Z0-9]{4}-[A-Z0-9]{4}", tracking)
    citizen.screenshot(path=str(shots / "feedback-public-done-phone.png"), full_page=True)

    officer.goto(base + "/feedback")
    officer.get_by_role("link", name=re.compile(tracking)).click()
    assert "<script>alert(1)</script>" in officer.locator(".dhtn-prewrap").first.inner_text()
    assert officer.get_by_text("0912345678").count() == 1
    officer.get_by_label("Mức độ").select_option("complex")
    officer.get_by_role("button", name="Phân loại").click()
    officer.get_by_label(re.compile("Nội dung trả lời")).fill(
        "UBND phường đã cử tổ công tác nạo vét cống ngõ 4."
    )
    officer.get_by_role("button", name="Trả lời người phản ánh").click()
    officer.get_by_text("Đã trả lời").first.wait_for()
    officer.screenshot(path=str(shots / "feedback-officer-phone.png"), full_page=True)

    citizen.goto(f"{base}/gop-y/tra-cuu?ma={tracking}")
    body = citizen.locator("main").inner_text()
    assert "nạo vét cống ngõ 4" in body and "Đã trả lời" in body
    assert "0912345678" not in citizen.content()
    citizen.screenshot(path=str(shots / "feedback-track-phone.png"), full_page=True)

    # The month's public results: counted to the end of yesterday (today's items count
    # tomorrow, so a sender cannot read whether theirs was set aside), and the page says so.
    citizen.goto(f"{base}/gop-y/{code}/ket-qua")
    body = citizen.locator("main").inner_text()
    assert "Số liệu đến hết ngày" in body and "được tính từ ngày mai" in body, body
    citizen.screenshot(path=str(shots / "feedback-results-phone.png"), full_page=True)

    # A paper letter from the backup mailbox, typed in by the officer: a phone number the
    # rules refuse keeps everything else typed and says what is wrong, under the field.
    officer.goto(base + "/feedback/new")
    officer.get_by_label("Ngày nhận thư").fill("2026-12-01")
    officer.get_by_label("Lĩnh vực").select_option("Đất đai, xây dựng")
    officer.get_by_label(re.compile("^Nội dung")).fill(
        "Đề nghị cắm mốc lại ranh giới thửa đất số 12."
    )
    officer.get_by_label("Họ tên người gửi").fill("Nguyễn Thị Hoa")
    officer.get_by_label("Điện thoại").fill("091 234")
    officer.get_by_label("Địa chỉ").fill("Số 5, ngõ 4, tổ dân phố 2")
    officer.get_by_role("button", name="Vào sổ").click()
    officer.locator("#p-phone-err").wait_for()
    assert officer.get_by_label("Lĩnh vực").input_value() == "Đất đai, xây dựng"
    assert officer.get_by_label("Họ tên người gửi").input_value() == "Nguyễn Thị Hoa"
    assert officer.get_by_label("Địa chỉ").input_value() == "Số 5, ngõ 4, tổ dân phố 2"
    assert officer.get_by_label("Ngày nhận thư").input_value() == "2026-12-01"
    officer.screenshot(path=str(shots / "feedback-paper-refused-phone.png"), full_page=True)
    officer.get_by_label("Điện thoại").fill("0912 345 679")
    officer.get_by_role("button", name="Vào sổ").click()
    officer.get_by_text(re.compile("Đã vào sổ thư giấy, mã theo dõi PA-")).wait_for()
    # The refused form's answer is a 422 (Chromium logs the status); nothing else may complain.
    assert [e for e in errors if "status of 422" not in e] == []
