"""Organisations and units: the tree the whole installation shares (what changes it; reads in
:mod:`docflow.directory.queries`)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from docflow import audit
from docflow.actors import Actor
from docflow.directory import agencies
from docflow.directory.commands import (
    CreateOrganization,
    CreateUnit,
    UpdateOrganization,
    UpdateUnit,
)
from docflow.directory.identity import end_organization_sessions
from docflow.directory.policy import ensure_can_manage_org
from docflow.enums import OrgLevel
from docflow.errors import ConflictError, NotFoundError, ValidationError
from docflow.ids import new_id
from docflow.models import Organization, Unit
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
        if changes.get("active") is False and org.id == actor.organization_id:
            # Its people are signed out at once: the admin would lock themselves out.
            raise ValidationError.field(
                "active",
                "Không thể ngừng hoạt động tổ chức của chính mình.",
                code="own_organization",
            )
        before = (org.name, org.code, org.parent_id, org.active)
        for key, value in changes.items():
            setattr(org, key, value)
        if before[3] and not org.active:
            # Its people are signed out for good: reopening it later does not revive them.
            end_organization_sessions(uow, org.id)
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
