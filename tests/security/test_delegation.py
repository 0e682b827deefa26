"""Delegation beyond the delegator's powers (issue 11, point 4).

A delegate acts only in the delegator's place (the delegator's organisation, and for unit-head
powers the delegator's unit), only with the roles delegated, only while the delegator still
holds them (checked when the delegation is used, not only when it is made), and the trail names
both. Each abuse is tried through the public API; the refusal is asserted, and that nothing
changed (no delegation row, no state, assignment or trail change).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from docflow.models import Assignment, Delegation, Document, Task, TaskTrailEntry, TrailEntry
from tests.conftest import Demo
from tests.incoming.conftest import Incoming

START, END = "2026-11-23", "2026-11-30"


@pytest.fixture
def flow(client: Any, api: Any, demo: Demo) -> Incoming:
    return Incoming(client, api, demo)


def delegate(flow: Incoming, by: str, delegator: str, to: str, roles: list[str]) -> Any:
    return flow.client.post(
        "/api/v1/delegations",
        headers=flow.h(by),
        json={
            "delegator_id": flow.user_id(delegator),
            "delegate_id": flow.user_id(to),
            "roles": roles,
            "competence": "KT.",
            "start_date": START,
            "end_date": END,
        },
    )


def delegation_rows(demo: Demo) -> int:
    with demo.factory() as s:
        return int(s.scalar(select(func.count()).select_from(Delegation)) or 0)


def plant_delegation(demo: Demo, delegator: str, to: str, roles: list[str]) -> None:
    """A delegation row the service would refuse today: made before the rule, or by a direct
    edit of the database. Using it must give nothing either."""
    d, t = demo.user(delegator), demo.user(to)
    with demo.factory() as s:
        s.add(
            Delegation(
                organization_id=d.organization_id,
                delegator_id=d.id,
                delegate_id=t.id,
                roles=roles,
                competence="KT.",
                start_date=dt.date(2026, 11, 23),
                end_date=dt.date(2026, 11, 30),
                created_by_id=demo.user("admin").id,
            )
        )
        s.commit()


def fresh(flow: Incoming, username: str) -> dict[str, str]:
    flow._tokens.pop(username, None)
    return flow.h(username)


def doc_snapshot(demo: Demo, doc: str) -> tuple[Any, ...]:
    """What an action would change: the state, the assignments, the trail."""
    with demo.factory() as s:
        doc_id = uuid.UUID(doc)
        row = s.get(Document, doc_id)
        assert row is not None
        assignments = s.execute(
            select(Assignment.id, Assignment.state).where(Assignment.document_id == doc_id)
        ).all()
        trail = s.scalar(
            select(func.count()).select_from(TrailEntry).where(TrailEntry.document_id == doc_id)
        )
        return row.state, row.submitted_to_id, tuple(sorted(map(str, assignments))), trail


def task_snapshot(demo: Demo, task_id: str) -> tuple[Any, ...]:
    with demo.factory() as s:
        row = s.get(Task, uuid.UUID(task_id))
        assert row is not None
        trail = s.scalar(
            select(func.count()).select_from(TaskTrailEntry).where(TaskTrailEntry.task_id == row.id)
        )
        return row.state, row.completed_at, row.submitted_on, trail


# ---------------------------------------------------------------- refused when made


def test_unit_head_powers_do_not_go_to_someone_of_another_unit(flow: Incoming) -> None:
    before = delegation_rows(flow.demo)
    for by in ("truongban.dcgs", "admin"):  # the delegator, or an admin recording it
        r = delegate(flow, by, "truongban.dcgs", "chuyenvien.tg", ["unit_head"])
        assert r.status_code == 422, (by, r.get_json())
        assert r.get_json()["error"]["code"] == "delegation_not_allowed"
        assert "roles" in r.get_json()["error"]["details"]["fields"]
    assert delegation_rows(flow.demo) == before
    # Inside the unit it is allowed.
    assert delegate(flow, "truongban.dcgs", "truongban.dcgs", "chuyenvien.dcgs", ["unit_head"]).status_code == 201  # fmt: skip


def test_roles_the_delegator_does_not_hold_are_refused(flow: Incoming) -> None:
    before = delegation_rows(flow.demo)
    for roles in (["leader"], ["unit_head", "leader"], ["clerk"], ["admin"]):
        r = delegate(flow, "truongban.dcgs", "truongban.dcgs", "chuyenvien.dcgs", roles)
        assert r.status_code == 422, roles
    # Nor the admin role by an admin, nor to someone of another organisation.
    assert delegate(flow, "admin", "admin", "vanthu.tw", ["admin"]).status_code == 422
    r = delegate(flow, "lanhdao.tw", "lanhdao.tw", "chuyenvien.tinh", ["leader"])
    assert r.status_code == 422
    # Nor on someone else's behalf by a non-admin.
    r = delegate(flow, "truongban.dcgs", "lanhdao.tw", "truongban.dcgs", ["leader"])
    assert r.status_code == 403
    assert delegation_rows(flow.demo) == before


# ---------------------------------------------------------------- checked when used


def test_a_delegation_ends_with_the_delegators_role(flow: Incoming) -> None:
    assert delegate(flow, "lanhdao.tw", "lanhdao.tw", "truongban.dcgs", ["leader"]).status_code == 201  # fmt: skip
    doc = flow.register().get_json()["id"]
    flow.act("vanthu.tw", doc, "submit", to_user_id=flow.user_id("lanhdao.tw"))
    me = flow.client.get("/api/v1/me", headers=fresh(flow, "truongban.dcgs")).get_json()
    assert [d["role"] for d in me["delegated_roles"]] == ["leader"]
    # The leader leaves the post: the delegation made while they held it gives nothing now.
    r = flow.client.patch(
        f"/api/v1/users/{flow.user_id('lanhdao.tw')}",
        headers=flow.h("admin"),
        json={"roles": ["specialist"]},
    )
    assert r.status_code == 200
    before = doc_snapshot(flow.demo, doc)
    h = fresh(flow, "truongban.dcgs")
    assert flow.client.get("/api/v1/me", headers=h).get_json()["delegated_roles"] == []
    r = flow.act("truongban.dcgs", doc, "assign", lead={"unit_id": flow.unit_id("TG")})
    assert r.status_code in (403, 404)
    assert flow.client.get("/api/v1/tasks?box=all", headers=h).status_code == 403
    assert doc_snapshot(flow.demo, doc) == before
    # Given back, the same delegation works again (it was never the row that was wrong).
    flow.client.patch(
        f"/api/v1/users/{flow.user_id('lanhdao.tw')}",
        headers=flow.h("admin"),
        json={"roles": ["leader"]},
    )
    r = flow.act("truongban.dcgs", doc, "assign", lead={"unit_id": flow.unit_id("TG")})
    assert r.status_code == 200, r.get_json()


def test_a_delegation_from_another_organisation_gives_nothing(flow: Incoming) -> None:
    plant_delegation(flow.demo, "lanhdao.tinh", "truongban.dcgs", ["leader"])
    doc = flow.register().get_json()["id"]
    before = doc_snapshot(flow.demo, doc)
    h = fresh(flow, "truongban.dcgs")
    assert flow.client.get("/api/v1/me", headers=h).get_json()["delegated_roles"] == []
    assert flow.client.get("/api/v1/tasks?box=all", headers=h).status_code == 403
    assert flow.get("truongban.dcgs", doc).status_code == 404
    r = flow.act("truongban.dcgs", doc, "assign", lead={"unit_id": flow.unit_id("TG")})
    assert r.status_code == 404
    assert doc_snapshot(flow.demo, doc) == before


def test_unit_head_powers_planted_outside_the_unit_give_nothing(flow: Incoming) -> None:
    plant_delegation(flow.demo, "truongban.dcgs", "chuyenvien.tg", ["unit_head"])
    doc = flow.to_assigned(lead={"unit_id": flow.unit_id("TG")}, cooperating=[])
    before = doc_snapshot(flow.demo, doc)
    fresh(flow, "chuyenvien.tg")
    # As "head" of TG (his own unit) with powers that were DCGSPBXH's: refused.
    r = flow.act("chuyenvien.tg", doc, "assign", lead={"user_id": flow.user_id("chuyenvien.tg")})
    assert r.status_code == 403, r.get_json()
    assert flow.act("chuyenvien.tg", doc, "start").status_code == 403
    assert doc_snapshot(flow.demo, doc) == before


def test_a_delegated_unit_head_acts_inside_the_unit_and_the_trail_names_both(
    flow: Incoming,
) -> None:
    r = delegate(flow, "truongban.dcgs", "truongban.dcgs", "chuyenvien.dcgs", ["unit_head"])
    assert r.status_code == 201
    doc = flow.to_assigned()  # DCGSPBXH leads, as a unit
    r = flow.act(
        "chuyenvien.dcgs", doc, "assign", lead={"user_id": flow.user_id("chuyenvien.dcgs")}
    )
    assert r.status_code == 200, r.get_json()
    last = flow.client.get(f"/api/v1/documents/{doc}/trail", headers=flow.h("vanthu.tw"))
    entry = last.get_json()["items"][-1]
    assert entry["actor"]["name"] == "Đỗ Quang Huy"
    assert entry["on_behalf_of"]["name"] == "Phạm Thị Hạnh" and entry["competence"] == "KT."


def _task_awaiting_approval(flow: Incoming) -> str:
    r = flow.client.post(
        "/api/v1/tasks",
        headers=flow.h("lanhdao.tw"),
        json={
            "title": "Tổng hợp ý kiến giám sát quý IV",
            "lead": {"unit_id": flow.unit_id("DCGSPBXH")},
            "cooperating": [{"unit_id": flow.unit_id("TG")}],
            "due_date": "2026-12-04",
        },
    )
    assert r.status_code == 201, r.get_json()
    task = r.get_json()["id"]
    for action in ({"action": "start"}, {"action": "submit_completion", "comment": "Xong"}):
        a = flow.client.post(
            f"/api/v1/tasks/{task}/actions", headers=flow.h("truongban.dcgs"), json=action
        )
        assert a.status_code == 200, a.get_json()
    return str(task)


def test_a_delegation_of_one_role_does_not_act_for_everything_the_delegator_does(
    flow: Incoming,
) -> None:
    # The leader also keeps the clerk's duties, and hands only those over while away.
    r = flow.client.patch(
        f"/api/v1/users/{flow.user_id('lanhdao.tw')}",
        headers=flow.h("admin"),
        json={"roles": ["leader", "clerk"]},
    )
    assert r.status_code == 200
    assert delegate(flow, "lanhdao.tw", "lanhdao.tw", "chuyenvien.tg", ["clerk"]).status_code == 201  # fmt: skip
    task = _task_awaiting_approval(flow)
    doc = flow.register().get_json()["id"]
    assert flow.act("vanthu.tw", doc, "submit", to_user_id=flow.user_id("lanhdao.tw")).status_code == 200  # fmt: skip
    fresh(flow, "chuyenvien.tg")
    task_before, doc_before = task_snapshot(flow.demo, task), doc_snapshot(flow.demo, doc)
    # The leader's task powers (approve, reject, cancel) are not the clerk's.
    for action in (
        {"action": "approve_completion"},
        {"action": "reject_completion", "comment": "Làm lại"},
        {"action": "cancel", "reason": "Không cần nữa"},
    ):
        a = flow.client.post(
            f"/api/v1/tasks/{task}/actions", headers=flow.h("chuyenvien.tg"), json=action
        )
        assert a.status_code == 403, (action, a.get_json())
    view = flow.client.get(f"/api/v1/tasks/{task}", headers=flow.h("chuyenvien.tg")).get_json()
    assert view["allowed_actions"] == []
    # Nor is the direction of a document presented to the leader.
    r = flow.act("chuyenvien.tg", doc, "assign", lead={"unit_id": flow.unit_id("TG")})
    assert r.status_code == 403
    assert task_snapshot(flow.demo, task) == task_before
    assert doc_snapshot(flow.demo, doc) == doc_before
    # What was delegated works, and names both: the clerk's registration.
    reg = flow.register("chuyenvien.tg", notation="61/KH-MTTW-BTT")
    assert reg.status_code == 201, reg.get_json()
    entry = flow.client.get(
        f"/api/v1/documents/{reg.get_json()['id']}/trail", headers=flow.h("vanthu.tw")
    ).get_json()["items"][-1]
    assert entry["on_behalf_of"]["name"] == "Lê Văn Minh"
    # A leader's delegation, by contrast, carries the task powers.
    assert delegate(flow, "lanhdao.tw", "lanhdao.tw", "chuyenvien.tg", ["leader"]).status_code == 201  # fmt: skip
    fresh(flow, "chuyenvien.tg")
    a = flow.client.post(
        f"/api/v1/tasks/{task}/actions",
        headers=flow.h("chuyenvien.tg"),
        json={"action": "approve_completion"},
    )
    assert a.status_code == 200, a.get_json()
