"""what the sender sees of an external delivery: the time its recipient gave the status shown
(an older status, listed later by the axis, goes into the history only), and the deliveries
whose recall waits for an answer, which the exchange looks up on every sending round (issue
19: every axis delivery ever made was scanned to find them)

Revision ID: 0031_delivery_status
Revises: 0030_outbox_key
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0031_delivery_status"
down_revision: str | None = "0030_outbox_key"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RECALL_ASKED = "status_code = '13'"


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("status_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "ix_deliveries_recall_asked",
        "deliveries",
        ["channel"],
        unique=False,
        postgresql_where=sa.text(RECALL_ASKED),
        sqlite_where=sa.text(RECALL_ASKED),
    )


def downgrade() -> None:
    op.drop_index("ix_deliveries_recall_asked", table_name="deliveries")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("status_at")
