"""The audit log: append-only entries, hash-chained per organisation (see :mod:`docflow.audit`)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import BigInteger, Index, SmallInteger, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from docflow.db import Base, IdMixin, utcnow


class AuditEvent:
    """What happened, who did it (and for whom), to what, from where: the fields an entry of a
    chain and a read waiting to be chained share."""

    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    event: Mapped[str] = mapped_column(String(64))
    actor_id: Mapped[uuid.UUID | None]
    actor_name: Mapped[str | None] = mapped_column(String(255))
    on_behalf_of_id: Mapped[uuid.UUID | None]
    on_behalf_of_name: Mapped[str | None] = mapped_column(String(255))
    organization_id: Mapped[uuid.UUID | None]
    object_type: Mapped[str | None] = mapped_column(String(64))
    object_id: Mapped[str | None] = mapped_column(String(64))
    ip: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]]


class AuditEntry(AuditEvent, IdMixin, Base):
    __tablename__ = "audit_entries"

    # One chain per organisation ("system" for events with none) keeps appends from
    # contending across the whole country while each chain stays verifiable on its own; reads
    # go to a second chain per organisation ("<org>/reads"). Both are appended in batches by
    # the chainer: a change's entry is inserted with its transaction with ``seq``,
    # ``prev_hash`` and ``hash`` empty ("unchained"), and the chainer fills them in.
    chain: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int | None] = mapped_column(BigInteger)
    # 1: plain SHA-256 (entries written before the key existed); 2: HMAC-SHA256 with the audit
    # key kept outside the database (DHTN_AUDIT_KEY_FILE).
    version: Mapped[int] = mapped_column(SmallInteger, default=1, server_default="1")
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        UniqueConstraint("chain", "seq"),
        # The chainer's queue: entries not yet in their chain, oldest first.
        Index(
            "ix_audit_entries_unchained",
            "id",
            postgresql_where=text("seq IS NULL"),
            sqlite_where=text("seq IS NULL"),
        ),
        Index("ix_audit_entries_object", "object_type", "object_id"),
        # The admin's log page: one organisation, newest first (keyset on at, id).
        Index("ix_audit_entries_org_at", "organization_id", "at", "id"),
    )


class AuditChainHead(Base):
    """The last entry of each chain; its row lock serialises the chainer's appends to that
    chain (one lock per batch; writers never take it)."""

    __tablename__ = "audit_chain_heads"

    chain: Mapped[str] = mapped_column(String(64), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))


class AuditPendingRead(AuditEvent, IdMixin, Base):
    """A read (or a refused attempt) waiting to be chained: one plain INSERT, no lock.

    The chainer (:func:`docflow.audit.chain_pending`, a periodic job) moves these into the
    organisation's reads chain in batches, in id (time) order, and deletes them.
    """

    __tablename__ = "audit_pending_reads"

    chain: Mapped[str] = mapped_column(String(64))

    __table_args__ = (Index("ix_audit_pending_reads_org", "organization_id", "id"),)
