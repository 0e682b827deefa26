"""Figures the system knows about an organisation and a period (the deployment report of seed
004): documents received and sent, how many electronically, the share signed digitally, users
active, tasks on time. Read live from the organisation's own rows (one organisation, one
period: bounded by the organisation indexes).

Definitions: *received* = incoming documents registered (vào sổ đến) in the period, so one
refused (02, từ chối tiếp nhận) or still waiting to be registered is not counted; *received
electronically* = those of them that came through the system (internal delivery) or the
national axis; *sent electronically* = issued outgoing documents with
at least one delivery sent through the system or the axis; *signed digitally* = issued outgoing
documents signed in the system; *users active* = people of the organisation who signed in or
used a session in the period; *tasks on time* = share of the tasks and document assignments
finished in the period that were finished on time (the processing statistics); *feedback*
received, answered and answered on time = the citizens' items of the organisation's box
received in the period, as the quarterly feedback report counts them.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import func, or_, select

from docflow.feedback import period_counts
from docflow.models import Delivery, Document, User, UserSession
from docflow.uow import UnitOfWork
from docflow.workdays import start_of_day

ELECTRONIC_SOURCES = ("internal", "axis")


def _bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    return start_of_day(start), start_of_day(end, later=1)


def _percent(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def system_figures(
    uow: UnitOfWork, organization_id: uuid.UUID, start: dt.date, end: dt.date
) -> dict[str, Any]:
    """Every figure of :data:`docflow.reports.commands.SYSTEM_SOURCES` for the period."""
    from docflow.reports.rollup import processing_counts

    s = uow.session
    a, b = _bounds(start, end)
    incoming = (
        Document.organization_id == organization_id,
        Document.direction == "incoming",
        Document.registered_at >= a,
        Document.registered_at < b,
    )
    received = s.scalar(select(func.count()).where(*incoming)) or 0
    received_e = (
        s.scalar(select(func.count()).where(*incoming, Document.source.in_(ELECTRONIC_SOURCES)))
        or 0
    )
    issued = (
        Document.organization_id == organization_id,
        Document.direction == "outgoing",
        Document.issued_at >= a,
        Document.issued_at < b,
    )
    sent = s.scalar(select(func.count()).where(*issued)) or 0
    sent_e = (
        s.scalar(
            select(func.count()).where(
                *issued,
                select(Delivery.id)
                .where(Delivery.document_id == Document.id, Delivery.state == "sent")
                .exists(),
            )
        )
        or 0
    )
    signed = (
        s.scalar(select(func.count()).where(*issued, Document.signer_user_id.is_not(None))) or 0
    )
    users_total = (
        s.scalar(select(func.count()).where(User.organization_id == organization_id, User.active))
        or 0
    )
    used_session = (
        select(UserSession.id)
        .where(
            UserSession.user_id == User.id,
            UserSession.last_seen_at >= a,
            UserSession.created_at < b,
        )
        .exists()
    )
    users_active = (
        s.scalar(
            select(func.count()).where(
                User.organization_id == organization_id,
                or_(
                    (User.last_login_at >= a) & (User.last_login_at < b),
                    used_session,
                ),
            )
        )
        or 0
    )
    tasks = processing_counts(uow, organization_id, start, end)
    done = tasks["done_on_time"] + tasks["done_late"]
    feedback, answered, on_time = period_counts(uow, organization_id, start, end)
    return {
        "documents_received": received,
        "documents_received_electronic": received_e,
        "documents_sent": sent,
        "documents_sent_electronic": sent_e,
        "signed_digitally_percent": _percent(signed, sent),
        "users_active": users_active,
        "users_total": users_total,
        "tasks_received": tasks["received"],
        "tasks_on_time_percent": _percent(tasks["done_on_time"], done),
        "feedback_received": feedback,
        "feedback_answered": answered,
        "feedback_on_time_percent": _percent(on_time, answered),
    }


__all__ = ["ELECTRONIC_SOURCES", "system_figures"]
