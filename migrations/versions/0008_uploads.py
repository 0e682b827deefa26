"""uploads: index task attachments by object key (the orphan sweeper's per-object question)

Revision ID: 0006_uploads
Revises: 0005
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006_uploads"
down_revision: str | None = "0006_xsign"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_task_attachments_object_key", "task_attachments", ["object_key"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_task_attachments_object_key", table_name="task_attachments")
