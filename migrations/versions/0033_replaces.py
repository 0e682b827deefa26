"""documents.replaces_id and replaces_kind: a replacing document (errors of content) or a
correction (đính chính, errors of form) names the earlier document it acts upon, on the
issuing side and on each recipient's copy (Decree 30 Art. 10(3); edXML BussinessDocType 3, 2);
documents.has_replacements marks a document some other one names

Revision ID: 0033_replaces
Revises: 0032_axis_held
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0033_replaces"
down_revision: str | None = "0032_axis_held"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.add_column(sa.Column("replaces_id", sa.Uuid(), nullable=True))
        batch.add_column(sa.Column("replaces_kind", sa.String(8), nullable=True))
        batch.add_column(
            sa.Column("has_replacements", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.create_foreign_key(
            op.f("fk_documents_replaces_id_documents"), "documents", ["replaces_id"], ["id"]
        )
        batch.create_index("ix_documents_replaces", ["replaces_id"])
        batch.create_check_constraint(
            op.f("ck_documents_replaces_kind"),
            "(replaces_id IS NULL AND replaces_kind IS NULL)"
            " OR (replaces_id IS NOT NULL AND replaces_kind IS NOT NULL"
            " AND replaces_kind IN ('replace', 'correct'))",
        )


def downgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.drop_constraint(op.f("ck_documents_replaces_kind"), type_="check")
        batch.drop_index("ix_documents_replaces")
        batch.drop_constraint(op.f("fk_documents_replaces_id_documents"), type_="foreignkey")
        batch.drop_column("has_replacements")
        batch.drop_column("replaces_kind")
        batch.drop_column("replaces_id")
