"""Appending to a document's processing trail, together with the audit log."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, func, select

from docflow import audit
from docflow.actors import Actor, DelegatedRole
from docflow.documents import access
from docflow.models import Document, TrailEntry, Unit
from docflow.uow import UnitOfWork

SYSTEM_NAME = "Hệ thống"


_LAST_SEQ = select(func.max(TrailEntry.seq)).where(
    TrailEntry.document_id == bindparam("document_id")
)


def append(
    uow: UnitOfWork,
    doc: Document,
    action: str,
    *,
    actor: Actor | None,
    from_state: str | None,
    acting: DelegatedRole | None = None,
    comment: str | None = None,
    details: dict[str, Any] | None = None,
) -> TrailEntry:
    """One trail step (and its audit entry). The trail is append-only: seq only grows."""
    s = uow.session
    # Stamped before the statements below flush the action's own changes, so the document's
    # row is written once (one UPDATE, one version step), not once for the state and again
    # for this.
    doc.updated_at = uow.now()
    # The last step stored, and those of this transaction not yet written: read without
    # flushing, so the action's changes and its trail step are written in one flush at the
    # commit, not in two (issue 19).
    with s.no_autoflush:
        stored = s.scalar(_LAST_SEQ, {"document_id": doc.id}) or 0
    pending = [e.seq for e in s.new if isinstance(e, TrailEntry) and e.document_id == doc.id]
    seq = max([stored, *pending]) + 1
    unit_id = actor.unit_id if actor else None
    unit_name = actor.unit_name if actor else None
    if unit_id is not None and unit_name is None:  # an actor not built from a token's row
        unit = s.get(Unit, unit_id)
        unit_name = unit.name if unit else None
    entry = TrailEntry(
        document_id=doc.id,
        seq=seq,
        action=action,
        from_state=from_state,
        to_state=doc.state,
        actor_id=actor.user_id if actor else None,
        actor_name=actor.full_name if actor else SYSTEM_NAME,
        unit_id=unit_id,
        unit_name=unit_name,
        on_behalf_of_id=acting.delegator_id if acting else None,
        on_behalf_of_name=acting.delegator_name if acting else None,
        competence=acting.competence if acting else None,
        comment=comment,
        details=details or {},
        at=uow.now(),
    )
    s.add(entry)
    audit.record(
        uow,
        f"document_{action}",
        actor=actor,
        acting_as=acting,
        organization_id=doc.organization_id,
        object_type="document",
        object_id=doc.id,
        actor_name=None if actor else SYSTEM_NAME,
        details={"from": from_state, "to": doc.state, **access.audit_details(doc, details or {})},
    )
    return entry
