"""the change feed of the phone: one row per object changed, written with the change (issue 20)

Revision ID: 0020_changes
Revises: 0018_feedback_letter
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020_changes"
down_revision: str | None = "0020_docimport"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "changes",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("txid", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("object_id", sa.Uuid(), nullable=False),
        sa.Column("change", sa.String(8), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_changes")),
    )
    op.create_index("ix_changes_org_txid", "changes", ["organization_id", "txid", "seq"])
    op.create_index("ix_changes_object", "changes", ["object_id", "seq"])


def downgrade() -> None:
    op.drop_index("ix_changes_object", table_name="changes")
    op.drop_index("ix_changes_org_txid", table_name="changes")
    op.drop_table("changes")
