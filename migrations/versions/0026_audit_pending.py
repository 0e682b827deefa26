"""audit changes off the write path: an entry is inserted unchained, the chainer numbers it (issue 19)

Revision ID: 0026_audit_pending
Revises: 0020_changes
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026_audit_pending"
down_revision: str | None = "0020_changes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("audit_entries") as batch:
        batch.alter_column("seq", existing_type=sa.BigInteger(), nullable=True)
        batch.alter_column("prev_hash", existing_type=sa.String(64), nullable=True)
        batch.alter_column("hash", existing_type=sa.String(64), nullable=True)
    # The chainer's queue: the entries not yet in their chain, oldest first.
    op.create_index(
        "ix_audit_entries_unchained",
        "audit_entries",
        ["id"],
        postgresql_where=sa.text("seq IS NULL"),
        sqlite_where=sa.text("seq IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_audit_entries_unchained", table_name="audit_entries")
    # Unchained entries cannot be made NOT NULL: `dhtn audit checkpoint` chains them first.
    with op.batch_alter_table("audit_entries") as batch:
        batch.alter_column("seq", existing_type=sa.BigInteger(), nullable=False)
        batch.alter_column("prev_hash", existing_type=sa.String(64), nullable=False)
        batch.alter_column("hash", existing_type=sa.String(64), nullable=False)
