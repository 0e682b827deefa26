"""People: accounts, roles, clearance and delegations."""

from __future__ import annotations

import uuid

from sqlalchemy import select, update

from docflow import audit
from docflow.actors import Actor, delegation_refusal
from docflow.commands import CreateDelegation, CreateUser, SetPassword, UpdateUser
from docflow.enums import Role
from docflow.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from docflow.models import ApiToken, Delegation, Organization, Unit, User, UserRole
from docflow.passwords import hash_password
from docflow.policies import (
    ensure_can_manage_org,
    ensure_can_manage_user,
    ensure_can_view_org_internals,
    is_admin_of,
)
from docflow.uow import UnitOfWork


def _check_unit(uow: UnitOfWork, org_id: uuid.UUID, unit_id: uuid.UUID | None) -> None:
    if unit_id is None:
        return
    unit = uow.session.get(Unit, unit_id)
    if unit is None or unit.organization_id != org_id:
        raise ValidationError.field("unit_id", "Đơn vị không thuộc tổ chức này.")


def create_user(uow: UnitOfWork, actor: Actor, cmd: CreateUser) -> User:
    with uow:
        s = uow.session
        org = ensure_can_manage_org(actor, s.get(Organization, cmd.organization_id))
        _check_unit(uow, org.id, cmd.unit_id)
        if s.scalars(select(User.id).where(User.username == cmd.username)).first():
            raise ConflictError("Tên đăng nhập đã có.", code="duplicate_username")
        user = User(
            organization_id=org.id,
            unit_id=cmd.unit_id,
            username=cmd.username,
            full_name=cmd.full_name,
            position=cmd.position,
            email=cmd.email,
            phone=cmd.phone,
            password_hash=hash_password(cmd.password),
            clearance=cmd.clearance.value,
            role_rows=[UserRole(role=r.value) for r in sorted(set(cmd.roles))],
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
        uow.commit()
        return user


def update_user(uow: UnitOfWork, actor: Actor, user_id: uuid.UUID, cmd: UpdateUser) -> User:
    with uow:
        s = uow.session
        user = ensure_can_manage_user(actor, s.get(User, user_id))
        changes = cmd.model_dump(exclude_unset=True)
        if "unit_id" in changes:
            _check_unit(uow, user.organization_id, cmd.unit_id)
        roles = changes.pop("roles", None)
        if roles is not None:
            if user.id == actor.user_id and Role.ADMIN not in roles:
                raise ValidationError.field("roles", "Không thể tự bỏ quyền quản trị của mình.")
            user.role_rows = [UserRole(role=Role(r).value) for r in sorted(set(roles))]
        if "clearance" in changes:
            changes["clearance"] = changes["clearance"].value
        deactivated = changes.get("active") is False and user.active
        for key, value in changes.items():
            setattr(user, key, value)
        if deactivated:
            _end_sessions(uow, user)
        audit.record(
            uow,
            "user_updated",
            actor=actor,
            organization_id=user.organization_id,
            object_type="user",
            object_id=user.id,
            details=cmd.model_dump(mode="json", exclude_unset=True),
        )
        uow.commit()
        return user


def _end_sessions(uow: UnitOfWork, user: User) -> None:
    user.session_epoch += 1
    uow.session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=uow.now())
    )


def set_password(uow: UnitOfWork, actor: Actor, user_id: uuid.UUID, cmd: SetPassword) -> None:
    """An admin resets someone's password; their sessions and tokens end."""
    with uow:
        user = ensure_can_manage_user(actor, uow.session.get(User, user_id))
        user.password_hash = hash_password(cmd.password)
        _end_sessions(uow, user)
        audit.record(
            uow,
            "password_reset",
            actor=actor,
            organization_id=user.organization_id,
            object_type="user",
            object_id=user.id,
        )
        uow.commit()


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
