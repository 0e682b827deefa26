"""The national holiday calendar (ngày nghỉ, ngày làm bù), edited by the admins of the root
organisation. Working-day arithmetic is the kernel's (:mod:`docflow.workdays`); what pages read
of the calendar is in :mod:`docflow.directory.queries`."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select

from docflow import audit
from docflow.actors import Actor
from docflow.directory.commands import SetHoliday
from docflow.directory.policy import ensure_can_edit_calendar
from docflow.errors import NotFoundError
from docflow.models import Holiday, Organization
from docflow.uow import UnitOfWork


def root_id(uow: UnitOfWork) -> uuid.UUID | None:
    """The root organisation (the central committee); None before the tree has one."""
    return uow.session.scalars(
        select(Organization.id).where(Organization.parent_id.is_(None)).limit(1)
    ).first()


def set_holiday(uow: UnitOfWork, actor: Actor, cmd: SetHoliday) -> Holiday:
    with uow:
        ensure_can_edit_calendar(actor, root_id(uow))
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
        ensure_can_edit_calendar(actor, root_id(uow))
        row = uow.session.get(Holiday, day)
        if row is None:
            raise NotFoundError()
        uow.session.delete(row)
        audit.record(
            uow, "holiday_deleted", actor=actor, object_type="holiday", object_id=day.isoformat()
        )
        uow.commit()
