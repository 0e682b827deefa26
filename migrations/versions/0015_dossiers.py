"""dossiers and the archive: file plans, dossiers, items, events, disposals

Revision ID: 0014_dossiers
Revises: 0014_feedback
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_dossiers"
down_revision: str | None = "0014_feedback"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "disposals",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("dossier_ids", sa.JSON(), nullable=False),
        sa.Column("proposed_by_id", sa.Uuid(), nullable=False),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by_id", sa.Uuid(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_comment", sa.Text(), nullable=True),
        sa.Column("record", sa.JSON(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["users.id"], name=op.f("fk_disposals_decided_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_disposals_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["proposed_by_id"], ["users.id"], name=op.f("fk_disposals_proposed_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disposals")),
    )
    op.create_index(
        "ix_disposals_org_state", "disposals", ["organization_id", "state"], unique=False
    )
    op.create_table(
        "file_plans",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("approved_by_id", sa.Uuid(), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["approved_by_id"], ["users.id"], name=op.f("fk_file_plans_approved_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_file_plans_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_file_plans_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_file_plans")),
        sa.UniqueConstraint(
            "organization_id", "year", name=op.f("uq_file_plans_organization_id_year")
        ),
    )
    op.create_table(
        "file_plan_headings",
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("unit_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["file_plans.id"],
            name=op.f("fk_file_plan_headings_plan_id_file_plans"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_file_plan_headings_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_file_plan_headings")),
    )
    op.create_index(
        "ix_file_plan_headings_plan_id", "file_plan_headings", ["plan_id"], unique=False
    )
    op.create_table(
        "file_plan_items",
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("heading_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("unit_id", sa.Uuid(), nullable=True),
        sa.Column("keeper_id", sa.Uuid(), nullable=True),
        sa.Column("retention_years", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("approved", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["heading_id"],
            ["file_plan_headings.id"],
            name=op.f("fk_file_plan_items_heading_id_file_plan_headings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["keeper_id"], ["users.id"], name=op.f("fk_file_plan_items_keeper_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["file_plans.id"],
            name=op.f("fk_file_plan_items_plan_id_file_plans"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_file_plan_items_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_file_plan_items")),
        sa.UniqueConstraint("plan_id", "code", name=op.f("uq_file_plan_items_plan_id_code")),
    )
    op.create_index(
        "ix_file_plan_items_heading_id", "file_plan_items", ["heading_id"], unique=False
    )
    op.create_table(
        "dossiers",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("unit_id", sa.Uuid(), nullable=True),
        sa.Column("keeper_id", sa.Uuid(), nullable=False),
        sa.Column("retention_years", sa.Integer(), nullable=True),
        sa.Column("secrecy", sa.String(length=16), nullable=False),
        sa.Column("secrecy_rank", sa.Integer(), nullable=False),
        sa.Column("plan_item_id", sa.Uuid(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("page_total", sa.Integer(), nullable=True),
        sa.Column("document_count", sa.Integer(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("toc_docx_key", sa.String(length=128), nullable=True),
        sa.Column("toc_pdf_key", sa.String(length=128), nullable=True),
        sa.Column("transferred_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("legal_hold", sa.Text(), nullable=True),
        sa.Column("disposed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("event_seq", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["keeper_id"], ["users.id"], name=op.f("fk_dossiers_keeper_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_dossiers_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["plan_item_id"],
            ["file_plan_items.id"],
            name=op.f("fk_dossiers_plan_item_id_file_plan_items"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_dossiers_unit_id_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dossiers")),
        sa.UniqueConstraint(
            "organization_id", "year", "code", name=op.f("uq_dossiers_organization_id_year_code")
        ),
    )
    op.create_index("ix_dossiers_keeper", "dossiers", ["keeper_id"], unique=False)
    op.create_index(
        "ix_dossiers_org_year_state", "dossiers", ["organization_id", "year", "state"], unique=False
    )
    op.create_index("ix_dossiers_unit", "dossiers", ["unit_id"], unique=False)
    op.create_table(
        "dossier_events",
        sa.Column("dossier_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("from_state", sa.String(length=16), nullable=True),
        sa.Column("to_state", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("actor_name", sa.String(length=255), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_dossier_events_actor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["dossier_id"],
            ["dossiers.id"],
            name=op.f("fk_dossier_events_dossier_id_dossiers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dossier_events")),
        sa.UniqueConstraint("dossier_id", "seq", name=op.f("uq_dossier_events_dossier_id_seq")),
    )
    op.create_table(
        "dossier_items",
        sa.Column("dossier_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Uuid(), nullable=True),
        sa.Column("task_id", sa.Uuid(), nullable=True),
        sa.Column("page_count", sa.Integer(), nullable=True),
        sa.Column("filed_by_id", sa.Uuid(), nullable=False),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name=op.f("fk_dossier_items_document_id_documents")
        ),
        sa.ForeignKeyConstraint(
            ["dossier_id"],
            ["dossiers.id"],
            name=op.f("fk_dossier_items_dossier_id_dossiers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["filed_by_id"], ["users.id"], name=op.f("fk_dossier_items_filed_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.id"], name=op.f("fk_dossier_items_task_id_tasks")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dossier_items")),
        sa.UniqueConstraint(
            "dossier_id", "document_id", name=op.f("uq_dossier_items_dossier_id_document_id")
        ),
        sa.UniqueConstraint(
            "dossier_id", "task_id", name=op.f("uq_dossier_items_dossier_id_task_id")
        ),
    )
    op.create_index("ix_dossier_items_document_id", "dossier_items", ["document_id"], unique=False)
    op.create_index("ix_dossier_items_task_id", "dossier_items", ["task_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_dossier_items_task_id", table_name="dossier_items")
    op.drop_index("ix_dossier_items_document_id", table_name="dossier_items")
    op.drop_table("dossier_items")
    op.drop_table("dossier_events")
    op.drop_index("ix_dossiers_unit", table_name="dossiers")
    op.drop_index("ix_dossiers_org_year_state", table_name="dossiers")
    op.drop_index("ix_dossiers_keeper", table_name="dossiers")
    op.drop_table("dossiers")
    op.drop_index("ix_file_plan_items_heading_id", table_name="file_plan_items")
    op.drop_table("file_plan_items")
    op.drop_index("ix_file_plan_headings_plan_id", table_name="file_plan_headings")
    op.drop_table("file_plan_headings")
    op.drop_table("file_plans")
    op.drop_index("ix_disposals_org_state", table_name="disposals")
    op.drop_table("disposals")
