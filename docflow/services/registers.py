"""Registers (sổ văn bản) and the national holiday calendar."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from docflow import audit
from docflow.actors import Actor
from docflow.commands import CreateRegister, SetHoliday
from docflow.enums import Direction, Role, Secrecy
from docflow.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from docflow.models import Holiday, Organization, Register
from docflow.policies import (
    ensure_can_edit_calendar,
    ensure_can_manage_org,
    ensure_can_view_org_internals,
)
from docflow.uow import UnitOfWork
from docflow.workdays import WorkCalendar, due_after, load_calendar, local_date


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


def list_registers(
    uow: UnitOfWork,
    actor: Actor,
    org_id: uuid.UUID,
    *,
    direction: Direction | None = None,
    year: int | None = None,
) -> list[Register]:
    """Registers are the clerk's, the leaders' and the admins' business, not everyone's."""
    with uow:
        org = ensure_can_view_org_internals(actor, uow.session.get(Organization, org_id))
        if org.id == actor.organization_id and not any(
            actor.has_role(r) for r in (Role.CLERK, Role.LEADER, Role.ADMIN)
        ):
            raise NotFoundError()
        stmt = select(Register).where(Register.organization_id == org.id)
        if direction is not None:
            stmt = stmt.where(Register.direction == direction.value)
        if year is not None:
            stmt = stmt.where(Register.year == year)
        return list(
            uow.session.scalars(
                stmt.order_by(Register.year.desc(), Register.direction, Register.name)
            )
        )


def _root_id(uow: UnitOfWork) -> uuid.UUID | None:
    return uow.session.scalars(
        select(Organization.id).where(Organization.parent_id.is_(None)).limit(1)
    ).first()


def can_edit_calendar(uow: UnitOfWork, actor: Actor) -> bool:
    with uow:
        try:
            ensure_can_edit_calendar(actor, _root_id(uow))
        except PermissionDeniedError:
            return False
        return True


def set_holiday(uow: UnitOfWork, actor: Actor, cmd: SetHoliday) -> Holiday:
    with uow:
        ensure_can_edit_calendar(actor, _root_id(uow))
        row = uow.session.get(Holiday, cmd.day)
        if row is None:
            row = Holiday(day=cmd.day, name=cmd.name, kind=cmd.kind.value)
            uow.session.add(row)
        else:
            row.name, row.kind = cmd.name, cmd.kind.value
        audit.record(
            uow,
            "holiday_set",
            actor=actor,
            object_type="holiday",
            object_id=cmd.day.isoformat(),
            details=cmd.model_dump(mode="json"),
        )
        uow.commit()
        return row


def delete_holiday(uow: UnitOfWork, actor: Actor, day: dt.date) -> None:
    with uow:
        ensure_can_edit_calendar(actor, _root_id(uow))
        row = uow.session.get(Holiday, day)
        if row is None:
            raise NotFoundError()
        uow.session.delete(row)
        audit.record(
            uow, "holiday_deleted", actor=actor, object_type="holiday", object_id=day.isoformat()
        )
        uow.commit()


def list_holidays(uow: UnitOfWork, year: int) -> list[Holiday]:
    with uow:
        return list(
            uow.session.scalars(
                select(Holiday)
                .where(Holiday.day >= dt.date(year, 1, 1), Holiday.day <= dt.date(year, 12, 31))
                .order_by(Holiday.day)
            )
        )


def work_calendar(uow: UnitOfWork, start: dt.date, end: dt.date) -> WorkCalendar:
    with uow:
        return load_calendar(uow.session, start, end)


def due_date(uow: UnitOfWork, start: dt.date, working_days: int) -> dt.date:
    """The deadline ``working_days`` working days after ``start`` (start not counted)."""
    with uow:
        return due_after(uow.session, start, working_days)


def count_working_days(uow: UnitOfWork, start: dt.date, end: dt.date) -> int:
    """Working days in (start, end]; negative when end is before start."""
    return work_calendar(uow, min(start, end), max(start, end)).working_days_between(start, end)


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
