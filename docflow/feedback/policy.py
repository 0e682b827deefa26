"""Who may see and move citizen feedback, as functions of plain values (no database).

- The **officers** of an organisation's box are its leaders, its clerks and its feedback
  officers (``feedback_officer``). Anyone else, in particular anyone of another organisation,
  is told an item does not exist (404).
- Clerks **receive**: accept, reject, classify, release from or discard out of quarantine.
  Leaders and feedback officers also **decide**: assign, forward, answer, close, extend.
- The **sender's details** (name, phone, e-mail, address) are shown to the officers of the
  organisation the citizen wrote to; an organisation the item was forwarded to sees them only
  when the sender agreed (``share_contact``). Once erased (retention) nobody sees them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from docflow.enums import Role
from docflow.feedback.states import FeedbackAction

OFFICER_ROLES = frozenset({Role.LEADER, Role.CLERK, Role.FEEDBACK_OFFICER})
DECIDING_ROLES = frozenset({Role.LEADER, Role.FEEDBACK_OFFICER})

RECEIVING_ACTIONS = frozenset(
    {
        FeedbackAction.ACCEPT,
        FeedbackAction.REJECT,
        FeedbackAction.CLASSIFY,
        FeedbackAction.RELEASE,
        FeedbackAction.DISCARD,
    }
)


def is_officer(roles: Iterable[Role]) -> bool:
    """May work in a feedback box at all."""
    return any(r in OFFICER_ROLES for r in roles)


def can_view(actor_org: uuid.UUID, roles: Iterable[Role], item_org: uuid.UUID) -> bool:
    """An item is visible to the officers of the organisation whose box holds it."""
    return actor_org == item_org and is_officer(roles)


def may_act(roles: Iterable[Role], action: FeedbackAction) -> bool:
    """May perform ``action`` on an item the actor can see (the state is checked apart)."""
    held = set(roles)
    if action in RECEIVING_ACTIONS:
        return bool(held & OFFICER_ROLES)
    return bool(held & DECIDING_ROLES)


def can_see_sender(
    actor_org: uuid.UUID,
    roles: Iterable[Role],
    item_org: uuid.UUID,
    *,
    is_root: bool,
    share_contact: bool,
    erased: bool,
) -> bool:
    """The sender's details are shown to this actor."""
    if erased or not can_view(actor_org, roles, item_org):
        return False
    return is_root or share_contact


def may_configure(roles: Iterable[Role]) -> bool:
    """Edit the organisation's categories, places and retention; print posters."""
    held = set(roles)
    return bool(held & (DECIDING_ROLES | {Role.ADMIN}))
