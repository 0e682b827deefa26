"""Outgoing documents (văn bản đi): draft versions, the review chain, deliveries to recipients
and their status history, and signing sessions with keys the server never holds.

The outgoing document itself is a :class:`~docflow.models.documents.Document` row with
``direction="outgoing"``; its files are :class:`~docflow.models.documents.DocumentFile` rows.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from docflow.db import Base, IdMixin, utcnow


class DraftVersion(IdMixin, Base):
    """One version of a draft: the file as uploaded (DOCX or PDF) and, once converted and
    prepared for signing, its PDF with the number/date/signature fields and their layout."""

    __tablename__ = "draft_versions"

    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("documents.id"))
    version: Mapped[int]
    source_file_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("document_files.id"))
    pdf_file_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("document_files.id"))
    # pending (DOCX waiting for conversion) | ready | failed
    conversion_state: Mapped[str] = mapped_column(String(16))
    conversion_error: Mapped[str | None] = mapped_column(Text)
    # Where the fields were placed: {"source": "placeholders"|"default", "leader": [...], …}
    layout: Mapped[dict[str, Any] | None]
    # The template's parameters when the version was generated from the template.
    template: Mapped[dict[str, Any] | None]
    note: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    created_by_name: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    converted_at: Mapped[dt.datetime | None]

    __table_args__ = (UniqueConstraint("document_id", "version"),)


class Review(IdMixin, Base):
    """One step of the review chain: who was asked, by whom, which version they answered on
    (``version_seen``) and what they said."""

    __tablename__ = "document_reviews"

    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("documents.id"))
    reviewer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    reviewer_name: Mapped[str] = mapped_column(String(255))
    requested_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    request_comment: Mapped[str | None] = mapped_column(Text)
    version_requested: Mapped[int]
    # pending | forwarded | changes_requested | approved | signed
    outcome: Mapped[str] = mapped_column(String(24), default="pending")
    version_seen: Mapped[int | None]
    response_comment: Mapped[str | None] = mapped_column(Text)
    responded_at: Mapped[dt.datetime | None]

    __table_args__ = (
        Index("ix_document_reviews_document_id", "document_id"),
        Index("ix_document_reviews_reviewer", "reviewer_id", "outcome"),
    )


# A delivery whose recall waits for the recipient's answer (docflow.outgoing.dispatch).
RECALL_ASKED_SQL = "status_code = '13'"


class Delivery(IdMixin, Base):
    """A recipient of an outgoing document and how far the document got with them.

    Internal recipients (an organisation of this installation) get an incoming document of
    their own (``recipient_document_id``) whose state changes come back as status codes;
    external ones (``recipient_code`` only) are queued for the national exchange.
    """

    __tablename__ = "deliveries"

    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("documents.id"))
    position: Mapped[int]
    recipient_organization_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organizations.id")
    )
    # An OrganId as the axis knows it (interop.edxml.fields: hubs use codes longer than 13).
    recipient_code: Mapped[str | None] = mapped_column(String(64))
    recipient_name: Mapped[str] = mapped_column(String(255))
    channel: Mapped[str] = mapped_column(String(16))  # internal | axis
    state: Mapped[str] = mapped_column(String(16))  # planned | queued | sent | failed | cancelled
    # Lower goes first: urgent documents jump the queue.
    priority: Mapped[int] = mapped_column(default=5)
    status_code: Mapped[str | None] = mapped_column(String(2))
    status_text: Mapped[str | None] = mapped_column(Text)
    # The recipient's trail position the status came from: an older event never overwrites.
    status_seq: Mapped[int] = mapped_column(default=0)
    # When an external recipient gave the status shown (its message's Timestamp): an older
    # one, listed later by the axis, goes into the history only.
    status_at: Mapped[dt.datetime | None]
    recipient_document_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("documents.id"))
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None]
    # External deliveries the axis refused for a reason that may pass (an agency not registered
    # yet, the axis down): not sent again before this time (backoff).
    next_attempt_at: Mapped[dt.datetime | None]

    events: Mapped[list[DeliveryEvent]] = relationship(lazy="selectin", order_by="DeliveryEvent.at")

    __table_args__ = (
        Index("ix_deliveries_document_id", "document_id"),
        Index("ix_deliveries_recipient_document_id", "recipient_document_id"),
        Index("ix_deliveries_queue", "channel", "state", "priority", "created_at"),
        # The recalls waiting for an answer (13 shown), which the exchange sends revocations
        # for on every round: a few rows among every delivery ever made (migration 0031).
        Index(
            "ix_deliveries_recall_asked",
            "channel",
            postgresql_where=text(RECALL_ASKED_SQL),
            sqlite_where=text(RECALL_ASKED_SQL),
        ),
    )


class DeliveryEvent(IdMixin, Base):
    """A status a delivery went through (01, 03, 04 … 13, 15), oldest first."""

    __tablename__ = "delivery_events"

    delivery_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("deliveries.id"))
    status_code: Mapped[str] = mapped_column(String(2))
    status_text: Mapped[str] = mapped_column(Text)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_delivery_events_delivery_id", "delivery_id", "at"),)


class SigningSession(IdMixin, Base):
    """A two-phase signature with a key the server never holds (API.md §3).

    ``state`` is :func:`signing.prepare_external_signature`'s opaque state (the prepared PDF
    and the signed attributes): server data, never the client's. An organisation session
    holds the number it reserved (kept on the document, reused if the session lapses).
    """

    __tablename__ = "signing_sessions"

    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("documents.id"))
    kind: Mapped[str] = mapped_column(String(16))  # personal | organization
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    version: Mapped[int | None]
    state: Mapped[bytes] = mapped_column(LargeBinary)
    certificate_subject: Mapped[str] = mapped_column(String(500))
    signature_algorithm: Mapped[str] = mapped_column(String(32))
    issued_at: Mapped[dt.datetime | None]
    expires_at: Mapped[dt.datetime]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[dt.datetime | None]

    __table_args__ = (Index("ix_signing_sessions_document_id", "document_id"),)


class RemoteSigningAccount(Base):
    """A person's account at the operator's remote signing service (CSC): which credential is
    theirs. Only the credential's id and its certificate's subject; the PIN or OTP is typed at
    each signing and never stored, and the key stays with the service."""

    __tablename__ = "remote_signing_accounts"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), primary_key=True)
    credential_id: Mapped[str] = mapped_column(String(255))
    certificate_subject: Mapped[str] = mapped_column(String(500))
    linked_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
