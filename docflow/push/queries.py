"""Reads of the push capability: a person's subscriptions, the one push an outbox message
stands for, and whether a document's page may be kept offline."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import select

from docflow.actors import Actor
from docflow.documents import access
from docflow.models import Document, Notification, PushSubscription
from docflow.push import policy
from docflow.push.states import PUSH_TTL
from docflow.uow import UnitOfWork


@dataclass(frozen=True)
class SubscriptionView:
    id: uuid.UUID
    endpoint: str
    created_at: dt.datetime


@dataclass(frozen=True)
class PushToSend:
    """One push: the subscription's endpoint and keys, and what the notification says."""

    subscription_id: uuid.UUID
    notification_id: uuid.UUID
    endpoint: str
    p256dh: str
    auth: str
    title: str
    body: str
    url: str | None
    kind: str
    created_at: dt.datetime

    def payload(self) -> dict[str, str]:
        """The JSON the service worker shows (``tag`` lets a repeat replace, not stack)."""
        out = {"title": self.title, "body": self.body, "kind": self.kind}
        out["tag"] = str(self.notification_id)
        if self.url:
            out["url"] = self.url
        return out


def view_of(row: PushSubscription) -> SubscriptionView:
    return SubscriptionView(row.id, row.endpoint, row.created_at)


def subscriptions_of(uow: UnitOfWork, actor: Actor) -> list[SubscriptionView]:
    with uow:
        rows = uow.session.scalars(
            select(PushSubscription)
            .where(PushSubscription.user_id == actor.user_id)
            .order_by(PushSubscription.created_at, PushSubscription.id)
        ).all()
        return [view_of(r) for r in rows]


def push_to_send(
    uow: UnitOfWork, notification_id: uuid.UUID, subscription_id: uuid.UUID
) -> PushToSend | None:
    """The push for this notification and subscription, or ``None`` when there is nothing to
    send any more: either is gone, the subscription changed hands, or the push is stale."""
    row = uow.session.execute(
        select(Notification, PushSubscription)
        .join(PushSubscription, PushSubscription.user_id == Notification.user_id)
        .where(Notification.id == notification_id, PushSubscription.id == subscription_id)
    ).one_or_none()
    if row is None:
        return None
    note, sub = row
    if note.created_at < uow.now() - PUSH_TTL:
        return None
    return PushToSend(
        subscription_id=sub.id,
        notification_id=note.id,
        endpoint=sub.endpoint,
        p256dh=sub.p256dh,
        auth=sub.auth,
        title=note.title,
        body=note.body,
        url=note.link,
        kind=note.kind,
        created_at=note.created_at,
    )


def readable_offline(uow: UnitOfWork, actor: Actor, document_id: uuid.UUID) -> bool:
    """Whether the actor's device may keep this document's page for offline reading: it is
    visible to them and not marked Mật or above."""
    with uow:
        secrecy = uow.session.scalar(
            select(Document.secrecy).where(Document.id == document_id, access.visible_clause(actor))
        )
    return secrecy is not None and policy.readable_offline(secrecy)
