"""Who may do what to an outgoing document (API.md §3 table), on plain values.

This is the one place that answers "who may sign": the designated signer, once the draft was
approved or while it waits for them. The engine asks :func:`decide` before the transition
table: an actor who never may do the action is refused (403) whatever the state; one who may,
but not now, is told so by the table (409).

- The **drafter** writes the draft and its versions, and submits it for review.
- The **reviewer** it was submitted to passes it on up the chain, asks for changes, or, if
  they are the designated signer, approves and signs it.
- The **designated signer** (a leader or a unit head, :data:`SIGNER_ROLES`) signs, while they
  still hold that role.
- **Clerks** issue (number and seal), dispatch and recall.
- Anyone who sees the document comments.
"""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from docflow.actors import Actor
from docflow.engine import ALLOWED, REFUSED, Decision
from docflow.enums import Role
from docflow.outgoing.states import EDITABLE_STATES, OutgoingAction, OutgoingState

A, S = OutgoingAction, OutgoingState

DRAFTER_ROLES = frozenset({Role.SPECIALIST, Role.UNIT_HEAD, Role.LEADER})
"""Who may write a new draft."""

SIGNER_ROLES = frozenset({Role.LEADER, Role.UNIT_HEAD})
"""Who may be designated to sign a draft."""

CLERK_ACTIONS = frozenset({A.ISSUE, A.DISPATCH, A.RECALL})


@dataclass(frozen=True)
class OutgoingFacts:
    """What the rules need to know about one outgoing document."""

    state: OutgoingState
    created_by_id: uuid.UUID | None = None
    submitted_to_id: uuid.UUID | None = None
    signer_user_id: uuid.UUID | None = None


def may_draft(roles: Iterable[Role]) -> bool:
    """Whether a person with ``roles`` may write a new outgoing draft."""
    return not DRAFTER_ROLES.isdisjoint(roles)


def may_be_signer(roles: Iterable[Role]) -> bool:
    """Whether a person with ``roles`` may be the designated signer of a draft."""
    return not SIGNER_ROLES.isdisjoint(roles)


def holds_draft(actor: Actor, facts: OutgoingFacts) -> bool:
    """Who holds the draft: the reviewer while it is in review, else the drafter. Once the
    draft may no longer change, whoever held it or signs it is told so (409), not refused."""
    if facts.state not in EDITABLE_STATES:
        return actor.user_id in (facts.created_by_id, facts.submitted_to_id, facts.signer_user_id)
    holder = facts.submitted_to_id if facts.state is S.IN_REVIEW else facts.created_by_id
    return holder == actor.user_id


def may_edit(actor: Actor, facts: OutgoingFacts) -> bool:
    """Whether the actor may add a version now: the holder, while the draft may still change."""
    return facts.state in EDITABLE_STATES and holds_draft(actor, facts)


def is_signer_now(actor: Actor, facts: OutgoingFacts) -> bool:
    """The designated signer, still holding a signer's role: one whose role was lowered since
    the draft named them (no longer a leader or a unit head) no longer approves or signs."""
    return facts.signer_user_id == actor.user_id and any(actor.has_role(r) for r in SIGNER_ROLES)


def may_sign(actor: Actor, facts: OutgoingFacts) -> bool:
    """Who may sign: the designated signer, once approved or while it is submitted to them."""
    if not is_signer_now(actor, facts):
        return False
    return facts.state is not S.IN_REVIEW or facts.submitted_to_id == actor.user_id


def _fold(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


def names_in_certificate(subject: str, name: str) -> bool:
    """Whether a certificate's subject (its common and organisation names, joined by " | ")
    names ``name``: one of them is the name, case and spacing aside. "Nguyễn Văn A" is not
    named by a certificate of "Nguyễn Văn An" or "Trần Nguyễn Văn A", which a plain "is it
    inside" let through."""
    wanted = _fold(name)
    return bool(wanted) and any(_fold(part) == wanted for part in subject.split(" | "))


def may_handle_deliveries(actor: Actor, organization_id: uuid.UUID) -> bool:
    """Who may retry or cancel a delivery that has not left: the sending organisation's clerk."""
    return organization_id == actor.organization_id and actor.has_role(Role.CLERK)


def decide(actor: Actor, facts: OutgoingFacts, action: OutgoingAction) -> Decision:
    """Whether the actor may do ``action`` to the document (the state is the table's)."""
    me = actor.user_id
    if action is A.SUBMIT_FOR_REVIEW:
        if facts.state is S.IN_REVIEW:  # the reviewer passes it up the chain
            return Decision(facts.submitted_to_id == me)
        if facts.state in (S.DRAFT, S.CHANGES_REQUESTED):
            return Decision(facts.created_by_id == me)
        return Decision(me in (facts.created_by_id, facts.submitted_to_id))
    if action is A.REQUEST_CHANGES:
        return Decision(facts.submitted_to_id == me)
    if action is A.APPROVE:
        if facts.state is S.IN_REVIEW:
            return Decision(is_signer_now(actor, facts) and facts.submitted_to_id == me)
        return Decision(is_signer_now(actor, facts))
    if action is A.SIGN:
        return Decision(may_sign(actor, facts))
    if action in CLERK_ACTIONS:
        if not actor.has_role(Role.CLERK):
            return REFUSED
        return Decision(True, actor.acting_for(Role.CLERK))
    if action is A.COMMENT:
        return ALLOWED
    return REFUSED
