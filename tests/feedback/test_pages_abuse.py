"""The public pages (no sign-in, no script, small), hostile input (a script tag, oversized and
fake photos, a flood from one client and from one phone number), the officers' pages, the QR
poster decoded back to its address, the monthly results and the quarterly XLSX."""

from __future__ import annotations

import io
import re
import subprocess
from pathlib import Path
from typing import Any

import zxingcpp
from openpyxl import load_workbook
from PIL import Image
from sqlalchemy import func, select

from docflow.models import FeedbackFile, FeedbackItem
from tests.app.test_pages import csrf_of, login
from tests.conftest import Demo
from tests.feedback.conftest import PUBLIC_URL, SECRET_NAME, SECRET_PHONE, WARD, photo

SCRIPT = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def _items(demo: Demo) -> tuple[int, int]:
    with demo.factory() as s:
        return (
            s.scalar(select(func.count()).select_from(FeedbackItem)) or 0,
            s.scalar(select(func.count()).select_from(FeedbackFile)) or 0,
        )


def test_public_form_is_light_and_needs_no_script(client: Any) -> None:
    r = client.get(f"/gop-y/{WARD}")
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "<script" not in html and "bootstrap" not in html
    assert len(r.data) < 8 * 1024, len(r.data)  # plus one cached 2 KB stylesheet
    assert 'name="website"' in html and 'enctype="multipart/form-data"' in html
    assert client.get("/static/gopy.css").status_code == 200
    assert client.get("/gop-y/999.99.99.Z99").status_code == 404


def test_script_tag_is_text_everywhere(demo: Demo, client: Any, submit: Any, api: Any) -> None:
    r = client.post(
        f"/gop-y/{WARD}",
        data={
            "category": "Khác",
            "content": f"Phản ánh có mã độc {SCRIPT} ở cuối",
            "name": SCRIPT,
            "consent": "1",
        },
        content_type="multipart/form-data",
    )
    assert r.status_code == 303
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    code = re.search(r'class="code">([A-Z0-9-]+)<', page).group(1)  # type: ignore[union-attr]
    with demo.factory() as s:
        item = s.scalars(select(FeedbackItem).where(FeedbackItem.tracking_code == code)).one()
    officer = client.application.test_client()
    login(officer, "lanhdao.phuong")
    html = officer.get(f"/feedback/{item.id}").get_data(as_text=True)
    assert "&lt;script&gt;alert(" in html and SCRIPT not in html
    assert "<img src=x" not in html
    listing = officer.get("/feedback?box=all").get_data(as_text=True)
    assert "&lt;script&gt;" in listing and SCRIPT not in listing
    # The API returns it as the JSON string it is.
    one = client.get(f"/api/v1/feedback/{item.id}", headers=api("lanhdao.phuong")).json
    assert SCRIPT in one["content"]


def test_sent_form_redirects_so_a_reload_does_not_send_again(demo: Demo, client: Any) -> None:
    """Post/Redirect/Get: the POST answers 303 to a result page carrying the tracking code;
    loading that page again (a reload, the back button) reads and stores nothing."""
    before = _items(demo)
    r = client.post(
        f"/gop-y/{WARD}",
        data={
            "category": "Khác",
            "content": "Đèn chiếu sáng ngõ 7 hỏng đã hai tuần.",
            "phone": SECRET_PHONE,
            "consent": "1",
        },
        content_type="multipart/form-data",
    )
    assert r.status_code == 303
    location = r.headers["Location"]
    assert f"/gop-y/{WARD}/da-gui?ma=PA-" in location
    code = location.rsplit("ma=", 1)[1]
    assert _items(demo) == (before[0] + 1, before[1])
    pages = [client.get(location) for _ in range(3)]  # the citizen reloads twice
    assert [p.status_code for p in pages] == [200] * 3
    html = pages[-1].get_data(as_text=True)
    assert f'class="code">{code}<' in html and "Hạn trả lời dự kiến" in html
    assert SECRET_PHONE not in html and "<script" not in html
    assert _items(demo) == (before[0] + 1, before[1])  # still one item, nothing quarantined twice
    with demo.factory() as s:
        assert (
            s.scalars(
                select(FeedbackItem.quarantine_reason).where(FeedbackItem.tracking_code == code)
            ).one()
            is None
        )
    # A made-up code or mailbox shows the plain "not found" page.
    assert client.get(f"/gop-y/{WARD}/da-gui?ma=PA-ZZZZ-ZZZZ").status_code == 404
    assert client.get(f"/gop-y/999.99.99.Z99/da-gui?ma={code}").status_code == 404


def test_oversized_or_fake_photo_is_refused_and_nothing_stored(demo: Demo, submit: Any) -> None:
    before = _items(demo), demo.objects_in_use()
    big = io.BytesIO()
    Image.frombytes("RGB", (2200, 1700), bytes(2200 * 1700 * 3)).save(big, "BMP")
    huge_png = photo() + b"\0" * (11 * 1024 * 1024)
    r = submit(files=[(photo(), "ok.png"), (huge_png, "to.png")])
    assert r.status_code == 413 and r.json["error"]["code"] == "file_too_large"
    r = submit(files=[(b"MZ\x90\x00 not an image at all", "anh.jpg")])
    assert r.status_code == 415
    r = submit(files=[(big.getvalue()[:200000], "anh.bmp")])
    assert r.status_code == 415
    r = submit(files=[(photo(), f"a{i}.png") for i in range(6)])
    assert r.status_code == 422 and "files" in r.json["error"]["details"]["fields"]
    r = submit(consent=False)
    assert r.status_code == 422 and "consent" in r.json["error"]["details"]["fields"]
    r = submit(category="Không có trong danh sách")
    assert r.status_code == 422
    assert (_items(demo), demo.objects_in_use()) == before


def test_flood_from_one_client_is_limited(demo: Demo, client: Any, submit: Any) -> None:
    codes = []
    for i in range(100):
        r = submit(content=f"Phản ánh số {i}: đường ngõ {i} bị ngập sau mưa.", phone=None)
        codes.append(r.status_code)
    assert codes[:10] == [201] * 10
    assert set(codes[10:]) == {429}
    assert _items(demo)[0] == 10
    r = submit(content="Thêm một lần nữa cho chắc chắn.", phone=None)
    assert int(r.headers["Retry-After"]) > 0
    # The page shares the limit, and says so in plain words.
    page = client.post(
        f"/gop-y/{WARD}",
        data={"content": "Gửi qua trang web lần nữa.", "consent": "1"},
        content_type="multipart/form-data",
    )
    assert page.status_code == 429 and int(page.headers["Retry-After"]) > 0
    assert "quá nhiều yêu cầu" in page.get_data(as_text=True)
    assert _items(demo)[0] == 10


def test_flood_from_one_phone_is_limited(demo: Demo, client: Any, submit: Any) -> None:
    statuses = [
        submit(content=f"Ý kiến thứ {i} về chợ tạm lấn chiếm vỉa hè.").status_code for i in range(6)
    ]
    assert statuses == [201] * 5 + [429]
    assert _items(demo)[0] == 5


def test_tracking_page_and_monthly_results(
    demo: Demo, client: Any, submit: Any, act: Any, clock: Any
) -> None:
    code = submit().json["tracking_code"]
    with demo.factory() as s:
        item_id = s.scalars(select(FeedbackItem.id).where(FeedbackItem.tracking_code == code)).one()
    act("lanhdao.phuong", str(item_id), "accept")
    act("lanhdao.phuong", str(item_id), "answer", text="Đã thu gom <b>xong</b>.")
    html = client.get(f"/gop-y/tra-cuu?ma={code.lower()}").get_data(as_text=True)
    assert "Đã trả lời" in html and "Đã thu gom &lt;b&gt;xong&lt;/b&gt;." in html
    assert SECRET_NAME not in html and SECRET_PHONE not in html
    assert client.get("/gop-y/tra-cuu?ma=PA-ZZZZ-ZZZZ").status_code == 404
    results = client.get(f"/gop-y/{WARD}/ket-qua?thang=2026-11")
    text = results.get_data(as_text=True)  # counted to the end of yesterday: not yet
    assert results.status_code == 200 and "Môi trường, vệ sinh" not in text
    clock.advance(days=1)
    results = client.get(f"/gop-y/{WARD}/ket-qua?thang=2026-11")
    text = results.get_data(as_text=True)
    assert results.status_code == 200 and "Môi trường, vệ sinh" in text
    assert "Số liệu đến hết ngày 23/11/2026" in text
    assert SECRET_NAME not in text


def test_poster_qr_decodes_to_the_public_address(demo: Demo, client: Any, tmp_path: Path) -> None:
    officer = client.application.test_client()
    login(officer, "lanhdao.phuong")
    # The village list first: each village gets its own poster and address.
    page = officer.get("/feedback/mailbox").get_data(as_text=True)
    r = officer.post(
        "/feedback/mailbox",
        data={
            "csrf_token": csrf_of(page),
            "categories": "Đất đai, xây dựng\nMôi trường, vệ sinh\nKhác",
            "places": "Tổ dân phố số 1\nTổ dân phố số 2",
            "retention_days": "365",
            "enabled": "1",
        },
    )
    assert r.status_code == 302
    for query, url in [
        ("", f"{PUBLIC_URL}/gop-y/{WARD}"),
        ("?noi=to-dan-pho-so-2", f"{PUBLIC_URL}/gop-y/{WARD}/to-dan-pho-so-2"),
    ]:
        r = officer.get("/feedback/poster.pdf" + query)
        assert r.status_code == 200 and r.mimetype == "application/pdf"
        pdf = tmp_path / "poster.pdf"
        pdf.write_bytes(r.data)
        subprocess.run(
            ["pdftoppm", "-r", "100", "-png", "-singlefile", str(pdf), str(tmp_path / "p")],
            check=True,
        )
        image = Image.open(tmp_path / "p.png")
        assert image.size[1] > image.size[0]  # A4 portrait
        decoded = [b.text for b in zxingcpp.read_barcodes(image)]
        assert decoded == [url]
    # The village's page preselects it; an unknown village is 404.
    html = client.get(f"/gop-y/{WARD}/to-dan-pho-so-2").get_data(as_text=True)
    assert "<option selected>Tổ dân phố số 2</option>" in html
    assert client.get(f"/gop-y/{WARD}/khong-co").status_code == 404
    # A clerk may not print posters.
    clerk = client.application.test_client()
    login(clerk, "vanthu.phuong")
    assert clerk.get("/feedback/poster.pdf").status_code == 403


def test_quarterly_xlsx_has_no_personal_data(
    demo: Demo, client: Any, submit: Any, api: Any
) -> None:
    submit()
    submit(content="Đề nghị lắp thêm đèn chiếu sáng ở tổ 2.", category="Khác", phone="0987000111")
    r = client.get(
        "/api/v1/feedback/statistics?year=2026&quarter=4&format=xlsx",
        headers=api("vanthu.phuong"),
    )
    assert r.status_code == 200
    wb = load_workbook(io.BytesIO(r.data))
    cells = [str(c) for ws in wb for row in ws.iter_rows(values_only=True) for c in row if c]
    assert "Tiếp nhận" in cells and "2" in cells
    assert not any(SECRET_NAME in c or SECRET_PHONE in c for c in cells)
    assert (
        client.get(
            "/api/v1/feedback/statistics?year=2026&quarter=5", headers=api("vanthu.phuong")
        ).status_code
        == 422
    )
