"""The incoming flow through the API: every transition, by the right and the wrong roles."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from docflow.documents import trail
from docflow.errors import TransitionNotAllowedError
from docflow.incoming.states import (
    INCOMING_TRANSITIONS,
    IncomingAction,
    IncomingState,
    next_incoming_state,
)
from docflow.models import Document, TrailEntry
from tests.incoming.conftest import Incoming

# API.md §3, written out by hand: the table in code must say exactly this.
EXPECTED = {
    ("arrived", "register"): "registered",
    ("arrived", "reject"): "rejected",
    ("registered", "submit"): "submitted",
    ("submitted", "assign"): "assigned",
    ("registered", "assign"): "assigned",
    ("assigned", "assign"): "assigned",
    ("in_progress", "assign"): "in_progress",
    ("assigned", "start"): "in_progress",
    ("assigned", "complete"): "done",
    ("in_progress", "complete"): "done",
    ("submitted", "return"): "registered",
    ("assigned", "return"): "registered",
    # A recall from another system of a copy already handled (only while it waits), or of one
    # that only arrived beside a handled copy of the same document (decided together).
    **{(s, "accept_recall"): "recalled" for s in ("arrived", "registered", "submitted")},
    **{(s, "accept_recall"): "recalled" for s in ("assigned", "in_progress", "done")},
    **{(s, "refuse_recall"): s for s in ("arrived", "registered", "submitted", "assigned")},
    **{(s, "refuse_recall"): s for s in ("in_progress", "done")},
}


@pytest.mark.parametrize("state", list(IncomingState))
@pytest.mark.parametrize("action", [a for a in IncomingAction if a is not IncomingAction.COMMENT])
def test_transition_table_is_exactly_the_contract(
    state: IncomingState, action: IncomingAction
) -> None:
    expected = EXPECTED.get((state.value, action.value))
    if expected is None:
        with pytest.raises(TransitionNotAllowedError):
            next_incoming_state(state, action)
    else:
        assert next_incoming_state(state, action).value == expected
    assert {
        (s.value, a.value) for s, a in INCOMING_TRANSITIONS if a is not IncomingAction.COMMENT
    } == set(EXPECTED)


def test_registration_numbers_follow_each_other_and_record_the_trail(flow: Incoming) -> None:
    first = flow.register().get_json()
    second = flow.register(notation="61/KH-MTTW-BTT").get_json()
    assert (first["state"], first["register_number"], second["register_number"]) == (
        "registered",
        1,
        2,
    )
    assert first["received_at"] and first["register"]["name"].startswith("Sổ văn bản đến")
    trail = flow.client.get(
        f"/api/v1/documents/{first['id']}/trail", headers=flow.h("vanthu.tw")
    ).get_json()["items"]
    assert [(e["seq"], e["action"], e["actor"]["name"], e["unit"]["name"]) for e in trail] == [
        (1, "register", "Trần Thị Thu", "Văn phòng")
    ]


def test_the_whole_path_from_clerk_to_specialist(flow: Incoming) -> None:
    doc = flow.register().get_json()["id"]
    assert doc in flow.box("vanthu.tw")
    assert (
        flow.act("vanthu.tw", doc, "submit", to_user_id=flow.user_id("lanhdao.tw")).get_json()[
            "state"
        ]
        == "submitted"
    )
    assert doc not in flow.box("vanthu.tw") and doc in flow.box("lanhdao.tw")
    r = flow.act(
        "lanhdao.tw",
        doc,
        "assign",
        lead={"unit_id": flow.unit_id("DCGSPBXH")},
        cooperating=[{"unit_id": flow.unit_id("TG")}],
        informed=[{"user_id": flow.user_id("chuyenvien.tg")}],
        due_date="2026-12-04",
        comment="Ban DCGS chủ trì",
    )
    assert r.status_code == 200 and r.get_json()["due_date"] == "2026-12-04"
    assert doc in flow.box("truongban.dcgs") and doc not in flow.box("lanhdao.tw")
    assert doc not in flow.box("chuyenvien.dcgs")  # the unit head passes it on first
    r = flow.act("truongban.dcgs", doc, "assign", lead={"user_id": flow.user_id("chuyenvien.dcgs")})
    assert r.status_code == 200 and r.get_json()["state"] == "assigned"
    assert doc in flow.box("chuyenvien.dcgs") and doc not in flow.box("truongban.dcgs")
    assert flow.act("chuyenvien.dcgs", doc, "start").get_json()["state"] == "in_progress"
    done = flow.act("chuyenvien.dcgs", doc, "complete", comment="Đã tổng hợp, báo cáo lãnh đạo")
    assert done.get_json()["state"] == "done"
    assert doc in flow.box("lanhdao.tw", "done") and doc not in flow.box("chuyenvien.dcgs")
    trail = flow.client.get(
        f"/api/v1/documents/{doc}/trail", headers=flow.h("lanhdao.tw")
    ).get_json()["items"]
    assert [(e["action"], e["actor"]["name"]) for e in trail] == [
        ("register", "Trần Thị Thu"),
        ("submit", "Trần Thị Thu"),
        ("assign", "Lê Văn Minh"),
        ("assign", "Phạm Thị Hạnh"),
        ("start", "Đỗ Quang Huy"),
        ("complete", "Đỗ Quang Huy"),
    ]
    assert trail[2]["comment"] == "Ban DCGS chủ trì" and trail[-1]["to_state"] == "done"


def test_deadline_in_working_days_skips_the_weekend(flow: Incoming) -> None:
    # The test clock is Monday 23 Nov 2026, 09:00 in Hà Nội: +5 working days is Monday 30 Nov.
    doc = flow.to_assigned(due_in_working_days=5)
    body = flow.get("lanhdao.tw", doc).get_json()
    assert body["due_date"] == "2026-11-30"
    assert body["deadline"] == {"days_left": 5, "overdue": False, "due_soon": False}
    flow.demo.clock.advance(days=8)  # Tuesday 1 Dec
    flow._tokens.clear()  # tokens live 12 hours
    assert flow.get("lanhdao.tw", doc).get_json()["deadline"] == {
        "days_left": -1,
        "overdue": True,
        "due_soon": False,
    }


WRONG = {
    "a specialist not involved completes": ("chuyenvien.dcgs", "complete", {"comment": "x"}, 404),
    "submit to someone who is not a leader": ("vanthu.tw", "submit", {"to": "chuyenvien.tg"}, 422),
    "a leader submits": ("lanhdao.tw", "submit", {"to": "lanhdao.tw"}, 403),
    "a unit head not involved assigns": ("truongban.dcgs", "assign", {"lead": "DCGSPBXH"}, 404),
    "a clerk assigns": ("vanthu.tw", "assign", {"lead": "DCGSPBXH"}, 403),
    "start before any assignment": ("vanthu.tw", "start", {}, 409),
    "register twice": ("vanthu.tw", "register", {}, 409),
    "an unknown action": ("vanthu.tw", "approve_everything", {}, 422),
    "an unknown parameter": ("vanthu.tw", "submit", {"to": "lanhdao.tw", "cc": "x"}, 422),
}


@pytest.mark.parametrize("case", list(WRONG))
def test_wrong_role_state_or_input_changes_nothing(flow: Incoming, case: str) -> None:
    who, action, spec, status = WRONG[case]
    doc = flow.register().get_json()["id"]
    params: dict[str, object] = {}
    if "to" in spec:
        params["to_user_id"] = flow.user_id(str(spec["to"]))
    if "lead" in spec:
        params["lead"] = {"unit_id": flow.unit_id(str(spec["lead"]))}
    params.update({k: v for k, v in spec.items() if k not in ("to", "lead")})
    before = flow.get("vanthu.tw", doc).get_json()
    counts = flow.counts()
    r = flow.act(who, doc, action, **params)
    assert r.status_code == status, r.get_json()
    after = flow.get("vanthu.tw", doc).get_json()
    assert (after["state"], after["assignments"]) == (before["state"], before["assignments"])
    assert flow.counts() == counts
    trail = flow.client.get(
        f"/api/v1/documents/{doc}/trail", headers=flow.h("vanthu.tw")
    ).get_json()
    assert len(trail["items"]) == 1


def test_specialist_of_another_unit_cannot_complete(flow: Incoming) -> None:
    doc = flow.to_assigned()
    # TG is cooperating: it sees the document, but only the lead completes it.
    assert flow.act("chuyenvien.tg", doc, "complete", comment="x").status_code == 403
    assert set(flow.get("chuyenvien.tg", doc).get_json()["allowed_actions"]) == {"comment"}


def test_unit_head_passes_on_only_inside_the_unit(flow: Incoming) -> None:
    doc = flow.to_assigned()
    r = flow.act("truongban.dcgs", doc, "assign", lead={"user_id": flow.user_id("chuyenvien.tg")})
    assert r.status_code == 422 and "lead" in r.get_json()["error"]["details"]["fields"]


def test_leader_returns_a_submission_to_the_clerk(flow: Incoming) -> None:
    doc = flow.register().get_json()["id"]
    flow.act("vanthu.tw", doc, "submit", to_user_id=flow.user_id("lanhdao.tw"))
    r = flow.act("lanhdao.tw", doc, "return", comment="Đề nghị văn thư kiểm tra lại trích yếu")
    assert r.get_json()["state"] == "registered" and doc in flow.box("vanthu.tw")
    assert flow.act("lanhdao.tw", doc, "return", comment="again").status_code == 409


def test_delegated_leader_acts_and_the_trail_names_both(flow: Incoming) -> None:
    r = flow.client.post(
        "/api/v1/delegations",
        headers=flow.h("lanhdao.tw"),
        json={
            "delegator_id": flow.user_id("lanhdao.tw"),
            "delegate_id": flow.user_id("truongban.dcgs"),
            "roles": ["leader"],
            "competence": "KT.",
            "start_date": "2026-11-23",
            "end_date": "2026-11-27",
        },
    )
    assert r.status_code == 201, r.get_json()
    doc = flow.register().get_json()["id"]
    flow.act("vanthu.tw", doc, "submit", to_user_id=flow.user_id("lanhdao.tw"))
    flow._tokens.pop("truongban.dcgs", None)
    assert doc in flow.box("truongban.dcgs")
    r = flow.act("truongban.dcgs", doc, "assign", lead={"unit_id": flow.unit_id("TG")})
    assert r.status_code == 200, r.get_json()
    last = flow.client.get(
        f"/api/v1/documents/{doc}/trail", headers=flow.h("lanhdao.tw")
    ).get_json()["items"][-1]
    assert last["actor"]["name"] == "Phạm Thị Hạnh"
    assert last["on_behalf_of"]["name"] == "Lê Văn Minh" and last["competence"] == "KT."


def test_comments_append_to_the_trail_without_moving_state(flow: Incoming) -> None:
    doc = flow.to_assigned()
    r = flow.act("chuyenvien.tg", doc, "comment", comment="Ban TG đề nghị bổ sung số liệu")
    assert r.status_code == 200 and r.get_json()["state"] == "assigned"


def test_reply_document_must_be_of_the_same_organisation(flow: Incoming) -> None:
    doc = flow.to_assigned()
    other = flow.register("vanthu.tinh", notation="12/KH-MTTW").get_json()["id"]
    r = flow.act("truongban.dcgs", doc, "complete", comment="x", reply_document_id=other)
    assert r.status_code == 422 and flow.get("vanthu.tw", doc).get_json()["state"] == "assigned"


def test_steps_appended_in_one_transaction_follow_each_other(flow: Incoming, uow: Any) -> None:
    """The trail's next seq counts the steps of the transaction not yet written (it is read
    without flushing, so an action writes its changes and its step in one flush)."""
    doc_id = flow.register().get_json()["id"]
    with uow:
        doc = uow.session.get(Document, uuid.UUID(doc_id))
        assert doc is not None
        for _ in range(2):
            trail.append(uow, doc, "comment", actor=None, from_state=doc.state, comment="Ghi chú")
        assert sorted(e.seq for e in uow.session.new if isinstance(e, TrailEntry)) == [2, 3]
        uow.commit()
    steps = flow.client.get(f"/api/v1/documents/{doc_id}/trail", headers=flow.h("vanthu.tw"))
    assert [(e["seq"], e["action"]) for e in steps.get_json()["items"]] == [
        (1, "register"),
        (2, "comment"),
        (3, "comment"),
    ]
