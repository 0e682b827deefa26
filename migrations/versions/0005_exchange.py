"""exchange log: packages and status messages in and out

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "exchange_messages",
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("status_code", sa.String(length=4), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("peer_code", sa.String(length=13), nullable=True),
        sa.Column("document_id", sa.Uuid(), nullable=True),
        sa.Column("axis_doc_id", sa.String(length=128), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_exchange_messages_document_id_documents"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_exchange_messages_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_messages")),
        sa.UniqueConstraint(
            "direction",
            "kind",
            "organization_id",
            "key",
            "status_code",
            "peer_code",
            name="uq_exchange_messages_key",
        ),
    )
    op.create_index("ix_exchange_messages_document_id", "exchange_messages", ["document_id"])
    op.create_index("ix_exchange_messages_state", "exchange_messages", ["state", "updated_at"])


def downgrade() -> None:
    op.drop_index("ix_exchange_messages_state", table_name="exchange_messages")
    op.drop_index("ix_exchange_messages_document_id", table_name="exchange_messages")
    op.drop_table("exchange_messages")
