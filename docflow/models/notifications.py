"""In-app notifications (the bell) and the ledger that makes each reminder go out once."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ForeignKey, Index, PrimaryKeyConstraint, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from docflow.db import Base, IdMixin, utcnow


class Notification(IdMixin, Base):
    """A message to one person; ``read_at`` empty means unread. ``emailed_at`` records that the
    e-mail copy went out, so a retried outbox message does not send it again."""

    __tablename__ = "notifications"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(48))
    title: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    read_at: Mapped[dt.datetime | None]
    emailed_at: Mapped[dt.datetime | None]

    __table_args__ = (
        Index("ix_notifications_user_created", "user_id", "created_at", "id"),
        Index("ix_notifications_user_unread", "user_id", "read_at"),
    )


class ReminderSent(Base):
    """One row per reminder sent: (task, kind, due date). The primary key is what stops a second
    scheduler, or a rerun after a crash, from sending the same reminder twice; a new due date
    (an extension) arms the reminders again."""

    __tablename__ = "reminders_sent"

    source: Mapped[str] = mapped_column(String(16))  # "task"; "incoming" later
    item_id: Mapped[uuid.UUID]
    kind: Mapped[str] = mapped_column(String(16))
    due_date: Mapped[dt.date]
    sent_at: Mapped[dt.datetime]

    __table_args__ = (PrimaryKeyConstraint("source", "item_id", "kind", "due_date"),)
