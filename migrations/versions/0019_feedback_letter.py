"""feedback forwarded outside the tree: the draft công văn linked to the item (issue 18)

Revision ID: 0018_feedback_letter
Revises: 0018_imports
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018_feedback_letter"
down_revision: str | None = "0018_imports"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("feedback_items") as batch:
        batch.add_column(sa.Column("letter_document_id", sa.Uuid(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_feedback_items_letter_document_id_documents"),
            "documents",
            ["letter_document_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("feedback_items") as batch:
        batch.drop_constraint(
            op.f("fk_feedback_items_letter_document_id_documents"), type_="foreignkey"
        )
        batch.drop_column("letter_document_id")
