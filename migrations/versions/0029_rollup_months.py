"""the roll-up's coarse grain: per organisation and month (``report_monthly_stats``), and the
daily rows' indexes for a subtree's few days at a month's edge, covering their figures
(issue 17)

Filled from the per-person daily rows already computed, as ``refresh_organization`` writes it
(``dhtn reports rebuild`` does the same).

Revision ID: 0029_rollup_months
Revises: 0026_counters
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0029_rollup_months"
down_revision: str | None = "0026_counters"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FIGURES = ("received", "done_on_time", "done_late", "open", "overdue", "open_base", "overdue_base")
# grain → (the unit or person of the row, which daily rows)
GRAINS = {
    "org": ("NULL", "s.unit_level = 1"),
    "unit": ("s.unit_id", "s.unit_level = 1 AND s.unit_id IS NOT NULL"),
    "user": ("s.user_id", "s.user_id IS NOT NULL"),
}


def upgrade() -> None:
    op.create_table(
        "report_monthly_stats",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("organization_id", sa.Uuid(), sa.ForeignKey("organizations.id"), nullable=False),
        sa.Column("org_path", sa.String(400), nullable=False),
        sa.Column("grain", sa.String(16), nullable=False),
        sa.Column("row_id", sa.Uuid(), nullable=True),
        sa.Column("span", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in FIGURES),
        sa.PrimaryKeyConstraint("id", name="pk_report_monthly_stats"),
    )
    covered = ["organization_id", "row_id", *FIGURES]
    op.create_index(
        "ix_report_monthly_stats_grain_path_month",
        "report_monthly_stats",
        ["grain", "span", "org_path", "month"],
        postgresql_ops={"org_path": "varchar_pattern_ops"},
        postgresql_include=covered,
    )
    op.create_index(
        "ix_report_monthly_stats_grain_month_path",
        "report_monthly_stats",
        ["grain", "span", "month", "org_path"],
        postgresql_ops={"org_path": "varchar_pattern_ops"},
        postgresql_include=covered,
    )
    op.create_index(
        "ix_report_monthly_stats_org_grain_month",
        "report_monthly_stats",
        ["organization_id", "grain", "month"],
    )
    # The per-unit daily rows: an organisation's days (a page's organisations), and a
    # subtree's few days at a month's edge read from the index alone; the per-person daily
    # rows' day index covers their figures too.
    op.drop_index("ix_report_unit_daily_stats_org", table_name="report_unit_daily_stats")
    op.create_index(
        "ix_report_unit_daily_stats_org_day",
        "report_unit_daily_stats",
        ["organization_id", "day"],
    )
    op.create_index(
        "ix_report_unit_daily_stats_day_path",
        "report_unit_daily_stats",
        ["day", "org_path"],
        postgresql_ops={"org_path": "varchar_pattern_ops"},
        postgresql_include=["organization_id", "unit_id", *FIGURES[:5]],
    )
    op.drop_index("ix_report_daily_stats_day_org", table_name="report_daily_stats")
    op.create_index(
        "ix_report_daily_stats_day_org",
        "report_daily_stats",
        ["day", "organization_id"],
        postgresql_include=["unit_id", "user_id", "unit_level", *FIGURES[:5]],
    )
    if op.get_bind().dialect.name == "postgresql":
        month = "CAST(date_trunc('month', s.day) AS date)"
        year = "CAST(date_trunc('year', m.month) AS date)"
    else:
        month = "date(s.day, 'start of month')"
        year = "date(m.month, 'start of year')"
    sums = ", ".join(f"SUM(s.{f})" for f in FIGURES)
    columns = f"organization_id, org_path, grain, row_id, span, month, {', '.join(FIGURES)}"
    for grain, (row, where) in GRAINS.items():
        group = "" if row == "NULL" else f", {row}"
        op.execute(
            f"INSERT INTO report_monthly_stats ({columns})"
            f" SELECT s.organization_id, o.path, '{grain}', {row}, 1, {month}, {sums}"
            " FROM report_daily_stats s JOIN organizations o ON o.id = s.organization_id"
            f" WHERE {where} GROUP BY s.organization_id, o.path{group}, {month}"
        )
    # Each year's flows (no stock), from its months.
    op.execute(
        f"INSERT INTO report_monthly_stats ({columns})"
        f" SELECT m.organization_id, m.org_path, m.grain, m.row_id, 12, {year},"
        " SUM(m.received), SUM(m.done_on_time), SUM(m.done_late), 0, 0, 0, 0"
        " FROM report_monthly_stats m WHERE m.span = 1"
        f" GROUP BY m.organization_id, m.org_path, m.grain, m.row_id, {year}"
    )


def downgrade() -> None:
    op.drop_index("ix_report_daily_stats_day_org", table_name="report_daily_stats")
    op.create_index(
        "ix_report_daily_stats_day_org", "report_daily_stats", ["day", "organization_id"]
    )
    op.drop_index("ix_report_unit_daily_stats_day_path", table_name="report_unit_daily_stats")
    op.drop_index("ix_report_unit_daily_stats_org_day", table_name="report_unit_daily_stats")
    op.create_index(
        "ix_report_unit_daily_stats_org", "report_unit_daily_stats", ["organization_id"]
    )
    op.drop_table("report_monthly_stats")
