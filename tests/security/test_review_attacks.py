"""Review of the issue-11 controls, tried again as an attacker (the holes the first round missed).

Each test reproduces one attack through the public API on PostgreSQL and asserts the refusal
and that nothing changed or leaked.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from docflow.enums import Role, Secrecy
from docflow.models import AuditEntry, Delegation
from tests.conftest import Clock, Demo, make_test_settings
from tests.incoming.conftest import Incoming
from tests.pdfs import make_pdf
from tests.security.test_clearance import set_clearance

pytestmark = [pytest.mark.pg]

MARK = f"REVIEWMARK{uuid.uuid4().hex[:10].upper()}"


@pytest.fixture
def flow(client: Any, api: Any, demo: Demo) -> Incoming:
    return Incoming(client, api, demo)


def _rows(demo: Demo, model: Any) -> int:
    with demo.factory() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


# --- an admin gives themselves a leader's powers through a delegation -------------------------


def test_an_admin_cannot_record_a_delegation_to_themselves(flow: Incoming, demo: Demo) -> None:
    """Nobody changes their own roles (the two-person rule); an admin may record a leader's
    delegation for them, but not one that makes the admin the delegate: that would give the
    admin the leader's powers (the whole organisation's documents, signing) on their own."""
    admin = demo.user("admin")
    assert admin.organization_id == demo.user("lanhdao.tw").organization_id
    before = _rows(demo, Delegation)
    r = flow.client.post(
        "/api/v1/delegations",
        headers=flow.h("admin"),
        json={
            "delegator_id": flow.user_id("lanhdao.tw"),
            "delegate_id": str(admin.id),
            "roles": ["leader"],
            "competence": "KT.",
            "start_date": "2026-11-23",
            "end_date": "2026-11-30",
        },
    )
    assert r.status_code == 403, r.get_json()
    assert r.get_json()["error"]["code"] == "self_privilege_change"
    assert _rows(demo, Delegation) == before
    assert not demo.actor("admin").has_role(Role.LEADER)
    # The same row made before the rule (or written into the database) gives nothing either.
    with demo.factory() as s:
        s.add(
            Delegation(
                organization_id=admin.organization_id,
                delegator_id=demo.user("lanhdao.tw").id,
                delegate_id=admin.id,
                roles=["leader"],
                competence="KT.",
                start_date=dt.date(2026, 11, 1),
                end_date=dt.date(2026, 12, 31),
                created_by_id=admin.id,
            )
        )
        s.commit()
    assert not demo.actor("admin").has_role(Role.LEADER)
    r = flow.client.get("/api/v1/documents?box=processing", headers=flow.h("admin"))
    assert r.status_code == 200 and r.get_json()["items"] == []


# --- the audit page shows an uncleared admin what a secret document's trail holds -------------


@pytest.fixture
def secret_app(
    tmp_path: Path, pg_url: str, session_factory: sessionmaker[Session], clock: Clock, demo: Demo
) -> Any:
    """A secret-network deployment: secret drafts carry their files."""
    from app import create_app

    settings = make_test_settings(tmp_path, pg_url, secret_network=True)
    flask_app = create_app(settings, session_factory=session_factory, clock=clock)
    flask_app.config.update(TESTING=True)
    return flask_app


def test_the_audit_log_does_not_show_an_uncleared_admin_a_secret_drafts_file_name(
    secret_app: Any, demo: Demo
) -> None:
    """The admin reads the whole organisation's log but holds no clearance: the log must not
    copy what the secret document's trail holds in free text (its file names)."""
    client = secret_app.test_client()
    flow = Incoming(client, None, demo)

    def token(username: str) -> dict[str, str]:
        from tests.conftest import DEMO_PASSWORD

        r = client.post(
            "/api/v1/auth/token", json={"username": username, "password": DEMO_PASSWORD}
        )
        assert r.status_code == 200, r.get_json()
        return {"Authorization": f"Bearer {r.get_json()['access_token']}"}

    set_clearance(demo, "chuyenvien.dcgs", Secrecy.SECRET)
    set_clearance(demo, "lanhdao.tw", Secrecy.SECRET)
    meta = {
        "doc_type": "KH",
        "subject": "Kế hoạch bảo vệ",
        "signer_user_id": flow.user_id("lanhdao.tw"),
        "competence": "TM.",
        "authority": "Ban Thường trực",
        "secrecy": "secret",
        "recipients": [{"organization_id": str(demo.org_id("tinh"))}],
    }
    import io

    r = client.post(
        "/api/v1/outgoing",
        headers=token("chuyenvien.dcgs"),
        data={
            "meta": json.dumps(meta),
            "files": [(io.BytesIO(make_pdf()), f"{MARK}.pdf", "application/pdf")],
        },
        content_type="multipart/form-data",
    )
    assert r.status_code == 201, r.get_json()
    doc_id = r.get_json()["id"]
    # The cleared drafter sees the file name (the control: the name did reach the system).
    assert MARK in client.get(
        f"/api/v1/documents/{doc_id}/trail", headers=token("chuyenvien.dcgs")
    ).get_data(as_text=True)
    assert demo.actor("admin").clearance is Secrecy.NONE
    admin = token("admin")
    page = client.get("/api/v1/audit?limit=200", headers=admin)
    assert page.status_code == 200
    assert MARK.encode() not in page.get_data()
    with demo.factory() as s:
        stored = [json.dumps(d) for d in s.scalars(select(AuditEntry.details))]
    assert not [d for d in stored if MARK in d]


# --- a stolen token guesses the password through "change my password" -------------------------


def test_the_current_password_of_a_password_change_is_throttled_like_a_login(
    flow: Incoming, demo: Demo
) -> None:
    """Someone holding a stolen token (or a browser left open) may not try passwords without
    limit through the password change, which asks for the current one: the login's counters
    apply, and while locked even the right password changes nothing."""
    from tests.conftest import DEMO_PASSWORD

    headers = flow.h("chuyenvien.dcgs")
    before = demo.user("chuyenvien.dcgs").password_hash
    codes = []
    for i in range(7):
        r = flow.client.post(
            "/api/v1/me/password",
            headers=headers,
            json={"current_password": f"guess-{i}-Xx9!", "new_password": "Mat-khau-moi-2026!"},
        )
        codes.append(r.status_code)
    assert codes[:5] == [422] * 5 and set(codes[5:]) == {429}, codes
    r = flow.client.post(
        "/api/v1/me/password",
        headers=headers,
        json={"current_password": DEMO_PASSWORD, "new_password": "Mat-khau-moi-2026!"},
    )
    assert r.status_code == 429 and "Retry-After" in r.headers
    assert demo.user("chuyenvien.dcgs").password_hash == before
    # The rightful user, from another address, still signs in.
    r = flow.client.post(
        "/api/v1/auth/token",
        json={"username": "chuyenvien.dcgs", "password": DEMO_PASSWORD},
        environ_base={"REMOTE_ADDR": "198.51.100.7"},
    )
    assert r.status_code == 200


# --- the audit page tells an uncleared admin which words find secret documents ----------------


def test_the_logged_search_of_secret_items_does_not_show_its_words_to_the_admin(
    flow: Incoming, demo: Demo
) -> None:
    """A cleared leader's search that returned secret documents is logged; the words searched
    are words of those documents' subjects, so the log keeps only a keyed hash of them."""
    from docflow.enums import Direction
    from tests.security.test_clearance import register_secret, secret_register

    word = MARK.lower()
    secret_register(demo, Direction.INCOMING)
    doc = register_secret(demo, subject=f"Phương án {word} bảo vệ")
    set_clearance(demo, "lanhdao.tw", Secrecy.SECRET)
    assert str(doc.id) in flow.box("lanhdao.tw", "all", q=word)
    r = flow.client.get("/api/v1/audit?event=documents.searched", headers=flow.h("admin"))
    assert r.status_code == 200
    items = r.get_json()["items"]
    assert len(items) == 1 and items[0]["details"]["secret_ids"] == [str(doc.id)]
    assert word.encode() not in r.get_data() and MARK.encode() not in r.get_data()
    page = flow.client.get(f"/api/v1/audit?limit=200&q={word}", headers=flow.h("admin"))
    assert word.encode() not in page.get_data()
    # The same search again carries the same hash: investigators can still match searches.
    flow.box("lanhdao.tw", "all", q=word)
    r = flow.client.get("/api/v1/audit?event=documents.searched", headers=flow.h("admin"))
    hashes = {e["details"]["q_hash"] for e in r.get_json()["items"]}
    assert len(hashes) == 1 and None not in hashes


# --- open: one admin takes over a second admin's account by resetting its password ------------


def test_one_admin_cannot_approve_their_own_request_through_a_reset_second_admin(
    flow: Incoming, demo: Demo
) -> None:
    """The two-person rule for clearances holds only if one admin cannot sign in as the second:
    resetting the second admin's password (applied at once) and approving as them defeats it."""
    from docflow.models import PrivilegeRequest

    second = demo.add_admin("admin2")
    puppet = demo.user("chuyenvien.dcgs")
    r = flow.client.patch(
        f"/api/v1/users/{puppet.id}", headers=flow.h("admin"), json={"clearance": "top_secret"}
    )
    assert r.status_code == 200 and r.get_json()["pending_request"] is not None
    request_id = r.get_json()["pending_request"]["id"]
    r = flow.client.post(
        f"/api/v1/users/{second.id}/password",
        headers=flow.h("admin"),
        json={"password": "Mat-khau-chiem-quyen-2026"},
    )
    # The reset of an admin's password is only asked for: nothing changes yet.
    assert r.status_code == 200, r.get_json()
    reset = r.get_json()["pending_request"]
    assert reset is not None and reset["password_reset"] is True
    r = flow.client.post(
        "/api/v1/auth/token",
        json={"username": "admin2", "password": "Mat-khau-chiem-quyen-2026"},
    )
    assert r.status_code == 401, r.get_json()
    # The one who asked cannot approve the reset either.
    r = flow.client.post(
        f"/api/v1/privilege-requests/{reset['id']}/approve", headers=flow.h("admin")
    )
    assert r.status_code == 403
    assert r.get_json()["error"]["code"] == "second_admin_required"
    with demo.factory() as s:
        state = s.get(PrivilegeRequest, uuid.UUID(request_id))
        assert state is not None
        assert state.state == "pending"
    assert demo.user("chuyenvien.dcgs").clearance == "none"


def test_a_second_admin_applies_a_reset_of_a_cleared_persons_password(
    flow: Incoming, demo: Demo
) -> None:
    """A cleared person's password set by one admin takes effect only when another approves;
    an ordinary person's reset applies at once."""
    third = demo.add_admin("admin3")
    cleared = demo.user("lanhdao.tw")  # the demo leader holds a clearance
    r = flow.client.post(
        f"/api/v1/users/{cleared.id}/password",
        headers=flow.h("admin"),
        json={"password": "Mat-khau-moi-cua-lanh-dao-1"},
    )
    pending = r.get_json()["pending_request"]
    assert pending is not None
    login = {"username": "lanhdao.tw", "password": "Mat-khau-moi-cua-lanh-dao-1"}
    assert flow.client.post("/api/v1/auth/token", json=login).status_code == 401
    r = flow.client.post(
        f"/api/v1/privilege-requests/{pending['id']}/approve", headers=flow.h(third.username)
    )
    assert r.status_code == 200, r.get_json()
    assert flow.client.post("/api/v1/auth/token", json=login).status_code == 200
    with demo.factory() as s:
        from docflow.models import PrivilegeRequest

        stored = s.get(PrivilegeRequest, uuid.UUID(pending["id"]))
        assert stored is not None and stored.password_hash is None  # wiped once decided
    plain = demo.user("chuyenvien.tg")
    r = flow.client.post(
        f"/api/v1/users/{plain.id}/password",
        headers=flow.h("admin"),
        json={"password": "Mat-khau-moi-chuyen-vien-1"},
    )
    assert r.status_code == 200 and r.get_json()["pending_request"] is None
    login = {"username": "chuyenvien.tg", "password": "Mat-khau-moi-chuyen-vien-1"}
    assert flow.client.post("/api/v1/auth/token", json=login).status_code == 200


def test_people_of_a_deactivated_organisation_cannot_sign_in_nor_use_their_tokens(
    flow: Incoming, demo: Demo
) -> None:
    from docflow.models import Organization
    from tests.conftest import DEMO_PASSWORD

    token = flow.h("vanthu.tinh")
    assert flow.client.get("/api/v1/me", headers=token).status_code == 200
    with demo.factory() as s:
        org = s.get(Organization, demo.org_id("tinh"))
        assert org is not None
        org.active = False
        s.commit()
    assert flow.client.get("/api/v1/me", headers=token).status_code == 401
    login = {"username": "vanthu.tinh", "password": DEMO_PASSWORD}
    assert flow.client.post("/api/v1/auth/token", json=login).status_code == 401
    # People of other organisations are not affected.
    assert (
        flow.client.post(
            "/api/v1/auth/token", json={"username": "vanthu.tw", "password": DEMO_PASSWORD}
        ).status_code
        == 200
    )
