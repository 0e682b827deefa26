"""In-app notifications (the bell) and their e-mail copies.

:func:`notify` writes the notifications inside the caller's transaction and queues one outbox
message ``notify.email`` with their ids; the app's handler for that topic sends the e-mails
after the commit (:func:`pending_emails`, then :func:`mark_emailed`), so no e-mail leaves for a
transaction that rolled back, and a retried message skips what was already sent. It also
queues the pushes to the person's devices (:func:`docflow.push.queue_pushes`, sent by the app's
handler of ``push.send``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, or_, select, update

from docflow import changes
from docflow.actors import Actor
from docflow.errors import NotFoundError, ValidationError
from docflow.models import Notification, User
from docflow.pagination import Page, clamp_limit, decode_cursor, encode_cursor
from docflow.push import queue_pushes
from docflow.uow import UnitOfWork

EMAIL_TOPIC = "notify.email"
UNREAD_CAP = 100  # the bell shows "99+" beyond this; counting further is wasted work


def notify(
    uow: UnitOfWork,
    user_ids: Iterable[uuid.UUID],
    *,
    kind: str,
    title: str,
    body: str = "",
    link: str | None = None,
) -> list[Notification]:
    """Notify each person once (duplicates in ``user_ids`` are dropped), in this transaction."""
    s = uow.session
    ids = list(dict.fromkeys(user_ids))
    if not ids:
        return []
    now = uow.now()
    rows = [
        Notification(
            user_id=uid, kind=kind, title=title[:500], body=body, link=link, created_at=now
        )
        for uid in ids
    ]
    s.add_all(rows)
    s.flush()
    with_email = set(
        s.scalars(
            select(User.id).where(
                User.id.in_(ids), User.email.is_not(None), User.email != "", User.active
            )
        )
    )
    mailed = [str(n.id) for n in rows if n.user_id in with_email]
    if mailed:
        uow.enqueue(EMAIL_TOPIC, {"notification_ids": mailed})
    queue_pushes(uow, rows)
    return rows


def list_notifications(
    uow: UnitOfWork,
    actor: Actor,
    *,
    unread_only: bool = False,
    limit: int | None = None,
    cursor: str | None = None,
) -> Page[Notification]:
    """The actor's notifications, newest first (keyset on created_at, id)."""
    limit = clamp_limit(limit)
    with uow:
        stmt = select(Notification).where(Notification.user_id == actor.user_id)
        if unread_only:
            stmt = stmt.where(Notification.read_at.is_(None))
        after = decode_cursor(cursor)
        if after:
            at, last_id = _cursor_values(after)
            stmt = stmt.where(
                or_(
                    Notification.created_at < at,
                    (Notification.created_at == at) & (Notification.id < last_id),
                )
            )
        rows = uow.session.scalars(
            stmt.order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit + 1)
        ).all()
        more = len(rows) > limit
        rows = rows[:limit]
        nxt = encode_cursor([rows[-1].created_at.isoformat(), rows[-1].id]) if more else None
        return Page(rows, nxt)


def _cursor_values(after: list[str]) -> tuple[dt.datetime, uuid.UUID]:
    try:
        return dt.datetime.fromisoformat(after[0]), uuid.UUID(after[1])
    except (ValueError, IndexError) as exc:
        raise ValidationError.field("cursor", "Con trỏ phân trang không hợp lệ.") from exc


def unread_count(uow: UnitOfWork, actor: Actor) -> int:
    """Unread notifications of the actor, counted up to :data:`UNREAD_CAP`."""
    with uow:
        inner = (
            select(Notification.id)
            .where(Notification.user_id == actor.user_id, Notification.read_at.is_(None))
            .limit(UNREAD_CAP)
            .subquery()
        )
        return int(uow.session.scalar(select(func.count()).select_from(inner)) or 0)


def mark_read(uow: UnitOfWork, actor: Actor, notification_id: uuid.UUID) -> Notification:
    """Mark one of the actor's notifications read (someone else's is "not found")."""
    with uow:
        row = uow.session.get(Notification, notification_id)
        if row is None or row.user_id != actor.user_id:
            raise NotFoundError("Không tìm thấy thông báo.", code="notification_not_found")
        if row.read_at is None:
            row.read_at = uow.now()
        uow.commit()
        return row


def mark_all_read(uow: UnitOfWork, actor: Actor) -> int:
    with uow:
        ids = uow.session.scalars(
            update(Notification)
            .where(Notification.user_id == actor.user_id, Notification.read_at.is_(None))
            .values(read_at=uow.now())
            .returning(Notification.id)
        ).all()
        # A bulk statement bypasses the flush: log the change for the phone's feed here.
        changes.record(
            uow.session, changes.ChangeKind.NOTIFICATION, ids, changes.ChangeType.UPDATED
        )
        uow.commit()
        return len(ids)


@dataclass(frozen=True)
class OutgoingEmail:
    """One e-mail to send: the copy of notification ``notification_id``."""

    notification_id: uuid.UUID
    to_address: str
    to_name: str
    subject: str
    body: str
    link: str | None


def pending_emails(uow: UnitOfWork, notification_ids: Sequence[str]) -> list[OutgoingEmail]:
    """The e-mails still to send for these notifications (already sent ones are skipped)."""
    ids = [uuid.UUID(i) for i in notification_ids]
    with uow:
        rows = uow.session.execute(
            select(Notification, User)
            .join(User, User.id == Notification.user_id)
            .where(Notification.id.in_(ids), Notification.emailed_at.is_(None))
            .order_by(Notification.created_at, Notification.id)
        ).all()
        return [
            OutgoingEmail(n.id, u.email, u.full_name, n.title, n.body, n.link)
            for n, u in rows
            if u.email and u.active
        ]


def mark_emailed(uow: UnitOfWork, notification_id: uuid.UUID) -> None:
    with uow:
        uow.session.execute(
            update(Notification)
            .where(Notification.id == notification_id)
            .values(emailed_at=uow.now())
        )
        uow.commit()
