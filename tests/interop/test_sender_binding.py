"""Sender binding: a revocation, update, replacement or reply applies only to a document the
same organisation sent to this one; forged ones are refused with nothing changed (rows compared
before and after). The idempotency key includes the sender. A recall of a copy already handled
waits for the clerk, who accepts (15) or refuses with a reason (16)."""

from __future__ import annotations

import datetime as dt
import io
import uuid
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import select

from docflow.models import Delivery, Document
from docflow.models.exchange import ExchangeMessage
from docflow.models.outbox import OutboxMessage
from interop import (
    Attachment,
    Bussiness,
    BussinessDocType,
    Code,
    EdxmlPackage,
    Organ,
    PromulgationInfo,
    ResponseFor,
    SignerInfo,
    build_package_bytes,
)
from interop.inbox import PackageRefusedError, import_package
from tests.conftest import Demo
from tests.pdfs import make_pdf

X = Organ("000.00.07.H31", "Sở Nội vụ tỉnh Thử")  # the genuine sender
Y = Organ("000.00.09.H33", "Sở Tư pháp tỉnh Khác")  # another organisation
TW = Organ("000.00.00.Z01", "Ủy ban Trung ương MTTQ Việt Nam")
TABLES = (
    "documents",
    "document_trail",
    "assignments",
    "document_files",
    "exchange_messages",
    "deliveries",
    "delivery_events",
    "outbox_messages",
)


def _package(sender: Organ = X, number: str = "41", **changes: Any) -> EdxmlPackage:
    values: dict[str, Any] = {
        "from_": sender,
        "to": (TW,),
        "code": Code(number, "SNV-VP"),
        "promulgation": PromulgationInfo(dt.date(2026, 11, 24), "Thử"),
        "subject": f"Văn bản số {number} của {sender.organ_name}",
        "signer": SignerInfo("KT. GIÁM ĐỐC", "Phó Giám đốc", "Hoàng Văn Nam"),
        "attachments": (Attachment("Văn bản.pdf", "application/pdf", content=make_pdf()),),
    }
    values.update(changes)
    return EdxmlPackage(**values)


def _acting_on(original: EdxmlPackage, sender: Organ, kind: BussinessDocType) -> EdxmlPackage:
    """``sender``'s revocation / update / replacement of ``original``."""
    return _package(
        sender,
        number="42",
        bussiness=Bussiness(doc_type=kind, reason="Sai sót", document_id=original.document_id),
    )


def _post(client: Any, api: Any, package: EdxmlPackage) -> Any:
    return client.post(
        "/api/v1/interop/packages",
        headers=api("vanthu.tw"),
        data=build_package_bytes(package),
        content_type="application/xml",
    )


def _rows(demo: Demo) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the tables an exchange may touch."""
    from docflow.db import Base

    with demo.factory() as s:
        return {
            name: sorted(
                (
                    tuple(str(v) for v in row)
                    for row in s.execute(Base.metadata.tables[name].select())
                ),
            )
            for name in TABLES
        }


def _act(client: Any, api: Any, doc_id: str, **body: Any) -> Any:
    return client.post(f"/api/v1/documents/{doc_id}/actions", headers=api("vanthu.tw"), json=body)


@pytest.mark.parametrize(
    ("kind", "code"),
    [
        (BussinessDocType.REVOKE, "revoke_unknown"),
        (BussinessDocType.UPDATE, "update_unknown"),
        (BussinessDocType.REPLACE, "update_unknown"),
    ],
)
def test_forged_revoke_update_replace_from_another_sender_change_nothing(
    client: Any, api: Any, demo: Demo, kind: BussinessDocType, code: str
) -> None:
    original = _package()
    first = _post(client, api, original)
    assert first.status_code == 201
    before = _rows(demo)
    r = _post(client, api, _acting_on(original, Y, kind))
    assert r.status_code == 422, r.get_json()
    assert r.get_json()["error"]["code"] == code
    assert Y.organ_id in r.get_json()["error"]["message"]
    assert _rows(demo) == before
    doc = client.get(f"/api/v1/documents/{first.get_json()['id']}", headers=api("vanthu.tw"))
    assert doc.get_json()["state"] == "arrived"


def test_the_genuine_sender_may_update_and_replace(client: Any, api: Any, demo: Demo) -> None:
    original = _package()
    first = _post(client, api, original).get_json()
    updated = _post(client, api, _acting_on(original, X, BussinessDocType.UPDATE))
    assert updated.status_code == 201
    replaced = _post(
        client, api, replace(_acting_on(original, X, BussinessDocType.REPLACE), subject="Mới")
    )
    assert replaced.status_code == 201
    old = client.get(f"/api/v1/documents/{first['id']}", headers=api("vanthu.tw")).get_json()
    assert old["state"] == "recalled"


def test_a_second_sender_reusing_a_document_id_gets_its_own_document(
    client: Any, api: Any, demo: Demo
) -> None:
    mine = _package()
    theirs = replace(_package(Y), document_id=mine.document_id)
    a = _post(client, api, mine)
    b = _post(client, api, theirs)
    assert (a.status_code, b.status_code) == (201, 201)
    assert a.get_json()["id"] != b.get_json()["id"]
    assert b.get_json()["issuer"]["code"] == Y.organ_id
    again = _post(client, api, theirs)
    assert again.status_code == 200 and again.get_json()["id"] == b.get_json()["id"]
    with demo.factory() as s:
        keys = s.execute(
            select(ExchangeMessage.key, ExchangeMessage.peer_code).where(
                ExchangeMessage.kind == "edoc"
            )
        ).all()
    assert sorted(keys) == sorted([(mine.document_id, X.organ_id), (mine.document_id, Y.organ_id)])


def test_recall_of_an_arrived_copy_is_automatic(client: Any, api: Any, demo: Demo) -> None:
    original = _package()
    doc = _post(client, api, original).get_json()
    r = _post(client, api, _acting_on(original, X, BussinessDocType.REVOKE))
    assert r.status_code == 200
    got = client.get(f"/api/v1/documents/{doc['id']}", headers=api("vanthu.tw")).get_json()
    assert (got["state"], got["recall_request"]) == ("recalled", None)
    assert _codes_queued(demo, doc["id"]) == ["15"]


def _codes_queued(demo: Demo, doc_id: str) -> list[str]:
    with demo.factory() as s:
        return [
            str(m.payload["status_code"])
            for m in s.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.topic == "documents.state_changed")
                .order_by(OutboxMessage.created_at)
            )
            if m.payload.get("document_id") == doc_id
        ]


@pytest.mark.parametrize("decision", ["refuse_recall", "accept_recall"])
def test_recall_of_a_handled_copy_waits_for_the_clerk(
    client: Any, api: Any, demo: Demo, decision: str
) -> None:
    original = _package()
    doc = _post(client, api, original).get_json()
    assert _act(client, api, doc["id"], action="register").status_code == 200
    assert _act(client, api, doc["id"], action="refuse_recall", reason="x").status_code == 409
    r = _post(client, api, _acting_on(original, X, BussinessDocType.REVOKE))
    assert r.status_code == 200
    got = client.get(f"/api/v1/documents/{doc['id']}", headers=api("vanthu.tw")).get_json()
    assert got["state"] == "registered"
    assert got["recall_request"]["reason"] == "Sai sót"
    assert {"accept_recall", "refuse_recall"} <= set(got["allowed_actions"])
    # the same revocation again: still one request
    assert _post(client, api, _acting_on(original, X, BussinessDocType.REVOKE)).status_code == 200
    assert _act(client, api, doc["id"], action="refuse_recall").status_code == 422  # no reason
    if decision == "refuse_recall":
        r = _act(client, api, doc["id"], action="refuse_recall", reason="Đã triển khai thực hiện")
        assert r.status_code == 200, r.get_json()
        assert (r.get_json()["state"], r.get_json()["recall_request"]) == ("registered", None)
        assert _codes_queued(demo, doc["id"])[-1] == "16"
        with demo.factory() as s:
            queued = s.scalars(
                select(OutboxMessage).where(OutboxMessage.topic == "documents.state_changed")
            ).all()
            assert queued[-1].payload["reason"] == "Đã triển khai thực hiện"
    else:
        r = _act(client, api, doc["id"], action="accept_recall")
        assert r.status_code == 200, r.get_json()
        assert (r.get_json()["state"], r.get_json()["recall_request"]) == ("recalled", None)
        assert _codes_queued(demo, doc["id"])[-1] == "15"
    trail = client.get(f"/api/v1/documents/{doc['id']}/trail", headers=api("vanthu.tw"))
    assert [e["action"] for e in trail.get_json()["items"]][-2:] == ["recall_requested", decision]
    assert "accept_recall" not in r.get_json()["allowed_actions"]


def _dispatched_to(demo: Demo, recipient: Organ) -> tuple[uuid.UUID, ResponseFor]:
    """Test setup: an outgoing document of TW already dispatched through the axis."""
    org = demo.org(TW.organ_id)
    now = dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC)
    with demo.factory() as s:
        doc = Document(
            organization_id=org.id,
            direction="outgoing",
            state="dispatched",
            notation="77/CV-MTTW-BTT",
            doc_type="CV",
            subject="Đề nghị báo cáo kết quả",
            issued_date=dt.date(2026, 11, 20),
            source="internal",
            issued_at=now,
        )
        s.add(doc)
        s.flush()
        document_id = f"{TW.organ_id},2026/11/20,77/CV-MTTW-BTT"
        s.add(
            Delivery(
                document_id=doc.id,
                position=0,
                recipient_code=recipient.organ_id,
                recipient_name=recipient.organ_name,
                channel="axis",
                state="sent",
            )
        )
        s.add(
            ExchangeMessage(
                direction="out",
                kind="edoc",
                organization_id=org.id,
                key=document_id,
                channel="axis",
                peer_code=recipient.organ_id,
                document_id=doc.id,
                state="sent",
            )
        )
        s.commit()
        return doc.id, ResponseFor(
            TW.organ_id, "77/CV-MTTW-BTT", dt.date(2026, 11, 20), document_id
        )


def test_a_reply_is_linked_to_the_document_it_answers(client: Any, api: Any, demo: Demo) -> None:
    ours, about = _dispatched_to(demo, X)
    r = _post(client, api, _package(X, number="50", response_for=(about,)))
    assert r.status_code == 201, r.get_json()
    reply = r.get_json()
    assert reply["in_reply_to"]["id"] == str(ours)
    assert reply["in_reply_to"]["notation"] == "77/CV-MTTW-BTT"
    got = client.get(f"/api/v1/documents/{ours}", headers=api("vanthu.tw")).get_json()
    assert [x["id"] for x in got["replies"]] == [reply["id"]]
    page = client.get(f"/documents/{reply['id']}", headers=api("vanthu.tw"))
    assert page.status_code in (200, 302)


def test_a_reply_from_another_sender_is_refused_with_nothing_changed(
    client: Any, api: Any, demo: Demo
) -> None:
    _, about = _dispatched_to(demo, X)
    before = _rows(demo)
    r = _post(client, api, _package(Y, number="51", response_for=(about,)))
    assert r.status_code == 422
    assert r.get_json()["error"]["code"] == "reply_unknown"
    assert _rows(demo) == before


def test_a_reply_to_something_not_ours_is_received_without_a_link(
    client: Any, api: Any, demo: Demo
) -> None:
    other = ResponseFor(
        "000.00.55.H55", "9/TB", dt.date(2026, 1, 2), "000.00.55.H55,2026/01/02,9/TB"
    )
    r = _post(client, api, _package(Y, number="52", response_for=(other,)))
    assert r.status_code == 201 and r.get_json()["in_reply_to"] is None


def test_over_the_axis_the_package_may_not_speak_for_another_agency(demo: Demo) -> None:
    before = _rows(demo)
    with pytest.raises(PackageRefusedError) as refused:
        import_package(
            demo.uow(),
            io.BytesIO(build_package_bytes(_package(X))),
            channel="axis",
            axis_from=Y.organ_id,
        )
    assert refused.value.code == "sender_mismatch"
    notice = refused.value.notice
    assert notice is not None and (notice.to, notice.status_code) == (Y.organ_id, "02")
    assert _rows(demo) == before


def test_forged_revocation_over_the_axis_is_answered_16(demo: Demo) -> None:
    original = _package()
    import_package(demo.uow(), io.BytesIO(build_package_bytes(original)), channel="axis")
    before = _rows(demo)
    with pytest.raises(PackageRefusedError) as refused:
        import_package(
            demo.uow(),
            io.BytesIO(build_package_bytes(_acting_on(original, Y, BussinessDocType.REVOKE))),
            channel="axis",
            axis_from=Y.organ_id,
        )
    assert _rows(demo) == before
    notice = refused.value.notice
    assert notice is not None
    assert (notice.to, notice.status_code, notice.response_for.document_id) == (
        Y.organ_id,
        "16",
        original.document_id,
    )
