"""The two-person rule for powers (issue 11, point 8).

- Nobody changes their own roles or clearance, not even an admin (403 ``self_privilege_change``).
- Raising someone's clearance, or making them an admin (also when creating the account), is not
  applied at once: it becomes a pending :class:`~docflow.models.PrivilegeRequest` that another
  admin of the organisation (or of an organisation above it) approves. The one who asked cannot
  approve (403 ``second_admin_required``); the person concerned cannot either.
- Lowering a clearance and every other role change apply at once.
- An admin may record a delegation for a leader, but not one to themselves (that would be a
  self-grant of the leader's roles); such a delegation also gives nothing when used.
Requests and decisions are audited (``privilege_requested``, ``privilege_approved``,
``privilege_rejected``).
"""

from __future__ import annotations

from dataclasses import dataclass

from docflow.actors import Actor
from docflow.enums import Role, Secrecy
from docflow.errors import PermissionDeniedError
from docflow.models import PrivilegeRequest, User
from docflow.policies import is_admin_of


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
    user: User,
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


def ensure_not_own_delegation(actor: Actor, delegator: User, delegate: User) -> None:
    """An admin may record a delegation for a leader, but never one that makes the admin the
    delegate: that would be the admin giving themselves the leader's roles."""
    if delegate.id == actor.user_id and delegator.id != actor.user_id:
        raise PermissionDeniedError(
            "Không ai được tự ghi ủy quyền cho chính mình; người ủy quyền phải tự tạo.",
            code="self_privilege_change",
        )


def ensure_can_decide(actor: Actor, request: PrivilegeRequest, *, approve: bool) -> None:
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


def reset_needs_second_admin(actor: Actor, user: User) -> bool:
    """Whether an admin's reset of ``user``'s password waits for a second admin: the person
    is an admin or holds a clearance, so whoever sets their password could act as them (approve
    their own privilege request, read secret documents). Resetting one's own is not impersonation."""
    if actor.user_id == user.id:
        return False
    return Role.ADMIN in user.roles or user.clearance_level is not Secrecy.NONE
