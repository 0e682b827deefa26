"""Every outgoing page renders for the people who may see it (the browser test looks at them;
this one checks each route and who gets what, quickly)."""

from __future__ import annotations

import re
from typing import Any

from tests.conftest import DEMO_PASSWORD
from tests.outgoing.conftest import Outgoing


def _login(client: Any, username: str) -> None:
    page = client.get("/login").get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match is not None
    r = client.post(
        "/login",
        data={"username": username, "password": DEMO_PASSWORD, "csrf_token": match.group(1)},
    )
    assert r.status_code in (302, 303)


def test_every_page_renders(flow: Outgoing, app: Any) -> None:
    doc = flow.to_dispatched()
    main = next(f for f in flow.get("vanthu.tw", doc).get_json()["files"] if f["kind"] == "main")
    clerk = app.test_client()
    _login(clerk, "vanthu.tw")
    pages = {
        "/outgoing": "text/html",
        "/outgoing?box=done": "text/html",
        f"/outgoing/{doc}": "text/html",
        f"/outgoing/{doc}/sign": "text/html",
        f"/outgoing/{doc}/issue": "text/html",
        f"/outgoing/{doc}/deliveries": "text/html",
        f"/outgoing/{doc}/print": "text/html",
        f"/outgoing/{doc}/fields-sign.png": "image/png",
        f"/outgoing/{doc}/fields-issue.png": "image/png",
        f"/outgoing/{doc}/files/{main['id']}/pages/1.png": "image/png",
    }
    for url, mimetype in pages.items():
        r = clerk.get(url)
        assert (r.status_code, r.mimetype) == (200, mimetype), url
    assert "01/KH-MTTW-DCGSPBXH" in clerk.get("/outgoing?box=done").get_data(as_text=True)
    assert "Đã đến" in clerk.get(f"/outgoing/{doc}/deliveries").get_data(as_text=True)
    # The incoming document page sends an outgoing document to its own page.
    r = clerk.get(f"/documents/{doc}")
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/outgoing/{doc}")
    assert clerk.get("/outgoing/new").status_code == 403  # clerks do not draft

    other = app.test_client()
    _login(other, "vanthu.tinh")
    assert other.get(f"/outgoing/{doc}").status_code == 404
    assert other.get(f"/outgoing/{doc}/fields-issue.png").status_code == 404
    spec = app.test_client()
    _login(spec, "chuyenvien.dcgs")
    assert spec.get("/outgoing/new").status_code == 200


def test_drafting_form_refuses_bad_input_with_field_errors(flow: Outgoing, app: Any) -> None:
    client = app.test_client()
    _login(client, "chuyenvien.dcgs")
    form = client.get("/outgoing/new").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token is not None
    before = flow.counts()
    r = client.post(
        "/outgoing/new",
        data={
            "csrf_token": token.group(1),
            "mode": "template",
            "doc_type": "KH",
            "subject": "Kế hoạch",
            "signer_user_id": flow.user_id("chuyenvien.tg"),
            "body": "Nội dung.",
            "external": "khong-phai-ma Cơ quan lạ",
        },
    )
    assert r.status_code == 422
    assert "is-invalid" in r.get_data(as_text=True)
    assert flow.counts() == before
