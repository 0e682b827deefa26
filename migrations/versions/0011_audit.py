"""audit evidence: keyed entries (version), wider chain names, pending reads, the org index

Existing entries keep version 1 (plain SHA-256) and stay verifiable; new ones are version 2
(HMAC-SHA256 with DHTN_AUDIT_KEY_FILE). Reads are written to audit_pending_reads and chained
in batches by a periodic job.

Revision ID: 0006_audit
Revises: 0005
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_audit"
down_revision: str | None = "0006_sessions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("audit_entries") as batch:
        batch.alter_column("chain", existing_type=sa.String(length=40), type_=sa.String(length=64))
        batch.add_column(
            sa.Column("version", sa.SmallInteger(), server_default="1", nullable=False)
        )
    op.create_index(
        "ix_audit_entries_org_at",
        "audit_entries",
        ["organization_id", "at", "id"],
        unique=False,
    )
    with op.batch_alter_table("audit_chain_heads") as batch:
        batch.alter_column("chain", existing_type=sa.String(length=40), type_=sa.String(length=64))
    op.create_table(
        "audit_pending_reads",
        sa.Column("chain", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event", sa.String(length=64), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("actor_name", sa.String(length=255), nullable=True),
        sa.Column("on_behalf_of_id", sa.Uuid(), nullable=True),
        sa.Column("on_behalf_of_name", sa.String(length=255), nullable=True),
        sa.Column("organization_id", sa.Uuid(), nullable=True),
        sa.Column("object_type", sa.String(length=64), nullable=True),
        sa.Column("object_id", sa.String(length=64), nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_pending_reads")),
    )
    op.create_index(
        "ix_audit_pending_reads_org",
        "audit_pending_reads",
        ["organization_id", "id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_audit_pending_reads_org", table_name="audit_pending_reads")
    op.drop_table("audit_pending_reads")
    op.drop_index("ix_audit_entries_org_at", table_name="audit_entries")
    with op.batch_alter_table("audit_entries") as batch:
        batch.drop_column("version")
