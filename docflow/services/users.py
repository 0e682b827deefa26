"""People: accounts, roles, clearance and delegations."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select

from docflow import audit
from docflow.actors import Actor, delegation_refusal
from docflow.commands import CreateDelegation, CreateUser, SetPassword, UpdateUser
from docflow.enums import Role, Secrecy
from docflow.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from docflow.models import Delegation, Organization, PrivilegeRequest, Unit, User, UserRole
from docflow.passwords import hash_password
from docflow.policies import (
    ensure_can_manage_org,
    ensure_can_manage_user,
    ensure_can_view_org_internals,
    is_admin_of,
)
from docflow.privileges import (
    Split,
    ensure_can_decide,
    ensure_not_own_delegation,
    ensure_not_own_privileges,
    reset_needs_second_admin,
    split_change,
)
from docflow.services.identity import end_user_sessions
from docflow.uow import UnitOfWork


def _check_unit(uow: UnitOfWork, org_id: uuid.UUID, unit_id: uuid.UUID | None) -> None:
    if unit_id is None:
        return
    unit = uow.session.get(Unit, unit_id)
    if unit is None or unit.organization_id != org_id:
        raise ValidationError.field("unit_id", "Đơn vị không thuộc tổ chức này.")


@dataclass(frozen=True)
class UserChange:
    """The user after a change, and the request a second admin must approve (if any)."""

    user: User
    pending: PrivilegeRequest | None


def create_user(uow: UnitOfWork, actor: Actor, cmd: CreateUser) -> UserChange:
    """A new account. A clearance above "none" or the admin role waits for a second admin."""
    with uow:
        s = uow.session
        org = ensure_can_manage_org(actor, s.get(Organization, cmd.organization_id))
        _check_unit(uow, org.id, cmd.unit_id)
        if s.scalars(select(User.id).where(User.username == cmd.username)).first():
            raise ConflictError("Tên đăng nhập đã có.", code="duplicate_username")
        split = split_change(frozenset(), Secrecy.NONE, frozenset(cmd.roles), cmd.clearance)
        user = User(
            organization_id=org.id,
            unit_id=cmd.unit_id,
            username=cmd.username,
            full_name=cmd.full_name,
            position=cmd.position,
            email=cmd.email,
            phone=cmd.phone,
            password_hash=hash_password(cmd.password),
            clearance=(split.clearance_now or Secrecy.NONE).value,
            role_rows=[UserRole(role=r.value) for r in sorted(split.roles_now or ())],
        )
        s.add(user)
        s.flush()
        audit.record(
            uow,
            "user_created",
            actor=actor,
            organization_id=org.id,
            object_type="user",
            object_id=user.id,
            details=cmd.model_dump(mode="json", exclude={"password"}),
        )
        pending = _request_privileges(uow, actor, user, split)
        s.flush()
        s.refresh(user)  # unit, organisation and roles as stored, for views after the session
        uow.commit()
        return UserChange(user, pending)


def _request_privileges(
    uow: UnitOfWork, actor: Actor, user: User, split: Split
) -> PrivilegeRequest | None:
    if not split.needs_approval:
        return None
    return _ask_second_admin(
        uow,
        actor,
        user,
        "privilege_requested",
        roles=sorted(r.value for r in split.roles_to_grant) or None,
        clearance=split.clearance_to_grant.value if split.clearance_to_grant else None,
    )


def _ask_second_admin(
    uow: UnitOfWork,
    actor: Actor,
    user: User,
    event: str,
    *,
    roles: list[str] | None = None,
    clearance: str | None = None,
    password_hash: str | None = None,
) -> PrivilegeRequest:
    """A pending request a second admin decides (docflow.privileges), with its audit entry."""
    request = PrivilegeRequest(
        organization_id=user.organization_id,
        user=user,
        requested_by=uow.session.get_one(User, actor.user_id),
        roles=roles,
        clearance=clearance,
        password_hash=password_hash,
        requested_at=uow.now(),
        decided_by=None,
    )
    uow.session.add(request)
    uow.session.flush()
    details: dict[str, object] = {"request_id": str(request.id)}
    if password_hash is None:
        details |= {"roles": roles, "clearance": clearance}
    audit.record(
        uow,
        event,
        actor=actor,
        organization_id=user.organization_id,
        object_type="user",
        object_id=user.id,
        details=details,
    )
    return request


def update_user(uow: UnitOfWork, actor: Actor, user_id: uuid.UUID, cmd: UpdateUser) -> UserChange:
    """Change an account. Raising clearance or granting admin waits for a second admin
    (docflow.privileges); nobody changes their own roles or clearance."""
    with uow:
        s = uow.session
        user = ensure_can_manage_user(actor, s.get(User, user_id))
        changes = cmd.model_dump(exclude_unset=True)
        if "unit_id" in changes:
            _check_unit(uow, user.organization_id, cmd.unit_id)
        roles = changes.pop("roles", None)
        asked_roles = frozenset(Role(r) for r in roles) if roles is not None else None
        asked_clearance = changes.pop("clearance", None)
        ensure_not_own_privileges(actor, user, asked_roles, asked_clearance)
        split = split_change(user.roles, user.clearance_level, asked_roles, asked_clearance)
        if split.roles_now is not None and split.roles_now != user.roles:
            user.role_rows = [UserRole(role=r.value) for r in sorted(split.roles_now)]
        if split.clearance_now is not None:
            user.clearance = split.clearance_now.value
        deactivated = changes.get("active") is False and user.active
        for key, value in changes.items():
            setattr(user, key, value)
        if deactivated:
            end_user_sessions(uow, user.id)
        audit.record(
            uow,
            "user_updated",
            actor=actor,
            organization_id=user.organization_id,
            object_type="user",
            object_id=user.id,
            details=cmd.model_dump(mode="json", exclude_unset=True),
        )
        pending = _request_privileges(uow, actor, user, split)
        s.flush()
        s.refresh(user)  # unit, organisation and roles as stored, for views after the session
        uow.commit()
        return UserChange(user, pending)


def list_privilege_requests(
    uow: UnitOfWork, actor: Actor, org_id: uuid.UUID, *, state: str | None = "pending"
) -> list[PrivilegeRequest]:
    """Requests about people of an organisation, for its admins (and admins above it)."""
    with uow:
        org = ensure_can_manage_org(actor, uow.session.get(Organization, org_id))
        stmt = select(PrivilegeRequest).where(PrivilegeRequest.organization_id == org.id)
        if state is not None:
            stmt = stmt.where(PrivilegeRequest.state == state)
        return list(uow.session.scalars(stmt.order_by(PrivilegeRequest.requested_at.desc())))


def decide_privilege_request(
    uow: UnitOfWork, actor: Actor, request_id: uuid.UUID, *, approve: bool
) -> PrivilegeRequest:
    """Approve (by a second admin) or reject a pending request; approval applies it."""
    with uow:
        s = uow.session
        request = s.get(PrivilegeRequest, request_id, with_for_update=True)
        if request is None:
            raise NotFoundError()
        ensure_can_manage_user(actor, request.user)  # 404 for admins of other organisations
        ensure_can_decide(actor, request, approve=approve)
        if request.state != "pending":
            raise ConflictError("Yêu cầu này đã được xử lý.", code="request_decided")
        user = s.get_one(User, request.user_id, with_for_update={"of": User})
        request.state = "approved" if approve else "rejected"
        request.decided_by, request.decided_at = s.get_one(User, actor.user_id), uow.now()
        if approve:
            if request.roles:
                granted = user.roles | {Role(r) for r in request.roles}
                user.role_rows = [UserRole(role=r.value) for r in sorted(granted)]
            if request.clearance is not None:
                user.clearance = request.clearance
            if request.password_hash is not None:
                user.password_hash = request.password_hash
                end_user_sessions(uow, user.id)
        reset = request.password_hash is not None
        request.password_hash = None  # kept only while pending
        audit.record(
            uow,
            "privilege_approved" if approve else "privilege_rejected",
            actor=actor,
            organization_id=request.organization_id,
            object_type="user",
            object_id=user.id,
            details={
                "request_id": str(request.id),
                "requested_by": str(request.requested_by_id),
                "roles": request.roles,
                "clearance": request.clearance,
                "password_reset": reset,
            },
        )
        uow.commit()
        return request


def set_password(
    uow: UnitOfWork, actor: Actor, user_id: uuid.UUID, cmd: SetPassword
) -> PrivilegeRequest | None:
    """An admin resets someone's password; their sessions and tokens end. The password of an
    admin or of a cleared person is only asked for: a second admin approves it (otherwise the
    one resetting could sign in as them), and the request is returned."""
    with uow:
        user = ensure_can_manage_user(actor, uow.session.get(User, user_id))
        if reset_needs_second_admin(actor, user):
            request = _ask_second_admin(
                uow,
                actor,
                user,
                "password_reset_requested",
                password_hash=hash_password(cmd.password),
            )
            uow.commit()
            return request
        user.password_hash = hash_password(cmd.password)
        end_user_sessions(uow, user.id)
        audit.record(
            uow,
            "password_reset",
            actor=actor,
            organization_id=user.organization_id,
            object_type="user",
            object_id=user.id,
        )
        uow.commit()
        return None


def list_users(
    uow: UnitOfWork,
    actor: Actor,
    org_id: uuid.UUID,
    *,
    unit_id: uuid.UUID | None = None,
    role: Role | None = None,
    include_inactive: bool = False,
) -> list[User]:
    with uow:
        org = ensure_can_view_org_internals(actor, uow.session.get(Organization, org_id))
        stmt = select(User).where(User.organization_id == org.id)
        if unit_id is not None:
            stmt = stmt.where(User.unit_id == unit_id)
        if role is not None:
            stmt = stmt.where(User.role_rows.any(UserRole.role == role.value))
        if not include_inactive or not is_admin_of(actor, org):
            stmt = stmt.where(User.active.is_(True))
        return list(uow.session.scalars(stmt.order_by(User.full_name)))


def get_user(uow: UnitOfWork, actor: Actor, user_id: uuid.UUID) -> User:
    with uow:
        user = uow.session.get(User, user_id)
        if user is None:
            raise NotFoundError()
        ensure_can_view_org_internals(actor, user.organization)
        return user


def create_delegation(uow: UnitOfWork, actor: Actor, cmd: CreateDelegation) -> Delegation:
    """A leader delegates some of their own roles; an admin may record it for them."""
    with uow:
        s = uow.session
        delegator = s.get(User, cmd.delegator_id)
        delegate = s.get(User, cmd.delegate_id)
        if delegator is None or delegate is None:
            raise NotFoundError()
        ensure_can_view_org_internals(actor, delegator.organization)
        if actor.user_id != delegator.id and not is_admin_of(actor, delegator.organization):
            raise PermissionDeniedError("Chỉ người ủy quyền hoặc quản trị được tạo ủy quyền.")
        ensure_not_own_delegation(actor, delegator, delegate)
        if delegate.organization_id != delegator.organization_id:
            raise ValidationError.field("delegate_id", "Người được ủy quyền phải cùng tổ chức.")
        if not delegate.active:
            raise ValidationError.field("delegate_id", "Người được ủy quyền không còn hoạt động.")
        for role in cmd.roles:
            refusal = delegation_refusal(delegator, delegate, role)
            if refusal is not None:
                raise ValidationError.field("roles", refusal, code="delegation_not_allowed")
        d = Delegation(
            organization_id=delegator.organization_id,
            delegator_id=delegator.id,
            delegate_id=delegate.id,
            roles=sorted(r.value for r in cmd.roles),
            competence=cmd.competence,
            start_date=cmd.start_date,
            end_date=cmd.end_date,
            reason=cmd.reason,
            created_by_id=actor.user_id,
        )
        s.add(d)
        s.flush()
        audit.record(
            uow,
            "delegation_created",
            actor=actor,
            organization_id=delegator.organization_id,
            object_type="delegation",
            object_id=d.id,
            details=cmd.model_dump(mode="json"),
        )
        uow.commit()
        return d


def revoke_delegation(uow: UnitOfWork, actor: Actor, delegation_id: uuid.UUID) -> Delegation:
    with uow:
        d = uow.session.get(Delegation, delegation_id)
        if d is None:
            raise NotFoundError()
        org = ensure_can_view_org_internals(actor, d.delegator.organization)
        if actor.user_id != d.delegator_id and not is_admin_of(actor, org):
            raise PermissionDeniedError()
        if d.revoked_at is not None:
            raise ConflictError("Ủy quyền đã bị thu hồi.", code="already_revoked")
        d.revoked_at = uow.now()
        audit.record(
            uow,
            "delegation_revoked",
            actor=actor,
            organization_id=d.organization_id,
            object_type="delegation",
            object_id=d.id,
        )
        uow.commit()
        return d


def list_delegations(uow: UnitOfWork, actor: Actor, org_id: uuid.UUID) -> list[Delegation]:
    with uow:
        org = ensure_can_view_org_internals(actor, uow.session.get(Organization, org_id))
        stmt = select(Delegation).where(Delegation.organization_id == org.id)
        if not is_admin_of(actor, org):
            stmt = stmt.where(
                (Delegation.delegator_id == actor.user_id)
                | (Delegation.delegate_id == actor.user_id)
            )
        return list(uow.session.scalars(stmt.order_by(Delegation.start_date.desc())))
