"""The outgoing flow through the API: every transition by the right role, the permission matrix
(who sees what and may do what in each state), versions and what each reviewer saw."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from docflow.outgoing.states import OUTGOING_TRANSITIONS, OutgoingAction, OutgoingState
from tests.outgoing.conftest import Outgoing

S, H, L, C, T, P = (
    "chuyenvien.dcgs",  # drafter
    "truongban.dcgs",  # head of the drafting unit
    "lanhdao.tw",  # the designated signer
    "vanthu.tw",  # clerk
    "chuyenvien.tg",  # a specialist of another unit: sees nothing
    "vanthu.tinh",  # another organisation's clerk: sees nothing
)
ALL = (S, H, L, C, T, P)


def _params(flow: Outgoing, action: str) -> dict[str, Any]:
    return {
        "submit_for_review": {"to_user_id": flow.user_id(H)},
        "request_changes": {"comment": "Sửa lại đoạn 2."},
        "recall": {"reason": "Ban hành nhầm."},
        "comment": {"comment": "Góp ý."},
    }.get(action, {})


def _draft(flow: Outgoing) -> str:
    return str(flow.template().get_json()["id"])


def _with_head(flow: Outgoing) -> str:
    doc = _draft(flow)
    flow.ok(S, doc, "submit_for_review", to_user_id=flow.user_id(H))
    return doc


def _with_leader(flow: Outgoing) -> str:
    doc = _with_head(flow)
    flow.ok(H, doc, "submit_for_review", to_user_id=flow.user_id(L))
    return doc


def _approved(flow: Outgoing) -> str:
    doc = _with_leader(flow)
    flow.ok(L, doc, "approve")
    return doc


def _changes(flow: Outgoing) -> str:
    doc = _with_head(flow)
    flow.ok(H, doc, "request_changes", comment="Bổ sung thời hạn.")
    return doc


def _signed(flow: Outgoing) -> str:
    doc = _with_leader(flow)
    flow.ok(L, doc, "sign")
    return doc


def _issued(flow: Outgoing) -> str:
    doc = _signed(flow)
    flow.ok(C, doc, "issue")
    return doc


def _dispatched(flow: Outgoing) -> str:
    doc = _issued(flow)
    flow.ok(C, doc, "dispatch")
    return doc


def _recalled(flow: Outgoing) -> str:
    doc = _dispatched(flow)
    flow.ok(C, doc, "recall", reason="Ban hành nhầm.")
    return doc


c = "comment"
MATRIX: dict[str, tuple[Callable[[Outgoing], str], dict[str, list[str] | None]]] = {
    "draft": (_draft, {S: ["submit_for_review", c], H: [c], L: [c], C: [c], T: None, P: None}),
    "in_review (unit head)": (
        _with_head,
        {S: [c], H: ["submit_for_review", "request_changes", c], L: [c], C: [c], T: None, P: None},
    ),
    "in_review (signer)": (
        _with_leader,
        {
            S: [c],
            H: [c],
            L: ["submit_for_review", "request_changes", "approve", "sign", c],
            C: [c],
            T: None,
            P: None,
        },
    ),
    "approved": (_approved, {S: [c], H: [c], L: ["sign", c], C: [c], T: None, P: None}),
    "changes_requested": (
        _changes,
        {S: ["submit_for_review", c], H: [c], L: [c], C: [c], T: None, P: None},
    ),
    "signed": (_signed, {S: [c], H: [c], L: [c], C: ["issue", c], T: None, P: None}),
    "issued": (_issued, {S: [], H: [], L: [], C: ["dispatch"], T: None, P: None}),
    "dispatched": (_dispatched, {S: [], H: [], L: [], C: ["recall"], T: None, P: None}),
    "recalled": (_recalled, {S: [], H: [], L: [], C: [], T: None, P: None}),
}


# Actions a user may do by their part in the document (drafter S, signer L, clerk C; the
# reviewer it waits for) but not in this state: 409. Every other refused action is 403.
_CLERK = ("issue", "dispatch", "recall")
PERMITTED_OUT_OF_STATE: dict[tuple[str, str], tuple[str, ...]] = {
    ("draft", L): ("approve", "sign"),
    ("draft", C): _CLERK,
    ("in_review (unit head)", C): _CLERK,
    ("in_review (signer)", C): _CLERK,
    ("approved", S): ("submit_for_review",),
    ("approved", L): ("submit_for_review", "request_changes", "approve"),
    ("approved", C): _CLERK,
    ("changes_requested", L): ("approve", "sign"),
    ("changes_requested", C): _CLERK,
    ("signed", S): ("submit_for_review",),
    ("signed", L): ("approve", "sign"),
    ("signed", C): ("dispatch", "recall"),
    ("issued", S): ("submit_for_review", c),
    ("issued", H): (c,),
    ("issued", L): ("approve", "sign", c),
    ("issued", C): ("issue", "recall", c),
    ("dispatched", S): ("submit_for_review", c),
    ("dispatched", H): (c,),
    ("dispatched", L): ("approve", "sign", c),
    ("dispatched", C): ("issue", "dispatch", c),
    ("recalled", S): ("submit_for_review", c),
    ("recalled", H): (c,),
    ("recalled", L): ("approve", "sign", c),
    ("recalled", C): ("issue", "dispatch", "recall", c),
}


@pytest.mark.parametrize("case", list(MATRIX))
def test_permission_matrix(flow: Outgoing, case: str) -> None:
    """In each state: who sees the document (others get 404), which actions each may take
    (``allowed_actions``), and every other action is refused in the refusal order (API.md §7)
    — 403 when it is not theirs, else 409 when the state does not allow it — without changing
    anything."""
    make, expected = MATRIX[case]
    doc = make(flow)
    state = flow.get(C, doc).get_json()["state"]
    before = flow.counts()
    for user in ALL:
        r = flow.get(user, doc)
        if expected[user] is None:
            assert r.status_code == 404, (case, user)
            assert flow.act(user, doc, "comment", comment="x").status_code == 404
            continue
        assert r.status_code == 200, (case, user)
        allowed = expected[user]
        assert allowed is not None
        assert r.get_json()["allowed_actions"] == allowed, (case, user)
        for action in OutgoingAction:
            if action.value in allowed:
                continue
            got = flow.act(user, doc, action.value, **_params(flow, action.value))
            legal = (OutgoingState(state), action) in OUTGOING_TRANSITIONS
            theirs = action.value in PERMITTED_OUT_OF_STATE.get((case, user), ())
            expected_status = 409 if (theirs and not legal) else 403
            assert got.status_code == expected_status, (case, user, action, got.get_json())
    assert flow.counts() == before
    assert flow.get(C, doc).get_json()["state"] == state


def test_the_whole_path_with_the_trail(flow: Outgoing) -> None:
    doc = _changes(flow)
    # The drafter uploads version 2 (a PDF this time) and sends it straight to the signer.
    from signing import make_sample_document

    r = flow.new_version(S, doc, make_sample_document(1).pdf, "Dự thảo 2.pdf", "application/pdf")
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["draft_version"] == 2
    flow.ok(S, doc, "submit_for_review", to_user_id=flow.user_id(L), comment="Đã sửa.")
    flow.ok(L, doc, "comment", comment="Xem lại câu cuối.")
    flow.ok(L, doc, "approve", comment="Đồng ý.")
    signed = flow.ok(L, doc, "sign")
    assert signed["state"] == "signed" and signed["submitted_to"] is None
    issued = flow.ok(C, doc, "issue")
    assert issued["register_number"] == 1 and issued["notation"] == "01/KH-MTTW-DCGSPBXH"
    assert issued["issued_date"] == "2026-11-23" and issued["issued_at"]
    assert flow.ok(C, doc, "dispatch")["state"] == "dispatched"
    trail = flow.client.get(f"/api/v1/documents/{doc}/trail", headers=flow.h(C)).get_json()["items"]
    assert [(e["action"], e["actor"]["name"], e["details"].get("version")) for e in trail] == [
        ("draft", "Đỗ Quang Huy", 1),
        ("submit_for_review", "Đỗ Quang Huy", 1),
        ("request_changes", "Phạm Thị Hạnh", 1),
        ("new_version", "Đỗ Quang Huy", 2),
        ("submit_for_review", "Đỗ Quang Huy", 2),
        ("comment", "Lê Văn Minh", 2),
        ("approve", "Lê Văn Minh", 2),
        ("sign", "Lê Văn Minh", 2),
        ("issue", "Trần Thị Thu", 2),
        ("dispatch", "Trần Thị Thu", 2),
    ]
    assert trail[2]["comment"] == "Bổ sung thời hạn."
    assert trail[8]["details"]["notation"] == "01/KH-MTTW-DCGSPBXH"
    # Every version kept; which version each reviewer answered on.
    versions = flow.client.get(f"/api/v1/documents/{doc}/versions", headers=flow.h(S)).get_json()
    assert [
        (v["version"], v["from_template"], v["conversion_state"]) for v in versions["items"]
    ] == [
        (2, False, "ready"),
        (1, True, "ready"),
    ]
    from docflow.models import Review

    with flow.demo.factory() as s:
        reviews = s.query(Review).order_by(Review.requested_at, Review.reviewer_name).all()
        seen = {(r.reviewer_name, r.outcome, r.version_requested, r.version_seen) for r in reviews}
    assert seen == {
        ("Phạm Thị Hạnh", "changes_requested", 1, 1),
        ("Lê Văn Minh", "approved", 2, 2),
    }


def test_reviewers_can_be_anyone_and_forward_up_the_chain(flow: Outgoing) -> None:
    doc = _draft(flow)
    flow.ok(S, doc, "submit_for_review", to_user_id=flow.user_id(T))
    # The other unit's specialist now sees it and may forward it or send it back.
    assert flow.get(T, doc).get_json()["allowed_actions"] == [
        "submit_for_review",
        "request_changes",
        "comment",
    ]
    flow.ok(T, doc, "submit_for_review", to_user_id=flow.user_id(L))
    assert flow.get(T, doc).status_code == 200  # a past reviewer still sees it
    assert flow.act(T, doc, "request_changes", comment="x").status_code == 403
    r = flow.act(L, doc, "submit_for_review", to_user_id=flow.user_id(P))
    assert r.status_code == 422  # not a person of this organisation


def test_new_versions_only_by_whoever_holds_the_draft(flow: Outgoing) -> None:
    from signing import make_sample_document

    pdf = make_sample_document(1).pdf
    doc = _with_head(flow)
    before = flow.counts()
    assert flow.new_version(S, doc, pdf, "v.pdf", "application/pdf").status_code == 403
    assert flow.new_version(T, doc, pdf, "v.pdf", "application/pdf").status_code == 404
    assert flow.counts() == before
    assert flow.new_version(H, doc, pdf, "v.pdf", "application/pdf").status_code == 201
    flow.ok(H, doc, "submit_for_review", to_user_id=flow.user_id(L))
    flow.ok(L, doc, "sign")
    before = flow.counts()
    r = flow.new_version(L, doc, pdf, "v.pdf", "application/pdf")
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "draft_locked"
    assert flow.counts() == before


def test_outgoing_boxes(flow: Outgoing) -> None:
    def box(user: str, name: str) -> list[str]:
        r = flow.client.get(
            f"/api/v1/documents?direction=outgoing&box={name}", headers=flow.h(user)
        )
        assert r.status_code == 200, r.get_json()
        return [d["id"] for d in r.get_json()["items"]]

    doc = _draft(flow)
    assert doc in box(S, "inbox") and doc not in box(H, "inbox")
    flow.ok(S, doc, "submit_for_review", to_user_id=flow.user_id(H))
    assert doc not in box(S, "inbox") and doc in box(H, "inbox") and doc in box(S, "processing")
    flow.ok(H, doc, "submit_for_review", to_user_id=flow.user_id(L))
    flow.ok(L, doc, "approve")
    assert doc in box(L, "inbox")
    flow.ok(L, doc, "sign")
    assert doc not in box(L, "inbox") and doc in box(C, "inbox")
    flow.ok(C, doc, "issue")
    assert doc in box(C, "inbox")
    flow.ok(C, doc, "dispatch")
    assert doc not in box(C, "inbox") and doc in box(C, "done") and doc in box(S, "done")
    assert doc not in box(T, "all")
