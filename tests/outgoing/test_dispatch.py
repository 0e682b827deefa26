"""Dispatch: two internal organisations get an ``arrived`` document over the same stored bytes,
their progress comes back as status codes; external recipients wait in the exchange queue,
urgent first; recall cancels what was not delivered and recalls what was."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from docflow.models import Delivery, Document, OutboxMessage
from docflow.outgoing import dispatch
from tests.outgoing.conftest import Outgoing

EXTERNAL = {"code": "000.00.00.Y97", "name": "Cơ quan ngoài hệ thống (thử)"}


def _copies(flow: Outgoing, doc: str) -> dict[str, str]:
    """Recipient organisation code → the recipient's document id."""
    return {
        d["recipient"]["code"]: str(_delivery(flow, d["id"]).recipient_document_id)
        for d in flow.deliveries("vanthu.tw", doc)
        if d["channel"] == "internal"
    }


def _delivery(flow: Outgoing, delivery_id: str) -> Delivery:
    with flow.demo.factory() as s:
        row = s.get(Delivery, delivery_id)
        assert row is not None
        return row


def _status(flow: Outgoing, doc: str) -> dict[str, tuple[str, str | None, str | None]]:
    return {
        d["recipient"]["code"]: (d["state"], d["status_code"], d["status_text"])
        for d in flow.deliveries("vanthu.tw", doc)
    }


TINH, PHUONG = "000.00.01.Z01", "000.01.01.Z01"


def test_two_internal_recipients_and_their_statuses_flow_back(flow: Outgoing) -> None:
    doc = flow.to_signed()
    flow.ok("vanthu.tw", doc, "issue")
    objects_before = flow.counts()[1]
    flow.ok("vanthu.tw", doc, "dispatch")
    assert flow.counts()[1] == objects_before  # no byte was copied
    copies = _copies(flow, doc)
    assert set(copies) == {TINH, PHUONG}
    assert _status(flow, doc) == {
        TINH: ("sent", "01", "Đã đến"),
        PHUONG: ("sent", "01", "Đã đến"),
    }
    with flow.demo.factory() as s:
        sender = s.get(Document, doc)
        assert sender is not None
        main_key = next(f.object_key for f in sender.files if f.kind == "main")
        for copy_id in copies.values():
            copy = s.get(Document, copy_id)
            assert copy is not None
            assert (copy.direction, copy.state, copy.source) == ("incoming", "arrived", "internal")
            assert copy.notation == "01/KH-MTTW-DCGSPBXH" and copy.issuer_code == "000.00.00.Z01"
            assert [f.object_key for f in copy.files] == [main_key]  # the same stored object
    # The province registers, assigns, starts and completes; the commune rejects.
    tinh, phuong = copies[TINH], copies[PHUONG]
    assert flow.get("vanthu.tinh", tinh).get_json()["state"] == "arrived"
    assert flow.get("vanthu.tw", tinh).status_code == 404  # the sender never sees their copy
    flow.ok("vanthu.tinh", tinh, "register")
    assert _status(flow, doc)[TINH] == ("sent", "03", "Đã tiếp nhận (vào sổ), số đến 01")
    flow.ok("vanthu.tinh", tinh, "submit", to_user_id=flow.user_id("lanhdao.tinh"))
    assert _status(flow, doc)[TINH][1] == "03"  # submitting has no code of its own
    flow.ok(
        "lanhdao.tinh",
        tinh,
        "assign",
        lead={"user_id": flow.user_id("chuyenvien.tinh")},
        due_in_working_days=5,
    )
    assert _status(flow, doc)[TINH][1] == "04"
    flow.ok("chuyenvien.tinh", tinh, "start")
    assert _status(flow, doc)[TINH][1] == "05"
    flow.ok("chuyenvien.tinh", tinh, "complete", comment="Đã tổ chức giám sát.")
    assert _status(flow, doc)[TINH][1] == "06"
    flow.ok("vanthu.phuong", phuong, "reject", reason="Gửi nhầm cấp, đề nghị gửi qua tỉnh.")
    assert _status(flow, doc)[PHUONG] == (
        "sent",
        "02",
        "Từ chối tiếp nhận: Gửi nhầm cấp, đề nghị gửi qua tỉnh.",
    )
    history = next(d for d in flow.deliveries("vanthu.tw", doc) if d["recipient"]["code"] == TINH)
    assert [e["status_code"] for e in history["events"]] == ["01", "03", "04", "05", "06"]


def test_an_older_status_never_overwrites_a_newer_one(flow: Outgoing, app: Any) -> None:
    from app.runtime import runtime

    doc = flow.to_dispatched()
    tinh = _copies(flow, doc)[TINH]
    flow.ok("vanthu.tinh", tinh, "register")
    dispatch.record_recipient_status(
        runtime(app).uow(), {"document_id": tinh, "status_code": "01", "seq": 1}
    )
    assert _status(flow, doc)[TINH][1] == "03"


def test_external_recipients_are_queued_for_the_exchange_urgent_first(
    flow: Outgoing, app: Any
) -> None:
    from app.runtime import runtime

    normal = flow.to_dispatched(recipients=[EXTERNAL])
    urgent = flow.to_dispatched(recipients=[EXTERNAL], urgency="flash")
    assert _status(flow, normal) == {EXTERNAL["code"]: ("queued", None, None)}
    queue = dispatch.queued_axis_deliveries(runtime(app).uow())
    assert [str(d.document_id) for d in queue] == [urgent, normal]
    assert queue[0].recipient_name == EXTERNAL["name"]
    # Internal deliveries of urgent documents jump the outbox queue too.
    both = flow.to_signed(urgency="urgent")
    flow.ok("vanthu.tw", both, "issue")
    flow.ok("vanthu.tw", both, "dispatch")
    with flow.demo.factory() as s:
        priorities = {
            m.payload["delivery_id"]: m.priority
            for m in s.scalars(
                select(OutboxMessage).where(OutboxMessage.topic == "dispatch.deliver")
            )
        }
    ids = [d["id"] for d in flow.deliveries("vanthu.tw", both)]
    assert [priorities[i] for i in ids] == [1, 1]


def test_recall_cancels_what_was_not_delivered_and_recalls_the_rest(flow: Outgoing) -> None:
    doc = flow.to_signed(
        recipients=[
            {"organization_id": str(flow.demo.org_id("tinh"))},
            {"organization_id": str(flow.demo.org_id("phuong"))},
            EXTERNAL,
        ]
    )
    flow.ok("vanthu.tw", doc, "issue")
    flow.ok("vanthu.tw", doc, "dispatch")
    copies = _copies(flow, doc)
    flow.ok("vanthu.tinh", copies[TINH], "register")
    flow.ok("vanthu.tinh", copies[TINH], "submit", to_user_id=flow.user_id("lanhdao.tinh"))
    assert flow.act("vanthu.tinh", doc, "recall", reason="x").status_code == 404
    assert flow.act("chuyenvien.dcgs", doc, "recall", reason="x").status_code == 403
    recalled = flow.ok("vanthu.tw", doc, "recall", reason="Văn bản ban hành sai thẩm quyền.")
    assert recalled["state"] == "recalled" and recalled["allowed_actions"] == []
    status = _status(flow, doc)
    assert status[EXTERNAL["code"]] == ("cancelled", None, None)
    assert status[PHUONG] == ("sent", "15", "Đồng ý thu hồi")  # it had only arrived
    # The province had registered and presented it: its clerk answers (DOMAIN.md §5), here 15.
    assert status[TINH][:2] == ("sent", "13")
    held = flow.get("vanthu.tinh", copies[TINH]).get_json()
    assert held["state"] == "submitted"
    assert {"accept_recall", "refuse_recall"} <= set(held["allowed_actions"])
    flow.ok("vanthu.tinh", copies[TINH], "accept_recall")
    assert _status(flow, doc)[TINH] == ("sent", "15", "Đồng ý thu hồi")
    history = next(d for d in flow.deliveries("vanthu.tw", doc) if d["recipient"]["code"] == TINH)
    assert [e["status_code"] for e in history["events"]] == ["01", "03", "13", "15"]
    assert "sai thẩm quyền" in history["events"][2]["status_text"]
    # The recipients see it recalled, with the reason, and can do nothing more with it.
    for user, copy in (("vanthu.tinh", copies[TINH]), ("vanthu.phuong", copies[PHUONG])):
        got = flow.get(user, copy).get_json()
        assert (got["state"], got["state_label"], got["allowed_actions"]) == (
            "recalled",
            "Đã thu hồi",
            [],
        )
    trail = flow.client.get(
        f"/api/v1/documents/{copies[PHUONG]}/trail", headers=flow.h("vanthu.phuong")
    ).get_json()["items"]
    assert trail[-1]["action"] == "recall" and trail[-1]["actor"]["name"] == "Hệ thống"
    assert trail[-1]["comment"] == "Văn bản ban hành sai thẩm quyền."
    assert flow.get("lanhdao.tinh", copies[TINH]).get_json()["register_number"] == 1


def test_dispatch_needs_recipients(flow: Outgoing) -> None:
    doc = flow.to_signed(recipients=[])
    flow.ok("vanthu.tw", doc, "issue")
    r = flow.act("vanthu.tw", doc, "dispatch")
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "no_recipients"
    assert flow.get("vanthu.tw", doc).get_json()["state"] == "issued"


def test_the_exchange_records_what_happened_to_an_external_delivery(
    flow: Outgoing, app: Any
) -> None:
    from app.runtime import runtime

    doc = flow.to_dispatched(recipients=[EXTERNAL])
    (d,) = flow.deliveries("vanthu.tw", doc)
    rt = runtime(app)
    dispatch.record_axis_attempt(rt.uow(), uuid.UUID(d["id"]), sent=False, error="axis unreachable")
    assert _status(flow, doc)[EXTERNAL["code"]] == ("failed", None, None)
    dispatch.record_axis_attempt(rt.uow(), uuid.UUID(d["id"]), sent=True)
    dispatch.record_external_status(rt.uow(), uuid.UUID(d["id"]), "03")
    dispatch.record_external_status(rt.uow(), uuid.UUID(d["id"]), "06", "Đã xử lý xong")
    assert _status(flow, doc)[EXTERNAL["code"]] == ("sent", "06", "Hoàn thành: Đã xử lý xong")


def test_a_recall_stays_shown_until_the_recipient_answers_it(flow: Outgoing, app: Any) -> None:
    """A status the recipient sent before our recall reached it (it crossed the recall on the
    axis) goes into the history; the delivery shows the recall, which the exchange sends the
    revocation from, until the recipient answers it (15, 16) or refuses the document (02);
    a 15 or a 02 is not replaced by a progress status that crossed it."""
    from app.runtime import runtime

    rt = runtime(app)
    for answer, label in (("15", "Đồng ý thu hồi"), ("16", "Từ chối thu hồi"), ("02", None)):
        doc = flow.to_dispatched(recipients=[EXTERNAL])
        (d,) = flow.deliveries("vanthu.tw", doc)
        delivery_id = uuid.UUID(d["id"])
        dispatch.record_axis_attempt(rt.uow(), delivery_id, sent=True)
        dispatch.record_external_status(rt.uow(), delivery_id, "01")
        flow.ok("vanthu.tw", doc, "recall", reason="Ban hành nhầm")
        for late in ("03", "04"):
            dispatch.record_external_status(rt.uow(), delivery_id, late)
        state, code, text = _status(flow, doc)[EXTERNAL["code"]]
        assert (state, code) == ("sent", "13") and text and "Ban hành nhầm" in text
        dispatch.record_external_status(rt.uow(), delivery_id, answer)
        (after,) = flow.deliveries("vanthu.tw", doc)
        assert after["status_code"] == answer
        assert label is None or after["status_text"] == label
        assert [e["status_code"] for e in after["events"]] == ["01", "13", "03", "04", answer]
        # After a refused recall the recipient's work goes on and shows; a recalled copy or a
        # refused document stays so (a 05 after them crossed them on the way).
        dispatch.record_external_status(rt.uow(), delivery_id, "05")
        (last,) = flow.deliveries("vanthu.tw", doc)
        assert last["status_code"] == ("05" if answer == "16" else answer)
        assert last["events"][-1]["status_code"] == "05"
