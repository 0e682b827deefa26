"""The disposal page (Tiêu hủy hồ sơ) through the Flask client: the archivist lists what is
past its retention (permanent ones never appear), proposes with a reason; the head approves
(files gone, record kept) or rejects; the others are refused."""

from __future__ import annotations

import re
import uuid
from typing import Any

from sqlalchemy import func, select

from docflow.models import DocumentFile, FileText
from tests.app.test_pages import csrf_of, login
from tests.conftest import Demo
from tests.dossiers.conftest import Dossiers
from tests.dossiers.test_disposal import _archived


def _web(app: Any, username: str) -> Any:
    web = app.test_client()
    assert login(web, username).status_code == 302
    return web


def _files(demo: Demo, doc: str) -> int:
    with demo.factory() as s:
        return s.scalar(
            select(func.count()).where(DocumentFile.document_id == uuid.UUID(doc))
        ) or 0  # fmt: skip


def test_archivist_proposes_head_decides(app: Any, dossiers: Dossiers, demo: Demo) -> None:
    d = dossiers
    short, doc = _archived(d, retention_years=1)
    other, other_doc = _archived(d, retention_years=1)
    permanent, _ = _archived(d, retention_years=None)
    code = {x: d.get("luutru.tw", x).get_json()["code"] for x in (short, other, permanent)}
    demo.clock.advance(days=800)  # early 2029: the 1-year ones are past their retention
    d.incoming._tokens.clear()  # the tokens of 2026 have expired: sign in again

    archive = _web(app, "luutru.tw")
    page = archive.get("/disposals").get_data(as_text=True)
    assert code[short] in page and code[other] in page
    assert code[permanent] not in page  # permanent: never listed
    assert "Phê duyệt tiêu hủy" not in page  # the archivist proposes, does not decide
    token = csrf_of(page)
    assert "/disposals" in archive.get("/dossiers").get_data(as_text=True)

    # Others may not open the page.
    assert _web(app, "chuyenvien.dcgs").get("/disposals").status_code == 403

    # Hostile or wrong proposals change nothing.
    r = archive.post("/disposals", data={"reason": "Hết hạn", "csrf_token": token})
    assert r.status_code == 422 and "Chọn ít nhất một hồ sơ." in r.get_data(as_text=True)
    r = archive.post("/disposals", data={"dossier_ids": short, "reason": "x", "csrf_token": token})
    assert r.status_code == 422
    r = archive.post(
        "/disposals",
        data={"dossier_ids": [short, permanent], "reason": "Hết hạn", "csrf_token": token},
    )
    assert r.status_code == 409
    r = archive.post(
        "/disposals",
        data={"dossier_ids": "not-a-uuid", "reason": "Hết hạn", "csrf_token": token},
    )
    assert r.status_code == 422
    assert "Chờ lãnh đạo phê duyệt" not in archive.get("/disposals").get_data(as_text=True)

    # Two proposals: one to approve, one to reject.
    for x in (short, other):
        r = archive.post(
            "/disposals",
            data={"dossier_ids": x, "reason": "Hết thời hạn bảo quản", "csrf_token": token},
        )
        assert r.status_code == 302, r.get_data(as_text=True)
    page = archive.get("/disposals").get_data(as_text=True)
    assert "Đã gửi đề xuất tiêu hủy" in page and page.count("Chờ lãnh đạo phê duyệt") == 2
    ids = re.findall(r"/disposals/([0-9a-f-]{36})/act", page)
    assert ids == []  # no decision forms for the archivist
    proposals = d.client.get("/api/v1/disposals", headers=d.h("luutru.tw")).get_json()["items"]
    of = {p["dossier_ids"][0]: p["id"] for p in proposals}
    r = archive.post(f"/disposals/{of[short]}/act", data={"action": "approve", "csrf_token": token})
    assert r.status_code == 403
    assert _files(demo, doc) > 0

    head = _web(app, "lanhdao.tw")
    page = head.get("/disposals").get_data(as_text=True)
    assert page.count("Phê duyệt tiêu hủy") == 2 and "Đề xuất tiêu hủy</button>" not in page
    token = csrf_of(page)
    r = head.post(f"/disposals/{of[short]}/act", data={"action": "burn", "csrf_token": token})
    assert r.status_code == 422
    r = head.post(f"/disposals/{uuid.uuid4()}/act", data={"action": "approve", "csrf_token": token})
    assert r.status_code == 404
    r = head.post(
        f"/disposals/{of[short]}/act",
        data={"action": "approve", "comment": "Đồng ý", "csrf_token": token},
    )
    assert r.status_code == 302
    r = head.post(f"/disposals/{of[other]}/act", data={"action": "reject", "csrf_token": token})
    assert r.status_code == 302
    page = head.get("/disposals").get_data(as_text=True)
    assert "Đã tiêu hủy" in page and "Không phê duyệt</span>" in page
    assert "Biên bản tiêu hủy: 1 hồ sơ" in page and "Ý kiến lãnh đạo: Đồng ý" in page
    assert _files(demo, doc) == 0 and _files(demo, other_doc) > 0
    with demo.factory() as s:  # the text read from its files went with them
        assert not s.scalar(select(func.count()).where(FileText.document_id == uuid.UUID(doc)))
    # Decided: a second decision is refused.
    r = head.post(f"/disposals/{of[other]}/act", data={"action": "approve", "csrf_token": token})
    assert r.status_code == 409
