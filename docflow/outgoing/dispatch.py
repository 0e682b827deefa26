"""Dispatch (phát hành) and the sender's view of each recipient (DOMAIN.md §5, §7).

* Internal recipients (organisations of this installation): ``dispatch.deliver`` in the outbox
  creates their incoming document in state ``arrived`` whose files point at the same stored
  objects (no byte is copied); its later state changes (register 03, assign 04, start 05,
  complete 06, reject 02 with the reason) come back through ``documents.state_changed`` and
  become the delivery's status.
* External recipients wait in the delivery queue (``channel="axis"``, ``state="queued"``),
  urgent documents first (:func:`queued_axis_deliveries`), for the exchange to send them.
* Recall: deliveries not yet made are cancelled (an external one whose send ended without the
  axis's answer, which may therefore have left, also gets 13: :func:`logged_to`); made ones get
  status 13 and, internally, the recipient's copy is recalled as one from another system is
  (below): at once if it only arrived (open assignments cancelled, the register entry and the
  trail kept, "Đã thu hồi" with the reason, 15); once handled, its clerk accepts (15) or refuses
  with a reason (16), as DOMAIN.md §5 has each recipient answer. The 13 stays what the
  sender sees until the recipient answers it (15, 16) or refuses the document (02), and a 15 or
  a 02 stays for good: a progress status that crossed them goes into the history only
  (:func:`shown_after`); the exchange sends an external revocation from the 13.
* A recall from another system (edXML revocation, :func:`receive_recall`): a copy that only
  ``arrived`` is recalled at once (15); a copy already handled (registered, presented, assigned,
  in progress, done) keeps its state and waits for the clerk, who accepts (``recalled``, 15) or
  refuses with a reason (16): ``docflow.incoming.actions`` ``accept_recall`` /
  ``refuse_recall``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import select

from docflow.actors import Actor
from docflow.documents import access, trail
from docflow.errors import NotFoundError, ValidationError
from docflow.incoming.states import STATUS_CODE, AssignmentState, IncomingState
from docflow.models import Delivery, DeliveryEvent, Document, ExchangeMessage
from docflow.outbox import Handlers
from docflow.outgoing.queries import queue_priority
from docflow.outgoing.replacements import arrived_after, link_copy
from docflow.outgoing.states import STATUS_LABELS, DeliveryState
from docflow.statistics import statistics_changed
from docflow.uow import UnitOfWork

TOPIC_DELIVER = "dispatch.deliver"
TOPIC_RECALL = "dispatch.recall"
TOPIC_STATE_CHANGED = "documents.state_changed"
Q = DeliveryState


def _deliveries(uow: UnitOfWork, document_id: uuid.UUID, *, lock: bool = False) -> list[Delivery]:
    stmt = select(Delivery).where(Delivery.document_id == document_id).order_by(Delivery.position)
    if lock:
        stmt = stmt.with_for_update()
    return list(uow.session.scalars(stmt))


# A recipient's answers: to a recall (15, 16), or its refusal of the document (02, which no
# answer to a recall follows). Each replaces a recall asked (13), and each is given once: the
# same one again is a repetition.
ANSWERS = frozenset({"02", "15", "16"})
# What nothing the recipient sends later replaces: it refused the document (02) or recalled
# its copy (15); whatever follows was sent before (it crossed on the way) and is history.
FINAL = frozenset({"02", "15"})


def shown_after(current: str | None, code: str) -> bool:
    """Whether ``code`` becomes the status the sender sees after ``current``."""
    if current in FINAL:
        return False
    return current != "13" or code in ANSWERS


def set_status(
    uow: UnitOfWork, d: Delivery, code: str, text: str, *, seq: int | None = None
) -> None:
    """A new status for the sender, remembered in the delivery's history. A status the
    recipient sent before our recall reached it (01, 03-06, arriving late: statuses cross on
    the axis) goes into the history only: the delivery shows the recall until it is answered,
    and a refused document or a recalled copy stays so (:func:`shown_after`)."""
    if shown_after(d.status_code, code):
        d.status_code, d.status_text = code, text
    if seq is not None:
        d.status_seq = seq
    history(uow, d, code, text)


def ask_recall(uow: UnitOfWork, d: Delivery, reason: str) -> None:
    """Status 13 with the recall's reason, which the exchange's revocation carries
    (:func:`recall_reason`)."""
    set_status(uow, d, "13", f"{STATUS_LABELS['13']}: {reason}")


def recall_asked(d: Delivery) -> bool:
    """Whether we asked this delivery's recipient to recall it (a 13 in its history)."""
    return any(e.status_code == "13" for e in d.events)


def recall_reason(d: Delivery) -> str:
    """The reason of the recall asked on ``d`` (:func:`ask_recall`)."""
    return (d.status_text or "").partition(": ")[2]


def history(uow: UnitOfWork, d: Delivery, code: str, text: str) -> None:
    """A status into the delivery's history, in the order it came (the status shown is decided
    by :func:`shown_after` and, for an external recipient, by when it gave each)."""
    d.updated_at = uow.now()
    uow.session.add(
        DeliveryEvent(delivery_id=d.id, status_code=code, status_text=text, at=d.updated_at)
    )


# ---------------------------------------------------------------- sending


def queue_deliveries(uow: UnitOfWork, doc: Document) -> dict[str, Any]:
    """Part of the ``dispatch`` action: every planned recipient is queued (internal ones get an
    outbox message each, urgent first)."""
    rows = [d for d in _deliveries(uow, doc.id, lock=True) if d.state == Q.PLANNED.value]
    if not rows:
        raise ValidationError.field(
            "recipients", "Văn bản chưa có nơi nhận để phát hành.", code="no_recipients"
        )
    priority = queue_priority(doc)
    counts = {"internal": 0, "axis": 0}
    for d in rows:
        d.state = Q.QUEUED.value
        d.priority = priority
        d.updated_at = uow.now()
        counts[d.channel] += 1
        if d.channel == "internal":
            uow.enqueue(TOPIC_DELIVER, {"delivery_id": str(d.id)}, priority=priority)
    return {"recipients": counts}


def deliver_internal(uow: UnitOfWork, payload: dict[str, Any]) -> None:
    """Outbox handler ``dispatch.deliver``: the recipient's ``arrived`` document, same files."""
    from docflow.incoming import receive_document

    with uow:
        d = uow.session.scalars(
            select(Delivery)
            .where(Delivery.id == uuid.UUID(payload["delivery_id"]))
            .with_for_update()
        ).one_or_none()
        if d is None or d.state != Q.QUEUED.value or d.channel != "internal":
            return  # done already, or recalled before it left
        assert d.recipient_organization_id is not None
        org_id = d.recipient_organization_id
        sender = uow.session.get_one(Document, d.document_id)
        files = [f for f in sender.files if f.kind in ("main", "attachment")]
        meta = {
            "notation": sender.notation,
            "doc_type": sender.doc_type,
            "subject": sender.subject,
            "issuer_name": sender.issuer_name,
            "issuer_code": sender.issuer_code,
            "issued_date": sender.issued_date,
            "urgency": sender.urgency,
            "secrecy": sender.secrecy,
            "due_date": sender.due_date,
            "page_count": sender.page_count,
            "signer_name": sender.signer_name,
            "signer_position": sender.signer_position,
            "signer_competence": sender.signer_competence,
        }
        refs = [
            {
                "kind": "main" if f.kind == "main" else "attachment",
                "version": 1,
                "name": f.name,
                "size": f.size,
                "sha256": f.sha256,
                "content_type": f.content_type,
                "object_key": f.object_key,  # the same object: no copy of the bytes
            }
            for f in files
        ]
        copy = receive_document(
            uow, d.recipient_organization_id, meta=meta, file_refs=refs, source="internal"
        )
        # A replacement or correction names the recipient's copy of the earlier document, and
        # a replacement ends it; a copy arriving after a replacement of it (which overtook it)
        # is ended the same way (docflow.outgoing.replacements).
        for old in link_copy(uow, sender, org_id, copy):
            end_replaced(uow, old.id, sender.notation, by=sender.issuer_name)
        later = arrived_after(uow, sender, org_id, copy)
        if later is not None:
            end_replaced(uow, copy.id, later, by=sender.issuer_name)
        d.recipient_document_id = copy.id
        d.state = Q.SENT.value
        d.sent_at = uow.now()
        d.attempts += 1
        set_status(uow, d, "01", STATUS_LABELS["01"], seq=1)
        uow.commit()


def queued_axis_deliveries(uow: UnitOfWork, *, limit: int = 50) -> list[Delivery]:
    """The exchange's queue: external deliveries waiting to go, urgent first, then oldest."""
    with uow:
        return list(
            uow.session.scalars(
                select(Delivery)
                .where(Delivery.channel == "axis", Delivery.state == Q.QUEUED.value)
                .order_by(Delivery.priority, Delivery.created_at)
                .limit(limit)
            )
        )


def record_axis_attempt(
    uow: UnitOfWork, delivery_id: uuid.UUID, *, sent: bool, error: str | None = None
) -> None:
    """For the exchange: an external delivery left (``sent``) or could not (``failed``, with
    the error; the exchange decides when to try again by putting it back to ``queued``)."""
    with uow:
        d = uow.session.scalars(
            select(Delivery).where(Delivery.id == delivery_id).with_for_update()
        ).one_or_none()
        if d is None or d.channel != "axis" or d.state not in (Q.QUEUED.value, Q.FAILED.value):
            return
        d.attempts += 1
        d.updated_at = uow.now()
        if sent:
            d.state, d.sent_at, d.last_error = Q.SENT.value, uow.now(), None
        else:
            d.state, d.last_error = Q.FAILED.value, (error or "")[:2000]
        uow.commit()


def record_external_status(
    uow: UnitOfWork,
    delivery_id: uuid.UUID,
    code: str,
    description: str | None = None,
    *,
    at: dt.datetime | None = None,
) -> None:
    """For the exchange: a status message (01-06, 15, 16) an external recipient sent back, given
    at ``at`` (its Timestamp). The axis may list a recipient's messages in any order: one older
    than the status shown goes into the history only, and an answer repeated (the same 02, 15
    or 16 again) is not recorded twice."""
    with uow:
        d = uow.session.scalars(
            select(Delivery).where(Delivery.id == delivery_id).with_for_update()
        ).one_or_none()
        if d is None or d.channel != "axis":
            return
        if code == d.status_code and code in ANSWERS:
            return
        text = STATUS_LABELS.get(code, code) + (f": {description}" if description else "")
        if at is not None:
            at = min(at, uow.now())  # a clock ahead (or a peer's lie) cannot freeze what shows
        if at is not None and d.status_at is not None and at < d.status_at:
            history(uow, d, code, text)
        else:
            shown = shown_after(d.status_code, code)
            set_status(uow, d, code, text, seq=d.status_seq + 1)
            if shown and at is not None:
                d.status_at = at
        uow.commit()


# ---------------------------------------------------------------- status coming back


def notify_state_change(
    uow: UnitOfWork,
    doc: Document,
    seq: int,
    *,
    reason: str | None = None,
    code: str | None = None,
) -> None:
    """After a received document changed state: queue its status code (or ``code``, such as
    16 for a refused recall) for the sender."""
    if doc.direction != "incoming" or doc.source not in ("internal", "axis"):
        return
    code = code or STATUS_CODE.get(IncomingState(doc.state))
    if code is None:
        return
    payload: dict[str, Any] = {
        "document_id": str(doc.id),
        "status_code": code,
        "seq": seq,
        "reason": reason,
        "register_number": doc.register_number,
    }
    uow.enqueue(TOPIC_STATE_CHANGED, payload, priority=queue_priority(doc))


def record_recipient_status(uow: UnitOfWork, payload: dict[str, Any]) -> None:
    """Outbox handler ``documents.state_changed``: the sender's delivery takes the status. An
    event older than the one already shown (by the recipient's trail order) changes nothing."""
    with uow:
        d = uow.session.scalars(
            select(Delivery)
            .where(Delivery.recipient_document_id == uuid.UUID(payload["document_id"]))
            .with_for_update()
        ).first()
        seq = int(payload["seq"])
        if d is None or seq <= d.status_seq:
            return
        code = str(payload["status_code"])
        text = STATUS_LABELS.get(code, code)
        if payload.get("reason"):
            text = f"{text}: {payload['reason']}"
        if code == "03" and payload.get("register_number"):
            text = f"{text}, số đến {int(payload['register_number']):02d}"
        set_status(uow, d, code, text, seq=seq)
        uow.commit()


# ---------------------------------------------------------------- recall


def recall_deliveries(uow: UnitOfWork, doc: Document, reason: str) -> dict[str, Any]:
    """Part of the ``recall`` action (sender's clerk)."""
    cancelled = asked = 0
    logged = logged_to(uow, doc.id)
    for d in _deliveries(uow, doc.id, lock=True):
        may_have_left = left_unconfirmed(d, logged)
        if d.state in (Q.QUEUED.value, Q.FAILED.value, Q.PLANNED.value):
            d.state = Q.CANCELLED.value
            d.updated_at = uow.now()
            if may_have_left:
                ask_recall(uow, d, reason)  # the axis may hold it: the revocation leaves too
                asked += 1
            else:
                cancelled += 1
        elif d.state == Q.CANCELLED.value and may_have_left:
            # The clerk cancelled it, but a send without the axis's answer may have left.
            ask_recall(uow, d, reason)
            asked += 1
        elif d.state == Q.SENT.value and d.status_code not in ("02", "13"):
            # (a 13 still shown: the recall of this copy is asked already, by a clerk's cancel
            # of a send that may have arrived, and not yet answered)
            ask_recall(uow, d, reason)
            asked += 1
            if d.channel == "internal":
                uow.enqueue(
                    TOPIC_RECALL,
                    {"delivery_id": str(d.id), "reason": reason},
                    priority=queue_priority(doc),
                )
            # External: the exchange sends the revocation (BussinessDocType 1) from status 13.
    return {"cancelled": cancelled, "asked": asked}


def left_unconfirmed(d: Delivery, logged: set[str]) -> bool:
    """Whether ``d`` is an external delivery that did not leave for sure but may have (an
    attempt ended without the axis's answer: the exchange logged its package, ``logged`` being
    :func:`logged_to`), whose recipient has not answered anything that ends a recall: not
    sending it any more then asks the recipient to recall what may have arrived."""
    return (
        d.channel == "axis"
        and d.state != Q.SENT.value
        and d.recipient_code in logged
        and d.status_code != "13"
        and d.status_code not in ANSWERS
    )


def logged_to(uow: UnitOfWork, document_id: uuid.UUID) -> set[str]:
    """The recipients (codes) the exchange logged a package of the document to: sent, or
    ``unconfirmed`` (interop.outbox) when its send ended without the axis's answer. One
    read for all of a document's deliveries."""
    return set(
        uow.session.scalars(
            select(ExchangeMessage.peer_code).where(
                ExchangeMessage.direction == "out",
                ExchangeMessage.kind == "edoc",
                ExchangeMessage.document_id == document_id,
                ExchangeMessage.peer_code.is_not(None),
            )
        )
    )


def recall_internal(uow: UnitOfWork, payload: dict[str, Any]) -> None:
    """Outbox handler ``dispatch.recall``: the recipient's copy is recalled as one received
    from another system is (:func:`receive_recall`): at once (15) if it only arrived; once
    handled, its clerk decides (15 or 16 with the reason, DOMAIN.md §5, §7)."""
    with uow:
        d = uow.session.get(Delivery, uuid.UUID(payload["delivery_id"]))
        if d is None or d.recipient_document_id is None:
            return
        sender = uow.session.get_one(Document, d.document_id)
        receive_recall(
            uow,
            d.recipient_document_id,
            str(payload.get("reason") or ""),
            by=sender.issuer_name,
            notation=sender.notation,
        )
        uow.commit()


def recall_received(
    uow: UnitOfWork, document_id: uuid.UUID, reason: str, *, by: str | None, notation: str | None
) -> bool:
    """A received document is recalled by its sender (internally or through the axis): open
    work is cancelled, the register entry and the trail stay; the sender gets 15."""
    with uow:
        copy = uow.session.scalars(
            select(Document).where(Document.id == document_id).with_for_update(of=Document)
        ).one()
        before = copy.state
        if before in (IncomingState.RECALLED.value, IncomingState.REJECTED.value):
            return False
        for a in copy.assignments:
            if a.state in (AssignmentState.PENDING.value, AssignmentState.IN_PROGRESS.value):
                a.state = AssignmentState.CANCELLED.value
        copy.state = IncomingState.RECALLED.value
        statistics_changed(uow, copy.organization_id)
        copy.submitted_to_id = None
        copy.recall_request = None
        entry = trail.append(
            uow,
            copy,
            "recall",
            actor=None,
            from_state=before,
            comment=reason,
            details={"by": by, "notation": notation},
        )
        uow.session.flush()
        notify_state_change(uow, copy, entry.seq)
        uow.commit()
        return True


def end_replaced(
    uow: UnitOfWork, document_id: uuid.UUID, notation: str | None, *, by: str | None
) -> bool:
    """A received copy its sender replaced (internally or through the axis): recalled at once,
    whatever was done with it, «Được thay thế bởi văn bản số …», 15 to the sender."""
    return recall_received(
        uow, document_id, f"Được thay thế bởi văn bản số {notation}", by=by, notation=notation
    )


# Copies a recall from another system recalls without asking: nothing was done with them yet.
AUTO_RECALL_STATES = frozenset({IncomingState.ARRIVED.value})
# A received document no recall changes any more.
ENDED_STATES = frozenset({IncomingState.RECALLED.value, IncomingState.REJECTED.value})


def receive_recall(
    uow: UnitOfWork,
    document_id: uuid.UUID,
    reason: str,
    *,
    by: str | None,
    notation: str | None,
    at_once: bool = True,
) -> str:
    """The sender of a received document (another system) recalls it. Returns ``"recalled"``
    (it had only arrived: recalled now, 15 goes back), ``"pending"`` (it was handled, or
    ``at_once`` is off because another copy of the same document was: the clerk decides, see
    ``incoming_actions``) or ``"unchanged"`` (already recalled, rejected, or the same request
    already waiting)."""
    with uow:
        copy = uow.session.scalars(
            select(Document).where(Document.id == document_id).with_for_update(of=Document)
        ).one()
        if copy.state in ENDED_STATES:
            return "unchanged"
        if at_once and copy.state in AUTO_RECALL_STATES:
            recall_received(uow, document_id, reason, by=by, notation=notation)
            return "recalled"
        if copy.recall_request is not None:
            return "unchanged"
        copy.recall_request = {
            "reason": reason,
            "by": by,
            "notation": notation,
            "at": uow.now().isoformat(),
        }
        trail.append(
            uow,
            copy,
            "recall_requested",
            actor=None,
            from_state=copy.state,
            comment=reason,
            details={"by": by, "notation": notation},
        )
        uow.commit()
        return "pending"


# ---------------------------------------------------------------- reading


def list_deliveries(uow: UnitOfWork, actor: Actor, document_id: uuid.UUID) -> list[Delivery]:
    """The sender's view: each recipient, its channel, state and latest status, with history."""
    with uow:
        doc = access.ensure_visible(actor, uow.session.get(Document, document_id))
        if doc.direction != "outgoing":
            raise NotFoundError("Văn bản này không có nơi nhận.", code="not_outgoing")
        return _deliveries(uow, doc.id)


def register_outbox_handlers(handlers: Handlers) -> None:
    """Internal delivery, recall, and the recipient's statuses back to the internal sender."""
    handlers.add(TOPIC_DELIVER, deliver_internal)
    handlers.add(TOPIC_RECALL, recall_internal)
    handlers.add(TOPIC_STATE_CHANGED, record_recipient_status)
