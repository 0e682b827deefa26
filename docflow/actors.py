"""Who is acting: a user with their own roles and the roles delegated to them today."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Date, bindparam, exists, func, select
from sqlalchemy.orm import Session

from docflow.enums import Role, Secrecy
from docflow.errors import AuthenticationError, PermissionDeniedError
from docflow.models import Delegation, Organization, Unit, User, UserRole


@dataclass(frozen=True)
class DelegatedRole:
    """A role held through a delegation: the trail shows both names and the competence."""

    role: Role
    delegator_id: uuid.UUID
    delegator_name: str
    competence: str
    delegation_id: uuid.UUID


@dataclass(frozen=True)
class Actor:
    """The person behind a service call.

    Attributes:
        user_id, username, full_name: the person.
        organization_id, organization_path: their organisation and its place in the tree.
        unit_id: their unit, if any.
        roles: the roles they hold themselves.
        delegated: roles held today through a delegation.
        clearance: the highest secrecy level they may see.
        unit_name: their unit's name when it was read with them (the token's statement reads
            it, so the trail of an action needs no statement for it); None: not read.
    """

    user_id: uuid.UUID
    username: str
    full_name: str
    organization_id: uuid.UUID
    organization_path: str
    unit_id: uuid.UUID | None
    roles: frozenset[Role]
    delegated: tuple[DelegatedRole, ...] = ()
    clearance: Secrecy = Secrecy.NONE
    unit_name: str | None = None

    def has_role(self, role: Role) -> bool:
        return role in self.roles or any(d.role is role for d in self.delegated)

    def acting_for(self, role: Role) -> DelegatedRole | None:
        """The delegation used to act in ``role``, or None when the role is the actor's own."""
        if role in self.roles:
            return None
        return next((d for d in self.delegated if d.role is role), None)

    @property
    def effective_roles(self) -> frozenset[Role]:
        return self.roles | {d.role for d in self.delegated}


def require_role(actor: Actor, *roles: Role) -> None:
    """Refuse (403) unless the actor holds one of ``roles`` (own or delegated)."""
    if not any(actor.has_role(r) for r in roles):
        raise PermissionDeniedError()


def delegation_refusal(delegator: User, delegate: User, role: Role) -> str | None:
    """Why ``delegate`` may not hold ``role`` in ``delegator``'s place (None: they may).

    A delegate acts only in the delegator's place: in the delegator's organisation, with a role
    the delegator holds (checked again each time the delegation is used, so that it ends with
    the role), and unit-head powers only inside the delegator's unit (a unit head's powers are
    the unit's: someone of another unit would otherwise direct their own unit with them). The
    same rule refuses a delegation when it is created and ignores it when it is used.
    """
    if not delegator.active or not delegate.active:
        return "Người ủy quyền và người được ủy quyền phải đang hoạt động."
    if delegate.organization_id != delegator.organization_id:
        return "Người được ủy quyền phải cùng tổ chức với người ủy quyền."
    if role is Role.ADMIN:
        return "Không ủy quyền vai trò quản trị."
    if role not in delegator.roles:
        return "Chỉ ủy quyền được vai trò mà người ủy quyền đang có."
    if role is Role.UNIT_HEAD and (
        delegator.unit_id is None or delegate.unit_id != delegator.unit_id
    ):
        return "Quyền lãnh đạo đơn vị chỉ ủy quyền cho người cùng đơn vị."
    return None


def actor_from_user(session: Session, user: User, today: dt.date) -> Actor:
    """Build the actor for ``user`` on ``today`` (local date), with active delegations: only
    the delegated roles :func:`delegation_refusal` still allows today. A person of a
    deactivated organisation is signed out like a deactivated person."""
    if not user.active or not user.organization.active:
        raise AuthenticationError()
    rows = session.scalars(
        select(Delegation).where(
            Delegation.delegate_id == user.id,
            Delegation.revoked_at.is_(None),
            Delegation.start_date <= today,
            Delegation.end_date >= today,
        )
    ).all()
    delegated = tuple(
        DelegatedRole(
            role=role,
            delegator_id=d.delegator_id,
            delegator_name=d.delegator.full_name,
            competence=d.competence,
            delegation_id=d.id,
        )
        for d in rows
        if d.organization_id == user.organization_id
        # One an admin recorded for themselves gives nothing (docflow.directory.policy).
        and (d.created_by_id != user.id or d.delegator_id == user.id)
        for role in map(Role, d.roles)
        if delegation_refusal(d.delegator, user, role) is None
    )
    return Actor(
        user_id=user.id,
        username=user.username,
        full_name=user.full_name,
        organization_id=user.organization_id,
        organization_path=user.organization.path,
        unit_id=user.unit_id,
        roles=user.roles,
        delegated=delegated,
        clearance=user.clearance_level,
    )


#: The parameter :func:`actor_columns` reads "today" (the local date) from.
ACTOR_TODAY = "actor_today"


def actor_columns() -> tuple[Any, ...]:
    """What an actor is made of, as columns of a select joining ``users`` and
    ``organizations`` (labelled ``actor_*``): the person, their organisation's state and path,
    their unit's name, their own roles (one string) and whether a delegation to them runs on
    the date given as the :data:`ACTOR_TODAY` parameter. With :func:`actor_from_row`, a
    request's actor costs one statement instead of loading the user, their organisation, unit
    and roles as objects (every API request starts here); the statement can be built once and
    reused."""
    today = bindparam(ACTOR_TODAY, type_=Date)
    roles = (
        select(func.aggregate_strings(UserRole.role, ","))
        .where(UserRole.user_id == User.id)
        .correlate(User)
        .scalar_subquery()
    )
    unit_name = select(Unit.name).where(Unit.id == User.unit_id).correlate(User).scalar_subquery()
    delegated = (
        exists()
        .where(
            Delegation.delegate_id == User.id,
            Delegation.revoked_at.is_(None),
            Delegation.start_date <= today,
            Delegation.end_date >= today,
        )
        .correlate(User)
    )
    return (
        User.id.label("actor_id"),
        User.username.label("actor_username"),
        User.full_name.label("actor_full_name"),
        User.organization_id.label("actor_organization_id"),
        User.unit_id.label("actor_unit_id"),
        unit_name.label("actor_unit_name"),
        User.active.label("actor_active"),
        User.clearance.label("actor_clearance"),
        Organization.active.label("actor_organization_active"),
        Organization.path.label("actor_organization_path"),
        roles.label("actor_roles"),
        delegated.label("actor_delegated"),
    )


def actor_from_row(session: Session, row: Any, today: dt.date) -> Actor:
    """The actor of a row selected with :func:`actor_columns` (same rules as
    :func:`actor_from_user`; a person with a delegation running today goes through it, so the
    delegation rules live in one place)."""
    if not row.actor_active or not row.actor_organization_active:
        raise AuthenticationError()
    if row.actor_delegated:
        return actor_from_user(session, session.get_one(User, row.actor_id), today)
    return Actor(
        user_id=row.actor_id,
        username=row.actor_username,
        full_name=row.actor_full_name,
        organization_id=row.actor_organization_id,
        organization_path=row.actor_organization_path,
        unit_id=row.actor_unit_id,
        roles=frozenset(Role(r) for r in (row.actor_roles or "").split(",") if r),
        clearance=Secrecy(row.actor_clearance),
        unit_name=row.actor_unit_name,
    )


def load_actor(session: Session, user_id: uuid.UUID, today: dt.date) -> Actor:
    user = session.get(User, user_id)
    if user is None:
        raise AuthenticationError()
    return actor_from_user(session, user, today)
