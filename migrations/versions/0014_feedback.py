"""citizen feedback: the QR mailbox

Revision ID: 0014_feedback
Revises: 0013_reset_requests
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_feedback"
down_revision: str | None = "0013_reset_requests"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "feedback_settings",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("places", sa.JSON(), nullable=False),
        sa.Column("retention_days", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_feedback_settings_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("organization_id", name=op.f("pk_feedback_settings")),
    )
    op.create_table(
        "feedback_items",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("root_id", sa.Uuid(), nullable=True),
        sa.Column("origin_id", sa.Uuid(), nullable=True),
        sa.Column("tracking_code", sa.String(length=16), nullable=True),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("category", sa.String(length=100), nullable=False),
        sa.Column("place", sa.String(length=150), nullable=True),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("sender_name", sa.String(length=150), nullable=True),
        sa.Column("sender_phone", sa.String(length=20), nullable=True),
        sa.Column("sender_email", sa.String(length=254), nullable=True),
        sa.Column("sender_address", sa.String(length=255), nullable=True),
        sa.Column("consent", sa.Boolean(), nullable=False),
        sa.Column("share_contact", sa.Boolean(), nullable=False),
        sa.Column("personal_erased_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("content_digest", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("quarantine_reason", sa.String(length=32), nullable=True),
        sa.Column("complexity", sa.String(length=8), nullable=False),
        sa.Column("in_scope", sa.Boolean(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("original_due_date", sa.Date(), nullable=False),
        sa.Column("extension_reason", sa.Text(), nullable=True),
        sa.Column("assignee_id", sa.Uuid(), nullable=True),
        sa.Column("task_id", sa.Uuid(), nullable=True),
        sa.Column("forwarded_to_org_id", sa.Uuid(), nullable=True),
        sa.Column("forwarded_to_agency", sa.String(length=255), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_on", sa.Date(), nullable=True),
        sa.Column("answered_by_id", sa.Uuid(), nullable=True),
        sa.Column("reject_reason", sa.Text(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("trail_seq", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["answered_by_id"], ["users.id"], name=op.f("fk_feedback_items_answered_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["assignee_id"], ["users.id"], name=op.f("fk_feedback_items_assignee_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["forwarded_to_org_id"],
            ["organizations.id"],
            name=op.f("fk_feedback_items_forwarded_to_org_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_feedback_items_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["origin_id"],
            ["feedback_items.id"],
            name=op.f("fk_feedback_items_origin_id_feedback_items"),
        ),
        sa.ForeignKeyConstraint(
            ["root_id"],
            ["feedback_items.id"],
            name=op.f("fk_feedback_items_root_id_feedback_items"),
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.id"], name=op.f("fk_feedback_items_task_id_tasks")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_items")),
        sa.UniqueConstraint("tracking_code", name=op.f("uq_feedback_items_tracking_code")),
    )
    op.create_index(
        "ix_feedback_items_open_due",
        "feedback_items",
        ["due_date", "id"],
        unique=False,
        postgresql_where=sa.text("state IN ('received', 'accepted', 'in_progress', 'forwarded')"),
        sqlite_where=sa.text("state IN ('received', 'accepted', 'in_progress', 'forwarded')"),
    )
    op.create_index(
        "ix_feedback_items_org_digest",
        "feedback_items",
        ["organization_id", "content_digest"],
        unique=False,
    )
    op.create_index(
        "ix_feedback_items_org_received",
        "feedback_items",
        ["organization_id", "received_at", "id"],
        unique=False,
    )
    op.create_index("ix_feedback_items_origin_id", "feedback_items", ["origin_id"], unique=False)
    op.create_index("ix_feedback_items_root_id", "feedback_items", ["root_id"], unique=False)
    op.create_table(
        "feedback_files",
        sa.Column("feedback_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=128), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("object_key", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["feedback_id"],
            ["feedback_items.id"],
            name=op.f("fk_feedback_files_feedback_id_feedback_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_files")),
    )
    op.create_index(
        "ix_feedback_files_feedback_id", "feedback_files", ["feedback_id"], unique=False
    )
    op.create_index("ix_feedback_files_object_key", "feedback_files", ["object_key"], unique=False)
    op.create_table(
        "feedback_trail",
        sa.Column("feedback_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("actor_name", sa.String(length=255), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("from_state", sa.String(length=16), nullable=True),
        sa.Column("to_state", sa.String(length=16), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_feedback_trail_actor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["feedback_id"],
            ["feedback_items.id"],
            name=op.f("fk_feedback_trail_feedback_id_feedback_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_feedback_trail_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_trail")),
        sa.UniqueConstraint("feedback_id", "seq", name=op.f("uq_feedback_trail_feedback_id_seq")),
    )


def downgrade() -> None:
    op.drop_table("feedback_trail")
    op.drop_index("ix_feedback_files_object_key", table_name="feedback_files")
    op.drop_index("ix_feedback_files_feedback_id", table_name="feedback_files")
    op.drop_table("feedback_files")
    op.drop_index("ix_feedback_items_root_id", table_name="feedback_items")
    op.drop_index("ix_feedback_items_origin_id", table_name="feedback_items")
    op.drop_index("ix_feedback_items_org_received", table_name="feedback_items")
    op.drop_index("ix_feedback_items_org_digest", table_name="feedback_items")
    op.drop_index(
        "ix_feedback_items_open_due",
        table_name="feedback_items",
        postgresql_where=sa.text("state IN ('received', 'accepted', 'in_progress', 'forwarded')"),
        sqlite_where=sa.text("state IN ('received', 'accepted', 'in_progress', 'forwarded')"),
    )
    op.drop_table("feedback_items")
    op.drop_table("feedback_settings")
