"""The whole path on PostgreSQL: a citizen's submission with photos → tracking code → the ward's
box → classified complex (20 working days across a holiday) → forwarded to the province →
answered → the tracking page shows the answer and nothing personal; other organisations see
nothing; the refusal order of the officers' API."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import func, select

from docflow.feedback import send_feedback_reminders
from docflow.models import (
    AuditEntry,
    AuditPendingRead,
    FeedbackItem,
    FeedbackTrailEntry,
    Holiday,
    Notification,
)
from tests.conftest import Demo
from tests.feedback.conftest import (
    SECRET_ADDRESS,
    SECRET_EMAIL,
    SECRET_NAME,
    SECRET_PHONE,
    photo,
)

SECRETS = [SECRET_NAME, SECRET_PHONE, SECRET_EMAIL, SECRET_ADDRESS]


def _no_secrets(data: bytes) -> None:
    text = data.decode("utf-8", errors="replace")
    for secret in SECRETS:
        assert secret not in text, secret


def _item_id(demo: Demo, code: str) -> str:
    with demo.factory() as s:
        return str(
            s.scalars(select(FeedbackItem.id).where(FeedbackItem.tracking_code == code)).one()
        )


def test_submission_to_answer_through_the_province(
    demo: Demo, client: Any, api: Any, submit: Any, act: Any
) -> None:
    # Thursday 26 November is a day off this year (the calendar is data).
    with demo.factory() as s:
        s.add(Holiday(day=dt.date(2026, 11, 26), name="Nghỉ bù", kind="holiday"))
        s.commit()
    r = submit(files=[(photo(), "rac.png"), (photo((80, 60)), "rac2.png")])
    assert r.status_code == 201, r.json
    code = r.json["tracking_code"]
    assert code.startswith("PA-") and len(code) == 12
    # Simple by default: 7 working days from Monday 23 Nov, skipping the 26 November day off.
    assert r.json["due_date"] == "2026-12-03"

    ward_clerk = api("vanthu.phuong")
    box = client.get("/api/v1/feedback?box=inbox", headers=ward_clerk).json["items"]
    assert [i["tracking_code"] for i in box] == [code]
    _no_secrets(client.get("/api/v1/feedback?box=all", headers=ward_clerk).data)
    item_id = box[0]["id"]

    one = client.get(f"/api/v1/feedback/{item_id}", headers=ward_clerk).json
    assert one["sender"]["name"] == SECRET_NAME and one["sender"]["phone"] == SECRET_PHONE
    assert len(one["files"]) == 2
    assert "classify" in one["allowed_actions"] and "answer" not in one["allowed_actions"]
    with demo.factory() as s:  # the read of the sender's details is logged
        assert (
            s.scalar(
                select(func.count()).where(
                    AuditPendingRead.event == "feedback.sender_read",
                    AuditPendingRead.object_id == item_id,
                )
            )
            == 1
        )

    # Classified complex: 20 working days from the day the citizen sent it.
    r = act("vanthu.phuong", item_id, "classify", complexity="complex")
    assert r.status_code == 200, r.json
    assert r.json["state"] == "accepted"
    # 23 Nov + 20 working days = 21 Dec; the day off pushes it to 22 Dec.
    assert r.json["due_date"] == "2026-12-22"

    # Another organisation, and a person of the ward who is not an officer, see nothing.
    for other in ("vanthu.tinh", "vanthu.tw", "lanhdao.tw"):
        h = api(other)
        assert client.get(f"/api/v1/feedback/{item_id}", headers=h).status_code == 404
        assert act(other, item_id, "answer", text="x").status_code == 404
        assert code not in client.get("/api/v1/feedback?box=all", headers=h).data.decode()

    province = demo.org_id("tinh")
    r = act("lanhdao.phuong", item_id, "forward", organization_id=str(province))
    assert r.status_code == 200, r.json
    assert r.json["state"] == "forwarded"

    prov = api("lanhdao.tinh")
    pbox = client.get("/api/v1/feedback?box=inbox", headers=prov).json["items"]
    assert len(pbox) == 1 and pbox[0]["tracking_code"] == code
    copy_id = pbox[0]["id"]
    copy = client.get(f"/api/v1/feedback/{copy_id}", headers=prov)
    # The sender did not agree to share: the province sees the case, not the person.
    assert copy.json["sender"] is None and copy.json["sender_hidden"] is True
    _no_secrets(copy.data)
    assert copy.json["due_date"] == "2026-12-22"
    assert [t["action"] for t in copy.json["trail"]] == ["receive_forwarded"]
    assert len(copy.json["files"]) == 2
    with demo.factory() as s:
        assert (
            s.scalar(
                select(func.count()).where(
                    Notification.kind == "feedback_forwarded",
                    Notification.user_id == demo.user("lanhdao.tinh").id,
                )
            )
            == 1
        )

    demo.clock.advance(days=3)
    # Received → accepted before it can be answered.
    assert act("lanhdao.tinh", copy_id, "answer", text="x").status_code == 409
    assert act("vanthu.tinh", copy_id, "accept").json["state"] == "accepted"
    r = act("lanhdao.tinh", copy_id, "answer", text="Đã chỉ đạo thu gom trong ngày 26/11.")
    assert r.status_code == 200, r.json
    assert r.json["state"] == "answered"

    # The ward's item shows the answer too (the province answered it).
    one = client.get(f"/api/v1/feedback/{item_id}", headers=api("vanthu.phuong")).json
    assert one["state"] == "answered" and one["answer"].startswith("Đã chỉ đạo")

    public = client.get(f"/api/v1/public/feedback/{code}")
    assert public.status_code == 200
    assert public.json["state"] == "answered"
    assert public.json["answer"] == "Đã chỉ đạo thu gom trong ngày 26/11."
    assert set(public.json) >= {
        "tracking_code",
        "state",
        "received_at",
        "due_date",
        "answer",
        "answered_at",
    }
    _no_secrets(public.data)
    assert "Rác thải" not in public.data.decode()  # the content is not published either
    assert client.get("/api/v1/public/feedback/PA-XXXX-XXXX").status_code == 404

    assert act("lanhdao.tinh", copy_id, "close").json["state"] == "closed"
    # The audit log of every move carries no personal data.
    with demo.factory() as s:
        details = [str(d) for d in s.scalars(select(AuditEntry.details))]
    assert not any(secret in d for d in details for secret in SECRETS)


def test_sender_who_agreed_is_visible_to_the_receiving_organisation(
    demo: Demo, client: Any, api: Any, submit: Any, act: Any
) -> None:
    code = submit(share_contact=True).json["tracking_code"]
    item_id = _item_id(demo, code)
    act("lanhdao.phuong", item_id, "forward", organization_id=str(demo.org_id("tinh")))
    prov = api("lanhdao.tinh")
    copy_id = client.get("/api/v1/feedback", headers=prov).json["items"][0]["id"]
    sender = client.get(f"/api/v1/feedback/{copy_id}", headers=prov).json["sender"]
    assert sender["phone"] == SECRET_PHONE


def test_refusal_order(demo: Demo, client: Any, api: Any, submit: Any, act: Any) -> None:
    item_id = _item_id(demo, submit().json["tracking_code"])
    # Not visible → 404 (another organisation; a specialist of the province is no officer).
    assert act("lanhdao.tinh", item_id, "accept").status_code == 404
    # Visible, not permitted → 403 (a clerk receives; answering is for leaders/officers).
    r = act("vanthu.phuong", item_id, "answer", text="Trả lời")
    assert r.status_code == 403 and r.json["error"]["code"] == "feedback_action_forbidden"
    # Permitted, wrong state → 409.
    r = act("lanhdao.phuong", item_id, "close")
    assert r.status_code == 409 and r.json["error"]["code"] == "transition_not_allowed"
    # Bad parameters → 422 with the field.
    r = act("lanhdao.phuong", item_id, "classify", complexity="very")
    assert r.status_code == 422
    r = act("lanhdao.phuong", item_id, "request_extension", working_days=40, reason="x")
    assert r.status_code == 422
    r = act("lanhdao.phuong", item_id, "forward", organization_id=str(demo.org_id("phuong")))
    assert r.status_code == 422 and "organization_id" in r.json["error"]["details"]["fields"]
    # Nothing changed.
    one = client.get(f"/api/v1/feedback/{item_id}", headers=api("lanhdao.phuong")).json
    assert one["state"] == "received" and len(one["trail"]) == 1
    # Not an officer at all: the list is refused.
    assert client.get("/api/v1/feedback", headers=api("chuyenvien.tinh")).status_code == 403


def test_deadlines_extension_reminders(
    demo: Demo, client: Any, api: Any, submit: Any, act: Any
) -> None:
    code = submit().json["tracking_code"]
    item_id = _item_id(demo, code)
    r = act("vanthu.phuong", item_id, "classify", complexity="simple")
    assert r.json["due_date"] == "2026-12-02"  # 7 working days after Monday 23 Nov
    # Friday 27 Nov is 3 working days before the deadline: nothing yet.
    demo.clock.advance(days=4)
    assert send_feedback_reminders(demo.uow(), days_before=2) == 0
    # Monday 30 Nov: 2 working days left → one reminder, once.
    demo.clock.advance(days=3)
    assert send_feedback_reminders(demo.uow(), days_before=2) == 1
    assert send_feedback_reminders(demo.uow(), days_before=2) == 0
    # Thursday 3 Dec: one working day late → overdue (in the list, and reminded).
    demo.clock.advance(days=3)
    h = api("lanhdao.phuong")  # a fresh token after the days passed
    over = client.get("/api/v1/feedback?box=overdue", headers=h).json["items"]
    assert [i["id"] for i in over] == [item_id] and over[0]["is_overdue"]
    assert send_feedback_reminders(demo.uow(), days_before=2) == 1
    # An extension with a reason moves the deadline in working days; only once.
    r = act("lanhdao.phuong", item_id, "request_extension", working_days=5, reason="Chờ xác minh")
    assert r.status_code == 200 and r.json["due_date"] == "2026-12-09"
    assert r.json["extension_reason"] == "Chờ xác minh" and not r.json["is_overdue"]
    r = act("lanhdao.phuong", item_id, "request_extension", working_days=1, reason="Lần hai")
    assert r.status_code == 409
    # Answered late is counted late.
    act("lanhdao.phuong", item_id, "assign", user_id=str(demo.user("vanthu.phuong").id))
    r = act("lanhdao.phuong", item_id, "answer", text="Đã xử lý.")
    assert r.json["state"] == "answered" and r.json["task_id"] is not None
    stats = client.get("/api/v1/feedback/statistics?year=2026&quarter=4", headers=h).json
    assert stats["received"] == 1 and stats["answered"] == 1 and stats["on_time"] == 1
    _no_secrets(
        client.get("/api/v1/feedback/statistics?year=2026&quarter=4&format=xlsx", headers=h).data
    )


def test_paper_letter_and_quarantine(
    demo: Demo, client: Any, api: Any, submit: Any, act: Any
) -> None:
    h = api("vanthu.phuong")
    r = client.post(
        "/api/v1/feedback",
        json={"content": "Thư giấy: đề nghị sửa đèn chiếu sáng ngõ 5.", "name": "Bà Tư"},
        headers=h,
    )
    assert r.status_code == 201, r.json
    assert r.json["channel"] == "paper" and r.json["tracking_code"].startswith("PA-")
    # The honeypot and the same text twice go to quarantine, not to the inbox.
    bot = submit(website="http://spam.example", content="Mua thuốc giá rẻ tại đây ngay hôm nay")
    assert bot.status_code == 201
    first = submit(content="Đèn đường ngõ 7 bị hỏng đã hai tuần.")
    twin = submit(content="ĐÈN ĐƯỜNG ngõ 7 bị hỏng, đã hai tuần!", phone="0987654321")
    assert first.status_code == twin.status_code == 201
    inbox = {i["tracking_code"] for i in client.get("/api/v1/feedback", headers=h).json["items"]}
    quarantine = client.get("/api/v1/feedback?box=quarantine", headers=h).json["items"]
    assert {q["quarantine_reason"] for q in quarantine} == {"honeypot", "duplicate"}
    assert bot.json["tracking_code"] not in inbox and first.json["tracking_code"] in inbox
    # The public page does not tell a spammer it was caught.
    assert client.get(f"/api/v1/public/feedback/{bot.json['tracking_code']}").json["state"] == (
        "received"
    )
    twin_id = next(q["id"] for q in quarantine if q["quarantine_reason"] == "duplicate")
    bot_id = next(q["id"] for q in quarantine if q["quarantine_reason"] == "honeypot")
    assert act("vanthu.phuong", twin_id, "accept").status_code == 409
    assert act("vanthu.phuong", twin_id, "release").json["quarantine_reason"] is None
    r = act("vanthu.phuong", bot_id, "discard")
    assert r.json["state"] == "rejected" and r.json["sender"] is None
    assert client.get("/api/v1/feedback?box=quarantine", headers=h).json["items"] == []


def test_a_delegated_leader_answers_and_the_trail_names_the_delegator(
    demo: Demo, client: Any, api: Any, submit: Any, act: Any
) -> None:
    """The action engine (issue #13): a move made through a delegation is recorded as such."""
    item_id = _item_id(demo, submit().json["tracking_code"])
    r = client.post(
        "/api/v1/delegations",
        headers=api("lanhdao.phuong"),
        json={
            "delegator_id": str(demo.user("lanhdao.phuong").id),
            "delegate_id": str(demo.user("vanthu.phuong").id),
            "roles": ["leader"],
            "competence": "KT.",
            "start_date": "2026-11-23",
            "end_date": "2026-11-27",
        },
    )
    assert r.status_code == 201, r.json
    assert act("vanthu.phuong", item_id, "accept").json["state"] == "accepted"  # own role
    r = act("vanthu.phuong", item_id, "answer", text="Đã chỉ đạo thu gom.")  # the leader's
    assert r.status_code == 200, r.json
    with demo.factory() as s:
        steps = s.scalars(
            select(FeedbackTrailEntry)
            .where(FeedbackTrailEntry.feedback_id == uuid.UUID(item_id))
            .order_by(FeedbackTrailEntry.seq)
        ).all()
        accepted, answered = steps[-2], steps[-1]
        assert "on_behalf_of_id" not in accepted.details
        assert answered.details["on_behalf_of_id"] == str(demo.user("lanhdao.phuong").id)
        assert answered.details["competence"] == "KT."
        audit = s.scalars(select(AuditEntry).where(AuditEntry.event == "feedback.answer")).one()
        assert audit.on_behalf_of_id == demo.user("lanhdao.phuong").id
