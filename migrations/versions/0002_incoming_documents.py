"""incoming documents

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 15:20:02.270580
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "documents",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("direction", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("register_id", sa.Uuid(), nullable=True),
        sa.Column("register_number", sa.Integer(), nullable=True),
        sa.Column("notation", sa.String(length=64), nullable=True),
        sa.Column("doc_type", sa.String(length=8), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("issuer_name", sa.String(length=255), nullable=True),
        sa.Column("issuer_code", sa.String(length=13), nullable=True),
        sa.Column("issued_date", sa.Date(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("listed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("urgency", sa.String(length=16), nullable=False),
        sa.Column("urgency_rank", sa.Integer(), nullable=False),
        sa.Column("secrecy", sa.String(length=16), nullable=False),
        sa.Column("secrecy_rank", sa.Integer(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("page_count", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("signer_name", sa.String(length=255), nullable=True),
        sa.Column("signer_position", sa.String(length=255), nullable=True),
        sa.Column("signer_competence", sa.String(length=8), nullable=True),
        sa.Column("recipients_text", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("submitted_to_id", sa.Uuid(), nullable=True),
        sa.Column("reply_document_id", sa.Uuid(), nullable=True),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("verification", sa.JSON(), nullable=True),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_documents_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_documents_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["register_id"], ["registers.id"], name=op.f("fk_documents_register_id_registers")
        ),
        sa.ForeignKeyConstraint(
            ["reply_document_id"],
            ["documents.id"],
            name=op.f("fk_documents_reply_document_id_documents"),
        ),
        sa.ForeignKeyConstraint(
            ["submitted_to_id"], ["users.id"], name=op.f("fk_documents_submitted_to_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
        sa.UniqueConstraint(
            "register_id", "register_number", name=op.f("uq_documents_register_id_register_number")
        ),
    )
    op.create_index(
        "ix_documents_box",
        "documents",
        ["organization_id", "direction", "state", "urgency_rank", "listed_at"],
        unique=False,
    )
    op.create_index(
        "ix_documents_duplicate",
        "documents",
        ["organization_id", "issuer_name", "notation", "issued_date"],
        unique=False,
    )
    op.create_index(
        "ix_documents_org_listed",
        "documents",
        ["organization_id", "direction", "urgency_rank", "listed_at"],
        unique=False,
    )
    op.create_index(
        "ix_documents_submitted_to", "documents", ["submitted_to_id", "state"], unique=False
    )
    op.create_table(
        "assignments",
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("unit_id", sa.Uuid(), nullable=True),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("parent_id", sa.Uuid(), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("assigned_by_id", sa.Uuid(), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_on", sa.Date(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assigned_by_id"], ["users.id"], name=op.f("fk_assignments_assigned_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name=op.f("fk_assignments_document_id_documents")
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["assignments.id"], name=op.f("fk_assignments_parent_id_assignments")
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_assignments_unit_id_units")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_assignments_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignments")),
    )
    op.create_index("ix_assignments_document_id", "assignments", ["document_id"], unique=False)
    op.create_index("ix_assignments_unit_state", "assignments", ["unit_id", "state"], unique=False)
    op.create_index("ix_assignments_user_state", "assignments", ["user_id", "state"], unique=False)
    op.create_table(
        "document_files",
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content_type", sa.String(length=128), nullable=False),
        sa.Column("object_key", sa.String(length=128), nullable=False),
        sa.Column("verification", sa.JSON(), nullable=True),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_document_files_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name=op.f("fk_document_files_document_id_documents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_files")),
    )
    op.create_index(
        "ix_document_files_document_id", "document_files", ["document_id"], unique=False
    )
    op.create_index("ix_document_files_object_key", "document_files", ["object_key"], unique=False)
    op.create_table(
        "document_trail",
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("from_state", sa.String(length=24), nullable=True),
        sa.Column("to_state", sa.String(length=24), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("actor_name", sa.String(length=255), nullable=False),
        sa.Column("unit_id", sa.Uuid(), nullable=True),
        sa.Column("unit_name", sa.String(length=255), nullable=True),
        sa.Column("on_behalf_of_id", sa.Uuid(), nullable=True),
        sa.Column("on_behalf_of_name", sa.String(length=255), nullable=True),
        sa.Column("competence", sa.String(length=8), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_document_trail_actor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name=op.f("fk_document_trail_document_id_documents")
        ),
        sa.ForeignKeyConstraint(
            ["on_behalf_of_id"], ["users.id"], name=op.f("fk_document_trail_on_behalf_of_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_document_trail_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_trail")),
        sa.UniqueConstraint("document_id", "seq", name=op.f("uq_document_trail_document_id_seq")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.create_index(
            "ix_documents_search",
            "documents",
            ["search_text"],
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_documents_search", table_name="documents")

    op.drop_table("document_trail")
    op.drop_index("ix_document_files_object_key", table_name="document_files")
    op.drop_index("ix_document_files_document_id", table_name="document_files")
    op.drop_table("document_files")
    op.drop_index("ix_assignments_user_state", table_name="assignments")
    op.drop_index("ix_assignments_unit_state", table_name="assignments")
    op.drop_index("ix_assignments_document_id", table_name="assignments")
    op.drop_table("assignments")
    op.drop_index("ix_documents_submitted_to", table_name="documents")
    op.drop_index("ix_documents_org_listed", table_name="documents")
    op.drop_index("ix_documents_duplicate", table_name="documents")
    op.drop_index("ix_documents_box", table_name="documents")
    op.drop_table("documents")
