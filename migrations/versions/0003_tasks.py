"""tasks: assigned tasks, trail, attachments, notifications, reminders

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 15:22:50.133909
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reminders_sent",
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("item_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "source", "item_id", "kind", "due_date", name=op.f("pk_reminders_sent")
        ),
    )
    op.create_table(
        "notifications",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=48), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("link", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("emailed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_notifications_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    op.create_index(
        "ix_notifications_user_created",
        "notifications",
        ["user_id", "created_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_notifications_user_unread", "notifications", ["user_id", "read_at"], unique=False
    )
    op.create_table(
        "tasks",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("parent_id", sa.Uuid(), nullable=True),
        sa.Column("document_id", sa.Uuid(), nullable=True),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("assigner_id", sa.Uuid(), nullable=False),
        sa.Column("assigner_unit_id", sa.Uuid(), nullable=True),
        sa.Column("lead_unit_id", sa.Uuid(), nullable=True),
        sa.Column("lead_user_id", sa.Uuid(), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("original_due_date", sa.Date(), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("extension_due_date", sa.Date(), nullable=True),
        sa.Column("extension_reason", sa.Text(), nullable=True),
        sa.Column("extension_requested_by_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("submitted_on", sa.Date(), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("trail_seq", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "lead_unit_id IS NOT NULL OR lead_user_id IS NOT NULL", name=op.f("ck_tasks_has_lead")
        ),
        sa.CheckConstraint(
            "progress >= 0 AND progress <= 100", name=op.f("ck_tasks_progress_range")
        ),
        sa.ForeignKeyConstraint(
            ["assigner_id"], ["users.id"], name=op.f("fk_tasks_assigner_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["assigner_unit_id"], ["units.id"], name=op.f("fk_tasks_assigner_unit_id_units")
        ),
        sa.ForeignKeyConstraint(
            ["extension_requested_by_id"],
            ["users.id"],
            name=op.f("fk_tasks_extension_requested_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["lead_unit_id"], ["units.id"], name=op.f("fk_tasks_lead_unit_id_units")
        ),
        sa.ForeignKeyConstraint(
            ["lead_user_id"], ["users.id"], name=op.f("fk_tasks_lead_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_tasks_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(["parent_id"], ["tasks.id"], name=op.f("fk_tasks_parent_id_tasks")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tasks")),
    )
    op.create_index(
        "ix_tasks_assigner_due", "tasks", ["assigner_id", "due_date", "id"], unique=False
    )
    op.create_index(
        "ix_tasks_lead_unit_due", "tasks", ["lead_unit_id", "due_date", "id"], unique=False
    )
    op.create_index(
        "ix_tasks_lead_user_due", "tasks", ["lead_user_id", "due_date", "id"], unique=False
    )
    op.create_index(
        "ix_tasks_open_due",
        "tasks",
        ["due_date", "id"],
        unique=False,
        postgresql_where=sa.text("state IN ('assigned', 'in_progress', 'awaiting_approval')"),
        sqlite_where=sa.text("state IN ('assigned', 'in_progress', 'awaiting_approval')"),
    )
    op.create_index(
        "ix_tasks_open_org_due",
        "tasks",
        ["organization_id", "due_date", "id"],
        unique=False,
        postgresql_where=sa.text("state IN ('assigned', 'in_progress', 'awaiting_approval')"),
        sqlite_where=sa.text("state IN ('assigned', 'in_progress', 'awaiting_approval')"),
    )
    op.create_index(
        "ix_tasks_org_created", "tasks", ["organization_id", "created_at"], unique=False
    )
    op.create_index(
        "ix_tasks_org_submitted", "tasks", ["organization_id", "submitted_on"], unique=False
    )
    op.create_index("ix_tasks_parent_id", "tasks", ["parent_id"], unique=False)
    op.create_table(
        "task_attachments",
        sa.Column("task_id", sa.Uuid(), nullable=False),
        sa.Column("trail_seq", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=128), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("object_key", sa.String(length=200), nullable=False),
        sa.Column("uploaded_by_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["tasks.id"],
            name=op.f("fk_task_attachments_task_id_tasks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"], ["users.id"], name=op.f("fk_task_attachments_uploaded_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_attachments")),
    )
    op.create_index("ix_task_attachments_task_id", "task_attachments", ["task_id"], unique=False)
    op.create_table(
        "task_cooperators",
        sa.Column("task_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Uuid(), nullable=True),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "unit_id IS NOT NULL OR user_id IS NOT NULL", name=op.f("ck_task_cooperators_has_party")
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["tasks.id"],
            name=op.f("fk_task_cooperators_task_id_tasks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_task_cooperators_unit_id_units")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_task_cooperators_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_cooperators")),
    )
    op.create_index("ix_task_cooperators_task_id", "task_cooperators", ["task_id"], unique=False)
    op.create_index("ix_task_cooperators_unit_id", "task_cooperators", ["unit_id"], unique=False)
    op.create_index("ix_task_cooperators_user_id", "task_cooperators", ["user_id"], unique=False)
    op.create_table(
        "task_trail",
        sa.Column("task_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("actor_name", sa.String(length=255), nullable=False),
        sa.Column("unit_id", sa.Uuid(), nullable=True),
        sa.Column("unit_name", sa.String(length=255), nullable=True),
        sa.Column("on_behalf_of_id", sa.Uuid(), nullable=True),
        sa.Column("on_behalf_of_name", sa.String(length=255), nullable=True),
        sa.Column("competence", sa.String(length=8), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("from_state", sa.String(length=24), nullable=True),
        sa.Column("to_state", sa.String(length=24), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_task_trail_actor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["on_behalf_of_id"], ["users.id"], name=op.f("fk_task_trail_on_behalf_of_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.id"], name=op.f("fk_task_trail_task_id_tasks"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_task_trail_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_trail")),
        sa.UniqueConstraint("task_id", "seq", name=op.f("uq_task_trail_task_id_seq")),
    )


def downgrade() -> None:
    op.drop_table("task_trail")
    op.drop_index("ix_task_cooperators_user_id", table_name="task_cooperators")
    op.drop_index("ix_task_cooperators_unit_id", table_name="task_cooperators")
    op.drop_index("ix_task_cooperators_task_id", table_name="task_cooperators")
    op.drop_table("task_cooperators")
    op.drop_index("ix_task_attachments_task_id", table_name="task_attachments")
    op.drop_table("task_attachments")
    op.drop_index("ix_tasks_parent_id", table_name="tasks")
    op.drop_index("ix_tasks_org_submitted", table_name="tasks")
    op.drop_index("ix_tasks_org_created", table_name="tasks")
    op.drop_index(
        "ix_tasks_open_org_due",
        table_name="tasks",
        postgresql_where=sa.text("state IN ('assigned', 'in_progress', 'awaiting_approval')"),
        sqlite_where=sa.text("state IN ('assigned', 'in_progress', 'awaiting_approval')"),
    )
    op.drop_index(
        "ix_tasks_open_due",
        table_name="tasks",
        postgresql_where=sa.text("state IN ('assigned', 'in_progress', 'awaiting_approval')"),
        sqlite_where=sa.text("state IN ('assigned', 'in_progress', 'awaiting_approval')"),
    )
    op.drop_index("ix_tasks_lead_user_due", table_name="tasks")
    op.drop_index("ix_tasks_lead_unit_due", table_name="tasks")
    op.drop_index("ix_tasks_assigner_due", table_name="tasks")
    op.drop_table("tasks")
    op.drop_index("ix_notifications_user_unread", table_name="notifications")
    op.drop_index("ix_notifications_user_created", table_name="notifications")
    op.drop_table("notifications")
    op.drop_table("reminders_sent")
