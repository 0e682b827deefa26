"""exchange fields at real sizes; reply links and recall requests of received documents

Columns filled from packages of other systems become at least as wide as the edXML reader's
limits (interop.edxml.fields): a competence "KT. CHỦ NHIỆM" no longer overflows varchar(8).

Revision ID: 0006_xfields
Revises: 0005
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_xfields"
down_revision: str | None = "0006_uploads"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, column, old length, new length)
_WIDENED = [
    ("documents", "notation", 64, 255),
    ("documents", "issuer_name", 255, 500),
    ("documents", "issuer_code", 13, 64),
    ("documents", "signer_position", 255, 500),
    ("documents", "signer_competence", 8, 500),
    ("exchange_messages", "key", 300, 512),
    ("exchange_messages", "peer_code", 13, 64),
    ("deliveries", "recipient_code", 13, 64),
]


def _resize(table: str, *, grow: bool) -> None:
    with op.batch_alter_table(table) as batch:
        for name, column, old, new in _WIDENED:
            if name == table:
                batch.alter_column(
                    column,
                    existing_type=sa.String(length=old if grow else new),
                    type_=sa.String(length=new if grow else old),
                    existing_nullable=column not in ("key",),
                )


def upgrade() -> None:
    _resize("documents", grow=True)
    _resize("exchange_messages", grow=True)
    _resize("deliveries", grow=True)
    with op.batch_alter_table("documents") as batch:
        batch.add_column(sa.Column("in_reply_to_id", sa.Uuid(), nullable=True))
        batch.add_column(sa.Column("recall_request", sa.JSON(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_documents_in_reply_to_id_documents"), "documents", ["in_reply_to_id"], ["id"]
        )
        batch.create_index("ix_documents_in_reply_to", ["in_reply_to_id"])


def downgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.drop_index("ix_documents_in_reply_to")
        batch.drop_constraint(op.f("fk_documents_in_reply_to_id_documents"), type_="foreignkey")
        batch.drop_column("recall_request")
        batch.drop_column("in_reply_to_id")
    _resize("deliveries", grow=False)
    _resize("exchange_messages", grow=False)
    _resize("documents", grow=False)
