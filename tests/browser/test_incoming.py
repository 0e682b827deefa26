"""The whole incoming path in headless Chromium with the demo accounts, screenshots of each page
at desktop and phone width (var/screenshots/incoming-*.png)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import DESKTOP, PHONE, new_page
from tests.conftest import EMBEDDED_PASSWORD
from tests.search.files import text_pdf

pytestmark = pytest.mark.browser


def _login(
    browser: Any, base: str, username: str, viewport: dict[str, int], errors: list[str]
) -> Any:
    page = new_page(browser, viewport, errors)
    page.goto(base + "/login")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(EMBEDDED_PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(base + "/")
    return page


def _shot(page: Any, shots: Path, name: str, label: str) -> None:
    page.screenshot(path=str(shots / f"incoming-{name}-{label}.png"), full_page=True)


@pytest.mark.parametrize(("label", "viewport"), [("desktop", DESKTOP), ("phone", PHONE)])
def test_register_direct_pass_on_complete(
    browser: Any,
    embedded_server: dict[str, Any],
    shots: Path,
    page_errors: list[str],
    tmp_path: Path,
    label: str,
    viewport: dict[str, int],
) -> None:
    base = embedded_server["base"]
    notation = f"{'17' if label == 'desktop' else '18'}/KH-MTTQ-BTT"
    pdf = tmp_path / "Kế hoạch giám sát.pdf"
    pdf.write_bytes(text_pdf(pages=2))  # text, so that a person sees the page images read well

    # 1. The clerk registers the PDF and presents it to the leader.
    clerk = _login(browser, base, "vanthu.tw", viewport, page_errors)
    asked: list[str] = []  # the page images the browser asked for
    clerk.on("request", lambda r: asked.append(r.url) if r.url.endswith(".png") else None)
    clerk.goto(base + "/incoming/new")
    _shot(clerk, shots, "1-register-empty", label)
    clerk.get_by_label("Số, ký hiệu").fill(notation)
    clerk.get_by_label("Loại văn bản").select_option("KH")
    clerk.get_by_label("Trích yếu").fill(
        "Kế hoạch giám sát việc thực hiện chính sách an sinh xã hội năm 2026"
    )
    clerk.get_by_label("Cơ quan ban hành / nơi gửi").fill("Ủy ban MTTQ Việt Nam tỉnh Demo")
    clerk.get_by_label("Ngày văn bản").fill("2026-11-20")
    clerk.get_by_label("Độ khẩn").select_option("urgent")
    clerk.get_by_label("Số trang").fill("2")  # until the worker has read it, the page uses this
    clerk.locator("#files").set_input_files(str(pdf))
    clerk.locator(".dhtn-preview").wait_for(state="visible")
    _shot(clerk, shots, "2-register-filled", label)
    clerk.get_by_role("button", name="Vào sổ", exact=True).click()
    clerk.get_by_text("Đã vào sổ: số đến").wait_for()
    _shot(clerk, shots, "3-registered", label)
    # The document's PDF: page images on a phone (its browser shows a framed PDF empty or as
    # one unscrollable page), the browser's own viewer in a frame on a desktop, and the link
    # to the file on both.
    shown = clerk.locator("#document-pdf")
    assert shown.get_by_role("link", name="Mở tệp PDF").is_visible()
    pages = shown.locator("img.dhtn-page")
    assert pages.count() == 2
    if label == "phone":
        assert shown.locator("iframe").is_hidden()
        pages.first.scroll_into_view_if_needed()
        pages.first.wait_for(state="visible")
        clerk.wait_for_function(
            "() => { const i = document.querySelector('#document-pdf img.dhtn-page');"
            " return i.complete && i.naturalWidth > 0; }"
        )
        width = pages.first.evaluate("i => [i.naturalWidth, i.getBoundingClientRect().width]")
        assert width[0] > 300 and width[1] > 300, width  # drawn across the phone's width
        clerk.screenshot(path=str(shots / "incoming-3-pdf-pages-phone.png"))
    else:
        assert shown.locator("iframe").is_visible() and pages.first.is_hidden()
        # Hidden and lazy: a desktop does not make the server draw pages nobody sees.
        assert not [u for u in asked if "/pages/" in u], asked
    clerk.locator("select[name=to_user_id]").select_option(label="Lê Văn Minh — Phó Chủ tịch")
    clerk.get_by_role("button", name="Trình", exact=True).click()
    clerk.get_by_text("Đã thực hiện: Trình lãnh đạo.").wait_for()
    _shot(clerk, shots, "4-clerk-box", label)

    # 2. The leader directs: DCGSPBXH leads, TG co-operates, 5 working days.
    leader = _login(browser, base, "lanhdao.tw", viewport, page_errors)
    leader.goto(base + "/documents?box=inbox")
    _shot(leader, shots, "5-leader-inbox", label)
    leader.get_by_text(notation).click()
    leader.locator("#assign-lead").select_option(label="Ban Dân chủ, Giám sát và Phản biện xã hội")
    leader.get_by_label("Ban Tuyên giáo").first.check()
    leader.get_by_label("hoặc số ngày làm việc").fill("5")
    leader.get_by_placeholder("Ý kiến chỉ đạo").fill(
        "Giao Ban DCGSPBXH chủ trì, Ban Tuyên giáo phối hợp."
    )
    _shot(leader, shots, "6-leader-assign", label)
    leader.get_by_role("button", name="Giao xử lý").click()
    leader.get_by_text("Đã thực hiện: Giao xử lý.").wait_for()

    # 3. The unit head passes it to the specialist of the unit.
    head = _login(browser, base, "truongban.dcgs", viewport, page_errors)
    head.goto(base + "/documents?box=inbox")
    head.get_by_text(notation).click()
    head.locator("#assign-lead").select_option(label="Đỗ Quang Huy — Chuyên viên")
    _shot(head, shots, "7-unit-head", label)
    head.get_by_role("button", name="Giao xử lý").click()
    head.get_by_text("Đã thực hiện: Giao xử lý.").wait_for()

    # 4. The specialist completes it.
    spec = _login(browser, base, "chuyenvien.dcgs", viewport, page_errors)
    spec.goto(base + "/documents?box=inbox")
    _shot(spec, shots, "8-specialist-inbox", label)
    spec.get_by_text(notation).click()
    spec.get_by_label("Kết quả xử lý").fill("Đã xây dựng kế hoạch giám sát, trình lãnh đạo Ban.")
    spec.get_by_role("button", name="Hoàn thành").click()
    spec.get_by_text("Đã thực hiện: Hoàn thành.").wait_for()

    # 5. The trail shows every step, to the leader.
    leader.reload()
    trail = leader.locator(".dhtn-trail tbody tr")
    assert trail.count() == 5
    text = trail.all_inner_texts()
    for who, what in [
        ("Trần Thị Thu", "Vào sổ"),
        ("Trần Thị Thu", "Trình lãnh đạo"),
        ("Lê Văn Minh", "Giao xử lý"),
        ("Phạm Thị Hạnh", "Giao xử lý"),
        ("Đỗ Quang Huy", "Hoàn thành"),
    ]:
        assert any(who in row and what in row for row in text), (who, what, text)
    assert leader.get_by_text("Hoàn thành").first.is_visible()
    _shot(leader, shots, "9-done-trail", label)
    assert page_errors == []
    for p in (clerk, leader, head, spec):
        p.context.close()
