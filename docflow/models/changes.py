"""The change feed's source: one row per object that changed in a transaction (issue #20).

Written by :mod:`docflow.changes` in the same transaction as the change. ``seq`` orders the rows
of one transaction; ``txid`` (PostgreSQL's transaction id; 0 on SQLite, whose writers are
serialised) orders the transactions, so that a reader can tell the rows that can no longer be
joined by an earlier one (``txid`` below every transaction still running) from the others.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from docflow.db import Base

#: SQLite gives an autoincrement only to an INTEGER primary key.
SEQ_TYPE = BigInteger().with_variant(Integer(), "sqlite")


class Change(Base):
    """``kind`` ∈ document, task, notification, feedback; ``change`` ∈ created, updated,
    removed. ``organization_id`` is the organisation whose people may see the object;
    ``user_id`` the one person a notification is for (else null)."""

    __tablename__ = "changes"

    seq: Mapped[int] = mapped_column(SEQ_TYPE, primary_key=True, autoincrement=True)
    txid: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))
    object_id: Mapped[uuid.UUID]
    change: Mapped[str] = mapped_column(String(8))
    organization_id: Mapped[uuid.UUID]
    user_id: Mapped[uuid.UUID | None]
    at: Mapped[dt.datetime]

    __table_args__ = (
        # The feed of an organisation from a position, and its head (the list validators).
        Index("ix_changes_org_txid", "organization_id", "txid", "seq"),
        # The validator of one object (GET /documents/{id}).
        Index("ix_changes_object", "object_id", "seq"),
    )
