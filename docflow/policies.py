"""Permission rules, next to the data they protect; every path (pages, API, CLI, tasks) uses them.

Objects of an organisation the actor cannot see are reported as missing (NotFoundError), never
as forbidden, so that nobody learns what another organisation holds.
"""

from __future__ import annotations

import uuid

from docflow.actors import Actor
from docflow.enums import Role
from docflow.errors import NotFoundError, PermissionDeniedError
from docflow.models import Organization, User


def require_role(actor: Actor, *roles: Role) -> None:
    """Refuse unless the actor holds one of ``roles`` (own or delegated)."""
    if not any(actor.has_role(r) for r in roles):
        raise PermissionDeniedError()


def is_admin_of(actor: Actor, org: Organization) -> bool:
    """An organisation's admin manages it and its whole subtree."""
    return actor.has_role(Role.ADMIN) and actor.in_subtree(org)


def ensure_can_manage_org(actor: Actor, org: Organization | None) -> Organization:
    """Admins of an ancestor (or the organisation itself) may change it; others never see it."""
    if org is None:
        raise NotFoundError()
    if not actor.has_role(Role.ADMIN):
        if org.id == actor.organization_id:
            raise PermissionDeniedError()
        raise NotFoundError()
    if not actor.in_subtree(org):
        raise NotFoundError()
    return org


def ensure_can_view_org_internals(actor: Actor, org: Organization | None) -> Organization:
    """Units and people of an organisation: its own members, and admins above it."""
    if org is None:
        raise NotFoundError()
    if org.id == actor.organization_id or is_admin_of(actor, org):
        return org
    raise NotFoundError()


def ensure_can_manage_user(actor: Actor, user: User | None) -> User:
    if user is None:
        raise NotFoundError()
    ensure_can_manage_org(actor, user.organization)
    return user


def ensure_can_edit_calendar(actor: Actor, root_id: uuid.UUID | None) -> None:
    """The holiday calendar is national: only admins of the root organisation edit it."""
    require_role(actor, Role.ADMIN)
    if root_id is None or not actor.organization_path.startswith(f"/{root_id}/"):
        raise PermissionDeniedError()
    if actor.organization_path != f"/{root_id}/":
        raise PermissionDeniedError()
