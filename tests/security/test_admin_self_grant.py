"""Issue 11, point 8: an admin cannot raise their own clearance or roles, nor get around it by
creating an account or approving their own request; raising needs a second admin, and both the
request and the approval are audited."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import func, select

from docflow.models import AuditEntry, PrivilegeRequest, User
from tests.conftest import DEMO_PASSWORD, Demo


def h(client: Any, username: str) -> dict[str, str]:
    r = client.post("/api/v1/auth/token", json={"username": username, "password": DEMO_PASSWORD})
    assert r.status_code == 200, r.get_json()
    return {"Authorization": f"Bearer {r.get_json()['access_token']}"}


def state(demo: Demo, username: str) -> tuple[str, frozenset[Any]]:
    user = demo.user(username)
    return user.clearance, user.roles


def requests_count(demo: Demo) -> int:
    with demo.factory() as s:
        return int(s.scalar(select(func.count()).select_from(PrivilegeRequest)) or 0)


def events(demo: Demo, event: str) -> list[AuditEntry]:
    with demo.factory() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.event == event)))


def error_code(r: Any) -> str:
    return str(r.get_json()["error"]["code"])


@pytest.mark.parametrize(
    "change",
    [
        {"clearance": "top_secret"},
        {"clearance": "none", "roles": ["admin", "leader"]},
        {"roles": ["admin", "clerk"]},
        {"roles": ["clerk"]},
    ],
)
def test_an_admin_cannot_change_their_own_roles_or_clearance(
    client: Any, demo: Demo, change: dict[str, Any]
) -> None:
    before = state(demo, "admin")
    uid = demo.user("admin").id
    r = client.patch(f"/api/v1/users/{uid}", headers=h(client, "admin"), json=change)
    assert r.status_code == 403 and error_code(r) == "self_privilege_change"
    assert "chính mình" in r.get_json()["error"]["message"]
    assert state(demo, "admin") == before
    assert requests_count(demo) == 0
    assert events(demo, "user_updated") == []


def test_sending_ones_own_unchanged_values_is_fine(client: Any, demo: Demo) -> None:
    uid = demo.user("admin").id
    r = client.patch(
        f"/api/v1/users/{uid}",
        headers=h(client, "admin"),
        json={"roles": ["admin"], "clearance": "none", "position": "Quản trị viên chính"},
    )
    assert r.status_code == 200 and r.get_json()["pending_request"] is None


def test_a_sock_puppet_account_gets_no_clearance_without_a_second_admin(
    client: Any, demo: Demo
) -> None:
    admin = h(client, "admin")
    r = client.post(
        "/api/v1/users",
        headers=admin,
        json={
            "organization_id": str(demo.org_id("tw")),
            "username": "tay.trong",
            "full_name": "Tài khoản phụ",
            "password": "mat-khau-tai-khoan-phu",
            "roles": ["admin", "leader"],
            "clearance": "top_secret",
        },
    )
    assert r.status_code == 201
    body = r.get_json()
    assert body["clearance"] == "none" and body["roles"] == ["leader"]
    pending = body["pending_request"]
    assert pending["state"] == "pending" and pending["clearance"] == "top_secret"
    assert pending["roles"] == ["admin"]
    # The same admin approving their own request is refused and changes nothing.
    r = client.post(f"/api/v1/privilege-requests/{pending['id']}/approve", headers=admin)
    assert r.status_code == 403 and error_code(r) == "second_admin_required"
    assert state(demo, "tay.trong") == ("none", demo.user("tay.trong").roles)
    assert "admin" not in {r.value for r in demo.user("tay.trong").roles}
    puppet = client.post(
        "/api/v1/auth/token",
        json={"username": "tay.trong", "password": "mat-khau-tai-khoan-phu"},
    )
    me = client.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {puppet.get_json()['access_token']}"}
    )
    assert me.get_json()["clearance"] == "none" and "admin" not in me.get_json()["roles"]
    assert events(demo, "privilege_approved") == []


def test_the_person_concerned_cannot_approve_their_own_elevation(client: Any, demo: Demo) -> None:
    second = demo.add_admin("admin2")
    # admin2 asks to raise admin's clearance; admin tries to approve it for themselves.
    r = client.patch(
        f"/api/v1/users/{demo.user('admin').id}",
        headers=h(client, "admin2"),
        json={"clearance": "secret"},
    )
    assert r.status_code == 200
    pending = r.get_json()["pending_request"]
    assert pending["requested_by"]["username"] == second.username
    r = client.post(
        f"/api/v1/privilege-requests/{pending['id']}/approve", headers=h(client, "admin")
    )
    assert r.status_code == 403 and error_code(r) == "self_privilege_change"
    assert state(demo, "admin")[0] == "none"


def test_a_second_admin_approves_and_both_steps_are_audited(client: Any, demo: Demo) -> None:
    demo.add_admin("admin2")
    target = demo.user("vanthu.tw")
    r = client.patch(
        f"/api/v1/users/{target.id}", headers=h(client, "admin"), json={"clearance": "secret"}
    )
    assert r.status_code == 200 and r.get_json()["clearance"] == "none"
    pending = r.get_json()["pending_request"]
    listed = client.get(
        f"/api/v1/organizations/{demo.org_id('tw')}/privilege-requests",
        headers=h(client, "admin2"),
    ).get_json()["items"]
    assert [i["id"] for i in listed] == [pending["id"]]
    r = client.post(
        f"/api/v1/privilege-requests/{pending['id']}/approve", headers=h(client, "admin2")
    )
    assert r.status_code == 200 and r.get_json()["state"] == "approved"
    assert r.get_json()["decided_by"]["username"] == "admin2"
    assert state(demo, "vanthu.tw")[0] == "secret"
    [asked] = events(demo, "privilege_requested")
    [approved] = events(demo, "privilege_approved")
    assert asked.actor_id == demo.user("admin").id and asked.object_id == str(target.id)
    assert approved.actor_id == demo.user("admin2").id
    assert approved.details["requested_by"] == str(demo.user("admin").id)
    # Deciding twice is a conflict, and changes nothing.
    again = client.post(
        f"/api/v1/privilege-requests/{pending['id']}/reject", headers=h(client, "admin2")
    )
    assert again.status_code == 409 and error_code(again) == "request_decided"
    assert state(demo, "vanthu.tw")[0] == "secret"


def test_lowering_applies_at_once_and_non_admins_cannot_decide(client: Any, demo: Demo) -> None:
    demo.add_admin("admin2")
    target = demo.user("lanhdao.tw")
    r = client.patch(
        f"/api/v1/users/{target.id}",
        headers=h(client, "admin"),
        json={"roles": ["leader", "admin"], "clearance": "top_secret"},
    )
    pending = r.get_json()["pending_request"]
    for outsider in ("lanhdao.tw", "vanthu.tinh"):
        r = client.post(
            f"/api/v1/privilege-requests/{pending['id']}/approve", headers=h(client, outsider)
        )
        assert r.status_code in (403, 404)
    assert state(demo, "lanhdao.tw") == (target.clearance, target.roles)
    r = client.post(
        f"/api/v1/privilege-requests/{pending['id']}/reject", headers=h(client, "admin")
    )
    assert r.status_code == 200 and r.get_json()["state"] == "rejected"
    assert events(demo, "privilege_rejected")
    assert state(demo, "lanhdao.tw") == (target.clearance, target.roles)
    # Lowering needs nobody's approval.
    r = client.patch(
        f"/api/v1/users/{target.id}", headers=h(client, "admin"), json={"clearance": "none"}
    )
    assert r.get_json()["pending_request"] is None and state(demo, "lanhdao.tw")[0] == "none"


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match
    return match.group(1)


def _page_login(client: Any, username: str) -> None:
    token = _csrf(client.get("/login").get_data(as_text=True))
    r = client.post(
        "/login", data={"username": username, "password": DEMO_PASSWORD, "csrf_token": token}
    )
    assert r.status_code == 302


def test_admin_pages_apply_the_same_rule(app: Any, demo: Demo) -> None:
    demo.add_admin("admin2")
    first, second = app.test_client(), app.test_client()
    _page_login(first, "admin")
    _page_login(second, "admin2")
    me = demo.user("admin")
    page = first.get(f"/admin/users/{me.id}/edit").get_data(as_text=True)
    r = first.post(
        f"/admin/users/{me.id}/edit",
        data={
            "full_name": me.full_name,
            "roles": ["admin"],
            "clearance": "top_secret",
            "active": "on",
            "csrf_token": _csrf(page),
        },
    )
    assert r.status_code == 422 and "chính mình" in r.get_data(as_text=True)
    assert state(demo, "admin")[0] == "none"
    target = demo.user("chuyenvien.tg")
    page = first.get(f"/admin/users/{target.id}/edit").get_data(as_text=True)
    r = first.post(
        f"/admin/users/{target.id}/edit",
        data={
            "full_name": target.full_name,
            "roles": ["specialist"],
            "clearance": "confidential",
            "active": "on",
            "csrf_token": _csrf(page),
        },
    )
    assert r.status_code == 302 and "privilege-requests" in r.headers["Location"]
    assert state(demo, "chuyenvien.tg")[0] == "none"
    listing = second.get(r.headers["Location"]).get_data(as_text=True)
    assert "Chờ phê duyệt" in listing and target.full_name in listing
    with demo.factory() as s:
        [req] = s.scalars(select(PrivilegeRequest)).all()
    r = second.post(
        f"/admin/privilege-requests/{req.id}/approve", data={"csrf_token": _csrf(listing)}
    )
    assert r.status_code == 302
    assert state(demo, "chuyenvien.tg")[0] == "confidential"


def _given(client: Any, demo: Demo, who: str) -> dict[str, Any]:
    listed = client.get(
        f"/api/v1/organizations/{demo.org_id('tw')}/privilege-requests",
        headers=h(client, who),
    )
    assert listed.status_code == 200, listed.get_json()
    return {i["user"]["username"]: i["password_given"] for i in listed.get_json()["items"]}


def test_the_second_admin_sees_that_the_requester_set_the_persons_password(
    app: Any, client: Any, demo: Demo
) -> None:
    """An admin resets an ordinary person's password (allowed alone), then asks to make that
    person an admin: approving would give the requester a second admin account, since they
    know its password. The second admin is told so, in the list the API answers and on the
    page they approve from; a person whose password nobody else set carries nothing, and a
    reset by someone else says who."""
    demo.add_admin("admin2")
    admin = h(client, "admin")
    target, other = demo.user("vanthu.tw"), demo.user("chuyenvien.tg")
    r = client.post(
        f"/api/v1/users/{target.id}/password",
        headers=admin,
        json={"password": "mat-khau-do-admin-dat-9"},
    )
    assert r.status_code == 200 and r.get_json()["pending_request"] is None
    for person in (target, other):
        r = client.patch(f"/api/v1/users/{person.id}", headers=admin, json={"roles": ["admin"]})
        assert r.status_code == 200 and r.get_json()["pending_request"]["state"] == "pending"
    given = _given(client, demo, "admin2")
    assert given["chuyenvien.tg"] is None
    flagged = given["vanthu.tw"]
    assert flagged["by"] == {
        "id": str(demo.user("admin").id),
        "full_name": demo.user("admin").full_name,
    }
    assert flagged["how"] == "password_reset" and flagged["by_requester"] is True
    assert flagged["changed_by_person_at"] is None

    second = app.test_client()
    _page_login(second, "admin2")
    page = second.get(f"/admin/organizations/{demo.org_id('tw')}/privilege-requests")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert text.count("chính người đề nghị") == 1 and "chưa tự đổi mật khẩu" in text

    # The account changes its own password: said, with when (it proves nothing of who).
    own = client.post(
        "/api/v1/me/password",
        headers={
            "Authorization": "Bearer "
            + client.post(
                "/api/v1/auth/token",
                json={"username": "vanthu.tw", "password": "mat-khau-do-admin-dat-9"},
            ).get_json()["access_token"]
        },
        json={"current_password": "mat-khau-do-admin-dat-9", "new_password": "mat-khau-cua-toi-7"},
    )
    assert own.status_code == 200, own.get_json()
    flagged = _given(client, demo, "admin2")["vanthu.tw"]
    assert flagged["by_requester"] is True and flagged["changed_by_person_at"] is not None

    # A reset by a third admin names them, and is not the requester's.
    demo.add_admin("admin3")
    r = client.post(
        f"/api/v1/users/{other.id}/password",
        headers=h(client, "admin3"),
        json={"password": "mat-khau-admin3-dat-5"},
    )
    assert r.status_code == 200 and r.get_json()["pending_request"] is None
    flagged = _given(client, demo, "admin2")["chuyenvien.tg"]
    assert flagged["by"]["id"] == str(demo.user("admin3").id)
    assert flagged["by_requester"] is False and flagged["how"] == "password_reset"


def test_a_reset_a_second_admin_approved_counts_as_given_by_the_one_who_asked(
    client: Any, demo: Demo
) -> None:
    """A cleared leader's password is reset only with a second admin's approval; the one who
    typed it (the requester of the reset) knows it, and a later request of theirs to raise the
    leader says so."""
    demo.add_admin("admin2")
    leader = demo.user("lanhdao.tw")
    r = client.post(
        f"/api/v1/users/{leader.id}/password",
        headers=h(client, "admin"),
        json={"password": "mat-khau-lanh-dao-moi-3"},
    )
    reset = r.get_json()["pending_request"]
    assert r.status_code == 200 and reset["password_reset"] is True
    assert _given(client, demo, "admin2")["lanhdao.tw"] is None  # nothing set yet
    r = client.post(
        f"/api/v1/privilege-requests/{reset['id']}/approve", headers=h(client, "admin2")
    )
    assert r.status_code == 200 and r.get_json()["password_given"] is None  # lists only
    r = client.patch(
        f"/api/v1/users/{leader.id}",
        headers=h(client, "admin"),
        json={"roles": ["leader", "admin"]},
    )
    assert r.status_code == 200 and r.get_json()["pending_request"]["state"] == "pending"
    flagged = _given(client, demo, "admin2")["lanhdao.tw"]
    assert flagged["by"]["id"] == str(demo.user("admin").id)
    assert flagged["by_requester"] is True and flagged["how"] == "password_reset"


def test_an_activation_code_shown_to_the_admin_counts_as_given_by_them(
    client: Any, demo: Demo
) -> None:
    """A new activation code the bulk action shows to the admin (to hand out) lets that admin
    set the password first: the same flag, ``activation_code``. One e-mailed to the person
    does not count (the admin never saw it)."""
    from docflow import directory

    demo.add_admin("admin2")
    clerk, specialist = demo.user("vanthu.tw"), demo.user("chuyenvien.tg")
    admin = demo.actor("admin")
    shown = directory.bulk_change_users(
        demo.uow(),
        admin,
        directory.BulkUserAction(action="reset_activation", user_ids=[clerk.id]),
    )
    assert [c.username for c in shown.codes] == ["vanthu.tw"]
    with demo.factory() as s, s.begin():
        s.get_one(User, specialist.id).email = "lan.vu@example.com"
    emailed = directory.bulk_change_users(
        demo.uow(),
        admin,
        directory.BulkUserAction(action="reset_activation", user_ids=[specialist.id]),
        email_links=True,
    )
    assert emailed.codes == []
    given = directory.passwords_given(
        demo.uow(), demo.actor("admin2"), demo.org_id("tw"), [clerk.id, specialist.id]
    )
    assert set(given) == {clerk.id}
    assert given[clerk.id].by_id == demo.user("admin").id
    assert given[clerk.id].how == "activation_code"
    # Someone who is not their admin learns nothing of them: a clerk, and the admin of a
    # province below, whether asking about the centre or naming the centre's people under
    # the province's own organisation.
    demo.add_admin("admin.tinh", org="tinh")
    for who in ("vanthu.tw", "admin.tinh"):
        with pytest.raises(Exception) as refused:
            directory.passwords_given(demo.uow(), demo.actor(who), demo.org_id("tw"), [clerk.id])
        assert getattr(refused.value, "kind", "") in ("forbidden", "not_found")
    own = directory.passwords_given(
        demo.uow(), demo.actor("admin.tinh"), demo.org_id("tinh"), [clerk.id]
    )
    assert own == {}
