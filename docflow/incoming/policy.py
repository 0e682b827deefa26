"""Who may do what to an incoming document (API.md §3 table), on plain values.

:class:`IncomingFacts` is what the rules need to know about one document (its state, to whom it
was presented, who holds its open assignments); :func:`decide` answers for one actor and one
action with a :class:`~docflow.engine.Decision` (and the delegation the power comes from). The
engine asks this before it asks the transition table: an actor who never may do the action is
refused (403) whatever the state; an actor who may, but not now, is told so by the table (409).

- **Clerks** register, reject, present to a leader, and decide on a sender's recall.
- **Leaders** direct (assign) and return, unless the document was presented to another leader
  (then only that leader, or whoever holds their delegation); while the work is under way only
  the unit passes it on.
- The **unit head** of a unit that holds an open unit-level assignment passes it on inside the
  unit, and returns it.
- The **lead handler** (the person, or the head of the unit, of an open lead assignment) starts
  and completes the work.
- Anyone who sees the document comments.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from docflow.actors import Actor, DelegatedRole
from docflow.documents.access import presenter_ids
from docflow.engine import REFUSED, Decision
from docflow.enums import Role
from docflow.incoming.states import IncomingAction, IncomingState

A, S = IncomingAction, IncomingState


@dataclass(frozen=True)
class Holder:
    """Who an open assignment waits for: a person, or a unit (its head)."""

    user_id: uuid.UUID | None
    unit_id: uuid.UUID | None


@dataclass(frozen=True)
class IncomingFacts:
    """What the rules need to know about one incoming document.

    Attributes:
        state: its state.
        submitted_to_id: the leader it was presented to, if any.
        lead: holders of the open lead assignments.
        unit_level: units holding an open unit-level (not "informed") assignment that their
            head may pass on.
    """

    state: IncomingState
    submitted_to_id: uuid.UUID | None = None
    lead: tuple[Holder, ...] = ()
    unit_level: tuple[uuid.UUID, ...] = ()


def holds(actor: Actor, holder: Holder) -> bool:
    """The actor is the one an open assignment waits for."""
    if holder.user_id is not None:
        return holder.user_id == actor.user_id
    return (
        holder.unit_id is not None
        and holder.unit_id == actor.unit_id
        and actor.has_role(Role.UNIT_HEAD)
    )


def is_lead_handler(actor: Actor, facts: IncomingFacts) -> bool:
    return any(holds(actor, h) for h in facts.lead)


def passes_on_in_unit(actor: Actor, facts: IncomingFacts) -> bool:
    """The actor heads a unit with an open unit-level assignment (to pass on inside it)."""
    return (
        actor.has_role(Role.UNIT_HEAD)
        and actor.unit_id is not None
        and actor.unit_id in facts.unit_level
    )


def heads_the_lead_unit(actor: Actor, facts: IncomingFacts) -> bool:
    """The actor heads the unit that leads (chủ trì) the work, holding it for the unit: its head
    may send the document back. A co-operating unit's head passes its own part on inside the
    unit (:func:`passes_on_in_unit`) but does not undo the leader's direction (DOMAIN.md §4.3)."""
    return passes_on_in_unit(actor, facts) and any(
        h.user_id is None and h.unit_id == actor.unit_id for h in facts.lead
    )


def leader_directs(actor: Actor, facts: IncomingFacts) -> bool:
    """A leader gives the direction (unless it was presented to another leader), except
    while the work is under way, when only the unit passes it on."""
    if not actor.has_role(Role.LEADER) or facts.state is S.IN_PROGRESS:
        return False
    return facts.state is not S.SUBMITTED or facts.submitted_to_id in presenter_ids(actor)


def acting_leader(actor: Actor, facts: IncomingFacts) -> DelegatedRole | None:
    """The delegation a leader's power comes from: the presented-to leader's, if it was
    presented to someone else."""
    if facts.submitted_to_id is not None and facts.submitted_to_id != actor.user_id:
        return next(
            (
                d
                for d in actor.delegated
                if d.role is Role.LEADER and d.delegator_id == facts.submitted_to_id
            ),
            None,
        )
    return actor.acting_for(Role.LEADER)


def _as_clerk(actor: Actor) -> Decision:
    return Decision(True, actor.acting_for(Role.CLERK)) if actor.has_role(Role.CLERK) else REFUSED


def _as_head(actor: Actor) -> Decision:
    """A delegated unit-head role only exists inside the delegator's unit (see
    :func:`docflow.actors.delegation_refusal`), so ``actor.unit_id`` is that unit."""
    return Decision(True, actor.acting_for(Role.UNIT_HEAD))


def may_register(actor: Actor) -> bool:
    """Who registers (vào sổ) incoming documents: clerks (own role or delegated)."""
    return actor.has_role(Role.CLERK)


def decide(actor: Actor, facts: IncomingFacts, action: IncomingAction) -> Decision:
    """Whether the actor may do ``action`` to the document (the state is the table's)."""
    if action in (A.REGISTER, A.REJECT, A.SUBMIT, A.ACCEPT_RECALL, A.REFUSE_RECALL):
        return _as_clerk(actor)
    if action is A.COMMENT:
        return Decision(True)
    if action is A.ASSIGN:
        if leader_directs(actor, facts):
            return Decision(True, acting_leader(actor, facts))
        if passes_on_in_unit(actor, facts):
            return _as_head(actor)
        return REFUSED
    if action in (A.START, A.COMPLETE):
        if not facts.lead:  # no work handed out (yet, or any more): the state answers (409)
            return Decision(True)
        mine = [h for h in facts.lead if holds(actor, h)]
        if not mine:
            return REFUSED
        # Held as a person: their own work; held for the unit: as its head (maybe delegated).
        return Decision(True) if any(h.user_id is not None for h in mine) else _as_head(actor)
    if action is A.RETURN:
        presented = facts.submitted_to_id in presenter_ids(actor)
        if facts.state is S.SUBMITTED:
            return Decision(True, acting_leader(actor, facts)) if presented else REFUSED
        if actor.has_role(Role.LEADER):
            return Decision(True, actor.acting_for(Role.LEADER))
        if heads_the_lead_unit(actor, facts):
            return _as_head(actor)
        return REFUSED
    return REFUSED
