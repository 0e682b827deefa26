"""Write-path review: who may change what, through the public API, on PostgreSQL.

Each FINDING test failed on the code as reviewed (c23c60f) and passes since its fix the same
session (a designated signer, and a task's assigner, decide only while they still hold the
role; a plan item waiting for the head's approval opens no dossier: 409); each HELD test
records an attack that was tried and held (refused, and nothing changed). The app is the
outgoing tests' one (demo PKI, warm LibreOffice), so drafts can be signed.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from docflow.models import (
    Assignment,
    Document,
    DocumentFile,
    Dossier,
    DossierItem,
    Notification,
    Task,
    TrailEntry,
)
from tests.conftest import Demo
from tests.incoming.conftest import Incoming
from tests.outgoing.conftest import (  # noqa: F401  (fixtures)
    Outgoing,
    app,
    converter,
    demo_pki_dir,
)
from tests.pdfs import make_pdf


@pytest.fixture
def out(client: Any, api: Any, demo: Demo) -> Outgoing:
    return Outgoing(client, api, demo)


@pytest.fixture
def inc(client: Any, api: Any, demo: Demo) -> Incoming:
    return Incoming(client, api, demo)


def _count(demo: Demo, model: Any, *where: Any) -> int:
    with demo.factory() as s:
        return int(s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def _files(demo: Demo, doc: str, kind: str) -> int:
    return _count(
        demo, DocumentFile, DocumentFile.document_id == uuid.UUID(doc), DocumentFile.kind == kind
    )


def _trail(demo: Demo, doc: str) -> list[str]:
    with demo.factory() as s:
        return list(
            s.scalars(
                select(TrailEntry.action)
                .where(TrailEntry.document_id == uuid.UUID(doc))
                .order_by(TrailEntry.seq)
            )
        )


def _to_leader(out: Outgoing) -> str:
    """A template draft (signer lanhdao.tw) submitted straight to its signer."""
    r = out.template()
    assert r.status_code == 201, r.get_json()
    doc = str(r.get_json()["id"])
    out.ok("chuyenvien.dcgs", doc, "submit_for_review", to_user_id=out.user_id("lanhdao.tw"))
    return doc


def _set_roles(out: Outgoing, username: str, roles: list[str]) -> None:
    r = out.client.patch(
        f"/api/v1/users/{out.user_id(username)}", headers=out.h("admin"), json={"roles": roles}
    )
    assert r.status_code == 200, r.get_json()


# ---------------------------------------------------------------- signing


def test_a_demoted_leader_still_signs_the_drafts_designated_to_them(out: Outgoing) -> None:
    """FINDING 1 (Medium): the power to sign an outgoing document is decided by
    ``signer_user_id == actor`` alone (docflow/outgoing/policy.py ``may_sign`` / ``decide``
    APPROVE and SIGN); the SIGNER_ROLES check is made only when the draft is created
    (docflow/outgoing/drafts.py ``_signer``). A leader whose leader role the admin removes
    (moved to a specialist post, or demoted after a dispute) keeps signing, as leader, every
    draft that names them: POST /api/v1/documents/{id}/actions {"action": "sign"} → 200, a
    signed file, the draft goes to the clerk to be numbered and sealed. The same holds for
    signing sessions and bulk signing (same policy). Fix: ``may_sign`` (and APPROVE) also
    require a role of SIGNER_ROLES held now (the facts carry the signer's roles, or the
    engine asks ``policy.may_be_signer(actor.roles)``)."""
    doc = _to_leader(out)
    _set_roles(out, "lanhdao.tw", ["specialist"])  # no longer a leader
    r = out.act("lanhdao.tw", doc, "sign")
    assert r.status_code == 403, r.get_json()
    assert _files(out.demo, doc, "signed") == 0
    assert out.get("chuyenvien.dcgs", doc).get_json()["state"] == "in_review"
    assert "sign" not in _trail(out.demo, doc)


def test_held_only_the_designated_signer_signs(out: Outgoing) -> None:
    """HELD: the drafter, the clerk, the unit head and a leader of another organisation cannot sign a draft that names lanhdao.tw (403, or 404 across
    organisations); no signed file, no trail entry."""
    doc = _to_leader(out)
    for user, status in [
        ("chuyenvien.dcgs", 403),
        ("vanthu.tw", 403),
        ("truongban.dcgs", 403),
        ("lanhdao.tinh", 404),
    ]:
        r = out.act(user, doc, "sign")
        assert r.status_code == status, (user, r.get_json())
        r = out.client.post(
            f"/api/v1/documents/{doc}/signing-sessions",
            headers=out.h(user),
            json={"kind": "personal", "certificate": "x", "chain": []},
        )
        assert r.status_code in (status, 422), (user, r.get_json())
    assert _files(out.demo, doc, "signed") == 0
    assert "sign" not in _trail(out.demo, doc)


def test_held_the_signed_file_is_not_replaced(out: Outgoing) -> None:
    """HELD: once signed, nobody adds a new draft version or attachment (409 ``draft_locked``
    for those who held it, 403 for others), and the clerk cannot sign again after issuing."""
    doc = _to_leader(out)
    out.ok("lanhdao.tw", doc, "sign")
    before = _count(out.demo, DocumentFile, DocumentFile.document_id == uuid.UUID(doc))
    for user, status in [("lanhdao.tw", 409), ("chuyenvien.dcgs", 409), ("vanthu.tw", 403)]:
        for kind in ("draft", "attachment"):
            r = out.new_version(
                user, doc, make_pdf(title="Bản thay thế"), "thay.pdf", "application/pdf", kind=kind
            )
            assert r.status_code == status, (user, kind, r.get_json())
    assert out.act("lanhdao.tw", doc, "sign").status_code == 409
    assert _count(out.demo, DocumentFile, DocumentFile.document_id == uuid.UUID(doc)) == before


# ---------------------------------------------------------------- mass assignment


def test_held_extra_fields_in_bodies_are_refused(out: Outgoing) -> None:
    """HELD: fields a body does not define (organization_id, state, created_by_id,
    assigner_id…) are refused with 422 (``extra="forbid"`` on every command), not applied."""
    demo = out.demo
    other_org = str(demo.org_id("tinh"))
    tasks = _count(demo, Task)
    r = out.client.post(
        "/api/v1/tasks",
        headers=out.h("lanhdao.tw"),
        json={
            "title": "Việc thử",
            "lead": {"user_id": out.user_id("chuyenvien.dcgs")},
            "due_in_working_days": 3,
            "organization_id": other_org,
            "state": "completed",
            "assigner_id": out.user_id("lanhdao.tinh"),
        },
    )
    assert r.status_code == 422, r.get_json()
    assert _count(demo, Task) == tasks
    r = out.client.patch(
        f"/api/v1/users/{out.user_id('chuyenvien.dcgs')}",
        headers=out.h("admin"),
        json={"organization_id": other_org, "username": "x.y"},
    )
    assert r.status_code == 422, r.get_json()
    assert str(demo.user("chuyenvien.dcgs").organization_id) != other_org
    drafts = _count(demo, Document)
    r = out.template(created_by_id=out.user_id("lanhdao.tw"), state="signed")
    assert r.status_code == 422, r.get_json()
    assert _count(demo, Document) == drafts


# ---------------------------------------------------------------- objects of someone else


def test_held_notifications_of_someone_else_stay_unread(out: Outgoing) -> None:
    """HELD: POST /notifications/{id}/read of another person's notification is 404 and leaves
    it unread."""
    _to_leader(out)  # lanhdao.tw is told a draft waits for them
    with out.demo.factory() as s:
        note = s.scalars(
            select(Notification).where(Notification.user_id == uuid.UUID(out.user_id("lanhdao.tw")))
        ).first()
        assert note is not None and note.read_at is None
        note_id = note.id
    for user in ("chuyenvien.dcgs", "lanhdao.tinh"):
        r = out.client.post(f"/api/v1/notifications/{note_id}/read", headers=out.h(user))
        assert r.status_code == 404, r.get_json()
    with out.demo.factory() as s:
        assert s.get_one(Notification, note_id).read_at is None


def test_held_hand_overs_name_only_people_of_the_organisation(inc: Incoming) -> None:
    """HELD: submitting an incoming document to another organisation's leader, assigning it to
    another organisation's unit or person, and completing it with another organisation's
    document as the reply are 422; nothing moves, nobody is told."""
    doc = inc.register(notation="71/KH-MTTW-BTT").get_json()["id"]
    notes = _count(inc.demo, Notification)
    r = inc.act("vanthu.tw", doc, "submit", to_user_id=inc.user_id("lanhdao.tinh"))
    assert r.status_code == 422, r.get_json()
    assert inc.get("vanthu.tw", doc).get_json()["state"] == "registered"
    foreign_unit = inc.unit_id("BTT", org="tinh")
    for lead in ({"unit_id": foreign_unit}, {"user_id": inc.user_id("chuyenvien.tinh")}):
        r = inc.act("lanhdao.tw", doc, "assign", lead=lead, due_in_working_days=3)
        assert r.status_code == 422, r.get_json()
    assert _count(inc.demo, Assignment, Assignment.document_id == uuid.UUID(doc)) == 0
    assert _count(inc.demo, Notification) == notes
    # The province's own document as a "reply" of ours.
    theirs = inc.register(
        "vanthu.tinh", notation="72/KH-MTTW-BTT", subject="Văn bản của tỉnh"
    ).get_json()["id"]
    r = inc.act(
        "lanhdao.tw", doc, "assign", lead={"user_id": inc.user_id("chuyenvien.dcgs")},
        due_in_working_days=3,
    )  # fmt: skip
    assert r.status_code == 200, r.get_json()
    r = inc.act("chuyenvien.dcgs", doc, "complete", reply_document_id=theirs)
    assert r.status_code == 422, r.get_json()
    with inc.demo.factory() as s:
        row = s.get_one(Document, uuid.UUID(doc))
        assert row.state == "assigned" and row.reply_document_id is None


def test_held_tasks_name_only_people_and_documents_of_the_organisation(inc: Incoming) -> None:
    """HELD: a task whose lead or co-operator is of another organisation, or whose source
    document is another organisation's, is 422 and creates nothing."""
    theirs = inc.register(
        "vanthu.tinh", notation="73/KH-MTTW-BTT", subject="Văn bản của tỉnh"
    ).get_json()["id"]
    tasks = _count(inc.demo, Task)
    base = {"title": "Việc thử", "due_in_working_days": 3}
    for body in (
        {**base, "lead": {"user_id": inc.user_id("chuyenvien.tinh")}},
        {**base, "lead": {"unit_id": inc.unit_id("BTT", org="tinh")}},
        {
            **base,
            "lead": {"user_id": inc.user_id("chuyenvien.dcgs")},
            "cooperating": [{"user_id": inc.user_id("lanhdao.phuong")}],
        },
        {**base, "lead": {"user_id": inc.user_id("chuyenvien.dcgs")}, "document_id": theirs},
    ):
        r = inc.client.post("/api/v1/tasks", headers=inc.h("lanhdao.tw"), json=body)
        assert r.status_code == 422, (body, r.get_json())
    assert _count(inc.demo, Task) == tasks


def _dossier(inc: Incoming, user: str = "vanthu.tw", **extra: Any) -> Any:
    body = {
        "organization_id": str(inc.demo.org_id("tw")),
        "year": 2026,
        **(
            {}
            if "plan_item_id" in extra
            else {"code": f"W{uuid.uuid4().hex[:6]}", "title": "Hồ sơ thử", "retention_years": 10}
        ),
        **extra,
    }
    return inc.client.post("/api/v1/dossiers", headers=inc.h(user), json=body)


def test_held_a_dossier_takes_only_the_filers_own_documents(inc: Incoming) -> None:
    """HELD: filing another organisation's document or task into our dossier is 422, taking a
    document out of another organisation's dossier is 404, and opening a dossier for another
    organisation is 404; nothing is filed."""
    theirs = inc.register(
        "vanthu.tinh", notation="74/KH-MTTW-BTT", subject="Văn bản của tỉnh"
    ).get_json()["id"]
    r = _dossier(inc)
    assert r.status_code == 201, r.get_json()
    dossier = r.get_json()["id"]
    r = inc.client.post(
        f"/api/v1/dossiers/{dossier}/documents",
        headers=inc.h("vanthu.tw"),
        json={"document_id": theirs},
    )
    assert r.status_code == 422, r.get_json()
    r = inc.client.post(
        f"/api/v1/dossiers/{dossier}/documents",
        headers=inc.h("vanthu.tw"),
        json={"document_ids": [theirs]},
    )
    assert r.status_code == 200 and not r.get_json()["results"][0]["ok"]
    assert _count(inc.demo, DossierItem, DossierItem.dossier_id == uuid.UUID(dossier)) == 0
    # The province's clerk against our dossier.
    ours = inc.register(notation="75/KH-MTTW-BTT").get_json()["id"]
    r = inc.client.post(
        f"/api/v1/dossiers/{dossier}/documents",
        headers=inc.h("vanthu.tw"),
        json={"document_id": ours},
    )
    assert r.status_code == 200, r.get_json()
    r = inc.client.delete(
        f"/api/v1/dossiers/{dossier}/documents/{ours}", headers=inc.h("vanthu.tinh")
    )
    assert r.status_code == 404, r.get_json()
    r = inc.client.post(
        f"/api/v1/dossiers/{dossier}/actions",
        headers=inc.h("lanhdao.tinh"),
        json={"action": "close"},
    )
    assert r.status_code == 404, r.get_json()
    assert _count(inc.demo, DossierItem, DossierItem.dossier_id == uuid.UUID(dossier)) == 1
    r = _dossier(inc, "vanthu.tinh")
    assert r.status_code == 404, r.get_json()


def test_a_dossier_opened_from_an_unapproved_plan_item_counts_as_planned(inc: Incoming) -> None:
    """FINDING 2 (Low): the head approves the file plan (danh mục hồ sơ, DOMAIN.md §10); a
    dossier opened outside it is marked ``planned: false`` and added to the plan for the
    head's approval. But POST /api/v1/dossiers with ``plan_item_id`` accepts an item the head
    never approved (docflow/dossiers/services.py ``open_dossier`` checks the item's
    organisation and year, not ``item.approved`` nor the plan's state): the clerk adds an item
    to the approved plan (it waits for approval) and opens the dossier from it at once; the
    dossier reads ``planned: true`` with the retention the clerk chose, and the head's pending
    change is moot. Fix: ``open_dossier`` refuses (409 ``plan_item_not_approved``) an item
    whose ``approved`` is false or whose plan is not approved."""
    h = inc.h("vanthu.tw")
    r = inc.client.post(
        "/api/v1/file-plans",
        headers=h,
        json={"organization_id": str(inc.demo.org_id("tw")), "year": 2026},
    )
    assert r.status_code == 201, r.get_json()
    plan = r.get_json()["id"]
    r = inc.client.post(
        f"/api/v1/file-plans/{plan}/headings", headers=h, json={"code": "I", "title": "Chung"}
    )
    assert r.status_code in (200, 201), r.get_json()
    heading = r.get_json()["headings"][0]["id"]
    r = inc.client.post(
        f"/api/v1/file-plans/{plan}/actions",
        headers=inc.h("lanhdao.tw"),
        json={"action": "approve"},
    )
    assert r.status_code == 200, r.get_json()
    r = inc.client.post(
        f"/api/v1/file-plans/{plan}/items",
        headers=h,
        json={"heading_id": heading, "code": "I.9", "title": "Hồ sơ tự thêm", "retention_years": 1},
    )
    assert r.status_code in (200, 201), r.get_json()
    items = [i for hd in r.get_json()["headings"] for i in hd["items"] if i["code"] == "I.9"]
    assert items and items[0]["approved"] is False  # waits for the head
    dossiers = _count(inc.demo, Dossier)
    r = _dossier(inc, plan_item_id=items[0]["id"])
    assert r.status_code == 409, r.get_json()
    assert _count(inc.demo, Dossier) == dossiers


def test_held_feedback_of_another_organisation_cannot_be_moved(out: Outgoing, client: Any) -> None:
    """HELD: a citizen's item sent to the ward is 404 to the officers of the province above it
    and of the central committee, for every action; its state and trail stay."""
    import json

    from docflow.models import FeedbackItem, FeedbackTrailEntry
    from tests.feedback.conftest import meta

    r = client.post(
        "/api/v1/public/feedback",
        data={"meta": json.dumps(meta()), "files": []},
        content_type="multipart/form-data",
    )
    assert r.status_code == 201, r.get_json()
    with out.demo.factory() as s:
        item = s.scalars(select(FeedbackItem).order_by(FeedbackItem.received_at.desc())).first()
        assert item is not None
        item_id, state = str(item.id), item.state
    steps = _count(out.demo, FeedbackTrailEntry)
    for user in ("lanhdao.tinh", "vanthu.tinh", "lanhdao.tw"):
        for action, params in [
            ("accept", {}),
            ("reject", {"reason": "Không thuộc thẩm quyền"}),
            ("answer", {"text": "Đã xử lý"}),
            ("forward", {"organization_id": str(out.demo.org_id("tw"))}),
            ("close", {}),
        ]:
            r = client.post(
                f"/api/v1/feedback/{item_id}/actions",
                headers=out.h(user),
                json={"action": action, **params},
            )
            assert r.status_code == 404, (user, action, r.get_json())
    with out.demo.factory() as s:
        assert s.get_one(FeedbackItem, uuid.UUID(item_id)).state == state
    assert _count(out.demo, FeedbackTrailEntry) == steps


def test_held_a_delivery_is_acted_on_only_through_its_own_document(out: Outgoing) -> None:
    """HELD: POST /documents/{A}/deliveries/{a delivery of B}/actions is 404, and another
    organisation's clerk gets 404 on ours; the deliveries stay as they were."""
    from docflow.models import Delivery

    a = str(out.template().get_json()["id"])
    b = str(out.template().get_json()["id"])
    b_delivery = out.deliveries("chuyenvien.dcgs", b)[0]["id"]
    for user, doc in [("vanthu.tw", a), ("vanthu.tinh", b), ("vanthu.phuong", b)]:
        for action in ("retry", "cancel"):
            r = out.client.post(
                f"/api/v1/documents/{doc}/deliveries/{b_delivery}/actions",
                headers=out.h(user),
                json={"action": action},
            )
            assert r.status_code == 404, (user, action, r.get_json())
    with out.demo.factory() as s:
        assert s.get_one(Delivery, uuid.UUID(b_delivery)).state == "planned"


def test_a_demoted_assigner_no_longer_decides_the_tasks_they_gave(
    client: Any, api: Any, demo: Demo
) -> None:
    """FIXED with finding 1 (the same pattern in tasks, read in the code by the review): the
    assigner decided (approve or reject completion, cancel, extensions) as ``assigner_id``
    alone, whatever their roles now. A leader who gives a task and is then moved to a
    specialist post no longer approves its completion (403), and nothing changes; their
    delegate and the organisation's other leaders are not affected by this rule."""
    from tests.tasks.conftest import Tasks

    tasks = Tasks(demo)
    task = tasks.create(by="lanhdao.tw", user="chuyenvien.dcgs")
    tasks.act("chuyenvien.dcgs", task.id, "start")
    tasks.act("chuyenvien.dcgs", task.id, "submit_completion", comment="Xong.")
    r = client.patch(
        f"/api/v1/users/{demo.user('lanhdao.tw').id}",
        headers=api("admin"),
        json={"roles": ["specialist"]},
    )
    assert r.status_code == 200, r.get_json()
    r = client.post(
        f"/api/v1/tasks/{task.id}/actions",
        headers=api("lanhdao.tw"),
        json={"action": "approve_completion"},
    )
    assert r.status_code == 403, r.get_json()
    assert tasks.row(task.id).state == "awaiting_approval"
