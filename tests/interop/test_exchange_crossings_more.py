"""A second review of the exchange's crossing fixes (tests/interop/test_exchange_crossings.py)
tried to break them: copies of one document answered twice and differently, a DocumentId with
a "#", SQLite's case-blind LIKE, two senders of one DocumentId; hand-written packages through
the axis simulator (PostgreSQL) or imported on the embedded profile (SQLite)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from sqlalchemy import select

from docflow.models import Document
from tests.conftest import Demo
from tests.interop.conftest import SECRET_B, SYSTEM_B, Sim, client_for
from tests.interop.test_axis_exchange import _wire
from tests.interop.test_exchange_crossings import _act, _answers, _bussiness, _did
from tests.interop.test_review_attacks import PEER, TW, DuringSend, package


def _states_by_subject(demo: Demo, notation: str) -> dict[str, str]:
    with demo.factory() as s:
        return dict(
            s.execute(
                select(Document.subject, Document.state).where(Document.notation == notation)
            ).all()
        )


def _copy_id(demo: Demo, notation: str, subject_prefix: str = "Về") -> str:
    with demo.factory() as s:
        return str(
            s.scalars(
                select(Document.id).where(
                    Document.notation == notation, Document.subject.startswith(subject_prefix)
                )
            ).one()
        )


def test_a_revocation_of_an_updated_document_does_not_answer_15_while_a_copy_is_kept(
    app: Any, client: Any, api: Any, demo: Demo, sim: Sim
) -> None:
    """Original registered here, its update only arrived. The peer revokes the DocumentId: the
    update copy is recalled at once (15 for the DocumentId), the registered original waits for
    the clerk, who refuses (16 for the same DocumentId). The sender hears 15 then 16 about one
    DocumentId; 15 is FINAL on a sender (shown_after), so it believes the recall agreed while
    we keep the document."""
    from app.exchange import poll_axis, register_agencies

    rt = _wire(app, sim)
    register_agencies(rt)
    did = _did("51")
    original = package(sender=PEER, number="51", document_id=did)
    update = package(
        sender=PEER, number="51", document_id=did, trace=_bussiness(2, did, "CN")
    ).replace(b"<edXML:Subject>", "<edXML:Subject>(Cập nhật) ".encode())
    revoke = package(sender=PEER, number="52", document_id=_did("52"), trace=_bussiness(1, did))
    with client_for(sim.url, SYSTEM_B, SECRET_B) as peer:
        peer.register_agency(PEER, "Sở Thử nghiệm")
        peer.send_edoc(original, [TW], from_code=PEER)
        assert poll_axis(rt) == 1
        _act(client, api, _copy_id(demo, "51/SNV-VP"), "register")
        peer.send_edoc(update, [TW], from_code=PEER)
        assert poll_axis(rt) == 1
        peer.send_edoc(revoke, [TW], from_code=PEER)
        assert poll_axis(rt) == 1
        _act(client, api, _copy_id(demo, "51/SNV-VP"), "refuse_recall", reason="Đã xử lý")
        poll_axis(rt)
        answers = [a for a in _answers(peer) if a[0] in ("15", "16")]
    states = _states_by_subject(demo, "51/SNV-VP")
    assert "registered" in states.values(), states  # we keep the original
    assert answers == [("16", did)], answers  # but told the sender 15 first


def test_a_second_replacement_under_the_same_document_id_leaves_the_first_live(
    app: Any, demo: Demo, sim: Sim
) -> None:
    """A replacement may reuse the DocumentId (``_key``). The peer replaces D twice under D:
    ``_targets`` gives the replacement the first copy (the original, recalled already by the
    first replacement), so the first replacement is never recalled: two live texts of D."""
    from app.exchange import poll_axis, register_agencies

    rt = _wire(app, sim)
    register_agencies(rt)
    did = _did("55")
    original = package(sender=PEER, number="55", document_id=did)
    repl = [
        package(sender=PEER, number="55", document_id=did, trace=_bussiness(3, did, "TT")).replace(
            b"<edXML:Subject>", f"<edXML:Subject>(Thay thế {n}) ".encode()
        )
        for n in (1, 2)
    ]
    with client_for(sim.url, SYSTEM_B, SECRET_B) as peer:
        peer.register_agency(PEER, "Sở Thử nghiệm")
        for p in (original, *repl):
            peer.send_edoc(p, [TW], from_code=PEER)
            assert poll_axis(rt) == 1
    states = _states_by_subject(demo, "55/SNV-VP")
    live = sorted(k[:14] for k, v in states.items() if v != "recalled")
    assert live == ["(Thay thế 2) V"], states


def test_statuses_about_a_document_id_with_a_hash_name_it_whole(
    app: Any, demo: Demo, sim: Sim
) -> None:
    """A new document's key is its DocumentId as written; ``wire_document_id`` cuts any key at
    its first '#', so a DocumentId containing '#' (free text: UUIDs and others exist) is
    answered with a DocumentId the sender never wrote (before, ``origin.key`` was right)."""
    from app.exchange import poll_axis, register_agencies

    rt = _wire(app, sim)
    register_agencies(rt)
    did = f"{PEER},2026/11/24,57/SNV-VP#2"
    with client_for(sim.url, SYSTEM_B, SECRET_B) as peer:
        peer.register_agency(PEER, "Sở Thử nghiệm")
        peer.send_edoc(package(sender=PEER, number="57", document_id=did), [TW], from_code=PEER)
        assert poll_axis(rt) == 1
        answers = _answers(peer)
    assert answers == [("01", did)], answers


def _import(demo: Demo, data: bytes) -> list[Any]:
    from interop.inbox import import_package

    return import_package(demo.uow(), io.BytesIO(data), channel="axis", axis_from=PEER)


def test_on_sqlite_a_revocation_reaches_another_documents_update_by_case(
    tmp_path: Path, store: Any
) -> None:
    """The embedded profile (SQLite): LIKE is case-insensitive for ASCII, so the prefix match
    ``key LIKE '<DocumentId>#%'`` of a revocation of 58/snv-vp also takes the update of
    another document of the same sender, 58/SNV-VP, and recalls it."""
    from tests.conftest import sqlite_demo

    with sqlite_demo(tmp_path) as d:
        demo = Demo(d.factory, d.clock, store)
        upper, lower = _did("58"), f"{PEER},2026/11/24,58/snv-vp"
        _import(demo, package(sender=PEER, number="58", document_id=upper))
        _import(
            demo,
            package(
                sender=PEER, number="58", document_id=upper, trace=_bussiness(2, upper)
            ).replace(b"<edXML:Subject>", "<edXML:Subject>(Cập nhật) ".encode()),
        )
        _import(
            demo,
            package(sender=PEER, number="58", document_id=lower).replace(
                b"<edXML:Subject>", "<edXML:Subject>(Khác) ".encode()
            ),
        )
        _import(
            demo,
            package(sender=PEER, number="59", document_id=_did("59"), trace=_bussiness(1, lower)),
        )
        with demo.factory() as s:
            states = dict(s.execute(select(Document.subject, Document.state)).all())
    update = next(v for k, v in states.items() if k.startswith("(Cập nhật)"))
    assert update == "arrived", states


def test_a_clerks_cancel_during_the_send_asks_no_recall(
    app: Any, client: Any, api: Any, demo: Demo, sim: Sim
) -> None:
    from app.exchange import axis_client, register_agencies, send_to_axis
    from docflow.models import Delivery
    from docflow.models.exchange import ExchangeMessage
    from interop.outbox import send_queued
    from tests.interop.test_exchange_crossings import _dispatched_to_peer, _shown

    rt = _wire(app, sim)
    register_agencies(rt)
    doc_id, delivery_id, _key = _dispatched_to_peer(demo, state="queued")

    def cancel() -> None:  # the clerk's cancel lands while the package is on its way
        r = client.post(
            f"/api/v1/documents/{doc_id}/deliveries/{delivery_id}/actions",
            headers=api("vanthu.tw"),
            json={"action": "cancel"},
        )
        assert r.status_code == 200, r.get_json()

    with client_for(sim.url, SYSTEM_B, SECRET_B) as peer:
        peer.register_agency(PEER, "Sở Thử nghiệm")
        ours = axis_client(rt.settings)
        assert ours is not None
        with ours:
            assert send_queued(rt.uow, DuringSend(ours, cancel)) == 1
        send_to_axis(rt)
    with demo.factory() as s:
        revokes = s.scalars(
            select(ExchangeMessage.id).where(ExchangeMessage.kind == "revoke")
        ).all()
        d = s.get_one(Delivery, delivery_id)
        assert (d.state, d.status_code) == ("sent", None)
    assert revokes == []
    assert _shown(client, api, doc_id) == [("sent", None, [])]


def test_a_revocation_reaches_only_its_senders_copies(demo: Demo) -> None:
    """Two senders use the same DocumentId; Q also sent an update of it. P's revocation of the
    DocumentId recalls P's copy only (peer_code binds)."""
    from interop.inbox import import_package

    Q = "000.00.00.Y96"
    did = _did("60")

    def imp(data: bytes, sender: str) -> None:
        import_package(demo.uow(), io.BytesIO(data), channel="axis", axis_from=sender)

    imp(package(sender=PEER, number="60", document_id=did), PEER)
    imp(
        package(sender=Q, number="60", document_id=did).replace(
            b"<edXML:Subject>", b"<edXML:Subject>(Q) "
        ),
        Q,
    )
    imp(
        package(sender=Q, number="60", document_id=did, trace=_bussiness(2, did)).replace(
            b"<edXML:Subject>", "<edXML:Subject>(Q cập nhật) ".encode()
        ),
        Q,
    )
    imp(package(sender=PEER, number="61", document_id=_did("61"), trace=_bussiness(1, did)), PEER)
    states = _states_by_subject(demo, "60/SNV-VP")
    assert sorted(states.values()) == ["arrived", "arrived", "recalled"], states
    assert states["Về việc phối hợp tổ chức hội nghị số 60"] == "recalled"


def test_two_senders_of_one_document_id_each_hear_their_statuses(
    app: Any, client: Any, api: Any, demo: Demo, sim: Sim
) -> None:
    """Two senders, one DocumentId (the exchange log keeps them apart: a second sender reusing
    a DocumentId is another package). ``send_status`` dedups on (organisation, key[#s<step>],
    code) without the peer or the document: the second sender never hears its 01 (nor its 03,
    whose trail step has the same number)."""
    from app.exchange import poll_axis, register_agencies

    Q = "000.00.00.Y96"
    rt = _wire(app, sim)
    register_agencies(rt)
    did = "8c6d1f0e-0000-4000-8000-000000000062"  # a UUID DocumentId, as some systems write
    heard = {}
    with client_for(sim.url, SYSTEM_B, SECRET_B) as peer:
        peer.register_agency(PEER, "Sở Thử nghiệm")
        peer.register_agency(Q, "Sở Khác")
        peer.send_edoc(package(sender=PEER, number="62", document_id=did), [TW], from_code=PEER)
        peer.send_edoc(
            package(sender=Q, number="62", document_id=did).replace(
                b"<edXML:Subject>", b"<edXML:Subject>(Q) "
            ),
            [TW],
            from_code=Q,
        )
        assert poll_axis(rt) == 2
        for copy in (_copy_id(demo, "62/SNV-VP", "Về"), _copy_id(demo, "62/SNV-VP", "(Q)")):
            _act(client, api, copy, "register")
        poll_axis(rt)
        for item in peer.get_received_list("status"):
            from interop.edxml.parse import parse_status

            with parse_status(io.BytesIO(peer.get_edoc(item.doc_id))) as result:
                assert result.status is not None
                heard.setdefault(result.status.response_for.organ_id, []).append(
                    result.status.status_code
                )
    assert sorted(heard.get(Q, [])) == ["01", "03"], heard
