"""Forwarding outside the tree (the People's Committee): a draft công văn in the outgoing flow,
written from the item, linked to it, carrying its deadline; the sender's details only with
consent; refused parameters change nothing (no letter, no move). PostgreSQL."""

from __future__ import annotations

import io
from typing import Any

from docx import Document as Docx
from sqlalchemy import func, select

from docflow.models import Delivery, Document, FeedbackItem, FeedbackTrailEntry
from tests.conftest import Demo
from tests.feedback.conftest import SECRET_ADDRESS, SECRET_EMAIL, SECRET_NAME, SECRET_PHONE

SECRETS = [SECRET_NAME, SECRET_PHONE, SECRET_EMAIL, SECRET_ADDRESS]
UBND = "UBND phường Phúc Xá"


def _item_id(demo: Demo, code: str) -> str:
    with demo.factory() as s:
        return str(
            s.scalars(select(FeedbackItem.id).where(FeedbackItem.tracking_code == code)).one()
        )


def _docx_text(client: Any, headers: dict[str, str], doc: dict[str, Any]) -> str:
    drafts = [f for f in doc["files"] if f["kind"] == "draft"]
    assert len(drafts) == 1, doc["files"]
    r = client.get(
        f"/api/v1/documents/{doc['id']}/files/{drafts[0]['id']}/content", headers=headers
    )
    assert r.status_code == 200
    return "\n".join(p.text for p in Docx(io.BytesIO(r.data)).paragraphs)


def test_forward_outside_drafts_a_letter_without_the_sender(
    demo: Demo, client: Any, api: Any, submit: Any, act: Any
) -> None:
    code = submit(place=None).json["tracking_code"]
    item_id = _item_id(demo, code)
    act("vanthu.phuong", item_id, "classify", complexity="complex")
    r = act("lanhdao.phuong", item_id, "forward", agency=UBND, comment="Thẩm quyền UBND")
    assert r.status_code == 200, r.json
    item = r.json
    assert item["state"] == "forwarded" and item["forwarded_to_agency"] == UBND
    letter_id = item["letter_document_id"]
    assert letter_id
    # The draft is an outgoing công văn of the ward, signed by the leader, due with the item.
    h = api("lanhdao.phuong")
    doc = client.get(f"/api/v1/documents/{letter_id}", headers=h).json
    assert doc["direction"] == "outgoing" and doc["state"] == "draft"
    assert doc["doc_type"] == "CV" and code in doc["subject"]
    assert doc["due_date"] == item["due_date"] == "2026-12-21"  # 20 working days from Mon 23 Nov
    assert doc["organization_id"] == str(demo.org_id("phuong"))
    text = _docx_text(client, h, doc)
    assert "Rác thải tập kết ở đầu ngõ 12" in text and UBND in text and code in text
    for secret in SECRETS:
        assert secret not in text and secret not in str(doc), secret
    # The trail of the item names the letter; the deadline is still tracked in the box.
    assert item["trail"][-1]["action"] == "forward"
    with demo.factory() as s:
        entry = s.scalars(
            select(FeedbackTrailEntry)
            .where(FeedbackTrailEntry.feedback_id == item_id)
            .order_by(FeedbackTrailEntry.seq.desc())
        ).first()
        assert entry is not None and entry.details["document_id"] == letter_id
    overdue_before = client.get("/api/v1/feedback?box=overdue", headers=h).json["items"]
    assert overdue_before == []
    demo.clock.advance(days=40)
    overdue = client.get("/api/v1/feedback?box=overdue", headers=api("lanhdao.phuong")).json
    assert [i["tracking_code"] for i in overdue["items"]] == [code]
    # The answer the committee gives is entered from the forwarded state, as before.
    r = act("lanhdao.phuong", item_id, "answer", text="UBND phường đã chỉ đạo thu gom.")
    assert r.json["state"] == "answered"
    # Another organisation sees neither the item nor the letter.
    assert (
        client.get(f"/api/v1/documents/{letter_id}", headers=api("lanhdao.tinh")).status_code == 404
    )


def test_letter_carries_the_sender_only_with_consent_and_goes_to_the_axis_code(
    demo: Demo, client: Any, api: Any, submit: Any, act: Any
) -> None:
    item_id = _item_id(demo, submit(share_contact=True).json["tracking_code"])
    r = act("lanhdao.phuong", item_id, "forward", agency=UBND, agency_code="000.00.12.H26")
    assert r.status_code == 200, r.json
    h = api("lanhdao.phuong")
    doc = client.get(f"/api/v1/documents/{r.json['letter_document_id']}", headers=h).json
    text = _docx_text(client, h, doc)
    assert SECRET_NAME in text and SECRET_PHONE in text
    with demo.factory() as s:
        rows = s.scalars(select(Delivery).where(Delivery.document_id == doc["id"])).all()
        assert [(d.recipient_code, d.recipient_name, d.channel) for d in rows] == [
            ("000.00.12.H26", UBND, "axis")
        ]


def test_forward_outside_refusals_change_nothing(
    demo: Demo, client: Any, api: Any, submit: Any, act: Any
) -> None:
    item_id = _item_id(demo, submit().json["tracking_code"])

    def documents() -> int:
        with demo.factory() as s:
            return s.scalar(select(func.count()).select_from(Document)) or 0

    before = documents()
    # A signer who is no leader of the ward → 422 on the field, no letter, no move.
    r = act(
        "lanhdao.phuong",
        item_id,
        "forward",
        agency=UBND,
        signer_user_id=str(demo.user("vanthu.phuong").id),
    )
    assert r.status_code == 422 and "signer_user_id" in r.json["error"]["details"]["fields"]
    # A bad axis code, or a code with a forward inside the tree → 422.
    r = act("lanhdao.phuong", item_id, "forward", agency=UBND, agency_code="<script>")
    assert r.status_code == 422
    r = act(
        "lanhdao.phuong",
        item_id,
        "forward",
        organization_id=str(demo.org_id("tinh")),
        agency_code="000.00.12.H26",
    )
    assert r.status_code == 422
    one = client.get(f"/api/v1/feedback/{item_id}", headers=api("lanhdao.phuong")).json
    assert one["state"] == "received" and one["letter_document_id"] is None
    assert documents() == before
    # Without a letter (recorded only), on request.
    r = act("lanhdao.phuong", item_id, "forward", agency=UBND, draft_letter=False)
    assert r.status_code == 200 and r.json["letter_document_id"] is None
    assert documents() == before
