"""Citizen feedback (phản ánh, kiến nghị — the QR mailbox "Hòm thư số"): the item, its trail,
its files and each organisation's settings of the mailbox.

An item lives in one organisation's box (``organization_id``). Forwarding it to another
organisation of the tree makes a copy in that organisation's box (``origin_id`` = the item it came
from, ``root_id`` = what the citizen sent); the citizen's tracking code stays on the root. The
sender's details (``sender_*``) are copied to the copy only when the sender agreed
(``share_contact``); they are erased after the organisation's retention period.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from docflow.db import Base, IdMixin, utcnow

# The states in which an item still waits for work (kept in sync with docflow.feedback.states).
OPEN_FEEDBACK_SQL = "state IN ('received', 'accepted', 'in_progress', 'forwarded')"


class FeedbackItem(IdMixin, Base):
    """One reflection, proposal or complaint (or a paper letter registered into the box)."""

    __tablename__ = "feedback_items"

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    root_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("feedback_items.id"))
    origin_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("feedback_items.id"))
    # Only the root carries the citizen's code.
    tracking_code: Mapped[str | None] = mapped_column(String(16), unique=True)
    channel: Mapped[str] = mapped_column(String(8), default="web")
    category: Mapped[str] = mapped_column(String(100))
    place: Mapped[str | None] = mapped_column(String(150))
    content: Mapped[str] = mapped_column(Text)
    sender_name: Mapped[str | None] = mapped_column(String(150))
    sender_phone: Mapped[str | None] = mapped_column(String(20))
    sender_email: Mapped[str | None] = mapped_column(String(254))
    sender_address: Mapped[str | None] = mapped_column(String(255))
    consent: Mapped[bool] = mapped_column(default=False)
    share_contact: Mapped[bool] = mapped_column(default=False)
    personal_erased_at: Mapped[dt.datetime | None]
    # SHA-256 of the normalised content: "the same text within a day" is one indexed lookup.
    content_digest: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default="received")
    quarantine_reason: Mapped[str | None] = mapped_column(String(32))
    complexity: Mapped[str] = mapped_column(String(8), default="simple")
    in_scope: Mapped[bool | None]
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    received_on: Mapped[dt.date]
    due_date: Mapped[dt.date]
    original_due_date: Mapped[dt.date]
    extension_reason: Mapped[str | None] = mapped_column(Text)
    assignee_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    task_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("tasks.id"))
    forwarded_to_org_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organizations.id"))
    forwarded_to_agency: Mapped[str | None] = mapped_column(String(255))
    # Forwarded outside the tree: the draft công văn to the agency (outgoing capability).
    letter_document_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("documents.id"))
    answer: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[dt.datetime | None]
    answered_on: Mapped[dt.date | None]
    answered_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    reject_reason: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[dt.datetime | None]
    trail_seq: Mapped[int] = mapped_column(default=0)

    files: Mapped[list[FeedbackFile]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="FeedbackFile.position"
    )

    __table_args__ = (
        Index("ix_feedback_items_org_received", "organization_id", "received_at", "id"),
        Index(
            "ix_feedback_items_open_due",
            "due_date",
            "id",
            postgresql_where=text(OPEN_FEEDBACK_SQL),
            sqlite_where=text(OPEN_FEEDBACK_SQL),
        ),
        Index("ix_feedback_items_org_digest", "organization_id", "content_digest"),
        Index("ix_feedback_items_root_id", "root_id"),
        Index("ix_feedback_items_origin_id", "origin_id"),
    )


class FeedbackTrailEntry(IdMixin, Base):
    """One move of an item (append-only): who, of which organisation, what, when, why."""

    __tablename__ = "feedback_trail"

    feedback_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("feedback_items.id", ondelete="CASCADE")
    )
    seq: Mapped[int]
    at: Mapped[dt.datetime]
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    actor_name: Mapped[str] = mapped_column(String(255))
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    action: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]]

    __table_args__ = (UniqueConstraint("feedback_id", "seq"),)


class FeedbackFile(IdMixin, Base):
    """A photo or file sent with an item (content-addressed; a copy shares the stored object)."""

    __tablename__ = "feedback_files"

    feedback_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("feedback_items.id", ondelete="CASCADE")
    )
    position: Mapped[int] = mapped_column(default=0)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(128))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    object_key: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        Index("ix_feedback_files_feedback_id", "feedback_id"),
        Index("ix_feedback_files_object_key", "object_key"),
    )


class FeedbackSettings(Base):
    """An organisation's mailbox: its categories, its villages / residential groups, how long
    the senders' details are kept, and whether the public page is open."""

    __tablename__ = "feedback_settings"

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id"), primary_key=True
    )
    categories: Mapped[list[str]]
    places: Mapped[list[str]]
    retention_days: Mapped[int] = mapped_column(default=730)
    enabled: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
