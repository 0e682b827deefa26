"""Organisations and units: the tree the whole installation shares."""

from __future__ import annotations

import uuid

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from docflow import audit
from docflow.actors import Actor
from docflow.commands import CreateOrganization, CreateUnit, UpdateOrganization, UpdateUnit
from docflow.enums import OrgLevel
from docflow.errors import ConflictError, NotFoundError, ValidationError
from docflow.ids import new_id
from docflow.models import Organization, Unit
from docflow.pagination import Page, clamp_limit, decode_cursor, encode_cursor
from docflow.policies import ensure_can_manage_org, ensure_can_view_org_internals
from docflow.services import agencies
from docflow.uow import UnitOfWork


def _changes(cmd: UpdateOrganization | UpdateUnit) -> dict[str, object]:
    return {k: v for k, v in cmd.model_dump(exclude_unset=True).items()}


def create_organization(uow: UnitOfWork, actor: Actor, cmd: CreateOrganization) -> Organization:
    """Add an organisation under a parent the actor administers (a root needs no parent)."""
    with uow:
        s = uow.session
        org_id = new_id()
        if cmd.parent_id is None:
            if (
                cmd.level is not OrgLevel.CENTRAL
                or s.scalars(
                    select(Organization.id).where(Organization.parent_id.is_(None)).limit(1)
                ).first()
            ):
                raise ValidationError.field("parent_id", "Phải chọn tổ chức cấp trên.")
            path = f"/{org_id}/"
        else:
            parent = ensure_can_manage_org(actor, s.get(Organization, cmd.parent_id))
            if cmd.level.depth != parent.org_level.depth + 1:
                raise ValidationError.field(
                    "level", f"Tổ chức trực thuộc {parent.org_level.label} phải ở cấp kế tiếp."
                )
            path = f"{parent.path}{org_id}/"
        if s.scalars(select(Organization.id).where(Organization.code == cmd.code)).first():
            raise ConflictError("Mã định danh đã được dùng.", code="duplicate_code")
        org = Organization(
            id=org_id,
            parent_id=cmd.parent_id,
            level=cmd.level.value,
            name=cmd.name,
            abbreviation=cmd.abbreviation,
            code=cmd.code,
            path=path,
            address=cmd.address,
            email=cmd.email,
            phone=cmd.phone,
        )
        s.add(org)
        s.flush()
        agencies.queue_registration(uow, org.id)  # the axis learns the new code at once
        audit.record(
            uow,
            "organization_created",
            actor=actor,
            object_type="organization",
            object_id=org.id,
            details=cmd.model_dump(mode="json"),
        )
        uow.commit()
        return org


def update_organization(
    uow: UnitOfWork, actor: Actor, org_id: uuid.UUID, cmd: UpdateOrganization
) -> Organization:
    with uow:
        org = ensure_can_manage_org(actor, uow.session.get(Organization, org_id))
        changes = _changes(cmd)
        before = (org.name, org.code, org.parent_id, org.active)
        for key, value in changes.items():
            setattr(org, key, value)
        if (org.name, org.code, org.parent_id, org.active) != before and org.active:
            agencies.queue_registration(uow, org.id)  # renamed: the axis's directory follows
        audit.record(
            uow,
            "organization_updated",
            actor=actor,
            organization_id=org.id,
            object_type="organization",
            object_id=org.id,
            details=cmd.model_dump(mode="json", exclude_unset=True),
        )
        uow.commit()
        return org


def list_organizations(
    uow: UnitOfWork,
    actor: Actor,
    *,
    q: str | None = None,
    parent_id: uuid.UUID | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> Page[Organization]:
    """The directory of organisations (name and code are public to every signed-in user, so
    that any organisation can be addressed)."""
    limit = clamp_limit(limit)
    with uow:
        stmt = select(Organization).where(Organization.active.is_(True))
        if parent_id is not None:
            stmt = stmt.where(Organization.parent_id == parent_id)
        if q:
            # autoescape: a "%" or "_" typed by the user matches itself, not any text.
            text = q.strip()
            stmt = stmt.where(
                or_(
                    Organization.name.icontains(text, autoescape=True),
                    Organization.code.icontains(text, autoescape=True),
                    Organization.abbreviation.icontains(text, autoescape=True),
                )
            )
        after = decode_cursor(cursor)
        if after:
            stmt = stmt.where(Organization.code > after[0])
        rows = uow.session.scalars(stmt.order_by(Organization.code).limit(limit + 1)).all()
        more = len(rows) > limit
        rows = rows[:limit]
        return Page(rows, encode_cursor([rows[-1].code]) if more else None)


def get_organization(uow: UnitOfWork, actor: Actor, org_id: uuid.UUID) -> Organization:
    with uow:
        org = uow.session.get(Organization, org_id)
        if org is None or not org.active:
            raise NotFoundError()
        return org


def managed_organizations(uow: UnitOfWork, actor: Actor) -> list[Organization]:
    """The organisations an admin manages: their own and its whole subtree, in tree order."""
    with uow:
        return list(
            uow.session.scalars(
                select(Organization)
                .where(Organization.path.startswith(actor.organization_path))
                .order_by(Organization.path)
            )
        )


def create_unit(uow: UnitOfWork, actor: Actor, cmd: CreateUnit) -> Unit:
    with uow:
        s = uow.session
        org = ensure_can_manage_org(actor, s.get(Organization, cmd.organization_id))
        if cmd.parent_id is not None:
            parent = s.get(Unit, cmd.parent_id)
            if parent is None or parent.organization_id != org.id:
                raise ValidationError.field("parent_id", "Đơn vị cấp trên không thuộc tổ chức này.")
        unit = Unit(
            organization_id=org.id,
            parent_id=cmd.parent_id,
            name=cmd.name,
            abbreviation=cmd.abbreviation,
        )
        s.add(unit)
        try:
            s.flush()
        except IntegrityError as exc:
            raise ConflictError("Tên viết tắt đơn vị đã có.", code="duplicate_unit") from exc
        audit.record(
            uow,
            "unit_created",
            actor=actor,
            organization_id=org.id,
            object_type="unit",
            object_id=unit.id,
            details=cmd.model_dump(mode="json"),
        )
        uow.commit()
        return unit


def update_unit(uow: UnitOfWork, actor: Actor, unit_id: uuid.UUID, cmd: UpdateUnit) -> Unit:
    with uow:
        s = uow.session
        unit = s.get(Unit, unit_id)
        if unit is None:
            raise NotFoundError()
        ensure_can_manage_org(actor, unit.organization)
        changes = _changes(cmd)
        parent_id = changes.get("parent_id")
        if parent_id is not None:
            parent = s.get(Unit, parent_id)
            if parent is None or parent.organization_id != unit.organization_id:
                raise ValidationError.field("parent_id", "Đơn vị cấp trên không thuộc tổ chức này.")
            if parent.id == unit.id:
                raise ValidationError.field("parent_id", "Đơn vị không thể trực thuộc chính nó.")
        for key, value in changes.items():
            setattr(unit, key, value)
        try:
            s.flush()
        except IntegrityError as exc:
            raise ConflictError("Tên viết tắt đơn vị đã có.", code="duplicate_unit") from exc
        audit.record(
            uow,
            "unit_updated",
            actor=actor,
            organization_id=unit.organization_id,
            object_type="unit",
            object_id=unit.id,
            details=cmd.model_dump(mode="json", exclude_unset=True),
        )
        uow.commit()
        return unit


def get_unit(uow: UnitOfWork, actor: Actor, unit_id: uuid.UUID) -> Unit:
    with uow:
        unit = uow.session.get(Unit, unit_id)
        if unit is None:
            raise NotFoundError()
        ensure_can_view_org_internals(actor, unit.organization)
        return unit


def list_units(uow: UnitOfWork, actor: Actor, org_id: uuid.UUID) -> list[Unit]:
    with uow:
        ensure_can_view_org_internals(actor, uow.session.get(Organization, org_id))
        return list(
            uow.session.scalars(
                select(Unit).where(Unit.organization_id == org_id).order_by(Unit.name)
            )
        )
