"""Who may do what in the directory: organisations, units, people, registers, delegations, the
holiday calendar and the two-person rule for powers. Functions of plain values (an
:class:`~docflow.actors.Actor` and the few facts of an object they read), so every rule is
unit-tested without a database; the services call them, the pages ask the services.

Objects of an organisation the actor cannot see are reported as missing (NotFoundError), never
as forbidden, so that nobody learns what another organisation holds.

The two-person rule for powers (issue 11, point 8):

- Nobody changes their own roles or clearance, not even an admin (403 ``self_privilege_change``).
- Raising someone's clearance, or making them an admin (also when creating the account), is not
  applied at once: it becomes a pending :class:`~docflow.models.PrivilegeRequest` that another
  admin of the organisation (or of an organisation above it) approves. The one who asked cannot
  approve (403 ``second_admin_required``); the person concerned cannot either.
- Lowering a clearance and every other role change apply at once.
- An admin's reset of the password of an admin or of a cleared person waits for a second admin
  too (whoever sets the password could act as them).
- An admin may record a delegation for a leader, but not one to themselves (that would be a
  self-grant of the leader's roles); such a delegation also gives nothing when used.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Protocol, TypeVar

from docflow.actors import Actor, require_role
from docflow.enums import Role, Secrecy
from docflow.errors import NotFoundError, PermissionDeniedError


class OrgFacts(Protocol):
    """What the rules read of an organisation: its id and its place in the tree."""

    @property
    def id(self) -> uuid.UUID: ...

    @property
    def path(self) -> str: ...


class PersonFacts(Protocol):
    """What the rules read of a person."""

    @property
    def id(self) -> uuid.UUID: ...

    @property
    def roles(self) -> frozenset[Role]: ...

    @property
    def clearance_level(self) -> Secrecy: ...

    @property
    def organization(self) -> OrgFacts: ...


class RequestFacts(Protocol):
    """What the rules read of a pending privilege (or password reset) request."""

    @property
    def user_id(self) -> uuid.UUID: ...

    @property
    def requested_by_id(self) -> uuid.UUID: ...

    @property
    def user(self) -> PersonFacts: ...


OrgT = TypeVar("OrgT", bound=OrgFacts)
PersonT = TypeVar("PersonT", bound=PersonFacts)

# Registers are the clerk's, the leaders' and the admins' business, not everyone's.
REGISTER_ROLES = (Role.CLERK, Role.LEADER, Role.ADMIN)


# ---------------------------------------------------------------- organisations and people


def is_admin_of(actor: Actor, org: OrgFacts) -> bool:
    """An organisation's admin manages it and its whole subtree."""
    return actor.has_role(Role.ADMIN) and org.path.startswith(actor.organization_path)


def ensure_can_manage_org(actor: Actor, org: OrgT | None) -> OrgT:
    """Admins of an ancestor (or the organisation itself) may change it; others never see it
    (except its own members, who see it and are refused)."""
    if org is None:
        raise NotFoundError()
    if not actor.has_role(Role.ADMIN):
        if org.id == actor.organization_id:
            raise PermissionDeniedError()
        raise NotFoundError()
    if not org.path.startswith(actor.organization_path):
        raise NotFoundError()
    return org


def ensure_can_view_org_internals(actor: Actor, org: OrgT | None) -> OrgT:
    """Units and people of an organisation: its own members, and admins above it."""
    if org is None:
        raise NotFoundError()
    if org.id == actor.organization_id or is_admin_of(actor, org):
        return org
    raise NotFoundError()


def ensure_can_manage_user(actor: Actor, user: PersonT | None) -> PersonT:
    """A person is managed by the admins of their organisation (or above it)."""
    if user is None:
        raise NotFoundError()
    ensure_can_manage_org(actor, user.organization)
    return user


def sees_inactive_users(actor: Actor, org: OrgFacts) -> bool:
    """Deactivated accounts are listed only to the organisation's admins."""
    return is_admin_of(actor, org)


# ---------------------------------------------------------------- registers and the calendar


def ensure_can_view_registers(actor: Actor, org: OrgT | None) -> OrgT:
    """An organisation's registers: admins above it, and its own clerks, leaders and admins;
    to anyone else they do not exist."""
    org = ensure_can_view_org_internals(actor, org)
    if org.id == actor.organization_id and not any(actor.has_role(r) for r in REGISTER_ROLES):
        raise NotFoundError()
    return org


def ensure_can_edit_calendar(actor: Actor, root_id: uuid.UUID | None) -> None:
    """The holiday calendar is national: only admins of the root organisation edit it."""
    require_role(actor, Role.ADMIN)
    if root_id is None or actor.organization_path != f"/{root_id}/":
        raise PermissionDeniedError()


def may_edit_calendar(actor: Actor, root_id: uuid.UUID | None) -> bool:
    try:
        ensure_can_edit_calendar(actor, root_id)
    except PermissionDeniedError:
        return False
    return True


# ---------------------------------------------------------------- delegations


def ensure_can_create_delegation(
    actor: Actor, delegator: PersonFacts, delegate: PersonFacts
) -> None:
    """A leader delegates their own roles; an admin over them may record it for them, but never
    one that makes the admin the delegate: that would be the admin giving themselves the
    leader's roles. (Which roles may be delegated to whom: :func:`docflow.actors.delegation_refusal`.)"""
    ensure_can_view_org_internals(actor, delegator.organization)
    if actor.user_id != delegator.id and not is_admin_of(actor, delegator.organization):
        raise PermissionDeniedError("Chỉ người ủy quyền hoặc quản trị được tạo ủy quyền.")
    if delegate.id == actor.user_id and delegator.id != actor.user_id:
        raise PermissionDeniedError(
            "Không ai được tự ghi ủy quyền cho chính mình; người ủy quyền phải tự tạo.",
            code="self_privilege_change",
        )


def ensure_can_revoke_delegation(actor: Actor, delegator: PersonFacts) -> None:
    """The delegator revokes their delegation, or an admin over them."""
    org = ensure_can_view_org_internals(actor, delegator.organization)
    if actor.user_id != delegator.id and not is_admin_of(actor, org):
        raise PermissionDeniedError()


def sees_all_delegations(actor: Actor, org: OrgFacts) -> bool:
    """Admins see every delegation of the organisation; others only those they are part of."""
    return is_admin_of(actor, org)


# ---------------------------------------------------------------- the two-person rule


@dataclass(frozen=True)
class Split:
    """A requested change of roles and clearance, split into what applies now and what waits."""

    roles_now: frozenset[Role] | None  # the new set without an admin role not yet held
    clearance_now: Secrecy | None  # a lower or equal clearance
    roles_to_grant: frozenset[Role]  # waits for a second admin
    clearance_to_grant: Secrecy | None  # waits for a second admin

    @property
    def needs_approval(self) -> bool:
        return bool(self.roles_to_grant) or self.clearance_to_grant is not None


def split_change(
    current_roles: frozenset[Role],
    current_clearance: Secrecy,
    roles: frozenset[Role] | None,
    clearance: Secrecy | None,
) -> Split:
    grant: frozenset[Role] = frozenset()
    roles_now = roles
    if roles is not None and Role.ADMIN in roles and Role.ADMIN not in current_roles:
        grant = frozenset({Role.ADMIN})
        roles_now = roles - grant
    clearance_now, clearance_grant = clearance, None
    if clearance is not None and clearance.rank > current_clearance.rank:
        clearance_now, clearance_grant = None, clearance
    return Split(roles_now, clearance_now, grant, clearance_grant)


def ensure_not_own_privileges(
    actor: Actor,
    user: PersonFacts,
    roles: frozenset[Role] | None,
    clearance: Secrecy | None,
) -> None:
    """Refuse a change of one's own roles or clearance (sending the current values is fine)."""
    if user.id != actor.user_id:
        return
    if (roles is not None and roles != user.roles) or (
        clearance is not None and clearance != user.clearance_level
    ):
        raise PermissionDeniedError(
            "Không ai được tự thay đổi vai trò hoặc độ mật của chính mình; "
            "hãy nhờ một quản trị viên khác.",
            code="self_privilege_change",
        )


def ensure_can_decide(actor: Actor, request: RequestFacts, *, approve: bool) -> None:
    """An admin over the person decides; approving needs someone other than the requester
    and the person concerned. (Visibility, i.e. 404, is checked by the caller first.)"""
    if not is_admin_of(actor, request.user.organization):
        raise PermissionDeniedError()
    if not approve:
        return
    if actor.user_id == request.user_id:
        raise PermissionDeniedError(
            "Không ai được tự phê duyệt việc nâng quyền của chính mình.",
            code="self_privilege_change",
        )
    if actor.user_id == request.requested_by_id:
        raise PermissionDeniedError(
            "Việc nâng quyền phải do một quản trị viên khác phê duyệt.",
            code="second_admin_required",
        )


def reset_needs_second_admin(actor: Actor, user: PersonFacts) -> bool:
    """Whether an admin's reset of ``user``'s password waits for a second admin: the person
    is an admin or holds a clearance, so whoever sets their password could act as them (approve
    their own privilege request, read secret documents). Resetting one's own is not impersonation."""
    if actor.user_id == user.id:
        return False
    return Role.ADMIN in user.roles or user.clearance_level is not Secrecy.NONE


def ensure_can_bulk_change(actor: Actor, user: PersonFacts, action: str) -> None:
    """A bulk action on one of the selected people (after :func:`ensure_can_manage_user`):
    nobody locks or resets their own account that way, and a reset of an admin's or a cleared
    person's access waits for a second admin, so it is refused in bulk (do it on their page)."""
    if user.id == actor.user_id and action in ("deactivate", "reset_activation"):
        raise PermissionDeniedError(
            "Không thể tự khóa hoặc cấp lại mã cho tài khoản của mình.", code="own_account"
        )
    if action == "reset_activation" and reset_needs_second_admin(actor, user):
        raise PermissionDeniedError(
            "Cấp lại quyền truy cập của quản trị viên hoặc người có độ mật cần quản trị viên "
            "thứ hai: làm trên trang của người đó.",
            code="second_admin_required",
        )
