"""outgoing documents: draft versions, reviews, deliveries and their events, signing sessions

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 15:58:11.049403
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "deliveries",
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("recipient_organization_id", sa.Uuid(), nullable=True),
        sa.Column("recipient_code", sa.String(length=13), nullable=True),
        sa.Column("recipient_name", sa.String(length=255), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("status_code", sa.String(length=2), nullable=True),
        sa.Column("status_text", sa.Text(), nullable=True),
        sa.Column("status_seq", sa.Integer(), nullable=False),
        sa.Column("recipient_document_id", sa.Uuid(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name=op.f("fk_deliveries_document_id_documents")
        ),
        sa.ForeignKeyConstraint(
            ["recipient_document_id"],
            ["documents.id"],
            name=op.f("fk_deliveries_recipient_document_id_documents"),
        ),
        sa.ForeignKeyConstraint(
            ["recipient_organization_id"],
            ["organizations.id"],
            name=op.f("fk_deliveries_recipient_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
    )
    op.create_index("ix_deliveries_document_id", "deliveries", ["document_id"], unique=False)
    op.create_index(
        "ix_deliveries_queue",
        "deliveries",
        ["channel", "state", "priority", "created_at"],
        unique=False,
    )
    op.create_index(
        "ix_deliveries_recipient_document_id", "deliveries", ["recipient_document_id"], unique=False
    )
    op.create_table(
        "document_reviews",
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("reviewer_id", sa.Uuid(), nullable=False),
        sa.Column("reviewer_name", sa.String(length=255), nullable=False),
        sa.Column("requested_by_id", sa.Uuid(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("request_comment", sa.Text(), nullable=True),
        sa.Column("version_requested", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=24), nullable=False),
        sa.Column("version_seen", sa.Integer(), nullable=True),
        sa.Column("response_comment", sa.Text(), nullable=True),
        sa.Column("responded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_document_reviews_document_id_documents"),
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["users.id"],
            name=op.f("fk_document_reviews_requested_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"], ["users.id"], name=op.f("fk_document_reviews_reviewer_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_reviews")),
    )
    op.create_index(
        "ix_document_reviews_document_id", "document_reviews", ["document_id"], unique=False
    )
    op.create_index(
        "ix_document_reviews_reviewer", "document_reviews", ["reviewer_id", "outcome"], unique=False
    )
    op.create_table(
        "signing_sessions",
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("state", sa.LargeBinary(), nullable=False),
        sa.Column("certificate_subject", sa.String(length=500), nullable=False),
        sa.Column("signature_algorithm", sa.String(length=32), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_signing_sessions_document_id_documents"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_signing_sessions_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signing_sessions")),
    )
    op.create_index(
        "ix_signing_sessions_document_id", "signing_sessions", ["document_id"], unique=False
    )
    op.create_table(
        "delivery_events",
        sa.Column("delivery_id", sa.Uuid(), nullable=False),
        sa.Column("status_code", sa.String(length=2), nullable=False),
        sa.Column("status_text", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["deliveries.id"],
            name=op.f("fk_delivery_events_delivery_id_deliveries"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_events")),
    )
    op.create_index(
        "ix_delivery_events_delivery_id", "delivery_events", ["delivery_id", "at"], unique=False
    )
    op.create_table(
        "draft_versions",
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("source_file_id", sa.Uuid(), nullable=False),
        sa.Column("pdf_file_id", sa.Uuid(), nullable=True),
        sa.Column("conversion_state", sa.String(length=16), nullable=False),
        sa.Column("conversion_error", sa.Text(), nullable=True),
        sa.Column("layout", sa.JSON(), nullable=True),
        sa.Column("template", sa.JSON(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
        sa.Column("created_by_name", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("converted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_draft_versions_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name=op.f("fk_draft_versions_document_id_documents")
        ),
        sa.ForeignKeyConstraint(
            ["pdf_file_id"],
            ["document_files.id"],
            name=op.f("fk_draft_versions_pdf_file_id_document_files"),
        ),
        sa.ForeignKeyConstraint(
            ["source_file_id"],
            ["document_files.id"],
            name=op.f("fk_draft_versions_source_file_id_document_files"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_draft_versions")),
        sa.UniqueConstraint(
            "document_id", "version", name=op.f("uq_draft_versions_document_id_version")
        ),
    )
    # Batch mode: SQLite (the embedded profile) cannot add foreign keys with ALTER TABLE.
    with op.batch_alter_table("documents") as batch:
        batch.add_column(sa.Column("signer_user_id", sa.Uuid(), nullable=True))
        batch.add_column(sa.Column("drafting_unit_id", sa.Uuid(), nullable=True))
        batch.add_column(sa.Column("draft_version", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("issued_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("issue_place", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("signer_authority", sa.String(length=255), nullable=True))
        batch.create_index("ix_documents_created_by", ["created_by_id", "state"], unique=False)
        batch.create_index(
            "ix_documents_drafting_unit", ["drafting_unit_id", "state"], unique=False
        )
        batch.create_index("ix_documents_signer_user", ["signer_user_id", "state"], unique=False)
        batch.create_foreign_key(
            op.f("fk_documents_signer_user_id_users"), "users", ["signer_user_id"], ["id"]
        )
        batch.create_foreign_key(
            op.f("fk_documents_drafting_unit_id_units"), "units", ["drafting_unit_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.drop_constraint(op.f("fk_documents_drafting_unit_id_units"), type_="foreignkey")
        batch.drop_constraint(op.f("fk_documents_signer_user_id_users"), type_="foreignkey")
        batch.drop_index("ix_documents_signer_user")
        batch.drop_index("ix_documents_drafting_unit")
        batch.drop_index("ix_documents_created_by")
        for column in (
            "signer_authority",
            "issue_place",
            "issued_at",
            "draft_version",
            "drafting_unit_id",
            "signer_user_id",
        ):
            batch.drop_column(column)
    op.drop_table("draft_versions")
    op.drop_index("ix_delivery_events_delivery_id", table_name="delivery_events")
    op.drop_table("delivery_events")
    op.drop_index("ix_signing_sessions_document_id", table_name="signing_sessions")
    op.drop_table("signing_sessions")
    op.drop_index("ix_document_reviews_reviewer", table_name="document_reviews")
    op.drop_index("ix_document_reviews_document_id", table_name="document_reviews")
    op.drop_table("document_reviews")
    op.drop_index("ix_deliveries_recipient_document_id", table_name="deliveries")
    op.drop_index("ix_deliveries_queue", table_name="deliveries")
    op.drop_index("ix_deliveries_document_id", table_name="deliveries")
    op.drop_table("deliveries")
