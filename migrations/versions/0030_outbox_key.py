"""the outbox message's key: one waiting message of a topic stands for every change before it
(an organisation's statistics, issue 19)

``UnitOfWork.enqueue_coalesced`` looks for a waiting message of the topic with the same key and
writes none of its own when it finds one; the partial index makes that lookup one small range
however long the outbox's backlog.

Revision ID: 0030_outbox_key
Revises: 0029_rollup_months
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0030_outbox_key"
down_revision: str | None = "0029_rollup_months"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WAITING = "done_at IS NULL AND key IS NOT NULL"


def upgrade() -> None:
    with op.batch_alter_table("outbox_messages") as batch:
        batch.add_column(sa.Column("key", sa.String(100), nullable=True))
    op.create_index(
        "ix_outbox_messages_waiting_key",
        "outbox_messages",
        ["topic", "key"],
        unique=False,
        postgresql_where=sa.text(WAITING),
        sqlite_where=sa.text(WAITING),
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_messages_waiting_key", table_name="outbox_messages")
    with op.batch_alter_table("outbox_messages") as batch:
        batch.drop_column("key")
