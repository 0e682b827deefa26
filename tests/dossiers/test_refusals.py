"""Refusal order (404 → 403 → 409 → 422) and hostile input: every refusal changes nothing."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select

from docflow.models import DossierEvent, DossierItem
from tests.conftest import Demo
from tests.dossiers.conftest import Dossiers


def _counts(demo: Demo) -> tuple[int, int]:
    with demo.factory() as s:
        items = s.scalar(select(func.count()).select_from(DossierItem)) or 0
        events = s.scalar(select(func.count()).select_from(DossierEvent)) or 0
    return int(items), int(events)


def _code(r: Any) -> tuple[int, str]:
    return r.status_code, r.get_json()["error"]["code"]


def test_another_organisation_sees_nothing(dossiers: Dossiers, demo: Demo) -> None:
    d = dossiers
    dossier = d.opened()
    doc = d.done_incoming()
    assert d.file("chuyenvien.dcgs", dossier, document_id=doc).status_code == 200
    for who in ("vanthu.tinh", "lanhdao.tinh", "chuyenvien.tinh"):
        assert d.get(who, dossier).status_code == 404
        assert d.package(who, dossier).status_code == 404
        r = d.client.get("/api/v1/dossiers", headers=d.h(who))
        assert r.get_json()["items"] == []
        # Even with a right role elsewhere: 404 before 403 and 409.
        assert _code(d.act(who, dossier, "reopen")) == (404, "dossier_not_found")
        assert _code(d.file(who, dossier, document_id=doc)) == (404, "dossier_not_found")
    # Opening a dossier for another organisation: as if it did not exist.
    r = d.open("chuyenvien.tinh", organization_id=str(demo.org_id("tw")))
    assert r.status_code == 404
    # A specialist of another unit of the same organisation does not see it either.
    assert d.get("chuyenvien.tg", dossier).status_code == 404


def test_refusal_order_on_actions(dossiers: Dossiers, demo: Demo) -> None:
    d = dossiers
    dossier = d.opened()
    doc = d.done_incoming()
    d.file("chuyenvien.dcgs", dossier, document_id=doc)
    before = _counts(demo)
    # Unknown id: 404.
    assert _code(d.act("lanhdao.tw", str(uuid.uuid4()), "close")) == (404, "dossier_not_found")
    # Visible, not permitted (even though also in the wrong state): 403.
    assert _code(d.act("chuyenvien.dcgs", dossier, "reopen")) == (403, "dossier_action_forbidden")
    assert _code(d.act("chuyenvien.dcgs", dossier, "accept")) == (403, "dossier_action_forbidden")
    # Permitted, wrong state (and the reason missing too): 409.
    assert _code(d.act("lanhdao.tw", dossier, "reopen")) == (409, "dossier_state")
    assert _code(d.act("luutru.tw", dossier, "return")) == (409, "dossier_state")
    assert _code(d.act("chuyenvien.dcgs", dossier, "transfer")) == (409, "dossier_state")
    assert _counts(demo) == before
    d.ok("chuyenvien.dcgs", dossier, "close")
    # Permitted, right state, the reason missing: 422 on the field.
    r = d.act("lanhdao.tw", dossier, "reopen", comment="   ")
    assert _code(r) == (422, "reason_required")
    assert "comment" in r.get_json()["error"]["details"]["fields"]
    after_close = _counts(demo)
    reopened = d.ok("lanhdao.tw", dossier, "reopen", comment="Bổ sung văn bản còn thiếu")
    assert reopened["state"] == "open" and reopened["closed_at"] is None
    assert _counts(demo)[1] == after_close[1] + 1
    # A return needs a reason too.
    d.ok("chuyenvien.dcgs", dossier, "close")
    d.ok("chuyenvien.dcgs", dossier, "transfer")
    assert _code(d.act("luutru.tw", dossier, "return")) == (422, "reason_required")
    back = d.ok("luutru.tw", dossier, "return", comment="Thiếu biên bản giao nhận")
    assert back["state"] == "closed" and back["transferred_at"] is None


def test_filing_refusals(dossiers: Dossiers, demo: Demo) -> None:
    d = dossiers
    dossier = d.opened()
    doc = d.done_incoming()
    assert d.file("chuyenvien.dcgs", dossier, document_id=doc).status_code == 200
    before = _counts(demo)
    # Not permitted: a specialist of the unit sees it, the archivist sees it, neither of
    # them... the archivist may not file.
    assert _code(d.file("luutru.tw", dossier, document_id=doc)) == (403, "dossier_action_forbidden")
    # The same document twice: 409.
    assert _code(d.file("chuyenvien.dcgs", dossier, document_id=doc)) == (409, "already_filed")
    # A document the filer cannot see reads as a missing one (422 on the field).
    other = d.incoming.to_assigned(lead={"unit_id": d.incoming.unit_id("TG")}, cooperating=[])
    for target in (other, str(uuid.uuid4())):
        r = d.file("chuyenvien.dcgs", dossier, document_id=target)
        assert _code(r) == (422, "document_not_found")
        assert "document_id" in r.get_json()["error"]["details"]["fields"]
    # Hostile bodies: 400/422, nothing stored.
    for body in (
        {},
        {"document_id": "../../etc/passwd"},
        {"document_id": doc, "task_id": str(uuid.uuid4())},
        {"document_ids": []},
        {"document_ids": [doc] * 1001},
        {"document_id": doc, "extra": 1},
    ):
        r = d.client.post(
            f"/api/v1/dossiers/{dossier}/documents", headers=d.h("chuyenvien.dcgs"), json=body
        )
        assert r.status_code == 422, (body, r.get_json())
    r = d.client.post(
        f"/api/v1/dossiers/{dossier}/documents",
        headers={**d.h("chuyenvien.dcgs"), "Content-Type": "application/json"},
        data=b"{not json",
    )
    assert r.status_code == 400
    assert _counts(demo) == before
    # Bulk: each decided separately.
    more = d.done_incoming()
    r = d.file("chuyenvien.dcgs", dossier, document_ids=[more, doc, other, more])
    assert r.status_code == 200
    results = {x["document_id"]: x for x in r.get_json()["results"]}
    assert results[more]["ok"] and not results[doc]["ok"] and not results[other]["ok"]
    assert results[doc]["error"]["code"] == "already_filed"
    assert results[other]["error"]["code"] == "document_not_found"
    assert [x["document_id"] for x in r.get_json()["documents"]] == [doc, more]
    # Taking one out of the open dossier, then closing: the closed one refuses both ways.
    r = d.client.delete(
        f"/api/v1/dossiers/{dossier}/documents/{more}", headers=d.h("chuyenvien.dcgs")
    )
    assert r.status_code == 200 and len(r.get_json()["documents"]) == 1
    d.ok("chuyenvien.dcgs", dossier, "close")
    r = d.client.delete(
        f"/api/v1/dossiers/{dossier}/documents/{doc}", headers=d.h("chuyenvien.dcgs")
    )
    assert _code(r) == (409, "dossier_state")
    r = d.file("chuyenvien.dcgs", dossier, document_id=str(uuid.uuid4()))
    assert _code(r) == (409, "dossier_state")  # state before parameters


def test_open_refusals_and_hostile_fields(dossiers: Dossiers, demo: Demo) -> None:
    d = dossiers
    # A specialist opens only for their own unit.
    r = d.open(unit_id=d.incoming.unit_id("TG"))
    assert _code(r) == (403, "dossier_open_forbidden")
    assert _code(d.open("luutru.tw")) == (403, "dossier_open_forbidden")
    d.opened(code="X.01")
    assert _code(d.open(code="X.01")) == (409, "dossier_code_taken")
    for bad in (
        {"code": ""},
        {"code": "a" * 65},
        {"code": "X\x00"},
        {"title": "ab"},
        {"title": "t" * 501},
        {"title": "Hồ sơ\x07"},
        {"retention_years": 0},
        {"retention_years": 101},
        {"retention_years": "vĩnh viễn"},
        {"year": 1999},
        {"secrecy": "ultra"},
        {"organization_id": "not-a-uuid"},
        {"plan_item_id": str(uuid.uuid4())},
    ):
        r = d.open(**bad)
        assert r.status_code == 422, (bad, r.get_json())
    # Unplanned without a retention: 422 (absent differs from null = permanent).
    r = d.client.post(
        "/api/v1/dossiers",
        headers=d.h("chuyenvien.dcgs"),
        json={
            "organization_id": str(demo.org_id("tw")),
            "year": 2026,
            "code": "Y.1",
            "title": "Hồ sơ thiếu thời hạn",
        },
    )
    assert r.status_code == 422
    # A secret dossier above the opener's clearance: 422.
    assert _code(d.open(code="M.9", secrecy="secret")) == (422, "invalid_field")
    permanent = d.open(code="VV.1", retention_years=None).get_json()
    assert permanent["retention_years"] is None and permanent["planned"] is False

    # Search by code or title, case-insensitive; wildcards are literal.
    def found(q: str) -> list[str]:
        r = d.client.get("/api/v1/dossiers", headers=d.h("luutru.tw"), query_string={"q": q})
        return [x["code"] for x in r.get_json()["items"]]

    assert found("vv.") == ["VV.1"]
    assert found("AN SINH") and "VV.1" in found("an sinh")
    assert found("%") == [] and found("_") == []
    # Closing an empty dossier: 409.
    empty = d.opened(code="E.1")
    assert _code(d.act("chuyenvien.dcgs", empty, "close")) == (409, "dossier_empty")
    # The package of an open dossier: 409.
    assert _code(d.package("chuyenvien.dcgs", empty)) == (409, "dossier_open")
