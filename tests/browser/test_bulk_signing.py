"""The leader signs several drafts at once from a phone (390×844), remotely through our own CSC
server: ``dhtn run`` on PostgreSQL with DHTN_CSC_* pointing at the CSC server, which holds the
leader's key (read from the demo PKI the server generated). One draft is sent back for changes
while the page is open, so it fails and the others are signed. Screenshots in
var/screenshots/bulk-sign-*.png."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives.serialization import Encoding

from tests.browser.conftest import PHONE, new_page
from tests.conftest import fresh_pg_database
from tests.signing.conftest import serve
from tests.signing.csc_server import CscServer

pytestmark = [pytest.mark.browser, pytest.mark.pg]

PASSWORD = "bulk-page-password"
OTP = "48151623"
BODY = (
    "Ban Thường trực đề nghị Ủy ban Mặt trận Tổ quốc Việt Nam các tỉnh, thành phố báo cáo kết "
    "quả giám sát việc thực hiện chính sách an sinh xã hội trước ngày 15 tháng 12."
)
SUBJECTS = [
    "Kế hoạch giám sát an sinh xã hội năm 2026",
    "Hướng dẫn tổ chức Ngày hội Đại đoàn kết toàn dân tộc",
    "Báo cáo kết quả phản biện xã hội quý IV",
    "Thông báo lịch tiếp công dân tháng 12",
]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    from tests.servers import dhtn_env, free_port, start_dhtn_run

    data = tmp_path_factory.mktemp("bulkpage")
    csc_port = free_port()
    secret = data / "csc-client-secret"
    secret.write_text("page-client-secret\n")
    env = dhtn_env(
        data,
        PASSWORD,
        DHTN_DATABASE_URL=fresh_pg_database("_bulkpage"),
        DHTN_TASKS_EAGER="true",
        DHTN_CSC_URL=f"http://127.0.0.1:{csc_port}/csc/v2",
        DHTN_CSC_CLIENT_ID="dhtn-page",
        DHTN_CSC_CLIENT_SECRET_FILE=str(secret),
        DHTN_CSC_TIMEOUT="10",
    )  # (no demo fortnight: its drafts would wait for this leader too)
    server = start_dhtn_run(env)
    server.wait_ready()
    from signing.testpki import load_demo_pki

    pki = load_demo_pki(data / "pki")
    ident = pki.identity("user:lanhdao.tw")
    csc = CscServer(
        "sim-lanhdao",
        ident.private_key(),
        [
            ident.certificate.public_bytes(Encoding.DER),
            *(c.public_bytes(Encoding.DER) for c in pki.chain()),
        ],
        token="page-access-token",
        pin=None,
        otp=OTP,
        client_id="dhtn-page",
        client_secret="page-client-secret",
    )
    http = serve(csc, csc_port)
    yield {"base": server.base, "csc": csc, "data": data}
    http.shutdown()
    server.stop()


class Api:
    def __init__(self, base: str) -> None:
        self.base = base
        self.tokens: dict[str, str] = {}

    def h(self, user: str) -> dict[str, str]:
        if user not in self.tokens:
            r = requests.post(
                f"{self.base}/api/v1/auth/token",
                json={"username": user, "password": PASSWORD},
                timeout=60,
            )
            assert r.status_code == 200, r.text
            self.tokens[user] = r.json()["access_token"]
        return {"Authorization": f"Bearer {self.tokens[user]}"}

    def me(self, user: str) -> dict[str, Any]:
        body: dict[str, Any] = requests.get(
            f"{self.base}/api/v1/me", headers=self.h(user), timeout=60
        ).json()
        return body

    def post(self, user: str, path: str, body: dict[str, Any]) -> Any:
        return requests.post(
            f"{self.base}/api/v1{path}", headers=self.h(user), json=body, timeout=120
        )


def _draft_to_leader(api: Api, subject: str, leader_id: str) -> str:
    r = api.post(
        "chuyenvien.dcgs",
        "/outgoing/template",
        {
            "doc_type": "KH",
            "subject": subject,
            "signer_user_id": leader_id,
            "competence": "TM.",
            "authority": "Ban Thường trực",
            "recipients": [{"code": "000.00.01.Z01"}],
            "body": BODY,
        },
    )
    assert r.status_code == 201, r.text
    doc = str(r.json()["id"])
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        versions = requests.get(
            f"{api.base}/api/v1/documents/{doc}/versions",
            headers=api.h("chuyenvien.dcgs"),
            timeout=60,
        ).json()["items"]
        if versions and versions[0]["conversion_state"] == "ready":
            break
        time.sleep(0.5)
    r = api.post(
        "chuyenvien.dcgs",
        f"/documents/{doc}/actions",
        {"action": "submit_for_review", "to_user_id": leader_id},
    )
    assert r.status_code == 200, r.text
    return doc


def test_leader_signs_several_drafts_from_the_phone(
    browser: Any, site: dict[str, Any], shots: Path, page_errors: list[str]
) -> None:
    base, csc = site["base"], site["csc"]
    api = Api(base)
    leader_id = str(api.me("lanhdao.tw")["id"])
    docs = [_draft_to_leader(api, s, leader_id) for s in SUBJECTS]

    page = new_page(browser, PHONE, page_errors)
    page.goto(base + "/login")
    page.get_by_label("Tên đăng nhập").fill("lanhdao.tw")
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(base + "/")
    page.goto(base + "/outgoing?box=inbox")
    page.get_by_role("link", name="Ký nhiều văn bản").click()
    page.wait_for_url("**/outgoing/ky-nhieu")

    # Link the remote signing account (the SIM's credential id from the provider).
    page.get_by_label("Mã chứng thư").fill("sim-lanhdao")
    page.get_by_role("button", name="Liên kết").click()
    page.get_by_text("Đã liên kết tài khoản ký số từ xa.").wait_for()
    for subject in SUBJECTS:
        page.get_by_text(subject).wait_for()
    # What the phone shows: the list, and the signing bar kept at the bottom of the screen.
    page.screenshot(path=str(shots / "bulk-sign-1-list-phone.png"))

    page.get_by_label("Chọn tất cả").check()
    assert page.get_by_role("button", name="Ký các văn bản đã chọn (4)").is_visible()
    page.get_by_label("Ký từ xa").check()
    page.get_by_label("Mã OTP").fill("00000000")
    page.get_by_role("button", name="Ký các văn bản đã chọn").click()
    page.locator("[data-bulk-error]").wait_for()
    assert "Chưa văn bản nào được ký" in page.locator("[data-bulk-error]").inner_text()
    assert csc.signed == 0
    page.screenshot(path=str(shots / "bulk-sign-2-wrong-otp-phone.png"))
    # The choice stays: remote signing, the OTP field shown again (empty), the drafts chosen.
    assert page.get_by_label("Ký từ xa").is_checked()
    assert page.get_by_label("Mã OTP").input_value() == ""

    # Meanwhile (another device) the leader sends one draft back for changes: it will fail.
    r = api.post(
        "lanhdao.tw",
        f"/documents/{docs[1]}/actions",
        {"action": "request_changes", "comment": "Sửa lại phần thời hạn."},
    )
    assert r.status_code == 200, r.text
    assert page.locator("input[name=document_id]:checked").count() == 4  # still chosen
    page.get_by_label("Mã OTP").fill(OTP)
    page.get_by_role("button", name="Ký các văn bản đã chọn").click()
    summary = page.locator("[data-bulk-results]")
    summary.wait_for()
    page.screenshot(path=str(shots / "bulk-sign-3-results-phone.png"), full_page=True)
    assert "đã ký 3/4 văn bản" in summary.inner_text()
    assert page.locator("[data-result=ok]").count() == 3
    failed = page.locator("[data-result=failed]")
    assert failed.count() == 1 and SUBJECTS[1] in failed.inner_text()
    assert csc.authorized[-1] == 3 and csc.signed == 3  # one authorisation for the three
    for i, doc in enumerate(docs):
        state = requests.get(
            f"{base}/api/v1/documents/{doc}", headers=api.h("lanhdao.tw"), timeout=60
        ).json()["state"]
        assert state == ("changes_requested" if i == 1 else "signed")
    # The page is usable at phone width: nothing wider than the screen.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"]
    assert not [e for e in page_errors if "Content Security Policy" in e or "Uncaught" in e]
