"""Web Push subscriptions (RFC 8030): where a person's browsers and phones take pushes."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from docflow.db import Base, IdMixin, utcnow


class PushSubscription(IdMixin, Base):
    """One push endpoint of one person, with the keys that encrypt what is pushed to it
    (RFC 8291: the browser's P-256 key ``p256dh`` and the 16-byte ``auth`` secret, base64url).
    The endpoint names a browser's subscription at its push service: it is unique, and belongs
    to whoever registered it last on that device."""

    __tablename__ = "push_subscriptions"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    endpoint: Mapped[str] = mapped_column(String(1000), unique=True)
    p256dh: Mapped[str] = mapped_column(String(100))
    auth: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_pushed_at: Mapped[dt.datetime | None]

    __table_args__ = (Index("ix_push_subscriptions_user_id", "user_id"),)
