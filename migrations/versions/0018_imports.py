"""one-time activation codes of accounts created by a directory import (issue 15)

Revision ID: 0018_imports
Revises: 0014_search
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018_imports"
# The head's id is "0014_search" (its file is 0017_search.py).
down_revision: str | None = "0014_search"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "user_activations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name="fk_user_activations_user_id_users",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name="fk_user_activations_created_by_id_users"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_user_activations"),
        sa.UniqueConstraint("code_hash", name="uq_user_activations_code_hash"),
    )
    op.create_index("ix_user_activations_user_id", "user_activations", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_user_activations_user_id", table_name="user_activations")
    op.drop_table("user_activations")
