"""The whole outgoing path in headless Chromium with the demo accounts (embedded profile: SQLite,
the background worker converting with LibreOffice), screenshots of each page at desktop and
phone width (var/screenshots/outgoing-*.png), and the issued PDF rendered to an image."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.browser.conftest import DESKTOP, PHONE, new_page
from tests.conftest import EMBEDDED_PASSWORD

pytestmark = pytest.mark.browser

SUBJECT = "Giám sát việc thực hiện chính sách an sinh xã hội năm 2026"
BODY = (
    "Thực hiện Chương trình phối hợp giám sát năm 2026, Ban Thường trực đề nghị Ủy ban Mặt trận "
    "Tổ quốc Việt Nam tỉnh Demo tổ chức giám sát việc thực hiện chính sách an sinh xã hội.\n"
    "Báo cáo kết quả gửi về Ban Dân chủ, Giám sát và Phản biện xã hội trước ngày 15 tháng 12."
)
CHANGE = "Bổ sung thời hạn báo cáo và đầu mối liên hệ."


def _login(
    browser: Any, base: str, username: str, viewport: dict[str, int], errors: list[str]
) -> Any:
    page = new_page(browser, viewport, errors)
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.goto(base + "/login")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(EMBEDDED_PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(base + "/")
    return page


def _shot(page: Any, shots: Path, name: str, label: str = "desktop") -> Path:
    path = shots / f"outgoing-{name}-{label}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def _wait_converted(page: Any) -> None:
    """The page reloads itself while LibreOffice converts; wait for the page images (a failed
    conversion ends the wait at once, with the reason the page gives)."""
    failed = page.locator(".alert-danger", has_text="không chuyển được sang PDF")
    page.locator(".dhtn-pages img").first.or_(failed).wait_for(state="visible")
    assert not failed.is_visible(), failed.inner_text()
    page.wait_for_function(
        "() => [...document.querySelectorAll('.dhtn-pages img')].every(i => i.complete && i.naturalWidth > 0)",
    )


def _open_from_box(page: Any, base: str, box_path: str) -> None:
    page.goto(base + box_path)
    page.get_by_text(SUBJECT).first.click()
    page.wait_for_url("**/outgoing/*")


def test_draft_review_sign_issue_dispatch_register(
    browser: Any,
    embedded_server: dict[str, Any],
    shots: Path,
    page_errors: list[str],
    tmp_path: Path,
) -> None:
    base = embedded_server["base"]

    # 1. The specialist drafts from the template and sends it to the unit head.
    spec = _login(browser, base, "chuyenvien.dcgs", DESKTOP, page_errors)
    spec.goto(base + "/outgoing/new")
    spec.get_by_label("Loại văn bản").select_option("KH")
    spec.get_by_label("Trích yếu").fill(SUBJECT)
    spec.get_by_label("Nội dung").fill(BODY)
    spec.get_by_label("Người ký").select_option(label="Lê Văn Minh — Phó Chủ tịch")
    spec.get_by_label("Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh Demo").check()
    _shot(spec, shots, "1-draft-form")
    spec.get_by_role("button", name="Tạo dự thảo").click()
    spec.get_by_text("Đã tạo dự thảo.").wait_for()
    _wait_converted(spec)
    _shot(spec, shots, "2-draft")
    spec.get_by_label("Trình cho").select_option(label="Phạm Thị Hạnh — Trưởng ban")
    spec.get_by_placeholder("Ý kiến khi trình (nếu có)").fill("Kính trình chị xem xét.")
    spec.get_by_role("button", name="Trình", exact=True).click()
    spec.get_by_text("Đã thực hiện: Trình duyệt.").wait_for()

    # 2. The unit head asks for a change.
    head = _login(browser, base, "truongban.dcgs", DESKTOP, page_errors)
    head.goto(base + "/outgoing?box=inbox")
    _shot(head, shots, "3-review-box")
    head.get_by_text(SUBJECT).first.click()
    head.get_by_label("Nội dung cần sửa").fill(CHANGE)
    head.get_by_role("button", name="Yêu cầu chỉnh sửa").click()
    head.get_by_text("Đã thực hiện: Yêu cầu chỉnh sửa.").wait_for()

    # 3. The specialist writes version 2 and sends it to the leader who signs.
    _open_from_box(spec, base, "/outgoing?box=inbox")
    spec.get_by_text(CHANGE).first.wait_for()
    body = spec.get_by_label("Nội dung (theo mẫu)")
    body.fill(
        BODY
        + "\nĐầu mối liên hệ: Ban Dân chủ, Giám sát và Phản biện xã hội, trước ngày 15 tháng 12."
    )
    spec.get_by_placeholder("Đã sửa gì (ghi chú cho người duyệt)").fill(
        "Đã bổ sung theo ý kiến chị Hạnh."
    )
    spec.get_by_role("button", name="Lưu bản mới").click()
    spec.get_by_text("Đã lưu bản dự thảo 2.").wait_for()
    _wait_converted(spec)
    spec.get_by_label("Trình cho").select_option(label="Lê Văn Minh — Phó Chủ tịch (người ký)")
    _shot(spec, shots, "4-version-2-thread")
    spec.get_by_role("button", name="Trình", exact=True).click()
    spec.get_by_text("Đã thực hiện: Trình duyệt.").wait_for()
    rows = spec.locator(".dhtn-versions tbody tr")
    # The flash message comes first in the page: wait for the table to be parsed as well.
    rows.nth(1).wait_for()
    assert rows.count() == 2
    assert "Phạm Thị Hạnh" in rows.nth(1).inner_text()  # she saw version 1

    leader = _login(browser, base, "lanhdao.tw", DESKTOP, page_errors)
    _open_from_box(leader, base, "/outgoing?box=inbox")
    leader.get_by_role("link", name="Mở màn hình ký").click()
    leader.locator("img.dhtn-page").wait_for()
    leader.wait_for_function("() => document.querySelector('img.dhtn-page').naturalWidth > 0")
    _shot(leader, shots, "5-signing-screen")
    leader.get_by_role("button", name="Ký số").click()
    leader.get_by_text("Đã thực hiện: Ký số.").wait_for()

    # 4. The clerk issues (number, date, seal) and dispatches to the province.
    clerk = _login(browser, base, "vanthu.tw", DESKTOP, page_errors)
    _open_from_box(clerk, base, "/outgoing?box=inbox")
    clerk.get_by_role("link", name="Mở màn hình phát hành").click()
    clerk.locator("img.dhtn-page").wait_for()
    expected = clerk.locator(".dhtn-next-number").inner_text()
    assert expected.endswith("/KH-MTTW-DCGSPBXH"), expected
    _shot(clerk, shots, "6-issue-screen")
    clerk.get_by_role("button", name="Cấp số và ký phát hành").click()
    clerk.get_by_text("Đã thực hiện: Cấp số và ký phát hành.").wait_for()
    clerk.wait_for_function(
        "() => [...document.querySelectorAll('img.dhtn-page')].every(i => i.complete && i.naturalWidth > 0)"
    )
    _shot(clerk, shots, "7-issued")
    clerk.get_by_role("button", name="Phát hành").click()
    clerk.get_by_text("Đã thực hiện: Phát hành.").wait_for()
    _shot(clerk, shots, "8-deliveries-sent")

    # 5. The province's clerk sees it arrive and registers it.
    province = _login(browser, base, "vanthu.tinh", DESKTOP, page_errors)
    deadline = time.monotonic() + 60
    while True:
        province.goto(base + "/documents?box=inbox")
        if province.get_by_text(expected).count():
            break
        assert time.monotonic() < deadline, "the dispatched document never arrived"
        time.sleep(1)
    _shot(province, shots, "9-province-inbox")
    province.get_by_text(expected).first.click()
    province.get_by_role("button", name="Vào sổ").click()
    province.get_by_text("Đã vào sổ").first.wait_for()
    _shot(province, shots, "10-province-registered")

    # 6. The sender's deliveries show 03.
    deadline = time.monotonic() + 60
    while True:
        clerk.reload()
        if (
            clerk.locator(".dhtn-deliveries tbody tr")
            .first.locator(".dhtn-code", has_text="03")
            .count()
        ):
            break
        assert time.monotonic() < deadline, "status 03 never came back"
        time.sleep(1)
    assert "Đã tiếp nhận" in clerk.locator(".dhtn-deliveries tbody tr").first.inner_text()
    _shot(clerk, shots, "11-deliveries-registered")

    # 7. The trail, printable; phone views of the key pages.
    doc_url = clerk.url.replace("/deliveries", "")
    clerk.goto(doc_url + "/print")
    text = clerk.locator("body").inner_text()
    for who in ("Đỗ Quang Huy", "Phạm Thị Hạnh", "Lê Văn Minh", "Trần Thị Thu"):
        assert who in text
    _shot(clerk, shots, "12-trail-print")
    phone = _login(browser, base, "vanthu.tw", PHONE, page_errors)
    for name, url in [
        ("list", "/outgoing?box=done"),
        ("document", doc_url),
        ("deliveries", doc_url + "/deliveries"),
    ]:
        phone.goto(url if url.startswith("http") else base + url)
        phone.wait_for_load_state("networkidle")
        _shot(phone, shots, f"13-{name}", "phone")

    # 8. The issued PDF itself: verified, and rendered for people to look at.
    cookies = {c["name"]: c["value"] for c in clerk.context.cookies()}
    clerk.goto(doc_url)
    href = clerk.get_by_role("link", name="Mở tệp PDF").get_attribute("href")
    pdf = requests.get(base + href, cookies=cookies, timeout=30).content
    assert pdf.startswith(b"%PDF")
    report = requests.post(
        base + "/api/v1/verifications",
        files={"file": ("vb.pdf", pdf, "application/pdf")},
        timeout=60,
    ).json()
    assert report["summary"] == "valid", report
    assert [s["modifications"] for s in report["signatures"]] == ["form_filling", "none"]
    out = shots / "outgoing-issued-pdf"
    (tmp_path / "issued.pdf").write_bytes(pdf)
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            "100",
            "-png",
            "-singlefile",
            "-f",
            "1",
            "-l",
            "1",
            str(tmp_path / "issued.pdf"),
            str(out),
        ],
        check=True,
        timeout=60,
    )

    # 9. A correction (Decree 30 Art. 10(3)), started from the issued plan's page: the form
    # comes filled in from it (a công văn, its recipients); the draft names the plan, and the
    # plan names the correction being drafted. On a phone too.
    spec.goto(doc_url)
    spec.get_by_role("link", name="Soạn công văn đính chính").click()
    spec.wait_for_url("**/outgoing/new?**")
    assert spec.locator("#replacing").count() == 1
    assert spec.get_by_label("Loại văn bản").input_value() == "CV"
    assert spec.get_by_label("Trích yếu").input_value().startswith("V/v đính chính kế hoạch số")
    spec.get_by_label("Nội dung").fill("Đính chính thời hạn báo cáo tại đoạn 2: ngày 15 tháng 12.")
    _shot(spec, shots, "14-correction-form")
    spec.get_by_role("button", name="Tạo dự thảo").click()
    spec.wait_for_url("**/outgoing/*")
    spec.locator("#replaces").wait_for()
    assert "Đính chính văn bản" in spec.locator("#replaces").inner_text()
    _shot(spec, shots, "15-correction-draft")
    spec.goto(doc_url)
    assert "Đang soạn công văn đính chính" in spec.locator("#replaced-by").inner_text()
    writer = _login(browser, base, "chuyenvien.dcgs", PHONE, page_errors)
    writer.goto(doc_url)
    writer.get_by_role("link", name="Soạn văn bản thay thế").click()
    writer.wait_for_url("**/outgoing/new?**")
    assert (
        "Ban Dân chủ, Giám sát và Phản biện xã hội" in writer.get_by_label("Nội dung").input_value()
    )
    width = writer.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1, f"the form scrolls sideways ({width}px)"
    _shot(writer, shots, "16-replacement-form", "phone")

    assert page_errors == [], page_errors
    for p in (spec, head, leader, clerk, province, phone, writer):
        p.context.close()


def test_a_docx_libreoffice_cannot_convert_shows_a_clear_error(
    browser: Any,
    embedded_server: dict[str, Any],
    shots: Path,
    page_errors: list[str],
    tmp_path: Path,
) -> None:
    from tests.outgoing.test_drafts import broken_docx

    base = embedded_server["base"]
    broken = tmp_path / "Công văn hỏng.docx"
    broken.write_bytes(broken_docx())
    spec = _login(browser, base, "chuyenvien.dcgs", DESKTOP, page_errors)
    spec.goto(base + "/outgoing/new")
    spec.get_by_text("Tải lên tệp DOCX/PDF").click()
    spec.get_by_label("Loại văn bản").select_option("CV")
    spec.get_by_label("Trích yếu").fill("Đề nghị cung cấp số liệu giám sát")
    spec.locator("#files").set_input_files(str(broken))
    spec.get_by_role("button", name="Tạo dự thảo").click()
    spec.get_by_text("Đã tạo dự thảo.").wait_for()
    alert = spec.locator(".alert-danger", has_text="không chuyển được sang PDF")
    alert.wait_for()  # the page reloads itself until the worker has tried
    assert "LibreOffice không mở được «Công văn hỏng.docx»" in alert.inner_text()
    _shot(spec, shots, "14-conversion-failed")
    assert page_errors == [], page_errors
    spec.context.close()
