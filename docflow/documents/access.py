"""Who sees which document, and who may act on it.

Clerks and leaders see every document of their organisation; others see what is assigned to
them or to their unit; secrecy above the actor's clearance hides a document; nobody sees
another organisation's documents. Invisible documents are reported as missing (404).
The same rule exists twice on purpose: as a SQL condition for lists (boxes, search) and as a
Python check for one loaded document; tests hold the two to the same matrix.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, or_, select, union_all

from docflow.actors import Actor
from docflow.enums import Role
from docflow.errors import NotFoundError
from docflow.models import Assignment, Document

OFFICE_ROLES = (Role.CLERK, Role.LEADER)


def sees_whole_organisation(actor: Actor) -> bool:
    return any(actor.has_role(r) for r in OFFICE_ROLES)


def visible_clause(actor: Actor) -> ColumnElement[bool]:
    """SQL condition: documents ``actor`` may see."""
    base = and_(
        Document.organization_id == actor.organization_id,
        Document.secrecy_rank <= actor.clearance.rank,
    )
    if sees_whole_organisation(actor):
        return base
    involved = [Assignment.user_id == actor.user_id]
    if actor.unit_id is not None:
        involved.append(Assignment.unit_id == actor.unit_id)
    return and_(
        base,
        exists(select(Assignment.id).where(Assignment.document_id == Document.id, or_(*involved))),
    )


def is_involved(actor: Actor, doc: Document) -> bool:
    return any(
        a.user_id == actor.user_id or (actor.unit_id is not None and a.unit_id == actor.unit_id)
        for a in doc.assignments
    )


def can_see(actor: Actor, doc: Document) -> bool:
    if doc.organization_id != actor.organization_id:
        return False
    if doc.secrecy_rank > actor.clearance.rank:
        return False
    return sees_whole_organisation(actor) or is_involved(actor, doc)


def ensure_visible(actor: Actor, doc: Document | None) -> Document:
    if doc is None or not can_see(actor, doc):
        raise NotFoundError("Không tìm thấy văn bản.", code="document_not_found")
    return doc


def waiting_for_clause(actor: Actor) -> ColumnElement[bool]:
    """SQL condition: incoming documents waiting for ``actor`` to act ("chờ xử lý").

    Each reason to wait (the clerk's registrations, the leader's submissions, open assignments)
    is its own index-friendly select of ids; the box is their union, so it stays a few small
    index lookups however many closed documents the organisation holds.
    """
    from docflow.documents.states import AssignmentRole, AssignmentState, IncomingState

    org = actor.organization_id
    branches: list[Select[Any]] = []
    if actor.has_role(Role.CLERK):
        branches.append(
            select(Document.id).where(
                Document.organization_id == org,
                Document.direction == "incoming",
                Document.state.in_([IncomingState.ARRIVED.value, IncomingState.REGISTERED.value]),
            )
        )
    if actor.has_role(Role.LEADER):
        branches.append(
            select(Document.id).where(
                Document.submitted_to_id.in_(presenter_ids(actor)),
                Document.state == IncomingState.SUBMITTED.value,
            )
        )
    open_states = [AssignmentState.PENDING.value, AssignmentState.IN_PROGRESS.value]
    working = [AssignmentRole.LEAD.value, AssignmentRole.COOPERATING.value]
    branches.append(
        select(Assignment.document_id).where(
            Assignment.user_id == actor.user_id,
            Assignment.state.in_(open_states),
            Assignment.role.in_(working),
        )
    )
    if actor.unit_id is not None and actor.has_role(Role.UNIT_HEAD):
        branches.append(
            select(Assignment.document_id).where(
                Assignment.unit_id == actor.unit_id,
                Assignment.user_id.is_(None),
                Assignment.state.in_(open_states),
                Assignment.role.in_(working),
            )
        )
    return Document.id.in_(union_all(*branches).scalar_subquery())


def presenter_ids(actor: Actor) -> list[uuid.UUID]:
    """The leaders on whose behalf ``actor`` may answer a submission (self and delegators)."""
    return [actor.user_id] + [d.delegator_id for d in actor.delegated if d.role is Role.LEADER]
