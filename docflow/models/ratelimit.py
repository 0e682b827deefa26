"""Request counters of the public endpoints' rate limits (app.ratelimit), one row per key and
fixed window, shared by every web process through the database."""

from __future__ import annotations

from sqlalchemy import BigInteger, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from docflow.db import Base


class RateCounter(Base):
    """How many requests ``key`` (a bucket and a client, or a bucket's global key) made in the
    window that starts at ``window_start`` (Unix seconds); rows past ``expires`` are deleted."""

    __tablename__ = "rate_counters"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    window_start: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    count: Mapped[int] = mapped_column(default=0)
    expires: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (Index("ix_rate_counters_expires", "expires"),)
