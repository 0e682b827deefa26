"""reports up the tree: daily statistics per organisation, report forms, requests, submissions

Revision ID: 0014_reports
Revises: 0014_dossiers
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_reports"
down_revision: str | None = "0014_dossiers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "report_daily_stats",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("organization_id", sa.Uuid(), sa.ForeignKey("organizations.id"), nullable=False),
        sa.Column("unit_id", sa.Uuid(), nullable=True),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("unit_level", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("received", sa.Integer(), nullable=False),
        sa.Column("done_on_time", sa.Integer(), nullable=False),
        sa.Column("done_late", sa.Integer(), nullable=False),
        sa.Column("open", sa.Integer(), nullable=False),
        sa.Column("overdue", sa.Integer(), nullable=False),
        sa.Column("open_base", sa.Integer(), nullable=False),
        sa.Column("overdue_base", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_report_daily_stats"),
    )
    op.create_index(
        "ix_report_daily_stats_org_day", "report_daily_stats", ["organization_id", "day"]
    )
    op.create_index(
        "ix_report_daily_stats_day_org", "report_daily_stats", ["day", "organization_id"]
    )
    op.create_table(
        "report_refreshes",
        sa.Column("organization_id", sa.Uuid(), sa.ForeignKey("organizations.id"), nullable=False),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("through_day", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("organization_id", name="pk_report_refreshes"),
    )
    op.create_table(
        "report_forms",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), sa.ForeignKey("organizations.id"), nullable=False),
        sa.Column("title", sa.String(255), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("period", sa.String(16), nullable=False),
        sa.Column("deadline_day", sa.Integer(), nullable=True),
        sa.Column("once_deadline", sa.Date(), nullable=True),
        sa.Column("recipients", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by_id", sa.Uuid(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_report_forms"),
    )
    op.create_index("ix_report_forms_org", "report_forms", ["organization_id"])
    op.create_table(
        "report_requests",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("form_id", sa.Uuid(), sa.ForeignKey("report_forms.id"), nullable=False),
        sa.Column("organization_id", sa.Uuid(), sa.ForeignKey("organizations.id"), nullable=False),
        sa.Column("period", sa.String(16), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("prefilled", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("submitted_by_id", sa.Uuid(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("submitted_late", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_report_requests"),
        sa.UniqueConstraint(
            "form_id",
            "organization_id",
            "period",
            name="uq_report_requests_form_id_organization_id_period",
        ),
    )
    op.create_index("ix_report_requests_org_state", "report_requests", ["organization_id", "state"])
    op.create_table(
        "report_submissions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("request_id", sa.Uuid(), sa.ForeignKey("report_requests.id"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_by_id", sa.Uuid(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_report_submissions"),
        sa.UniqueConstraint(
            "request_id", "version", name="uq_report_submissions_request_id_version"
        ),
    )


def downgrade() -> None:
    op.drop_table("report_submissions")
    op.drop_index("ix_report_requests_org_state", table_name="report_requests")
    op.drop_table("report_requests")
    op.drop_index("ix_report_forms_org", table_name="report_forms")
    op.drop_table("report_forms")
    op.drop_table("report_refreshes")
    op.drop_index("ix_report_daily_stats_day_org", table_name="report_daily_stats")
    op.drop_index("ix_report_daily_stats_org_day", table_name="report_daily_stats")
    op.drop_table("report_daily_stats")
