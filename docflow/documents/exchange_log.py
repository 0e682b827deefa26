"""The exchange log for admins and clerks: packages and statuses in and out, with their state,
errors and retries, the external deliveries still waiting (with why, and what the actor may do
with each), our organisations' registrations with the axis and the directory's size.

Like every read path it applies the reader's clearance: a package or delivery of a document
above it is left out (recipient, error and DocumentId say what the document is about), and
only their number is shown, so that an operator without clearance still knows something waits
for a cleared colleague."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

from sqlalchemy import func, not_, or_, select

from docflow.actors import Actor, require_role
from docflow.documents.access import clearance_clause
from docflow.enums import Role
from docflow.models import AxisRegistration, ExternalAgency, Organization
from docflow.models.documents import Document
from docflow.models.exchange import ExchangeMessage
from docflow.models.outgoing import Delivery
from docflow.uow import UnitOfWork


@dataclass(frozen=True)
class ExchangeLog:
    """Latest messages of the organisations the actor may look after, and the queue."""

    messages: list[ExchangeMessage]
    waiting: list[Delivery]
    # delivery id → the actions the actor may take on it (retry, cancel)
    actions: dict[uuid.UUID, list[str]] = field(default_factory=dict)
    # our organisations and when the axis was last told about them (None: never)
    registrations: list[tuple[Organization, dt.datetime | None]] = field(default_factory=list)
    directory_size: int = 0
    directory_refreshed_at: dt.datetime | None = None
    # waiting deliveries of documents above the actor's clearance, left out of ``waiting``
    hidden_waiting: int = 0


def exchange_log(uow: UnitOfWork, actor: Actor, *, limit: int = 200) -> ExchangeLog:
    require_role(actor, Role.ADMIN, Role.CLERK)
    with uow:
        s = uow.session
        if actor.has_role(Role.ADMIN):
            orgs = select(Organization.id).where(
                Organization.path.startswith(actor.organization_path)
            )
        else:
            orgs = select(Organization.id).where(Organization.id == actor.organization_id)
        cleared = clearance_clause(actor)
        messages = list(
            s.scalars(
                select(ExchangeMessage)
                .outerjoin(Document, Document.id == ExchangeMessage.document_id)
                .where(
                    ExchangeMessage.organization_id.in_(orgs),
                    or_(ExchangeMessage.document_id.is_(None), cleared),
                )
                .order_by(ExchangeMessage.created_at.desc())
                .limit(limit)
            )
        )
        queue = (
            Document.organization_id.in_(orgs),
            Delivery.channel == "axis",
            Delivery.state.in_(["queued", "failed"]),
        )
        waiting = list(
            s.scalars(
                select(Delivery)
                .join(Document, Document.id == Delivery.document_id)
                .where(*queue, cleared)
                .order_by(Delivery.priority, Delivery.created_at)
                .limit(limit)
            )
        )
        hidden = s.scalar(
            select(func.count())
            .select_from(Delivery)
            .join(Document, Document.id == Delivery.document_id)
            .where(*queue, not_(cleared))
        )
        from docflow.outgoing.axis_deliveries import allowed_delivery_actions

        docs = {
            doc.id: doc
            for doc in s.scalars(
                select(Document).where(Document.id.in_([d.document_id for d in waiting]))
            )
        }
        actions = {d.id: allowed_delivery_actions(actor, docs[d.document_id], d) for d in waiting}
        registrations: list[tuple[Organization, dt.datetime | None]] = [
            (org, at)
            for org, at in s.execute(
                select(Organization, AxisRegistration.registered_at)
                .outerjoin(AxisRegistration, AxisRegistration.organization_id == Organization.id)
                .where(Organization.id.in_(orgs), Organization.active.is_(True))
                .order_by(Organization.path)
            )
        ]
        size, refreshed = s.execute(
            select(func.count(), func.max(ExternalAgency.refreshed_at)).select_from(ExternalAgency)
        ).one()
        return ExchangeLog(messages, waiting, actions, registrations, size, refreshed, hidden or 0)
