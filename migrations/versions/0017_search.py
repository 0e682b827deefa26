"""text of document files, full-text index of documents (issue 14)

Revision ID: 0014_search
Revises: 0014_reports
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from docflow.models.search import TSVector

revision: str = "0014_search"
down_revision: str | None = "0014_reports"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    with op.batch_alter_table("document_files") as batch:
        batch.add_column(
            sa.Column("text_status", sa.String(16), nullable=False, server_default="none")
        )
        batch.add_column(sa.Column("derived_from_id", sa.Uuid(), nullable=True))
        batch.create_foreign_key(
            "fk_document_files_derived_from_id_document_files",
            "document_files",
            ["derived_from_id"],
            ["id"],
        )
    op.create_table(
        "file_texts",
        sa.Column("file_id", sa.Uuid(), nullable=False),
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("method", sa.String(16), nullable=True),
        sa.Column("language", sa.String(8), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("pages", sa.JSON(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("error", sa.String(500), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["file_id"], ["document_files.id"], name="fk_file_texts_file_id_document_files"
        ),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name="fk_file_texts_document_id_documents"
        ),
        sa.PrimaryKeyConstraint("file_id", name="pk_file_texts"),
    )
    op.create_index("ix_file_texts_document_id", "file_texts", ["document_id"])
    op.create_table(
        "document_search",
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("tsv", TSVector(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name="fk_document_search_document_id_documents"
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name="fk_document_search_organization_id_organizations",
        ),
        sa.PrimaryKeyConstraint("document_id", name="pk_document_search"),
    )
    if postgres:
        # btree_gin: the organisation and the words in one GIN index.
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
    op.create_index(
        "ix_document_search_tsv",
        "document_search",
        ["organization_id", "tsv"],
        postgresql_using="gin",
    )


def downgrade() -> None:
    op.drop_index("ix_document_search_tsv", table_name="document_search")
    op.drop_table("document_search")
    op.drop_index("ix_file_texts_document_id", table_name="file_texts")
    op.drop_table("file_texts")
    with op.batch_alter_table("document_files") as batch:
        batch.drop_constraint(
            "fk_document_files_derived_from_id_document_files", type_="foreignkey"
        )
        batch.drop_column("derived_from_id")
        batch.drop_column("text_status")
