"""documents imported from old systems, and from what (issue 15)

Revision ID: 0020_docimport
Revises: 0018_feedback_letter
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020_docimport"
down_revision: str | None = "0020_search"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "document_imports",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("identity", sa.String(600), nullable=False),
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("source", sa.String(500), nullable=False),
        sa.Column("source_row", sa.Integer(), nullable=True),
        sa.Column("imported_by_id", sa.Uuid(), nullable=True),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name="fk_document_imports_organization_id_organizations",
        ),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name="fk_document_imports_document_id_documents"
        ),
        sa.ForeignKeyConstraint(
            ["imported_by_id"], ["users.id"], name="fk_document_imports_imported_by_id_users"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_document_imports"),
        sa.UniqueConstraint(
            "organization_id", "identity", name="uq_document_imports_organization_id_identity"
        ),
    )
    op.create_index("ix_document_imports_document_id", "document_imports", ["document_id"])


def downgrade() -> None:
    op.drop_index("ix_document_imports_document_id", table_name="document_imports")
    op.drop_table("document_imports")
