"""Registers (sổ văn bản): opening one, and choosing the one a number comes from. The number
itself is allocated by :func:`docflow.numbering.allocate_number`."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from docflow import audit
from docflow.actors import Actor
from docflow.directory.commands import CreateRegister
from docflow.directory.policy import ensure_can_manage_org
from docflow.enums import Direction, Secrecy
from docflow.errors import ConflictError, ValidationError
from docflow.models import Organization, Register
from docflow.uow import UnitOfWork
from docflow.workdays import local_date


def create_register(uow: UnitOfWork, actor: Actor, cmd: CreateRegister) -> Register:
    with uow:
        s = uow.session
        org = ensure_can_manage_org(actor, s.get(Organization, cmd.organization_id))
        reg = Register(
            organization_id=org.id,
            direction=cmd.direction.value,
            year=cmd.year,
            name=cmd.name,
            secret_series=cmd.secret_series,
        )
        s.add(reg)
        try:
            s.flush()
        except IntegrityError as exc:
            raise ConflictError(
                "Sổ văn bản cùng tên đã có trong năm.", code="duplicate_register"
            ) from exc
        audit.record(
            uow,
            "register_created",
            actor=actor,
            organization_id=org.id,
            object_type="register",
            object_id=reg.id,
            details=cmd.model_dump(mode="json"),
        )
        uow.commit()
        return reg


def register_for_numbering(
    uow: UnitOfWork,
    actor: Actor,
    register_id: uuid.UUID | None,
    secrecy: Secrecy,
    direction: Direction,
) -> Register:
    """The register a number comes from: the chosen one, or this year's register of the
    organisation for ``direction`` in the right series (secret documents have their own)."""
    year = local_date(uow.now()).year
    secret = secrecy is not Secrecy.NONE
    kind = "đến" if direction is Direction.INCOMING else "đi"
    s = uow.session
    if register_id is not None:
        reg = s.get(Register, register_id)
        if reg is None or reg.organization_id != actor.organization_id:
            raise ValidationError.field("register_id", f"Không tìm thấy sổ văn bản {kind}.")
    else:
        reg = s.scalars(
            select(Register)
            .where(
                Register.organization_id == actor.organization_id,
                Register.direction == direction.value,
                Register.year == year,
                Register.active.is_(True),
                Register.secret_series.is_(secret),
            )
            .order_by(Register.created_at)
            .limit(1)
        ).first()
        if reg is None:
            suffix = " (mật)" if secret else ""
            raise ValidationError.field(
                "register_id", f"Chưa mở sổ văn bản {kind} năm {year}{suffix}."
            )
    if reg.direction != direction.value or not reg.active or reg.year != year:
        raise ValidationError.field(
            "register_id", f"Sổ này không dùng cho văn bản {kind} năm {year}."
        )
    if reg.secret_series != secret:
        raise ValidationError.field(
            "register_id", "Văn bản mật dùng sổ mật riêng; văn bản thường không dùng sổ mật."
        )
    return reg
