"""Who sees what: every demo account against a document at each stage, through the single
document (Python check) and through the lists (SQL condition) — the two must agree."""

from __future__ import annotations

import pytest

from docflow import incoming
from docflow.demo import DEMO_USERNAMES
from tests.incoming.conftest import Incoming

OFFICE = {"vanthu.tw", "lanhdao.tw"}
STAGES = {
    "registered": OFFICE,
    "assigned": OFFICE | {"truongban.dcgs", "chuyenvien.dcgs", "chuyenvien.tg"},
}


def _at(flow: Incoming, stage: str) -> str:
    if stage == "registered":
        return str(flow.register().get_json()["id"])
    return flow.to_assigned()


@pytest.mark.parametrize("stage", list(STAGES))
def test_permission_matrix(flow: Incoming, stage: str) -> None:
    doc = _at(flow, stage)
    seen_one = {u for u in DEMO_USERNAMES if flow.get(u, doc).status_code == 200}
    seen_list = {u for u in DEMO_USERNAMES if doc in flow.box(u, "all")}
    assert seen_one == STAGES[stage]
    assert seen_list == STAGES[stage]
    for u in set(DEMO_USERNAMES) - STAGES[stage]:
        r = flow.get(u, doc)
        assert r.status_code == 404 and r.get_json()["error"]["code"] == "document_not_found"
        assert flow.act(u, doc, "comment", comment="x").status_code == 404


def test_informed_person_reads_but_cannot_act(flow: Incoming) -> None:
    doc = flow.register().get_json()["id"]
    flow.act(
        "lanhdao.tw",
        doc,
        "assign",
        lead={"unit_id": flow.unit_id("DCGSPBXH")},
        informed=[{"user_id": flow.user_id("chuyenvien.tg")}],
    )
    body = flow.get("chuyenvien.tg", doc).get_json()
    assert body["allowed_actions"] == ["comment"]
    assert doc not in flow.box("chuyenvien.tg", "inbox")
    assert flow.act("chuyenvien.tg", doc, "start").status_code == 403


def _arrived(flow: Incoming, org: str = "tw") -> str:
    doc = incoming.receive_document(
        flow.demo.uow(),
        flow.demo.org_id(org),
        meta={
            "notation": "15/CV-MTTQ",
            "doc_type": "CV",
            "subject": "V/v phối hợp tổ chức hội nghị",
            "issuer_name": "Ủy ban MTTQ tỉnh Demo",
        },
        file_refs=[],
        source="internal",
    )
    return str(doc.id)


def test_arrived_document_is_registered_with_the_next_number(flow: Incoming) -> None:
    flow.register()
    doc = _arrived(flow)
    assert doc in flow.box("vanthu.tw")
    body = flow.get("vanthu.tw", doc).get_json()
    assert body["state"] == "arrived" and body["register_number"] is None
    assert set(body["allowed_actions"]) == {"register", "reject", "comment"}
    r = flow.act("vanthu.tw", doc, "register")
    assert r.get_json()["state"] == "registered" and r.get_json()["register_number"] == 2


def test_arrived_document_rejected_with_a_reason(flow: Incoming) -> None:
    doc = _arrived(flow)
    assert flow.act("vanthu.tw", doc, "reject").status_code == 422  # the reason is required
    r = flow.act("vanthu.tw", doc, "reject", reason="Gửi nhầm cơ quan")
    assert r.get_json()["state"] == "rejected" and r.get_json()["register_number"] is None
    trail = flow.client.get(
        f"/api/v1/documents/{doc}/trail", headers=flow.h("vanthu.tw")
    ).get_json()["items"]
    assert [(e["action"], e["actor"]["name"], e["comment"]) for e in trail] == [
        ("arrive", "Hệ thống", None),
        ("reject", "Trần Thị Thu", "Gửi nhầm cơ quan"),
    ]
    assert flow.act("vanthu.tw", doc, "register").status_code == 409


def test_another_organisations_clerk_cannot_register_it(flow: Incoming) -> None:
    doc = _arrived(flow)
    assert flow.act("vanthu.tinh", doc, "register").status_code == 404
