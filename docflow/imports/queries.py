"""What pages and commands read about imports: the accounts still waiting for activation."""

from __future__ import annotations

from sqlalchemy import select

from docflow.actors import Actor
from docflow.imports import policy
from docflow.imports.services import UNUSABLE_PASSWORD
from docflow.models import Organization, User
from docflow.uow import UnitOfWork


def unactivated_users(uow: UnitOfWork, actor: Actor, *, limit: int = 500) -> list[User]:
    """People of the admin's subtree created by an import who have not chosen a password yet."""
    policy.ensure_can_import(actor)
    with uow:
        return list(
            uow.session.scalars(
                select(User)
                .join(Organization, User.organization_id == Organization.id)
                .where(
                    User.password_hash == UNUSABLE_PASSWORD,
                    Organization.path.startswith(actor.organization_path, autoescape=True),
                )
                .order_by(User.username)
                .limit(limit)
            )
        )
