"""The transactional outbox: work to do after a transaction commits, written in it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from docflow.db import Base, IdMixin, utcnow

#: A message is given up after this many failed attempts (``docflow.outbox``).
MAX_ATTEMPTS = 12


class OutboxMessage(IdMixin, Base):
    __tablename__ = "outbox_messages"

    topic: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]]
    # Lower runs first: urgent documents jump the queue.
    priority: Mapped[int] = mapped_column(default=5)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    available_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    done_at: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    # The work the message stands for, when one waiting message of the topic with this key
    # does it for every change before it (an organisation's statistics): a later change finds
    # it waiting and writes no message of its own (UnitOfWork.enqueue_coalesced).
    key: Mapped[str | None] = mapped_column(String(100))

    __table_args__ = (
        Index("ix_outbox_messages_pending", "done_at", "available_at"),
        Index(
            "ix_outbox_messages_waiting_key",
            "topic",
            "key",
            postgresql_where=text("done_at IS NULL AND key IS NOT NULL"),
            sqlite_where=text("done_at IS NULL AND key IS NOT NULL"),
        ),
    )
