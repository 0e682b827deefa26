"""People: accounts, roles, clearance, password resets by an admin, and the requests a second
admin decides (the rules: :mod:`docflow.directory.policy`; reads: :mod:`docflow.directory.queries`)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select

from docflow import audit
from docflow.actors import Actor
from docflow.directory.commands import CreateUser, SetPassword, UpdateUser
from docflow.directory.identity import end_user_sessions, replace_password
from docflow.directory.passwords import hash_password
from docflow.directory.policy import (
    Split,
    ensure_can_decide,
    ensure_can_manage_org,
    ensure_can_manage_user,
    ensure_not_own_privileges,
    reset_needs_second_admin,
    split_change,
)
from docflow.directory.states import RequestAction, next_state
from docflow.enums import Role, Secrecy
from docflow.errors import ConflictError, NotFoundError, ValidationError
from docflow.models import Organization, PrivilegeRequest, Unit, User, UserRole
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
    """A pending request a second admin decides (docflow.directory.policy), with its audit entry."""
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
    (docflow.directory.policy); nobody changes their own roles or clearance."""
    with uow:
        s = uow.session
        user = ensure_can_manage_user(actor, s.get(User, user_id))
        changes = cmd.model_dump(exclude_unset=True)
        if changes.get("active") is False and user.id == actor.user_id:
            raise ValidationError.field(
                "active", "Không thể tự khóa tài khoản của mình.", code="own_account"
            )
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
        decided = next_state(
            request.state, RequestAction.APPROVE if approve else RequestAction.REJECT
        )
        user = s.get_one(User, request.user_id, with_for_update={"of": User})
        request.state = decided.value
        request.decided_by, request.decided_at = s.get_one(User, actor.user_id), uow.now()
        if approve:
            if request.roles:
                granted = user.roles | {Role(r) for r in request.roles}
                user.role_rows = [UserRole(role=r.value) for r in sorted(granted)]
            if request.clearance is not None:
                user.clearance = request.clearance
            if request.password_hash is not None:
                replace_password(uow, user, request.password_hash)
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
        replace_password(uow, user, hash_password(cmd.password))
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
