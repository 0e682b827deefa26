"""indexes shaped for "waiting for me": the phone's badges and the inbox boxes (issue 20)

Each reason a document waits for someone is one small index range: the clerk's documents to
register or issue (partial on those states, covering organisation, clearance and deadline), and
the open assignments of a person or of a unit (partial on open, working assignments, covering
the document), and incoming documents by deadline (the late ones of a unit with many open
assignments, few of them late). ``docflow.documents.access`` writes the same predicates as constants, so that a
prepared statement's plan can use them.

Revision ID: 0026_counters
Revises: 0020_changes
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026_counters"
down_revision: str | None = "0026_onboarding"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CLERK_INCOMING = "direction = 'incoming' AND state IN ('arrived', 'registered')"
CLERK_OUTGOING = "direction = 'outgoing' AND state IN ('signed', 'issued')"
OPEN_WORK = "state IN ('pending', 'in_progress') AND role IN ('lead', 'cooperating')"
OPEN_UNIT_WORK = "user_id IS NULL AND " + OPEN_WORK
INCOMING_DATED = "direction = 'incoming' AND due_date IS NOT NULL"

INDEXES: list[tuple[str, str, list[str], str]] = [
    (
        "ix_documents_waiting_incoming",
        "documents",
        ["organization_id", "due_date", "secrecy_rank", "id"],
        CLERK_INCOMING,
    ),
    (
        "ix_documents_waiting_outgoing",
        "documents",
        ["organization_id", "due_date", "secrecy_rank", "id"],
        CLERK_OUTGOING,
    ),
    # The late ones among a unit's many open assignments: from the organisation's deadlines.
    ("ix_documents_incoming_due", "documents", ["organization_id", "due_date"], INCOMING_DATED),
    ("ix_assignments_open_user", "assignments", ["user_id", "document_id"], OPEN_WORK),
    ("ix_assignments_open_unit", "assignments", ["unit_id", "document_id"], OPEN_UNIT_WORK),
]


def upgrade() -> None:
    for name, table, columns, where in INDEXES:
        op.create_index(
            name,
            table,
            columns,
            postgresql_where=sa.text(where),
            sqlite_where=sa.text(where),
        )


def downgrade() -> None:
    for name, table, _columns, _where in reversed(INDEXES):
        op.drop_index(name, table_name=table)
