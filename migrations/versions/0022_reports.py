"""periodic reports approved and signed by a leader before submission; the dashboard's
per-unit daily roll-up with the organisation's path (issue 17)

Revision ID: 0020_reports
Revises: 0018_feedback_letter
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020_reports"
down_revision: str | None = "0020_push"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _signed_pdf_columns(table: str, *, approved_at: bool) -> None:
    with op.batch_alter_table(table) as batch:
        if approved_at:
            batch.add_column(sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("approved_by_id", sa.Uuid(), nullable=True))
        batch.add_column(sa.Column("pdf_key", sa.String(128), nullable=True))
        batch.add_column(sa.Column("pdf_size", sa.BigInteger(), nullable=True))
        batch.create_foreign_key(
            op.f(f"fk_{table}_approved_by_id_users"), "users", ["approved_by_id"], ["id"]
        )


def upgrade() -> None:
    _signed_pdf_columns("report_requests", approved_at=True)
    _signed_pdf_columns("report_submissions", approved_at=False)
    op.create_table(
        "report_unit_daily_stats",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("organization_id", sa.Uuid(), sa.ForeignKey("organizations.id"), nullable=False),
        sa.Column("org_path", sa.String(400), nullable=False),
        sa.Column("unit_id", sa.Uuid(), nullable=True),
        sa.Column("day", sa.Date(), nullable=False),
        *(
            sa.Column(name, sa.Integer(), nullable=False)
            for name in (
                "received",
                "done_on_time",
                "done_late",
                "open",
                "overdue",
                "open_base",
                "overdue_base",
            )
        ),
        sa.PrimaryKeyConstraint("id", name="pk_report_unit_daily_stats"),
    )
    op.create_index(
        "ix_report_unit_daily_stats_path_day",
        "report_unit_daily_stats",
        ["org_path", "day"],
        postgresql_ops={"org_path": "varchar_pattern_ops"},
    )
    op.create_index(
        "ix_report_unit_daily_stats_org", "report_unit_daily_stats", ["organization_id"]
    )
    # Filled from the per-person rows already computed (``dhtn reports rebuild`` does the same).
    op.execute(
        "INSERT INTO report_unit_daily_stats (organization_id, org_path, unit_id, day, received,"
        " done_on_time, done_late, open, overdue, open_base, overdue_base)"
        " SELECT s.organization_id, o.path, s.unit_id, s.day, SUM(s.received),"
        " SUM(s.done_on_time), SUM(s.done_late), SUM(s.open), SUM(s.overdue),"
        " SUM(s.open_base), SUM(s.overdue_base)"
        " FROM report_daily_stats s JOIN organizations o ON o.id = s.organization_id"
        " WHERE s.unit_level = 1 GROUP BY s.organization_id, o.path, s.unit_id, s.day"
    )


def downgrade() -> None:
    op.drop_table("report_unit_daily_stats")
    for table, approved_at in (("report_submissions", False), ("report_requests", True)):
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(op.f(f"fk_{table}_approved_by_id_users"), type_="foreignkey")
            for column in ("pdf_size", "pdf_key", "approved_by_id"):
                batch.drop_column(column)
            if approved_at:
                batch.drop_column("approved_at")
