"""the people page's role filter: user_roles by (role, user_id) (issue 15)

A rare role (archivist, feedback officer) among 270,000 people: without this index the filter
reads every person of the scope in username order and probes their roles; with it, PostgreSQL
finds the few holders first.

Revision ID: 0026_onboarding
Revises: 0020_changes
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0026_onboarding"
down_revision: str | None = "0026_audit_pending"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_user_roles_role_user", "user_roles", ["role", "user_id"])


def downgrade() -> None:
    op.drop_index("ix_user_roles_role_user", table_name="user_roles")
