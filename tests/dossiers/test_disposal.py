"""Retention and disposal: an archived dossier past its retention is listed for review, the
archivist proposes, the head approves; the files go (rows now, objects with the sweeper), the
metadata and the record stay. A permanent dossier and a held one refuse disposal; a hold set
after the proposal stops the approval."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from docflow import UnitOfWork
from docflow.models import DocumentFile
from docflow.objects import sweep
from tests.conftest import Demo
from tests.dossiers.conftest import Dossiers


def _archived(d: Dossiers, **body: Any) -> tuple[str, str]:
    dossier = d.opened(**body)
    doc = d.done_incoming()
    assert d.file("chuyenvien.dcgs", dossier, document_id=doc).status_code == 200
    d.ok("chuyenvien.dcgs", dossier, "close")
    d.ok("chuyenvien.dcgs", dossier, "transfer")
    d.ok("luutru.tw", dossier, "accept")
    return dossier, doc


def _propose(d: Dossiers, *ids: str) -> Any:
    return d.client.post(
        "/api/v1/disposals",
        headers=d.h("luutru.tw"),
        json={"dossier_ids": list(ids), "reason": "Hết thời hạn bảo quản theo danh mục"},
    )


def _decide(d: Dossiers, disposal: str, action: str, who: str = "lanhdao.tw") -> Any:
    return d.client.post(
        f"/api/v1/disposals/{disposal}/actions",
        headers=d.h(who),
        json={"action": action, "comment": "Đồng ý theo đề nghị của Hội đồng"},
    )


def test_disposal_removes_content_keeps_the_record(dossiers: Dossiers, demo: Demo) -> None:
    d = dossiers
    short, doc = _archived(d, retention_years=1)
    permanent, _ = _archived(d, retention_years=None)
    held, _ = _archived(d, retention_years=1)
    # Not yet: retention runs to 31/12/2027.
    assert d.client.get("/api/v1/disposals/due", headers=d.h("luutru.tw")).get_json()["items"] == []
    r = _propose(d, short)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "retention_not_reached"
    demo.clock.advance(days=800)  # early 2029
    d.incoming._tokens.clear()  # the tokens of 2026 have expired: sign in again
    # A leader holds one (with a reason; without: 422; twice: 409).
    assert d.act("lanhdao.tw", held, "hold").status_code == 422
    assert d.act("luutru.tw", held, "hold").status_code == 403
    assert d.ok("lanhdao.tw", held, "hold", comment="Đang thanh tra")["allowed_actions"] == [
        "release"
    ]
    assert d.act("lanhdao.tw", held, "hold", comment="lần nữa").status_code == 409
    due = d.client.get("/api/v1/disposals/due", headers=d.h("luutru.tw")).get_json()["items"]
    assert [x["id"] for x in due] == [short]
    # Permanent and held refuse; a specialist may not propose; another organisation: 422.
    assert _propose(d, permanent).get_json()["error"]["code"] == "permanent_dossier"
    assert _propose(d, held).get_json()["error"]["code"] == "legal_hold"
    r = d.client.post(
        "/api/v1/disposals",
        headers=d.h("chuyenvien.dcgs"),
        json={"dossier_ids": [short], "reason": "abc"},
    )
    assert r.status_code == 403
    r = d.client.post(
        "/api/v1/disposals", headers=d.h("luutru.tw"), json={"dossier_ids": [], "reason": "abc"}
    )
    assert r.status_code == 422
    # Propose; the archivist may not approve; the head approves.
    r = _propose(d, short)
    assert r.status_code == 201, r.get_json()
    disposal = r.get_json()["id"]
    assert _decide(d, disposal, "approve", who="luutru.tw").status_code == 403
    assert (
        d.client.get(f"/api/v1/disposals/{disposal}", headers=d.h("vanthu.tinh")).status_code == 404
    )
    with demo.factory() as s:
        keys = list(
            s.scalars(select(DocumentFile.object_key).where(DocumentFile.document_id == doc))
        )
    assert keys and all(demo.store.exists(k) for k in keys)
    r = _decide(d, disposal, "approve")
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["state"] == "approved"
    files = body["record"]["dossiers"][0]["documents"][0]["files"]
    assert {f["sha256"] for f in files} and files[0]["name"]
    assert _decide(d, disposal, "approve").status_code == 409
    # The dossier and the document's metadata stay; the files are gone, and the objects go
    # with the sweeper (no row references them any more).
    got = d.get("luutru.tw", short).get_json()
    assert got["state"] == "disposed" and got["documents"][0]["files"] == []
    assert d.incoming.get("vanthu.tw", doc).status_code == 200
    with demo.factory() as s:
        assert not list(s.scalars(select(DocumentFile).where(DocumentFile.document_id == doc)))
    report = sweep(
        lambda: UnitOfWork(demo.factory),
        demo.store,
        now=dt.datetime.now(dt.UTC) + dt.timedelta(days=2),
    )
    assert set(keys) <= set(report.deleted)
    assert not any(demo.store.exists(k) for k in keys)
    # A hold set after a proposal stops the approval; releasing lets it through.
    d.ok("lanhdao.tw", held, "release")
    r = _propose(d, held)
    second = r.get_json()["id"]
    d.ok("lanhdao.tw", held, "hold", comment="Có khiếu nại mới")
    r = _decide(d, second, "approve")
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "legal_hold"
    assert _decide(d, second, "reject").get_json()["state"] == "rejected"
    assert d.get("luutru.tw", held).get_json()["state"] == "archived"
