"""A send that ends without the axis's answer (a read timeout, a dropped connection, a 5xx after
the body went) may have left: the axis can hold the package although our client raised. Before,
the delivery stayed "queued" and a recall then only cancelled it, so a recipient holding the
package kept the document for good and its statuses about it were ignored. Through the axis
simulator, on PostgreSQL; the recipient is written by hand."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from docflow.models import Delivery
from docflow.models.exchange import ExchangeMessage
from interop.errors import AxisRequestError, AxisUnavailableError
from tests.conftest import Demo
from tests.interop.conftest import SECRET_B, SYSTEM_B, Sim, client_for
from tests.interop.test_axis_exchange import _wire
from tests.interop.test_exchange_crossings import _recall, _shown, _status_at
from tests.interop.test_review_attacks import PEER, TW, to_peer


class Unanswered:
    """Our axis client whose sends reach the axis (``taken``) or not, and whose answer is lost
    either way; ``click`` (a clerk's action) lands while the package is on its way."""

    def __init__(
        self, inner: Any, *, taken: bool = True, click: Callable[[], None] | None = None
    ) -> None:
        self.inner, self.taken, self.click = inner, taken, click

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def send_edoc(self, *args: Any, **kw: Any) -> Any:
        if self.taken:
            self.inner.send_edoc(*args, **kw)
        if self.click is not None:
            self.click()
        raise AxisUnavailableError(call="sendEdoc", reason="ReadTimeout")


class Refused(Unanswered):
    """The axis refuses the package and says so (a 400): nothing left. ``tries``: how many
    sends it refused."""

    tries = 0

    def send_edoc(self, *args: Any, **kw: Any) -> Any:
        self.tries += 1
        if self.click is not None:
            self.click()
        raise AxisRequestError(call="sendEdoc", status=400)


def _send(rt: Any, wrap: Callable[[Any], Any]) -> int:
    from app.exchange import axis_client
    from interop.outbox import send_queued

    ours = axis_client(rt.settings)
    assert ours is not None
    with ours:
        return send_queued(rt.uow, wrap(ours))


def _revocations_for_peer(peer: Any, key: str) -> list[str]:
    """The packages the peer was sent that revoke ``key``."""
    found = []
    for item in peer.get_received_list("edoc"):
        xml = peer.get_edoc(item.doc_id).decode()
        if "<edXML:BussinessDocType>1</edXML:BussinessDocType>" in xml and key in xml:
            found.append(item.doc_id)
    return found


def backoff_over(demo: Demo, delivery_id: uuid.UUID) -> None:
    """The delivery's retry is due now (its backoff is over)."""
    with demo.factory() as s:
        s.get_one(Delivery, delivery_id).next_attempt_at = None
        s.commit()


def _out_edoc(demo: Demo, doc_id: uuid.UUID) -> list[tuple[str, bool]]:
    with demo.factory() as s:
        return [
            (m.state, m.axis_doc_id is not None)
            for m in s.scalars(
                select(ExchangeMessage).where(
                    ExchangeMessage.direction == "out",
                    ExchangeMessage.kind == "edoc",
                    ExchangeMessage.document_id == doc_id,
                )
            )
        ]


def test_a_recall_after_a_send_that_was_never_answered_revokes_it(
    app: Any, client: Any, api: Any, demo: Demo, sim: Sim
) -> None:
    """The axis took the package and its answer was lost: the delivery waits for its retry.
    The clerk recalls meanwhile: the delivery is cancelled (it will not be sent again) and
    the recall is asked (13), so the revocation leaves; the recipient's 15 answers it."""
    from app.exchange import poll_axis, register_agencies, send_to_axis

    rt = _wire(app, sim)
    register_agencies(rt)
    doc_id, delivery_id, key = to_peer(demo, state="queued")
    with client_for(sim.url, SYSTEM_B, SECRET_B) as peer:
        peer.register_agency(PEER, "Sở Thử nghiệm")
        assert _send(rt, Unanswered) == 0
        assert len(peer.get_received_list("edoc")) == 1  # it did reach the peer
        assert _out_edoc(demo, doc_id) == [("unconfirmed", False)]
        assert _shown(client, api, doc_id) == [("queued", None, [])]
        listed = client.get(f"/api/v1/documents/{doc_id}/deliveries", headers=api("vanthu.tw"))
        assert "có thể đã đến nơi nhận" in listed.get_json()["items"][0]["error"]
        _recall(client, api, doc_id)
        assert _shown(client, api, doc_id) == [("cancelled", "13", ["13"])]
        send_to_axis(rt)
        assert len(_revocations_for_peer(peer, key)) == 1
        send_to_axis(rt)  # once
        assert len(_revocations_for_peer(peer, key)) == 1
        peer.send_edoc(
            _status_at("15", key, "2026/11/21 10:00:00"),
            [TW],
            messagetype="status",
            from_code=PEER,
        )
        poll_axis(rt)
    # The recipient's answer shows the package did leave: sent, recalled there.
    assert _shown(client, api, doc_id) == [("sent", "15", ["13", "15"])]
    assert _out_edoc(demo, doc_id) == [("sent", False)]
    with demo.factory() as s:
        assert s.get_one(Delivery, delivery_id).state == "sent"


def test_a_recall_landing_while_the_unanswered_send_is_on_its_way_revokes_it(
    app: Any, client: Any, api: Any, demo: Demo, sim: Sim
) -> None:
    """The recall lands after the round checked the delivery was still queued and before the
    send ended without an answer: the recall found no sign the package might have left and
    only cancelled; logging the unanswered send then asks the recall."""
    from app.exchange import register_agencies, send_to_axis

    rt = _wire(app, sim)
    register_agencies(rt)
    doc_id, _delivery_id, key = to_peer(demo, state="queued")
    with client_for(sim.url, SYSTEM_B, SECRET_B) as peer:
        peer.register_agency(PEER, "Sở Thử nghiệm")
        _send(rt, lambda ours: Unanswered(ours, click=lambda: _recall(client, api, doc_id)))
        assert _shown(client, api, doc_id) == [("cancelled", "13", ["13"])]
        send_to_axis(rt)
        assert len(_revocations_for_peer(peer, key)) == 1


def test_a_send_the_axis_refused_is_only_cancelled_by_a_recall(
    app: Any, client: Any, api: Any, demo: Demo, sim: Sim
) -> None:
    """A refusal the axis answered (here a 400) left nothing: a recall cancels the delivery,
    asks no recall and sends no revocation."""
    from app.exchange import register_agencies, send_to_axis

    rt = _wire(app, sim)
    register_agencies(rt)
    doc_id, _delivery_id, key = to_peer(demo, state="queued")
    with client_for(sim.url, SYSTEM_B, SECRET_B) as peer:
        peer.register_agency(PEER, "Sở Thử nghiệm")
        _send(rt, Refused)
        assert _out_edoc(demo, doc_id) == []
        _recall(client, api, doc_id)
        assert _shown(client, api, doc_id) == [("cancelled", None, [])]
        send_to_axis(rt)
        assert _revocations_for_peer(peer, key) == []
        assert peer.get_received_list("edoc") == []


def test_a_status_of_the_recipient_confirms_an_unanswered_send(
    app: Any, client: Any, api: Any, demo: Demo, sim: Sim
) -> None:
    """The recipient answers 01 before our retry (its package came): the status applies to the
    delivery, and shows the package left: the delivery is sent (no retry, no "failed" after
    the attempts are spent), the log's row confirmed."""
    from app.exchange import poll_axis, register_agencies

    rt = _wire(app, sim)
    register_agencies(rt)
    doc_id, delivery_id, key = to_peer(demo, state="queued")
    with client_for(sim.url, SYSTEM_B, SECRET_B) as peer:
        peer.register_agency(PEER, "Sở Thử nghiệm")
        _send(rt, Unanswered)
        peer.send_edoc(
            _status_at("01", key, "2026/11/21 10:00:00"),
            [TW],
            messagetype="status",
            from_code=PEER,
        )
        poll_axis(rt)
        backoff_over(demo, delivery_id)
        assert _send(rt, lambda ours: ours) == 0  # nothing left to send
    assert _shown(client, api, doc_id) == [("sent", "01", ["01"])]
    assert _out_edoc(demo, doc_id) == [("sent", False)]


def test_the_retry_of_an_unanswered_send_confirms_it(
    app: Any, client: Any, api: Any, demo: Demo, sim: Sim
) -> None:
    """The retry is the same package (the axis answers it is a duplicate): the log's row is
    confirmed with the axis's id, not written twice, and the delivery is sent."""
    from app.exchange import register_agencies

    rt = _wire(app, sim)
    register_agencies(rt)
    doc_id, delivery_id, _key = to_peer(demo, state="queued")
    with client_for(sim.url, SYSTEM_B, SECRET_B) as peer:
        peer.register_agency(PEER, "Sở Thử nghiệm")
        _send(rt, Unanswered)
        backoff_over(demo, delivery_id)
        assert _send(rt, lambda ours: ours) == 1
        assert len(peer.get_received_list("edoc")) == 1  # the axis kept one message
    assert _out_edoc(demo, doc_id) == [("sent", True)]
    assert _shown(client, api, doc_id) == [("sent", None, [])]


def _cancel(client: Any, api: Any, doc_id: uuid.UUID, delivery_id: uuid.UUID) -> None:
    r = client.post(
        f"/api/v1/documents/{doc_id}/deliveries/{delivery_id}/actions",
        headers=api("vanthu.tw"),
        json={"action": "cancel"},
    )
    assert r.status_code == 200, r.get_json()


def test_the_clerks_cancel_of_a_send_that_may_have_arrived_revokes_it(
    app: Any, client: Any, api: Any, demo: Demo, sim: Sim
) -> None:
    """The axis took the package and its answer was lost; the deliveries page says it may
    have arrived and offers "cancel". Before, the clerk's cancel only stopped the retries: a
    recipient holding the package kept it (last note §5). Now it asks that recipient to
    recall it (13, with the cancel's reason), the revocation leaves, the recipient's 15 ends
    it, and the document itself is not recalled."""
    from app.exchange import poll_axis, register_agencies, send_to_axis
    from docflow.outgoing.axis_deliveries import CANCEL_REASON

    rt = _wire(app, sim)
    register_agencies(rt)
    doc_id, delivery_id, key = to_peer(demo, state="queued")
    with client_for(sim.url, SYSTEM_B, SECRET_B) as peer:
        peer.register_agency(PEER, "Sở Thử nghiệm")
        assert _send(rt, Unanswered) == 0
        _cancel(client, api, doc_id, delivery_id)
        assert _shown(client, api, doc_id) == [("cancelled", "13", ["13"])]
        send_to_axis(rt)
        revoked = _revocations_for_peer(peer, key)
        assert len(revoked) == 1, revoked
        assert CANCEL_REASON in peer.get_edoc(revoked[0]).decode()
        peer.send_edoc(_status_at("15", key, "2026/11/21 10:30:00"), [TW], messagetype="status",
                       from_code=PEER)  # fmt: skip
        poll_axis(rt)
    # The 15 shows the package had arrived: the delivery was sent, and is now recalled.
    assert _shown(client, api, doc_id) == [("sent", "15", ["13", "15"])]
    document = client.get(f"/api/v1/documents/{doc_id}", headers=api("vanthu.tw")).get_json()
    assert document["state"] != "recalled", document["state"]


def test_the_clerks_cancel_of_a_send_that_never_left_asks_nothing(
    app: Any, client: Any, api: Any, demo: Demo, sim: Sim
) -> None:
    """The axis refused the package and said so (nothing left): the cancel only stops it. No
    13, no revocation."""
    from app.exchange import register_agencies, send_to_axis

    rt = _wire(app, sim)
    register_agencies(rt)
    doc_id, delivery_id, key = to_peer(demo, state="queued")
    with client_for(sim.url, SYSTEM_B, SECRET_B) as peer:
        peer.register_agency(PEER, "Sở Thử nghiệm")
        _send(rt, Refused)
        _cancel(client, api, doc_id, delivery_id)
        send_to_axis(rt)
        revoked = _revocations_for_peer(peer, key)
    assert revoked == []
    assert _shown(client, api, doc_id) == [("cancelled", None, [])]
