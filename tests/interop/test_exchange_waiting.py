"""A revocation, update or replacement the axis lists a round or more before the document it
names: left on the axis for ``DHTN_AXIS_WAIT_SECONDS`` (its document may come later; the axis
promises no order), refused only once it has waited that long. Hand-written packages through
the axis simulator, on PostgreSQL; the clock of the polling job is moved, not slept."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from docflow.models import Document
from docflow.models.exchange import AxisHeldPackage, ExchangeMessage
from tests.conftest import Demo
from tests.interop.conftest import SECRET_B, SYSTEM_B, Sim, client_for
from tests.interop.test_exchange_crossings import _answers, _bussiness, _copies, _did
from tests.interop.test_review_attacks import PEER, TW, VICTIM, package


def _waiting(demo: Demo) -> list[tuple[str, int]]:
    with demo.factory() as s:
        return [(w.sender, w.rounds) for w in s.scalars(select(AxisHeldPackage)).all()]


def _held(demo: Demo) -> list[tuple[str, str]]:
    with demo.factory() as s:
        return [(h.axis_doc_id, h.reason) for h in s.scalars(select(AxisHeldPackage)).all()]


def _counts(demo: Demo) -> tuple[int, int]:
    with demo.factory() as s:
        return (
            s.scalar(select(func.count()).select_from(Document)) or 0,
            s.scalar(select(func.count()).select_from(ExchangeMessage)) or 0,
        )


def test_a_revocation_listed_rounds_before_its_document_recalls_it(
    rt: Any, demo: Demo, sim: Sim
) -> None:
    """Before: the revocation, alone on the axis this round, named a document we did not have:
    answered 16 "recall refused" and acknowledged; the document came next round and stayed
    live here while its sender had been told the recall was refused."""
    from app.exchange import poll_axis

    revoke = package(
        sender=PEER, number="91", document_id=_did("91"), trace=_bussiness(1, _did("90"))
    )
    original = package(sender=PEER, number="90", document_id=_did("90"))
    with client_for(sim.url, SYSTEM_B, SECRET_B) as peer:
        peer.register_agency(PEER, "Sở Thử nghiệm")
        peer.send_edoc(revoke, [TW], from_code=PEER)
        before = _counts(demo)
        assert poll_axis(rt) == 0
        rt.clock.ahead = dt.timedelta(minutes=5)
        assert poll_axis(rt) == 0  # listed again: it was left on the axis
        assert _answers(peer) == []
        assert _counts(demo) == before  # nothing taken in, nothing refused
        assert _waiting(demo) == [(PEER, 2)]
        peer.send_edoc(original, [TW], from_code=PEER)
        assert poll_axis(rt) == 2
        answers = _answers(peer)
    assert _copies(demo, "90/SNV-VP") == ["recalled"]
    assert ("15", _did("90")) in answers and ("16", _did("90")) not in answers, answers
    assert _waiting(demo) == []


def test_a_waiting_package_is_downloaded_once_per_round(
    rt: Any, demo: Demo, sim: Sim, downloads: list[str], spools: list[str]
) -> None:
    """A package naming a document not here is tried again after the round's other packages.
    That second try reads what the first downloaded: before, a waiting package was
    downloaded twice in every round that listed it (last note §5). Here it waits two rounds
    (one download each), then is taken in with its document in the third (one more); the
    round's folder is gone afterwards."""
    from app.exchange import poll_axis

    revoke = package(
        sender=PEER, number="81", document_id=_did("81"), trace=_bussiness(1, _did("80"))
    )
    original = package(sender=PEER, number="80", document_id=_did("80"))
    with client_for(sim.url, SYSTEM_B, SECRET_B) as peer:
        peer.register_agency(PEER, "Sở Thử nghiệm")
        sent = peer.send_edoc(revoke, [TW], from_code=PEER)
        assert poll_axis(rt) == 0
        rt.clock.ahead = dt.timedelta(minutes=5)
        assert poll_axis(rt) == 0
        assert downloads == [sent.doc_id] * 2, downloads
        peer.send_edoc(original, [TW], from_code=PEER)
        assert poll_axis(rt) == 2
    assert downloads.count(sent.doc_id) == 3, downloads
    assert len(downloads) == 4, downloads  # and the original once
    assert _copies(demo, "80/SNV-VP") == ["recalled"]
    assert len(spools) == 3 and not any(Path(f).exists() for f in spools), spools


def test_past_the_spool_limit_a_waiting_package_is_downloaded_again(
    rt: Any, demo: Demo, sim: Sim, monkeypatch: pytest.MonkeyPatch, downloads: list[str]
) -> None:
    """The round's folder keeps packages for their second try only up to
    ``interop.exchange.SPOOL_LIMIT`` bytes (a flood of waiting packages would fill the
    temporary disk): past it, the second try downloads the package again, as before."""
    import interop.exchange
    from app.exchange import poll_axis

    monkeypatch.setattr(interop.exchange, "SPOOL_LIMIT", 0)
    revoke = package(
        sender=PEER, number="83", document_id=_did("83"), trace=_bussiness(1, _did("82"))
    )
    with client_for(sim.url, SYSTEM_B, SECRET_B) as peer:
        peer.register_agency(PEER, "Sở Thử nghiệm")
        sent = peer.send_edoc(revoke, [TW], from_code=PEER)
        assert poll_axis(rt) == 0
    assert downloads == [sent.doc_id] * 2, downloads
    assert _waiting(demo) == [(PEER, 1)]


@pytest.mark.parametrize(("kind", "answer"), [(1, "16"), (2, "16"), (3, "16")])
def test_a_package_naming_a_document_never_sent_is_refused_once_it_has_waited(
    rt: Any, demo: Demo, sim: Sim, kind: int, answer: str
) -> None:
    """A revocation (1), update (2) or replacement (3) of a document that never comes is not
    left on the axis for ever: refused with its status once ``DHTN_AXIS_WAIT_SECONDS`` (15
    minutes by default) have passed since the round that first listed it, acknowledged
    ``fail``, answered once (the axis lists it again: refused at once, not answered twice),
    and nothing here changed."""
    from app.exchange import poll_axis

    acting = package(
        sender=PEER, number="93", document_id=_did("93"), trace=_bussiness(kind, _did("92"))
    )
    with client_for(sim.url, SYSTEM_B, SECRET_B) as peer:
        peer.register_agency(PEER, "Sở Thử nghiệm")
        peer.send_edoc(acting, [TW], from_code=PEER)
        before = _counts(demo)
        poll_axis(rt)
        rt.clock.ahead = dt.timedelta(minutes=14, seconds=59)
        poll_axis(rt)
        assert _answers(peer) == []
        assert _waiting(demo) == [(PEER, 2)]
        rt.clock.ahead = dt.timedelta(minutes=15, seconds=1)
        assert poll_axis(rt) == 0
        refused = _answers(peer)
        assert poll_axis(rt) == 0  # listed again: refused at once, not answered again
        again = _answers(peer)
    assert [code for code, _ in refused] == [answer], refused
    assert refused[0][1] == _did("92")
    assert again == refused
    assert _waiting(demo) == [(PEER, 2)]  # kept, not written to: refused at once
    documents, messages = _counts(demo)
    assert documents == before[0]
    assert messages == before[1] + 1  # the refusal, logged once


def test_the_wait_is_the_operators(app: Any, rt: Any, demo: Demo, sim: Sim) -> None:
    """``DHTN_AXIS_WAIT_SECONDS`` sets it: at 60 s, a revocation of a document that never
    comes is refused on the round after a minute."""
    from app.exchange import poll_axis

    rt.settings = rt.settings.with_overrides(axis_wait_seconds=60.0)
    revoke = package(
        sender=PEER, number="95", document_id=_did("95"), trace=_bussiness(1, _did("94"))
    )
    with client_for(sim.url, SYSTEM_B, SECRET_B) as peer:
        peer.register_agency(PEER, "Sở Thử nghiệm")
        peer.send_edoc(revoke, [TW], from_code=PEER)
        poll_axis(rt)
        assert _answers(peer) == []
        rt.clock.ahead = dt.timedelta(seconds=61)
        poll_axis(rt)
        assert [code for code, _ in _answers(peer)] == ["16"]


def test_a_package_refused_for_good_is_not_read_again_while_the_axis_lists_it(
    rt: Any, demo: Demo, sim: Sim
) -> None:
    """The axis lists a package acknowledged ``fail`` again, round after round. A package
    refused for good (here its From is not the agency the axis names as its sender) was
    downloaded, parsed, refused and acknowledged again every round, for as long as the axis
    kept it: a hostile peer's bogus packages cost every polling round a download each. Now
    it is read once, answered once, and skipped unread while listed; its row goes a day
    after the axis last listed it."""
    from app.exchange import axis_client, poll_axis
    from interop.axis_client import AxisClient

    downloads: list[str] = []
    real = AxisClient.download_edoc

    def counting(self: AxisClient, doc_id: str, sink: Any) -> Any:
        downloads.append(doc_id)
        return real(self, doc_id, sink)

    forged = package(sender=PEER, number="97", document_id=_did("97"))
    with client_for(sim.url, SYSTEM_B, SECRET_B) as peer:
        peer.register_agency(PEER, "Sở Thử nghiệm")
        peer.register_agency(VICTIM, "Sở Khác")
        peer.send_edoc(forged, [TW], from_code=VICTIM)
        before = _counts(demo)
        AxisClient.download_edoc = counting  # type: ignore[method-assign]
        try:
            for minutes in (0, 1, 2, 60):
                rt.clock.ahead = dt.timedelta(minutes=minutes)
                assert poll_axis(rt) == 0
        finally:
            AxisClient.download_edoc = real  # type: ignore[method-assign]
        answers = _answers(peer)
        ours = axis_client(rt.settings)
        assert ours is not None
        with ours:
            assert len(ours.get_received_list("edoc")) == 1  # still listed by the axis
            reasons = [r for _, r in _held(demo)]
            for item in ours.get_received_list("edoc"):
                ours.update_status(item.doc_id, "done")  # the axis stops listing it
        rt.clock.ahead = dt.timedelta(days=1, minutes=61)
        poll_axis(rt)
    assert len(downloads) == 1, downloads
    assert answers == [("02", _did("97"))], answers  # refused, answered once
    assert _counts(demo)[0] == before[0]  # no document
    assert len(reasons) == 1 and reasons[0] not in ("revoke_unknown", "update_unknown")
    assert _held(demo) == []


def test_the_longest_axis_id_and_a_sender_longer_than_its_column_fit_on_postgresql(
    rt: Any, demo: Demo, sim: Sim
) -> None:
    """What the axis sends is not ours to size: an axis message id of 128 characters (the
    longest the round reads; longer ones are refused unread) and a sender code longer than
    the 64 the held row keeps. Both a package that waits for its document and one refused
    for good are held on PostgreSQL (which refuses what does not fit, where SQLite keeps
    it), the refused one not read again."""
    import dataclasses

    from app.exchange import poll_axis
    from interop.axis_client import AxisClient

    real_list, real_get, real_status = (
        AxisClient.get_received_list,
        AxisClient.download_edoc,
        AxisClient.update_status,
    )

    def longest(doc_id: str) -> str:
        return (doc_id + "~" + "x" * 128)[:128]

    def listed(self: AxisClient, messagetype: Any = "edoc") -> Any:
        items = real_list(self, messagetype)
        if messagetype != "edoc":
            return items
        return [
            dataclasses.replace(
                i,
                doc_id=longest(i.doc_id),
                from_code=i.from_code + "." * 70 if i.from_code == VICTIM else i.from_code,
            )
            for i in items
        ]

    def short(doc_id: str) -> str:
        return doc_id.split("~", 1)[0]

    downloads: list[str] = []

    def get(self: AxisClient, doc_id: str, sink: Any) -> Any:
        downloads.append(doc_id)
        return real_get(self, short(doc_id), sink)

    def status(self: AxisClient, doc_id: str, value: Any) -> Any:
        return real_status(self, short(doc_id), value)

    revoke = package(
        sender=PEER, number="99", document_id=_did("99"), trace=_bussiness(1, _did("98"))
    )
    forged = package(sender=PEER, number="96", document_id=_did("96"))
    with client_for(sim.url, SYSTEM_B, SECRET_B) as peer:
        peer.register_agency(PEER, "Sở Thử nghiệm")
        peer.register_agency(VICTIM, "Sở Khác")
        peer.send_edoc(revoke, [TW], from_code=PEER)
        peer.send_edoc(forged, [TW], from_code=VICTIM)
        AxisClient.get_received_list = listed  # type: ignore[method-assign]
        AxisClient.download_edoc = get  # type: ignore[method-assign]
        AxisClient.update_status = status  # type: ignore[method-assign]
        try:
            poll_axis(rt)  # the revocation waits, the forged package is refused for good
            poll_axis(rt)  # listed again: the refused one is not read again
            held = _held(demo)
        finally:
            AxisClient.get_received_list = real_list  # type: ignore[method-assign]
            AxisClient.download_edoc = real_get  # type: ignore[method-assign]
            AxisClient.update_status = real_status  # type: ignore[method-assign]
    assert sorted(reason for _, reason in held) == ["revoke_unknown", "sender_mismatch"], held
    assert [len(doc_id) for doc_id, _ in held] == [128, 128], held
    with demo.factory() as s:
        senders = {h.reason: h.sender for h in s.scalars(select(AxisHeldPackage)).all()}
    assert senders["revoke_unknown"] == PEER
    assert len(senders["sender_mismatch"]) == 64, senders  # cut to its column
    assert len(downloads) == 2 + 1, downloads  # the revocation once a round; forged once
