"""Reports up the tree: pre-aggregated processing statistics and periodic reports.

``report_daily_stats`` holds, per organisation, lead unit, lead person and local day, the flows
of that day (received, done on time, done late) and the stock at the end of that day (open,
overdue). It is derived data: ``docflow.reports.rollup`` recomputes one organisation's rows from
the tasks and assignments (on the outbox topic ``reports.changed``, which the commands that change
them queue) and ``dhtn reports rebuild``
recomputes all of them. ``report_unit_daily_stats`` (per unit) and ``report_monthly_stats``
(per month) are written from them in the same transaction.

A **report form** (mẫu báo cáo) is what an upper level asks for, on a schedule, of a set of
organisations; each period yields one **report request** per organisation, which that
organisation fills in and submits; each submission is kept as a version.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from docflow.db import Base, IdMixin, utcnow
from docflow.models.identity import User
from docflow.models.org import Organization


class ReportDailyStat(Base):
    """One organisation × lead unit × lead person × day of the processing statistics: the
    day's flows, the day's changes of the stock (open, overdue) and, on the first day of a
    month, the stock at the month's start (see :func:`docflow.reports.rollup.compute_rows`).

    ``unit_level`` is 1 when the items count in the per-unit figures (not a sub-task handed to
    a person of the unit), 0 otherwise; per-person figures count both.
    """

    __tablename__ = "report_daily_stats"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    unit_id: Mapped[uuid.UUID | None]
    user_id: Mapped[uuid.UUID | None]
    unit_level: Mapped[int] = mapped_column(Integer)
    day: Mapped[dt.date]
    received: Mapped[int] = mapped_column(Integer, default=0)
    done_on_time: Mapped[int] = mapped_column(Integer, default=0)
    done_late: Mapped[int] = mapped_column(Integer, default=0)
    open: Mapped[int] = mapped_column(Integer, default=0)  # change of the day (all open)
    overdue: Mapped[int] = mapped_column(Integer, default=0)  # change of the day
    open_base: Mapped[int] = mapped_column(Integer, default=0)  # on the 1st: at its start
    overdue_base: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        Index("ix_report_daily_stats_org_day", "organization_id", "day"),
        # Covering: a subtree's few days at a month's edge read from the index alone.
        Index(
            "ix_report_daily_stats_day_org",
            "day",
            "organization_id",
            postgresql_include=[
                "unit_id",
                "user_id",
                "unit_level",
                "received",
                "done_on_time",
                "done_late",
                "open",
                "overdue",
            ],
        ),
    )


class ReportUnitDailyStat(Base):
    """The dashboard's grain: one organisation × lead unit × day of ``report_daily_stats`` (the
    unit-level rows summed over the people), with the organisation's materialised path, so
    that a subtree's sum is one index range (``org_path LIKE '<path>%'``) over rows a few times
    fewer than the per-person table. Rewritten with the organisation's daily rows."""

    __tablename__ = "report_unit_daily_stats"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    org_path: Mapped[str] = mapped_column(String(400))
    unit_id: Mapped[uuid.UUID | None]
    day: Mapped[dt.date]
    received: Mapped[int] = mapped_column(Integer, default=0)
    done_on_time: Mapped[int] = mapped_column(Integer, default=0)
    done_late: Mapped[int] = mapped_column(Integer, default=0)
    open: Mapped[int] = mapped_column(Integer, default=0)
    overdue: Mapped[int] = mapped_column(Integer, default=0)
    open_base: Mapped[int] = mapped_column(Integer, default=0)
    overdue_base: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        Index(
            "ix_report_unit_daily_stats_path_day",
            "org_path",
            "day",
            postgresql_ops={"org_path": "varchar_pattern_ops"},
        ),
        Index("ix_report_unit_daily_stats_org_day", "organization_id", "day"),
        # The few days at a month's edge of a whole subtree (the centre's stock "as of
        # today"), read from the index alone.
        Index(
            "ix_report_unit_daily_stats_day_path",
            "day",
            "org_path",
            postgresql_ops={"org_path": "varchar_pattern_ops"},
            postgresql_include=[
                "organization_id",
                "unit_id",
                "received",
                "done_on_time",
                "done_late",
                "open",
                "overdue",
            ],
        ),
    )


MONTHLY_COVERED = (
    "organization_id",
    "row_id",
    "received",
    "done_on_time",
    "done_late",
    "open",
    "overdue",
    "open_base",
    "overdue_base",
)


class ReportMonthlyStat(Base):
    """The coarse grain: one organisation × month of the figures a grouping reads, so that a
    whole month or a year to date of the centre sums a few rows per organisation and month
    instead of tens of thousands of daily rows. Written with the organisation's daily rows
    (:func:`docflow.reports.rollup.refresh_organization`), from them, so always consistent.

    ``grain`` says which rows a grouping reads: ``org`` (the organisation's unit-level items,
    ``row_id`` null: group_by=organization), ``unit`` (per lead unit: group_by=unit), ``user``
    (per lead person, sub-tasks included: group_by=user). Per row: the month's
    flows (received, done on time, done late), the stock's change over the whole month
    (``open``, ``overdue``: the days after the computed day included, where items are known to
    turn overdue) and the stock at the month's start (``open_base``, ``overdue_base``), so the
    stock at the month's end is base + change. A row with ``span`` 12 holds a whole year's
    flows (the sum of its month rows; no stock): a year to date reads one row per unit or
    person, less the months after the period, instead of eleven."""

    __tablename__ = "report_monthly_stats"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    org_path: Mapped[str] = mapped_column(String(400))
    grain: Mapped[str] = mapped_column(String(16))
    row_id: Mapped[uuid.UUID | None]  # the unit or person (null in the org and total grains)
    span: Mapped[int] = mapped_column(Integer, default=1)  # 1: a month; 12: a year's flows
    month: Mapped[dt.date]  # its first day (a year's: 1 January)
    received: Mapped[int] = mapped_column(Integer, default=0)
    done_on_time: Mapped[int] = mapped_column(Integer, default=0)
    done_late: Mapped[int] = mapped_column(Integer, default=0)
    open: Mapped[int] = mapped_column(Integer, default=0)  # change over the month
    overdue: Mapped[int] = mapped_column(Integer, default=0)
    open_base: Mapped[int] = mapped_column(Integer, default=0)  # at the month's start
    overdue_base: Mapped[int] = mapped_column(Integer, default=0)

    # Both subtree indexes cover the figures (read from the index alone): by path first for a
    # province (its rows of every month), by month first for the centre (a month's rows).
    __table_args__ = (
        Index(
            "ix_report_monthly_stats_grain_path_month",
            "grain",
            "span",
            "org_path",
            "month",
            postgresql_ops={"org_path": "varchar_pattern_ops"},
            postgresql_include=list(MONTHLY_COVERED),
        ),
        Index(
            "ix_report_monthly_stats_grain_month_path",
            "grain",
            "span",
            "month",
            "org_path",
            postgresql_ops={"org_path": "varchar_pattern_ops"},
            postgresql_include=list(MONTHLY_COVERED),
        ),
        Index("ix_report_monthly_stats_org_grain_month", "organization_id", "grain", "month"),
    )


class ReportRefresh(Base):
    """When an organisation's statistics were last recomputed, and through which day."""

    __tablename__ = "report_refreshes"

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id"), primary_key=True
    )
    refreshed_at: Mapped[dt.datetime]
    through_day: Mapped[dt.date]


class ReportForm(IdMixin, Base):
    """A report an upper level asks for: its fields, schedule and who must report."""

    __tablename__ = "report_forms"

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    title: Mapped[str] = mapped_column(String(255))
    # [{"key", "label", "type": number|percent|text, "source"?: a figure the system knows}]
    fields: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    period: Mapped[str] = mapped_column(String(16))
    deadline_day: Mapped[int | None] = mapped_column(Integer)
    once_deadline: Mapped[dt.date | None]
    # {"scope": "children"} or {"organization_ids": [...]}
    recipients: Mapped[dict[str, Any]]
    active: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    organization: Mapped[Organization] = relationship(lazy="joined")

    __table_args__ = (Index("ix_report_forms_org", "organization_id"),)


class ReportRequest(IdMixin, Base):
    """One organisation's report for one period of a form."""

    __tablename__ = "report_requests"

    form_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("report_forms.id"))
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    period: Mapped[str] = mapped_column(String(16))  # 2026-11, 2026-W48, 2026-Q4, once
    period_start: Mapped[dt.date]
    period_end: Mapped[dt.date]
    deadline: Mapped[dt.date]
    state: Mapped[str] = mapped_column(String(16), default="open")
    values: Mapped[dict[str, Any]] = mapped_column(default=dict)
    prefilled: Mapped[dict[str, Any]] = mapped_column(default=dict)
    version: Mapped[int] = mapped_column(Integer, default=0)
    submitted_at: Mapped[dt.datetime | None]
    submitted_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    submitted_late: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # The leader's approval: the signed PDF of the values as they are now (cleared when they
    # change); submitted with the next version.
    approved_at: Mapped[dt.datetime | None]
    approved_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    pdf_key: Mapped[str | None] = mapped_column(String(128))
    pdf_size: Mapped[int | None] = mapped_column(BigInteger)

    form: Mapped[ReportForm] = relationship(lazy="joined")
    organization: Mapped[Organization] = relationship(lazy="joined")
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id], lazy="joined")

    __table_args__ = (
        UniqueConstraint("form_id", "organization_id", "period"),
        Index("ix_report_requests_org_state", "organization_id", "state"),
    )


class ReportSubmission(IdMixin, Base):
    """A submitted version of a report (a correction after submission adds one)."""

    __tablename__ = "report_submissions"

    request_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("report_requests.id"))
    version: Mapped[int] = mapped_column(Integer)
    values: Mapped[dict[str, Any]]
    submitted_at: Mapped[dt.datetime]
    submitted_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    comment: Mapped[str | None] = mapped_column(Text)
    # The PDF the leader signed for this version (kept with every version).
    approved_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    pdf_key: Mapped[str | None] = mapped_column(String(128))
    pdf_size: Mapped[int | None] = mapped_column(BigInteger)

    __table_args__ = (UniqueConstraint("request_id", "version"),)
