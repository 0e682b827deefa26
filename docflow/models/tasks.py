"""Assigned tasks (giao nhiệm vụ): the task, its co-operators, its trail and its files.

Overdue and days late are never stored: they follow from ``due_date``, the holiday calendar and
today (see :mod:`docflow.tasks.deadlines`). ``submitted_on`` (the local date the accepted
completion was submitted) is a fact, not a derivation: it is what "done on time" compares.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from docflow.db import Base, IdMixin, utcnow
from docflow.models.identity import User
from docflow.models.org import Unit

# The states in which a task still has to be done (kept in sync with docflow.tasks.states).
OPEN_STATES_SQL = "state IN ('assigned', 'in_progress', 'awaiting_approval')"


class Task(IdMixin, Base):
    """One assignment: who leads it (a unit, or a person and their unit), by when, and where it is.

    ``lead_unit_id`` is the responsible unit (the person's unit when the lead is a person);
    ``lead_user_id`` is empty when the lead is the unit as a whole (its head acts for it).
    """

    __tablename__ = "tasks"

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    parent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("tasks.id"))
    # The document the task comes from (the service checks it is the organisation's). No
    # foreign key, so that this revision does not depend on the incoming flow's.
    document_id: Mapped[uuid.UUID | None]
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text, default="")
    priority: Mapped[str] = mapped_column(String(16), default="normal")
    state: Mapped[str] = mapped_column(String(24), default="assigned")
    assigner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    assigner_unit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("units.id"))
    lead_unit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("units.id"))
    lead_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    due_date: Mapped[dt.date]
    original_due_date: Mapped[dt.date]
    progress: Mapped[int] = mapped_column(default=0)
    # A pending extension request (gia hạn): the date asked for, why, and who asked.
    extension_due_date: Mapped[dt.date | None]
    extension_reason: Mapped[str | None] = mapped_column(Text)
    extension_requested_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    started_at: Mapped[dt.datetime | None]
    submitted_on: Mapped[dt.date | None]
    completed_at: Mapped[dt.datetime | None]
    cancelled_at: Mapped[dt.datetime | None]
    trail_seq: Mapped[int] = mapped_column(default=0)

    assigner: Mapped[User] = relationship(foreign_keys=[assigner_id], lazy="joined")
    lead_unit: Mapped[Unit | None] = relationship(foreign_keys=[lead_unit_id], lazy="joined")
    lead_user: Mapped[User | None] = relationship(foreign_keys=[lead_user_id], lazy="joined")
    cooperators: Mapped[list[TaskCooperator]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="TaskCooperator.position"
    )
    attachments: Mapped[list[TaskAttachment]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="TaskAttachment.created_at"
    )

    __table_args__ = (
        CheckConstraint("lead_unit_id IS NOT NULL OR lead_user_id IS NOT NULL", name="has_lead"),
        CheckConstraint("progress >= 0 AND progress <= 100", name="progress_range"),
        # The follow-up lists: open tasks by deadline, per organisation, unit, person.
        Index(
            "ix_tasks_open_org_due",
            "organization_id",
            "due_date",
            "id",
            postgresql_where=text(OPEN_STATES_SQL),
            sqlite_where=text(OPEN_STATES_SQL),
        ),
        # The reminder job: open tasks by deadline, across organisations.
        Index(
            "ix_tasks_open_due",
            "due_date",
            "id",
            postgresql_where=text(OPEN_STATES_SQL),
            sqlite_where=text(OPEN_STATES_SQL),
        ),
        Index("ix_tasks_lead_unit_due", "lead_unit_id", "due_date", "id"),
        Index("ix_tasks_lead_user_due", "lead_user_id", "due_date", "id"),
        Index("ix_tasks_assigner_due", "assigner_id", "due_date", "id"),
        Index("ix_tasks_parent_id", "parent_id"),
        # The statistics: per organisation, tasks assigned or finished in a period.
        Index("ix_tasks_org_created", "organization_id", "created_at"),
        Index("ix_tasks_org_submitted", "organization_id", "submitted_on"),
    )


class TaskCooperator(IdMixin, Base):
    """A co-operating unit or person (phối hợp)."""

    __tablename__ = "task_cooperators"

    task_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(default=0)
    unit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("units.id"))
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))

    unit: Mapped[Unit | None] = relationship(lazy="joined")
    user: Mapped[User | None] = relationship(lazy="joined")

    __table_args__ = (
        CheckConstraint("unit_id IS NOT NULL OR user_id IS NOT NULL", name="has_party"),
        Index("ix_task_cooperators_task_id", "task_id"),
        Index("ix_task_cooperators_user_id", "user_id"),
        Index("ix_task_cooperators_unit_id", "unit_id"),
    )


class TaskTrailEntry(IdMixin, Base):
    """One move of a task (append-only): who, for whom, in which unit, what, when, why."""

    __tablename__ = "task_trail"

    task_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    seq: Mapped[int]
    at: Mapped[dt.datetime]
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    actor_name: Mapped[str] = mapped_column(String(255))
    unit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("units.id"))
    unit_name: Mapped[str | None] = mapped_column(String(255))
    on_behalf_of_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    on_behalf_of_name: Mapped[str | None] = mapped_column(String(255))
    competence: Mapped[str | None] = mapped_column(String(8))
    action: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(24))
    to_state: Mapped[str] = mapped_column(String(24))
    comment: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]]

    __table_args__ = (UniqueConstraint("task_id", "seq"),)


class TaskAttachment(IdMixin, Base):
    """A file attached to a task or to one of its progress reports (content-addressed)."""

    __tablename__ = "task_attachments"

    task_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    trail_seq: Mapped[int]
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(128))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    object_key: Mapped[str] = mapped_column(String(200))
    uploaded_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # Text extraction (docflow.search): none | pending | done | failed (task_file_texts).
    text_status: Mapped[str] = mapped_column(String(16), default="none", server_default="none")

    __table_args__ = (
        Index("ix_task_attachments_task_id", "task_id"),
        # The orphan sweeper asks, per stored object, whether a row references it.
        Index("ix_task_attachments_object_key", "object_key"),
    )
