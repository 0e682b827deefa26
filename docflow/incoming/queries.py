"""What pages and lists read about incoming documents: the open assignments, the facts the
policy decides on, and whether an actor still sees a document after acting."""

from __future__ import annotations

import uuid

from docflow.actors import Actor
from docflow.documents import access
from docflow.documents.views import AnyDocument, AssignmentView
from docflow.incoming import policy
from docflow.incoming.policy import Holder, IncomingFacts
from docflow.incoming.states import AssignmentRole, AssignmentState, IncomingState
from docflow.models import Assignment, Document
from docflow.uow import UnitOfWork

OPEN = (AssignmentState.PENDING.value, AssignmentState.IN_PROGRESS.value)


def open_assignments(doc: Document, role: AssignmentRole | None = None) -> list[Assignment]:
    return [a for a in doc.assignments if _is_open(a, role)]


def _is_open(a: Assignment | AssignmentView, role: AssignmentRole | None = None) -> bool:
    """Pending or in progress (and of ``role``, if given), on either kind of document."""
    return a.state in OPEN and (role is None or a.role == role.value)


def facts_of(doc: AnyDocument) -> IncomingFacts:
    """What :mod:`docflow.incoming.policy` needs to know about ``doc``."""
    return IncomingFacts(
        state=IncomingState(doc.state),
        submitted_to_id=doc.submitted_to_id,
        lead=tuple(
            Holder(a.user_id, a.unit_id)
            for a in doc.assignments
            if _is_open(a, AssignmentRole.LEAD)
        ),
        unit_level=tuple(
            a.unit_id
            for a in doc.assignments
            if _is_open(a)
            and a.unit_id is not None
            and a.user_id is None
            and a.role != AssignmentRole.INFORMED.value
        ),
    )


def is_lead_handler(actor: Actor, doc: Document) -> bool:
    return policy.is_lead_handler(actor, facts_of(doc))


def leader_directs(actor: Actor, doc: Document) -> bool:
    return policy.leader_directs(actor, facts_of(doc))


def can_still_see(uow: UnitOfWork, actor: Actor, document_id: uuid.UUID) -> bool:
    """After an action: whether the actor still sees the document (to choose where to go)."""
    with uow:
        doc = uow.session.get(Document, document_id)
        return doc is not None and access.can_see(actor, doc)
