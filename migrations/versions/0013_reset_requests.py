"""a password reset of an admin or a cleared person waits for a second admin

Revision ID: 0013_reset_requests
Revises: 0006_xlive
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_reset_requests"
down_revision: str | None = "0006_xlive"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("privilege_requests", sa.Column("password_hash", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("privilege_requests", "password_hash")
