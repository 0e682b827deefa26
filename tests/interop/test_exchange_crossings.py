"""The status / recall exchange when messages cross, arrive out of order, twice, late, or from a
buggy peer: packages and status messages written by hand, through the axis simulator, on
PostgreSQL. Each test is a wrong behaviour a reviewer found (its docstring tells what happened
before the fix)."""

from __future__ import annotations

import io
import uuid
from typing import Any

from sqlalchemy import select

from docflow.models import Document
from docflow.models.exchange import ExchangeMessage
from interop.edxml.parse import parse_status
from tests.conftest import Demo
from tests.interop.conftest import SECRET_B, SYSTEM_B, Sim, client_for
from tests.interop.test_axis_exchange import _wire
from tests.interop.test_review_attacks import PEER, TW, DuringSend, package, to_peer

SENT = "2026/11/24"


def _bussiness(kind: int, named: str, reason: str = "Thu hồi") -> str:
    return (
        f"<edXML:Bussiness><edXML:BussinessDocType>{kind}</edXML:BussinessDocType>"
        f"<edXML:BussinessDocReason>{reason}</edXML:BussinessDocReason>"
        f"<edXML:DocumentId>{named}</edXML:DocumentId></edXML:Bussiness>"
    )


def _did(number: str, date: str = SENT) -> str:
    return f"{PEER},{date},{number}/SNV-VP"


def _copies(demo: Demo, notation: str) -> list[str]:
    with demo.factory() as s:
        return list(
            s.scalars(
                select(Document.state)
                .where(Document.notation == notation, Document.direction == "incoming")
                .order_by(Document.created_at)
            )
        )


def _answers(peer: Any) -> list[tuple[str, str]]:
    """(status code, DocumentId answered) of the status messages we sent the peer."""
    out = []
    for item in peer.get_received_list("status"):
        with parse_status(io.BytesIO(peer.get_edoc(item.doc_id))) as result:
            assert result.status is not None
            out.append((result.status.status_code, result.status.response_for.document_id))
    return out


# ------------------------------------------------------------------ recipient side


def test_a_revocation_taken_before_its_document_is_answered_recall_refused(
    app: Any, demo: Demo, sim: Sim
) -> None:
    """The peer sends its document, then recalls it. Our first attempt at the document fails
    (a download cut, or any "our fault" exception: it "stays on the axis for the next round,
    and the packages after it are not held up"); the revocation after it in the same round
    names a document we do not have: refused, answered 16 "recall refused" (a final answer for
    a sender), acknowledged ``fail``. Next round the document arrives and the revocation, listed
    again, recalls it: the sender hears 16 then 15 (a buggy-looking pair, kept in its history)."""
    from app.exchange import poll_axis, register_agencies
    from interop.axis_client import AxisClient
    from interop.errors import AxisError

    rt = _wire(app, sim)
    register_agencies(rt)
    original = package(sender=PEER, number="71", document_id=_did("71"))
    revoke = package(
        sender=PEER, number="72", document_id=_did("72"), trace=_bussiness(1, _did("71"))
    )
    real = AxisClient.download_edoc
    failed: list[str] = []

    def flaky(self: AxisClient, doc_id: str, sink: Any) -> Any:
        if not failed:  # the first download (the document) is cut once
            failed.append(doc_id)
            raise AxisError("connection reset")
        return real(self, doc_id, sink)

    with client_for(sim.url, SYSTEM_B, SECRET_B) as peer:
        peer.register_agency(PEER, "Sở Thử nghiệm")
        peer.send_edoc(original, [TW], from_code=PEER)
        peer.send_edoc(revoke, [TW], from_code=PEER)
        AxisClient.download_edoc = flaky  # type: ignore[method-assign]
        try:
            poll_axis(rt)
            poll_axis(rt)
        finally:
            AxisClient.download_edoc = real  # type: ignore[method-assign]
        assert failed
        answers = _answers(peer)
        states = _copies(demo, "71/SNV-VP")
    assert ("16", _did("71")) not in answers, answers  # we told the sender "recall refused"
    assert states == ["recalled"], states  # and its recalled document is live here


def test_a_revocation_listed_before_its_document_recalls_it(app: Any, demo: Demo, sim: Sim) -> None:
    """The axis promises no order: a revocation listed before the document it names (both
    waiting in one round) found no document, was answered 16 "recall refused", and the
    document, next in the list, stayed live. It is tried again after the round's others."""
    from app.exchange import poll_axis, register_agencies
    from interop.axis_client import AxisClient

    rt = _wire(app, sim)
    register_agencies(rt)
    original = package(sender=PEER, number="75", document_id=_did("75"))
    revoke = package(
        sender=PEER, number="76", document_id=_did("76"), trace=_bussiness(1, _did("75"))
    )
    real = AxisClient.get_received_list

    def newest_first(self: AxisClient, messagetype: Any = "edoc") -> Any:
        return list(reversed(real(self, messagetype)))

    with client_for(sim.url, SYSTEM_B, SECRET_B) as peer:
        peer.register_agency(PEER, "Sở Thử nghiệm")
        peer.send_edoc(original, [TW], from_code=PEER)
        peer.send_edoc(revoke, [TW], from_code=PEER)
        AxisClient.get_received_list = newest_first  # type: ignore[method-assign]
        try:
            assert poll_axis(rt) == 2
        finally:
            AxisClient.get_received_list = real  # type: ignore[method-assign]
        answers = _answers(peer)
    assert _copies(demo, "75/SNV-VP") == ["recalled"]
    assert ("15", _did("75")) in answers and ("16", _did("75")) not in answers, answers


def test_a_replacement_cannot_be_recalled_by_its_own_document_id(
    app: Any, demo: Demo, sim: Sim
) -> None:
    """A replacement (BussinessDocType 3) with a DocumentId of its own is logged under the key
    ``<DocumentId>#3#<sha>``; a revocation naming that DocumentId finds nothing
    (``_received_from`` compares the key exactly): refused 16, the replacement stays live, and
    no later update or replacement can name it either."""
    from app.exchange import poll_axis, register_agencies

    rt = _wire(app, sim)
    register_agencies(rt)
    original = package(sender=PEER, number="81", document_id=_did("81"))
    replacement = package(
        sender=PEER, number="82", document_id=_did("82"), trace=_bussiness(3, _did("81"), "TT")
    )
    revoke = package(
        sender=PEER, number="83", document_id=_did("83"), trace=_bussiness(1, _did("82"))
    )
    with client_for(sim.url, SYSTEM_B, SECRET_B) as peer:
        peer.register_agency(PEER, "Sở Thử nghiệm")
        peer.send_edoc(original, [TW], from_code=PEER)
        assert poll_axis(rt) == 1
        peer.send_edoc(replacement, [TW], from_code=PEER)
        assert poll_axis(rt) == 1
        assert _copies(demo, "81/SNV-VP") == ["recalled"]
        assert _copies(demo, "82/SNV-VP") == ["arrived"]
        peer.send_edoc(revoke, [TW], from_code=PEER)
        poll_axis(rt)
        answers = _answers(peer)
    assert ("16", _did("82")) not in answers, answers
    assert _copies(demo, "82/SNV-VP") == ["recalled"]


def test_statuses_about_a_replacement_name_a_document_id_the_sender_never_sent(
    app: Any, demo: Demo, sim: Sim
) -> None:
    """Our status messages answer ``origin.key``: for an update or a replacement that is our
    internal key ``<DocumentId>#3#<sha>``, not the DocumentId the sender wrote, so the sender
    cannot match our 01/03/... (nor a 15/16) to its document."""
    from app.exchange import poll_axis, register_agencies

    rt = _wire(app, sim)
    register_agencies(rt)
    original = package(sender=PEER, number="91", document_id=_did("91"))
    replacement = package(
        sender=PEER, number="92", document_id=_did("92"), trace=_bussiness(3, _did("91"), "TT")
    )
    with client_for(sim.url, SYSTEM_B, SECRET_B) as peer:
        peer.register_agency(PEER, "Sở Thử nghiệm")
        peer.send_edoc(original, [TW], from_code=PEER)
        peer.send_edoc(replacement, [TW], from_code=PEER)
        assert poll_axis(rt) == 2
        with demo.factory() as s:
            keys = list(
                s.scalars(
                    select(ExchangeMessage.key).where(
                        ExchangeMessage.direction == "out", ExchangeMessage.kind == "status"
                    )
                )
            )
        answered = {document_id for _code, document_id in _answers(peer)}
    assert keys, "no status left"
    assert answered <= {_did("91"), _did("92")}, answered


# ------------------------------------------------------------------ sender side

NS = "http://www.mic.gov.vn/TBT/QCVN_102_2016"


def _status_at(code: str, document_id: str, at: str, description: str = "") -> bytes:
    """A status message of PEER about our document, with its Timestamp."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<edXML:edXML xmlns:edXML="{NS}"><edXML:edXMLEnvelope><edXML:edXMLHeader><edXML:MessageHeader>
 <edXML:ResponseFor><edXML:OrganId>{TW}</edXML:OrganId><edXML:Code>60/KH-MTTW</edXML:Code>
  <edXML:PromulgationDate>2026/11/20</edXML:PromulgationDate>
  <edXML:DocumentId>{document_id}</edXML:DocumentId></edXML:ResponseFor>
 <edXML:From><edXML:OrganId>{PEER}</edXML:OrganId>
  <edXML:OrganName>Sở Thử nghiệm</edXML:OrganName></edXML:From>
 <edXML:StatusCode>{code}</edXML:StatusCode>
 <edXML:Description>{description}</edXML:Description>
 <edXML:Timestamp>{at}</edXML:Timestamp>
</edXML:MessageHeader></edXML:edXMLHeader></edXML:edXMLEnvelope></edXML:edXML>
""".encode()


def _dispatched_to_peer(demo: Demo, *, state: str = "sent") -> tuple[uuid.UUID, uuid.UUID, str]:
    """An outgoing document of the central committee, dispatched to PEER through the axis
    (the rows dispatch and ``send_queued`` leave): (document id, delivery id, DocumentId)."""
    return to_peer(demo, state=state)


def _shown(client: Any, api: Any, doc_id: uuid.UUID) -> list[tuple[str, str | None, list[str]]]:
    r = client.get(f"/api/v1/documents/{doc_id}/deliveries", headers=api("vanthu.tw"))
    assert r.status_code == 200, r.get_json()
    return [
        (d["state"], d["status_code"], [e["status_code"] for e in d["events"]])
        for d in r.get_json()["items"]
    ]


def _recall(client: Any, api: Any, doc_id: uuid.UUID) -> None:
    r = client.post(
        f"/api/v1/documents/{doc_id}/actions",
        headers=api("vanthu.tw"),
        json={"action": "recall", "reason": "Ban hành nhầm"},
    )
    assert r.status_code == 200, r.get_json()


def test_statuses_listed_out_of_order_leave_the_older_one_shown(
    app: Any, client: Any, api: Any, demo: Demo, sim: Sim
) -> None:
    """The peer's 05 (in progress, 10:00) is listed before its 03 (registered, 09:00): nothing
    ordered them (the Timestamp was read and ignored), the 03 was taken last and shown for good.
    The history keeps the order they came in."""
    from app.exchange import poll_axis, register_agencies

    rt = _wire(app, sim)
    register_agencies(rt)
    doc_id, _delivery_id, key = _dispatched_to_peer(demo)
    with client_for(sim.url, SYSTEM_B, SECRET_B) as peer:
        peer.register_agency(PEER, "Sở Thử nghiệm")
        peer.send_edoc(_status_at("05", key, "2026/11/21 10:00:00"), [TW], messagetype="status",
                       from_code=PEER)  # fmt: skip
        peer.send_edoc(_status_at("03", key, "2026/11/21 09:00:00"), [TW], messagetype="status",
                       from_code=PEER)  # fmt: skip
        assert poll_axis(rt) == 2
    assert _shown(client, api, doc_id) == [("sent", "05", ["05", "03"])]


def test_a_repeated_recall_answer_is_recorded_twice(
    app: Any, client: Any, api: Any, demo: Demo, sim: Sim
) -> None:
    """The peer answers our recall 15, and sends its 15 again (a retry with a new Timestamp):
    the sender's history shows the recall agreed twice."""
    from app.exchange import poll_axis, register_agencies, send_to_axis

    rt = _wire(app, sim)
    register_agencies(rt)
    doc_id, _delivery_id, key = _dispatched_to_peer(demo)
    _recall(client, api, doc_id)
    with client_for(sim.url, SYSTEM_B, SECRET_B) as peer:
        peer.register_agency(PEER, "Sở Thử nghiệm")
        assert send_to_axis(rt) == 1  # the revocation
        for at in ("2026/11/21 10:00:00", "2026/11/21 10:05:00"):
            peer.send_edoc(_status_at("15", key, at), [TW], messagetype="status", from_code=PEER)
        poll_axis(rt)
    assert _shown(client, api, doc_id) == [("sent", "15", ["13", "15"])]


def test_a_recall_while_the_package_is_on_its_way_is_never_sent(
    app: Any, client: Any, api: Any, demo: Demo, sim: Sim
) -> None:
    """The clerk recalls while the exchange is sending the queued delivery (the axis has taken
    the package, its answer is on the way back): the recall cancels the delivery as "not
    sent", ``record_axis_sent`` then leaves a cancelled delivery alone, and nothing sends a
    revocation (that needs a 13 on a sent delivery). The peer has the document for good; the
    sender sees "cancelled" (then the peer's 01 on a cancelled delivery)."""
    from app.exchange import axis_client, poll_axis, register_agencies, send_to_axis
    from interop.outbox import send_queued

    rt = _wire(app, sim)
    register_agencies(rt)
    doc_id, _delivery_id, key = _dispatched_to_peer(demo, state="queued")

    with client_for(sim.url, SYSTEM_B, SECRET_B) as peer:
        peer.register_agency(PEER, "Sở Thử nghiệm")
        ours = axis_client(rt.settings)
        assert ours is not None
        with ours:
            assert send_queued(rt.uow, DuringSend(ours, lambda: _recall(client, api, doc_id))) == 1
        assert [i.doc_id for i in peer.get_received_list("edoc")]  # the peer has it
        send_to_axis(rt)  # a revocation should leave now
        peer.send_edoc(_status_at("01", key, "2026/11/21 10:00:00"), [TW], messagetype="status",
                       from_code=PEER)  # fmt: skip
        poll_axis(rt)
        with demo.factory() as s:
            revocations = s.scalars(
                select(ExchangeMessage.id).where(
                    ExchangeMessage.direction == "out", ExchangeMessage.kind == "revoke"
                )
            ).all()
        shown = _shown(client, api, doc_id)
    assert revocations, shown


def _act(client: Any, api: Any, doc_id: str, action: str, **params: Any) -> None:
    r = client.post(
        f"/api/v1/documents/{doc_id}/actions",
        headers=api("vanthu.tw"),
        json={"action": action, **params},
    )
    assert r.status_code == 200, (action, r.get_json())


def test_a_second_recall_refused_is_never_answered(
    app: Any, client: Any, api: Any, demo: Demo, sim: Sim
) -> None:
    """The peer recalls a document we registered; our clerk refuses (16 leaves). The peer asks
    again (a second revocation: its clerk insists); our clerk refuses again, but
    ``send_status`` sends each code once per document: the second 16 never leaves and the
    peer waits for an answer for ever."""
    from app.exchange import poll_axis, register_agencies

    rt = _wire(app, sim)
    register_agencies(rt)
    original = package(sender=PEER, number="61", document_id=_did("61"))
    with client_for(sim.url, SYSTEM_B, SECRET_B) as peer:
        peer.register_agency(PEER, "Sở Thử nghiệm")
        peer.send_edoc(original, [TW], from_code=PEER)
        assert poll_axis(rt) == 1
        with demo.factory() as s:
            copy = str(s.scalars(select(Document.id).where(Document.notation == "61/SNV-VP")).one())
        _act(client, api, copy, "register")
        for n in ("62", "63"):
            revoke = package(
                sender=PEER, number=n, document_id=_did(n), trace=_bussiness(1, _did("61"))
            )
            peer.send_edoc(revoke, [TW], from_code=PEER)
            assert poll_axis(rt) == 1
            _act(client, api, copy, "refuse_recall", reason=f"Đã xử lý ({n})")
        answers = [code for code, _ in _answers(peer)]
    assert answers.count("16") == 2, answers


def test_a_revocation_of_an_updated_document_leaves_its_update_live(
    app: Any, demo: Demo, sim: Sim
) -> None:
    """The peer sends a document, then an update of it (BussinessDocType 2, which we keep as a
    second document "Cập nhật văn bản ..."), then recalls the document by its DocumentId: only
    the first copy is recalled; the update, the current text of the recalled document, stays
    ``arrived`` and the clerk may register and assign it."""
    from app.exchange import poll_axis, register_agencies

    rt = _wire(app, sim)
    register_agencies(rt)
    original = package(sender=PEER, number="51", document_id=_did("51"))
    update = package(
        sender=PEER, number="51", document_id=_did("51"), trace=_bussiness(2, _did("51"), "CN")
    ).replace(b"<edXML:Subject>", "<edXML:Subject>(Cập nhật) ".encode())
    revoke = package(
        sender=PEER, number="52", document_id=_did("52"), trace=_bussiness(1, _did("51"))
    )
    with client_for(sim.url, SYSTEM_B, SECRET_B) as peer:
        peer.register_agency(PEER, "Sở Thử nghiệm")
        peer.send_edoc(original, [TW], from_code=PEER)
        peer.send_edoc(update, [TW], from_code=PEER)
        assert poll_axis(rt) == 2
        assert _copies(demo, "51/SNV-VP") == ["arrived", "arrived"]
        peer.send_edoc(revoke, [TW], from_code=PEER)
        assert poll_axis(rt) == 1
    with demo.factory() as s:
        states = dict(
            s.execute(
                select(Document.subject, Document.state).where(Document.notation == "51/SNV-VP")
            ).all()
        )
    update_state = next(v for k, v in states.items() if k.startswith("(Cập nhật)"))
    assert update_state == "recalled", states


def test_a_late_status_listed_after_the_recall_was_refused_hides_the_refusal(
    app: Any, client: Any, api: Any, demo: Demo, sim: Sim
) -> None:
    """The peer registered our document (03, 09:00) before our revocation reached it, then
    refused the recall (16, 10:05). The axis lists the 16 first: the 03, older, replaces it
    (``shown_after`` only protects a 13, 02 and 15), and the clerk no longer sees that the
    recall was refused; the Timestamp that says so is ignored."""
    from app.exchange import poll_axis, register_agencies, send_to_axis

    rt = _wire(app, sim)
    register_agencies(rt)
    doc_id, _delivery_id, key = _dispatched_to_peer(demo)
    _recall(client, api, doc_id)
    with client_for(sim.url, SYSTEM_B, SECRET_B) as peer:
        peer.register_agency(PEER, "Sở Thử nghiệm")
        assert send_to_axis(rt) == 1  # the revocation
        peer.send_edoc(_status_at("16", key, "2026/11/21 10:05:00", "Đã xử lý"), [TW],
                       messagetype="status", from_code=PEER)  # fmt: skip
        peer.send_edoc(_status_at("03", key, "2026/11/21 09:00:00"), [TW], messagetype="status",
                       from_code=PEER)  # fmt: skip
        assert poll_axis(rt) == 2
    assert _shown(client, api, doc_id)[0][1] == "16"
