"""packages the axis lists that the polling job holds back: a revocation, update or
replacement listed a round or more before its document is left on the axis for a while
(``DHTN_AXIS_WAIT_SECONDS``) instead of being refused at once, and a package refused for good
is not downloaded again each round the axis lists it again

Revision ID: 0032_axis_held
Revises: 0031_delivery_status
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0032_axis_held"
down_revision: str | None = "0031_delivery_status"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "axis_held_packages",
        sa.Column("axis_doc_id", sa.String(128), nullable=False),
        sa.Column("sender", sa.String(64), nullable=False),
        sa.Column("reason", sa.String(64), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rounds", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("axis_doc_id", name=op.f("pk_axis_held_packages")),
    )


def downgrade() -> None:
    op.drop_table("axis_held_packages")
