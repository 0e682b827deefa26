"""Writes of the push capability: register and withdraw subscriptions, queue the pushes of new
notifications, and record what the push service answered.

:func:`queue_pushes` runs inside the notifying transaction (``docflow.notifications.notify``)
and writes one outbox message per (notification, subscription), so each endpoint is retried on
its own and a rolled-back transaction pushes nothing. The app's handler of :data:`PUSH_TOPIC`
sends them (``app/push.py``).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence

from sqlalchemy import delete, select, update

from docflow.actors import Actor
from docflow.errors import NotFoundError, PermissionDeniedError, ValidationError
from docflow.models import Notification, PushSubscription
from docflow.push import policy
from docflow.push.commands import Subscribe, Unsubscribe
from docflow.push.queries import SubscriptionView, view_of
from docflow.push.states import MAX_SUBSCRIPTIONS, PUSH_TOPIC
from docflow.uow import UnitOfWork


def subscribe(
    uow: UnitOfWork, actor: Actor, cmd: Subscribe, *, test_origins: Collection[str] = ()
) -> tuple[SubscriptionView, bool]:
    """Register the actor's subscription; ``(view, created)``. The same endpoint again renews it
    (new keys, and the device's new owner if someone else signed in on it)."""
    if not policy.may_subscribe(True):
        raise PermissionDeniedError()
    problem = policy.endpoint_problem(cmd.endpoint, test_origins)
    if problem is not None:
        raise ValidationError.field("endpoint", problem, code="push_endpoint_refused")
    with uow:
        s = uow.session
        row = s.scalars(
            select(PushSubscription).where(PushSubscription.endpoint == cmd.endpoint)
        ).one_or_none()
        created = row is None
        if row is None:
            row = PushSubscription(
                user_id=actor.user_id,
                endpoint=cmd.endpoint,
                p256dh=cmd.keys.p256dh,
                auth=cmd.keys.auth,
                created_at=uow.now(),
            )
            s.add(row)
        else:
            row.user_id = actor.user_id
            row.p256dh = cmd.keys.p256dh
            row.auth = cmd.keys.auth
        s.flush()
        _keep_newest(uow, actor.user_id)
        view = view_of(row)
        uow.commit()
        return view, created


def _keep_newest(uow: UnitOfWork, user_id: uuid.UUID) -> None:
    ids = uow.session.scalars(
        select(PushSubscription.id)
        .where(PushSubscription.user_id == user_id)
        .order_by(PushSubscription.created_at.desc(), PushSubscription.id.desc())
        .offset(MAX_SUBSCRIPTIONS)
    ).all()
    if ids:
        uow.session.execute(delete(PushSubscription).where(PushSubscription.id.in_(ids)))


def unsubscribe(uow: UnitOfWork, actor: Actor, cmd: Unsubscribe) -> None:
    """Withdraw one of the actor's subscriptions (someone else's is "not found")."""
    with uow:
        result = uow.session.execute(
            delete(PushSubscription).where(
                PushSubscription.endpoint == cmd.endpoint,
                PushSubscription.user_id == actor.user_id,
            )
        )
        if not result.rowcount:  # type: ignore[attr-defined]
            raise NotFoundError(
                "Không tìm thấy đăng ký nhận thông báo đẩy này.",
                code="push_subscription_not_found",
            )
        uow.commit()


def queue_pushes(uow: UnitOfWork, rows: Sequence[Notification]) -> int:
    """In the caller's transaction: one outbox message per notification and subscription of
    its person. Returns how many were queued."""
    by_user: dict[uuid.UUID, list[Notification]] = {}
    for n in rows:
        by_user.setdefault(n.user_id, []).append(n)
    if not by_user:
        return 0
    subs = uow.session.execute(
        select(PushSubscription.id, PushSubscription.user_id).where(
            PushSubscription.user_id.in_(list(by_user))
        )
    ).all()
    queued = 0
    for sub_id, user_id in subs:
        for n in by_user[user_id]:
            uow.enqueue(PUSH_TOPIC, {"notification_id": str(n.id), "subscription_id": str(sub_id)})
            queued += 1
    return queued


def forget_subscription(uow: UnitOfWork, subscription_id: uuid.UUID) -> None:
    """The push service said the subscription is gone (404/410): remove it, in the handler's
    transaction."""
    uow.session.execute(delete(PushSubscription).where(PushSubscription.id == subscription_id))


def mark_pushed(uow: UnitOfWork, subscription_id: uuid.UUID) -> None:
    uow.session.execute(
        update(PushSubscription)
        .where(PushSubscription.id == subscription_id)
        .values(last_pushed_at=uow.now())
    )
