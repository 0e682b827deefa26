"""External deliveries that did not leave: retried with backoff, and never failed silently.

The exchange reports each attempt that did not succeed:

* :func:`record_axis_retry` — the axis refused for a reason that may pass (an agency it does not
  know yet, the axis unavailable): the delivery stays ``queued`` with the Vietnamese reason in
  ``last_error`` and is not tried again before ``next_attempt_at`` (backoff doubling from the
  sending period, capped at an hour). After :data:`MAX_AXIS_ATTEMPTS` it becomes ``failed``.
* :func:`record_axis_failure` — a refusal that sending again will not cure: ``failed`` at once.

A delivery that becomes ``failed`` notifies the organisation's clerks and the document's
drafter, with the reason and a link to the deliveries page, where the clerk can ``retry`` or
``cancel`` it (:func:`act_on_delivery`, also ``POST /documents/{id}/deliveries/{id}/actions``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from sqlalchemy import or_, select

from docflow.actors import Actor
from docflow.documents import access, trail
from docflow.enums import Role
from docflow.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from docflow.models import Delivery, Document, TrailEntry, User, UserRole
from docflow.notifications import notify
from docflow.outgoing import policy
from docflow.outgoing.dispatch import (
    ANSWERS,
    ask_recall,
    left_unconfirmed,
    logged_to,
    recall_asked,
)
from docflow.outgoing.dispatch import history as dispatch_history
from docflow.outgoing.states import DeliveryState, OutgoingState
from docflow.uow import UnitOfWork

Q = DeliveryState
MAX_AXIS_ATTEMPTS = 12
#: The reason a revocation carries when the clerk cancels a send that may have arrived.
CANCEL_REASON = "Cơ quan gửi đã hủy việc gửi văn bản tới nơi nhận này"
MAX_BACKOFF = dt.timedelta(hours=1)


class DeliveryAction(StrEnum):
    RETRY = "retry"
    CANCEL = "cancel"


DELIVERY_ACTION_LABELS = {DeliveryAction.RETRY: "Gửi lại", DeliveryAction.CANCEL: "Hủy gửi"}


def backoff(attempts: int, base: dt.timedelta) -> dt.timedelta:
    """``base``, then twice as long after each attempt, capped at an hour."""
    delay: dt.timedelta = base * (2 ** max(0, min(attempts - 1, 20)))
    return min(MAX_BACKOFF, delay)


def due_axis_deliveries(uow: UnitOfWork, *, limit: int = 50) -> list[Delivery]:
    """The exchange's queue: queued external deliveries whose time has come, urgent first."""
    with uow:
        return list(
            uow.session.scalars(
                select(Delivery)
                .where(
                    Delivery.channel == "axis",
                    Delivery.state == Q.QUEUED.value,
                    or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= uow.now()),
                )
                .order_by(Delivery.priority, Delivery.created_at)
                .limit(limit)
            )
        )


def lock_delivery(uow: UnitOfWork, delivery_id: uuid.UUID) -> Delivery | None:
    """The delivery, locked for the caller's transaction and read as it stands now."""
    return uow.session.scalars(
        select(Delivery)
        .where(Delivery.id == delivery_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()


def will_retry(cause: str, *, unanswered: bool = False) -> str:
    """The clerk's reading of a refusal that may pass: its cause, and that it is sent again
    (``unanswered``: a send the axis did not answer, which may have arrived)."""
    if unanswered:
        return (
            f"{cause}; sẽ tự động gửi lại (nơi nhận không nhận trùng). Nếu hủy gửi hoặc thu"
            " hồi văn bản, yêu cầu thu hồi được gửi tới nơi nhận này."
        )
    return f"{cause}; sẽ tự động gửi lại."


def given_up(cause: str, attempts: int) -> str:
    """The same once the attempts are spent: not sent again by itself."""
    return f"{cause}; đã thử {attempts} lần, không tự động gửi lại nữa."


def record_axis_retry(
    uow: UnitOfWork,
    delivery_id: uuid.UUID,
    cause: str,
    *,
    base: dt.timedelta,
    unanswered: bool = False,
) -> Delivery | None:
    """Not sent this time (``cause``: why); tried again after the backoff (or ``failed`` once
    the attempts are spent). Returns the delivery, or None when it is no longer waiting
    (cancelled, sent)."""
    with uow:
        d = lock_delivery(uow, delivery_id)
        if d is None or d.channel != "axis" or d.state != Q.QUEUED.value:
            return None
        d.attempts += 1
        d.updated_at = uow.now()
        if d.attempts >= MAX_AXIS_ATTEMPTS:
            _fail(uow, d, given_up(cause, d.attempts))
        else:
            d.next_attempt_at = uow.now() + backoff(d.attempts, base)
            d.last_error = will_retry(cause, unanswered=unanswered)[:2000]
        uow.commit()
        return d


def record_axis_failure(uow: UnitOfWork, delivery_id: uuid.UUID, reason: str) -> Delivery | None:
    """Not sent, and sending the same again will not help: ``failed`` with the reason."""
    with uow:
        d = lock_delivery(uow, delivery_id)
        if d is None or d.channel != "axis" or d.state != Q.QUEUED.value:
            return None
        d.attempts += 1
        d.updated_at = uow.now()
        _fail(uow, d, reason)
        uow.commit()
        return d


def still_queued(uow: UnitOfWork, delivery_id: uuid.UUID) -> bool:
    """Whether the delivery still waits to go (not cancelled, by a recall or the clerk, since
    the sending round listed it): read just before its package is handed to the axis."""
    with uow:
        state = uow.session.scalar(select(Delivery.state).where(Delivery.id == delivery_id))
        return state == Q.QUEUED.value


def record_axis_sent(uow: UnitOfWork, delivery_id: uuid.UUID) -> None:
    """The axis took the package. A delivery cancelled meanwhile (the recall or the clerk's
    cancel landed while the package was on its way) left all the same: it is ``sent``, and
    when the document was recalled its recall is asked (13, with the recall's reason), so that
    the exchange sends the revocation (before, nothing did: the recipient kept the document)."""
    with uow:
        d = lock_delivery(uow, delivery_id)
        if d is None or d.channel != "axis":
            return
        late = d.state == Q.CANCELLED.value
        if d.state not in (Q.QUEUED.value, Q.FAILED.value) and not late:
            return
        d.attempts += 1
        d.state, d.sent_at, d.updated_at = Q.SENT.value, uow.now(), uow.now()
        d.last_error, d.next_attempt_at = None, None
        if late:
            _recall_after_sending(uow, d)
        uow.commit()


def recall_if_cancelled(uow: UnitOfWork, d: Delivery | None) -> None:
    """In the exchange's transaction that logs a send ended without the axis's answer (it may
    have left), with the delivery locked (:func:`lock_delivery`) after the log's row was
    written: a recall that cancelled it meanwhile, before the log said so, asks the recipient
    to recall it now (13), so that the revocation leaves."""
    if d is not None and d.state == Q.CANCELLED.value:
        _recall_after_sending(uow, d)


def _recall_after_sending(uow: UnitOfWork, d: Delivery) -> None:
    if d.status_code in ANSWERS or recall_asked(d):
        return  # asked already (the recall saw the send), or answered: nothing to ask
    doc = uow.session.get_one(Document, d.document_id, populate_existing=True)
    if doc.state != OutgoingState.RECALLED.value:
        return  # the clerk's cancel came too late: it is sent
    reason = uow.session.scalar(
        select(TrailEntry.comment)
        .where(TrailEntry.document_id == doc.id, TrailEntry.action == "recall")
        .order_by(TrailEntry.seq.desc())
        .limit(1)
    )
    ask_recall(uow, d, reason or "")


def _fail(uow: UnitOfWork, d: Delivery, reason: str) -> None:
    d.state, d.last_error, d.next_attempt_at = Q.FAILED.value, reason[:2000], None
    _tell_clerks(uow, d, "Chưa gửi được văn bản", reason)


def record_revocation_refused(uow: UnitOfWork, delivery_id: uuid.UUID, reason: str) -> None:
    """Inside the exchange's transaction: the axis refused the revocation for this recipient
    for good (sending it again will not help, so it is not). The delivery's history says so
    and the clerks and the drafter are told, as for a delivery that failed; the recall stays
    asked (13) and the clerk may answer it outside the exchange."""
    d = lock_delivery(uow, delivery_id)
    if d is None:
        return
    dispatch_history(uow, d, "13", f"Không gửi được yêu cầu thu hồi: {reason}"[:2000])
    _tell_clerks(uow, d, "Chưa gửi được yêu cầu thu hồi văn bản", reason)


def _tell_clerks(uow: UnitOfWork, d: Delivery, what: str, reason: str) -> None:
    doc = uow.session.get_one(Document, d.document_id)
    # The organisation's clerks and the drafter, those of them cleared for the document: the
    # title names the document and the recipient, the body the axis's answer.
    is_clerk = (
        select(UserRole.user_id)
        .where(UserRole.user_id == User.id, UserRole.role == Role.CLERK.value)
        .exists()
    )
    people = uow.session.scalars(
        select(User.id).where(
            User.organization_id == doc.organization_id,
            User.active.is_(True),
            access.users_cleared_for(doc.secrecy_rank),
            or_(is_clerk, User.id == doc.created_by_id),
        )
    ).all()
    notify(
        uow,
        people,
        kind="delivery_failed",
        title=f"{what} {doc.notation or doc.subject[:80]} tới {d.recipient_name}",
        body=reason,
        link=f"/outgoing/{doc.id}/deliveries",
    )


# ---------------------------------------------------------------- the clerk's actions


def allowed_delivery_actions(actor: Actor, doc: Document, d: Delivery) -> list[str]:
    """What the actor may do with this delivery now."""
    if not _may(actor, doc):
        return []
    allowed = []
    if d.channel == "axis" and (
        d.state == Q.FAILED.value or (d.state == Q.QUEUED.value and d.next_attempt_at is not None)
    ):
        allowed.append(DeliveryAction.RETRY.value)
    if d.state in (Q.QUEUED.value, Q.FAILED.value):
        allowed.append(DeliveryAction.CANCEL.value)
    return allowed


def _may(actor: Actor, doc: Document) -> bool:
    return (
        doc.direction == "outgoing"
        and policy.may_handle_deliveries(actor, doc.organization_id)
        and access.can_see(actor, doc)
    )


def act_on_delivery(
    uow: UnitOfWork,
    actor: Actor,
    document_id: uuid.UUID,
    delivery_id: uuid.UUID,
    action: str,
) -> tuple[Delivery, list[str]]:
    """``retry`` (send now, attempts start again) or ``cancel`` (never send) one delivery that
    has not left. Not visible → 404, not the organisation's clerk → 403, already sent or
    cancelled → 409, unknown action → 422; a refusal changes nothing. Returns the delivery and
    what may be done with it now."""
    with uow:
        s = uow.session
        doc = access.ensure_visible(actor, s.get(Document, document_id))
        d = lock_delivery(uow, delivery_id)
        if d is None or d.document_id != doc.id:
            raise NotFoundError("Không tìm thấy nơi nhận này.", code="delivery_not_found")
        if not _may(actor, doc):
            raise PermissionDeniedError()
        try:
            kind = DeliveryAction(action)
        except ValueError:
            raise ValidationError.field(
                "action", f"Thao tác «{action}» không tồn tại.", code="unknown_action"
            ) from None
        if kind.value not in allowed_delivery_actions(actor, doc, d):
            raise ConflictError(
                f"Không thể {DELIVERY_ACTION_LABELS[kind].lower()} khi nơi nhận đang ở trạng thái"
                f" «{Q(d.state).label}».",
                code="delivery_state",
                details={"state": d.state},
            )
        before = d.state
        recalled = False
        if kind is DeliveryAction.RETRY:
            d.state, d.attempts, d.next_attempt_at = Q.QUEUED.value, 0, None
        else:
            # A send the axis did not answer may have arrived: not sending it any more asks the
            # recipient to recall it (the exchange sends the revocation from the 13; it answers
            # 15, or 16 when it never had it).
            recalled = left_unconfirmed(d, logged_to(uow, doc.id))
            d.state, d.next_attempt_at = Q.CANCELLED.value, None
            if recalled:
                ask_recall(uow, d, CANCEL_REASON)
        d.updated_at = uow.now()
        trail.append(
            uow,
            doc,
            f"delivery_{kind.value}",
            actor=actor,
            from_state=doc.state,
            details={
                "delivery_id": str(d.id),
                "to_name": d.recipient_name,
                "code": d.recipient_code,
                "from": before,
                "last_error": d.last_error,
                **({"recall_asked": True} if recalled else {}),
            },
        )
        uow.commit()
        return d, allowed_delivery_actions(actor, doc, d)


def list_with_actions(
    uow: UnitOfWork, actor: Actor, document_id: uuid.UUID
) -> list[tuple[Delivery, list[str]]]:
    """The sender's view of each recipient (dispatch.list_deliveries) with what the actor may
    do with it now (``retry``, ``cancel``)."""
    from docflow.outgoing.dispatch import list_deliveries

    rows = list_deliveries(uow, actor, document_id)
    with uow:
        doc = uow.session.get_one(Document, document_id)
        return [(d, allowed_delivery_actions(actor, doc, d)) for d in rows]
