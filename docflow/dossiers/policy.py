"""Who may see a dossier and who may move it: functions of plain values (an
:class:`~docflow.actors.Actor` and a :class:`DossierFacts`), tested without a database.

- **Seeing** a dossier: people of its organisation cleared for its secrecy, who are of the
  office (clerk, leader), the archive (archivist), its keeper (người lập hồ sơ), or members of
  the unit that keeps it. Anyone else, in particular anyone of another organisation or without
  the clearance, is told it does not exist (404): a secret dossier's existence does not leak.
- **Opening** one: a specialist, a unit head (for their own unit), the clerk or a leader (for
  any unit of the organisation).
- **Filing, closing, transferring** (the unit's work on its own dossier): its keeper, the
  people of its unit who handle work (specialist, unit head), the clerk and the leaders.
- **Reopening** a closed dossier: the head of the organisation (leader), with a reason.
- **Accepting or returning** a transfer: the organisation's archivist (returning with a reason).
- **Legal holds and disposal**: a leader sets or lifts a hold; the archivist proposes a
  disposal of archived dossiers past their retention, a leader decides it.
- **The file plan**: drafted and edited by the office (clerk, leader), approved by a leader.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from docflow.actors import Actor
from docflow.dossiers.states import DossierAction, DossierState, allowed_in
from docflow.enums import Role

OFFICE = (Role.CLERK, Role.LEADER)
HANDLERS = (Role.SPECIALIST, Role.UNIT_HEAD)
OPENERS = (Role.CLERK, Role.LEADER, Role.UNIT_HEAD, Role.SPECIALIST)


@dataclass(frozen=True)
class DossierFacts:
    """What the rules need to know of a dossier."""

    organization_id: uuid.UUID
    unit_id: uuid.UUID | None
    keeper_id: uuid.UUID
    secrecy_rank: int
    state: DossierState
    held: bool = False


def _office(actor: Actor) -> bool:
    return any(actor.has_role(r) for r in OFFICE)


def _of_unit(actor: Actor, d: DossierFacts) -> bool:
    return d.unit_id is not None and actor.unit_id == d.unit_id


def can_view(actor: Actor, d: DossierFacts) -> bool:
    if d.organization_id != actor.organization_id:
        return False
    if d.secrecy_rank > actor.clearance.rank:
        return False
    return (
        _office(actor)
        or actor.has_role(Role.ARCHIVIST)
        or actor.user_id == d.keeper_id
        or _of_unit(actor, d)
    )


def may_open(actor: Actor, organization_id: uuid.UUID, unit_id: uuid.UUID | None) -> bool:
    """Open a dossier of ``organization_id`` kept by ``unit_id``."""
    if organization_id != actor.organization_id:
        return False
    if _office(actor):
        return True
    if not any(actor.has_role(r) for r in HANDLERS):
        return False
    return unit_id is None or unit_id == actor.unit_id


def may_work_on(actor: Actor, d: DossierFacts) -> bool:
    """File into, take out of, close and transfer the dossier."""
    if not can_view(actor, d):
        return False
    if _office(actor) or actor.user_id == d.keeper_id:
        return True
    return _of_unit(actor, d) and any(actor.has_role(r) for r in HANDLERS)


def may(actor: Actor, d: DossierFacts, action: DossierAction) -> bool:
    """Whether the actor's role lets them do ``action`` (the state is checked separately)."""
    if not can_view(actor, d):
        return False
    if action in (
        DossierAction.FILE,
        DossierAction.UNFILE,
        DossierAction.CLOSE,
        DossierAction.TRANSFER,
    ):
        return may_work_on(actor, d)
    if action is DossierAction.REOPEN:
        return actor.has_role(Role.LEADER)
    if action in (DossierAction.ACCEPT, DossierAction.RETURN):
        return actor.has_role(Role.ARCHIVIST)
    if action in (DossierAction.HOLD, DossierAction.RELEASE, DossierAction.DISPOSE):
        # The head decides holds and disposals (the archive proposes disposals).
        return actor.has_role(Role.LEADER)
    return False


def may_propose_disposal(actor: Actor, organization_id: uuid.UUID) -> bool:
    return organization_id == actor.organization_id and actor.has_role(Role.ARCHIVIST)


def may_decide_disposal(actor: Actor, organization_id: uuid.UUID) -> bool:
    return organization_id == actor.organization_id and actor.has_role(Role.LEADER)


def allowed_actions(actor: Actor, d: DossierFacts) -> list[DossierAction]:
    """What the API's ``allowed_actions`` lists: permitted and possible now."""
    possible = allowed_in(d.state) - {DossierAction.DISPOSE}
    out = [a for a in DossierAction if a in possible and may(actor, d, a)]
    # Only the one of hold/release that changes something.
    drop = DossierAction.RELEASE if not d.held else DossierAction.HOLD
    return [a for a in out if a is not drop]


def may_edit_plan(actor: Actor, organization_id: uuid.UUID) -> bool:
    return organization_id == actor.organization_id and _office(actor)


def may_approve_plan(actor: Actor, organization_id: uuid.UUID) -> bool:
    return organization_id == actor.organization_id and actor.has_role(Role.LEADER)


def may_read_plan(actor: Actor, organization_id: uuid.UUID) -> bool:
    """The plan names dossiers, not documents: everyone of the organisation who keeps dossiers
    or receives them reads it."""
    return organization_id == actor.organization_id and (
        any(actor.has_role(r) for r in OPENERS) or actor.has_role(Role.ARCHIVIST)
    )
