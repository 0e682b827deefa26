"""The exchange log for admins and clerks: packages and statuses in and out, with their state,
errors and retries, and the external deliveries still waiting."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from docflow.actors import Actor
from docflow.enums import Role
from docflow.models import Organization
from docflow.models.documents import Document
from docflow.models.exchange import ExchangeMessage
from docflow.models.outgoing import Delivery
from docflow.policies import require_role
from docflow.uow import UnitOfWork


@dataclass(frozen=True)
class ExchangeLog:
    """Latest messages of the organisations the actor may look after, and the queue."""

    messages: list[ExchangeMessage]
    waiting: list[Delivery]


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
        messages = list(
            s.scalars(
                select(ExchangeMessage)
                .where(ExchangeMessage.organization_id.in_(orgs))
                .order_by(ExchangeMessage.created_at.desc())
                .limit(limit)
            )
        )
        waiting = list(
            s.scalars(
                select(Delivery)
                .join(Document, Document.id == Delivery.document_id)
                .where(
                    Document.organization_id.in_(orgs),
                    Delivery.channel == "axis",
                    Delivery.state.in_(["queued", "failed"]),
                )
                .order_by(Delivery.priority, Delivery.created_at)
                .limit(limit)
            )
        )
        return ExchangeLog(messages, waiting)
