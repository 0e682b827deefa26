"""Dossiers and the archive (hồ sơ, lưu trữ — Decree 30, Chapter IV; DOMAIN.md §10).

* :class:`FilePlan` — the file plan (danh mục hồ sơ) of an organisation for a year, with its
  headings (:class:`FilePlanHeading`, đề mục) and planned dossiers (:class:`FilePlanItem`).
* :class:`Dossier` — one dossier (hồ sơ): opened from a plan item or unplanned, filled with
  documents and tasks (:class:`DossierItem`), closed, transferred to the archive, accepted.
* :class:`DossierEvent` — the dossier's trail (who moved it, when, why).

A dossier has its own secrecy: nothing more secret than the dossier is filed into it, and
nobody without the clearance for the dossier sees that it exists (see
:mod:`docflow.dossiers.policy`).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from docflow.db import Base, IdMixin, utcnow
from docflow.models.identity import User
from docflow.models.org import Unit


class FilePlan(IdMixin, Base):
    """Danh mục hồ sơ of one organisation for one year: drafted by the office, approved by
    the head; editable during the year (each change is in the audit log)."""

    __tablename__ = "file_plans"

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    year: Mapped[int]
    state: Mapped[str] = mapped_column(String(16), default="draft")  # draft | approved
    approved_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[dt.datetime | None]
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    headings: Mapped[list[FilePlanHeading]] = relationship(
        lazy="selectin", order_by="FilePlanHeading.position", cascade="all, delete-orphan"
    )

    __table_args__ = (UniqueConstraint("organization_id", "year"),)


class FilePlanHeading(IdMixin, Base):
    """Đề mục: a heading by unit or function (``I. Ban Thường trực``)."""

    __tablename__ = "file_plan_headings"

    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("file_plans.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(default=0)
    code: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(500))
    unit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("units.id"))

    items: Mapped[list[FilePlanItem]] = relationship(
        lazy="selectin", order_by="FilePlanItem.position", cascade="all, delete-orphan"
    )

    __table_args__ = (Index("ix_file_plan_headings_plan_id", "plan_id"),)


class FilePlanItem(IdMixin, Base):
    """A dossier the plan foresees: code (số và ký hiệu hồ sơ), title, who keeps it (người
    lập hồ sơ), retention in years (None: permanent, vĩnh viễn), notes. ``approved`` is false
    for an item added after the plan was approved (an unplanned dossier) until the head
    approves the change."""

    __tablename__ = "file_plan_items"

    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("file_plans.id", ondelete="CASCADE"))
    heading_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("file_plan_headings.id", ondelete="CASCADE")
    )
    position: Mapped[int] = mapped_column(default=0)
    code: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(500))
    unit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("units.id"))
    keeper_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    retention_years: Mapped[int | None]
    note: Mapped[str | None] = mapped_column(Text)
    approved: Mapped[bool] = mapped_column(default=True)

    unit: Mapped[Unit | None] = relationship(lazy="joined")
    keeper: Mapped[User | None] = relationship(lazy="joined")

    __table_args__ = (
        UniqueConstraint("plan_id", "code"),
        Index("ix_file_plan_items_heading_id", "heading_id"),
    )


class Dossier(IdMixin, Base):
    """One dossier (hồ sơ). Dates, page and document counts are fixed when it is closed;
    ``retention_years`` None means permanent (vĩnh viễn)."""

    __tablename__ = "dossiers"

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    year: Mapped[int]
    code: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(500))
    unit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("units.id"))
    keeper_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    retention_years: Mapped[int | None]
    secrecy: Mapped[str] = mapped_column(String(16), default="none")
    secrecy_rank: Mapped[int] = mapped_column(default=0)
    plan_item_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("file_plan_items.id", ondelete="SET NULL")
    )
    note: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default="open")
    # Fixed at closing (kết thúc hồ sơ).
    start_date: Mapped[dt.date | None]
    end_date: Mapped[dt.date | None]
    page_total: Mapped[int | None]
    document_count: Mapped[int | None]
    closed_at: Mapped[dt.datetime | None]
    # The table of contents (mục lục văn bản) made at closing, as stored objects.
    toc_docx_key: Mapped[str | None] = mapped_column(String(128))
    toc_pdf_key: Mapped[str | None] = mapped_column(String(128))
    transferred_at: Mapped[dt.datetime | None]
    archived_at: Mapped[dt.datetime | None]
    # A legal hold (giữ lại theo yêu cầu pháp lý) forbids disposal while set.
    legal_hold: Mapped[str | None] = mapped_column(Text)
    disposed_at: Mapped[dt.datetime | None]
    event_seq: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    unit: Mapped[Unit | None] = relationship(lazy="joined")
    keeper: Mapped[User] = relationship(lazy="joined")
    items: Mapped[list[DossierItem]] = relationship(
        lazy="selectin", order_by="DossierItem.position", back_populates="dossier"
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        UniqueConstraint("organization_id", "year", "code"),
        Index("ix_dossiers_org_year_state", "organization_id", "year", "state"),
        Index("ix_dossiers_keeper", "keeper_id"),
        Index("ix_dossiers_unit", "unit_id"),
    )


class DossierItem(IdMixin, Base):
    """A document or a task filed into a dossier, in order. ``page_count`` is fixed at
    closing (the document's own page count, else the pages of its PDF files)."""

    __tablename__ = "dossier_items"

    dossier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dossiers.id", ondelete="CASCADE"))
    position: Mapped[int]
    document_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("documents.id"))
    task_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("tasks.id"))
    page_count: Mapped[int | None]
    filed_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    filed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    dossier: Mapped[Dossier] = relationship(back_populates="items")

    __table_args__ = (
        UniqueConstraint("dossier_id", "document_id"),
        UniqueConstraint("dossier_id", "task_id"),
        Index("ix_dossier_items_document_id", "document_id"),
        Index("ix_dossier_items_task_id", "task_id"),
    )


class DossierEvent(IdMixin, Base):
    """One step of a dossier's life (append-only): opened, filed, closed, reopened (with the
    reason), transferred, accepted, returned (with the reason)."""

    __tablename__ = "dossier_events"

    dossier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dossiers.id", ondelete="CASCADE"))
    seq: Mapped[int]
    at: Mapped[dt.datetime]
    action: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    actor_name: Mapped[str] = mapped_column(String(255))
    comment: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]]

    __table_args__ = (UniqueConstraint("dossier_id", "seq"),)


class Disposal(IdMixin, Base):
    """A disposal (tiêu hủy): proposed by the archive for dossiers past their retention,
    decided by the head. On approval the dossiers' documents lose their files (the objects go
    with the sweeper once no other row references them) and ``record`` keeps what was
    destroyed (the disposal record: each dossier, each document, each file's name, size and
    SHA-256)."""

    __tablename__ = "disposals"

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    state: Mapped[str] = mapped_column(String(16), default="proposed")
    reason: Mapped[str] = mapped_column(Text)
    dossier_ids: Mapped[list[str]]
    proposed_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    proposed_at: Mapped[dt.datetime]
    decided_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[dt.datetime | None]
    decision_comment: Mapped[str | None] = mapped_column(Text)
    record: Mapped[dict[str, Any] | None]

    __table_args__ = (Index("ix_disposals_org_state", "organization_id", "state"),)
