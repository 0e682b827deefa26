"""The dossier rules as plain values: no database."""

from __future__ import annotations

import uuid

import pytest

from docflow.actors import Actor
from docflow.dossiers.policy import DossierFacts, allowed_actions, can_view, may, may_open
from docflow.dossiers.states import TRANSITIONS, DossierAction, DossierState, next_state
from docflow.enums import Role, Secrecy
from docflow.errors import TransitionNotAllowedError

ORG, OTHER = uuid.uuid4(), uuid.uuid4()
UNIT, UNIT2 = uuid.uuid4(), uuid.uuid4()
KEEPER = uuid.uuid4()


def actor(*roles: Role, unit: uuid.UUID | None = UNIT, org: uuid.UUID = ORG,
          clearance: Secrecy = Secrecy.NONE, user: uuid.UUID | None = None) -> Actor:  # fmt: skip
    return Actor(
        user_id=user or uuid.uuid4(),
        username="x",
        full_name="X",
        organization_id=org,
        organization_path="/",
        unit_id=unit,
        roles=frozenset(roles),
        clearance=clearance,
    )


def dossier(state: DossierState = DossierState.OPEN, secrecy: int = 0) -> DossierFacts:
    return DossierFacts(ORG, UNIT, KEEPER, secrecy, state)


def test_who_sees_a_dossier() -> None:
    d = dossier()
    assert can_view(actor(Role.SPECIALIST), d)  # of the unit
    assert not can_view(actor(Role.SPECIALIST, unit=UNIT2), d)
    assert can_view(actor(Role.SPECIALIST, unit=UNIT2, user=KEEPER), d)
    assert can_view(actor(Role.CLERK, unit=UNIT2), d)
    assert can_view(actor(Role.ARCHIVIST, unit=None), d)
    assert not can_view(actor(Role.LEADER, org=OTHER), d)
    assert not can_view(actor(Role.ADMIN, unit=UNIT2), d)


def test_secret_dossier_needs_clearance_even_for_its_keeper() -> None:
    d = dossier(secrecy=Secrecy.SECRET.rank)
    assert not can_view(actor(Role.LEADER, user=KEEPER), d)
    assert not can_view(actor(Role.LEADER, clearance=Secrecy.CONFIDENTIAL), d)
    assert can_view(actor(Role.LEADER, clearance=Secrecy.SECRET), d)


@pytest.mark.parametrize(
    ("roles", "action", "expected"),
    [
        ((Role.SPECIALIST,), DossierAction.FILE, True),
        ((Role.SPECIALIST,), DossierAction.CLOSE, True),
        ((Role.SPECIALIST,), DossierAction.REOPEN, False),
        ((Role.UNIT_HEAD,), DossierAction.REOPEN, False),
        ((Role.LEADER,), DossierAction.REOPEN, True),
        ((Role.SPECIALIST,), DossierAction.ACCEPT, False),
        ((Role.LEADER,), DossierAction.ACCEPT, False),
        ((Role.ARCHIVIST,), DossierAction.ACCEPT, True),
        ((Role.ARCHIVIST,), DossierAction.RETURN, True),
        ((Role.ARCHIVIST,), DossierAction.FILE, False),
        ((Role.CLERK,), DossierAction.TRANSFER, True),
    ],
)
def test_who_may(roles: tuple[Role, ...], action: DossierAction, expected: bool) -> None:
    assert may(actor(*roles), dossier(), action) is expected


def test_opening_for_another_unit_is_the_offices_alone() -> None:
    assert may_open(actor(Role.SPECIALIST), ORG, UNIT)
    assert not may_open(actor(Role.SPECIALIST), ORG, UNIT2)
    assert may_open(actor(Role.CLERK), ORG, UNIT2)
    assert not may_open(actor(Role.ARCHIVIST), ORG, None)
    assert not may_open(actor(Role.LEADER), OTHER, None)


def test_the_state_table() -> None:
    S, A = DossierState, DossierAction
    assert next_state(S.OPEN, A.CLOSE) is S.CLOSED
    assert next_state(S.CLOSED, A.REOPEN) is S.OPEN
    assert next_state(S.CLOSED, A.TRANSFER) is S.TRANSFERRED
    assert next_state(S.TRANSFERRED, A.ACCEPT) is S.ARCHIVED
    assert next_state(S.TRANSFERRED, A.RETURN) is S.CLOSED
    for state in S:
        for action in A:
            if (state, action) not in TRANSITIONS:
                with pytest.raises(TransitionNotAllowedError):
                    next_state(state, action)
    # Nothing leaves the archive but a disposal; holds change no state.
    assert {TRANSITIONS[(s, a)] for (s, a) in TRANSITIONS if s is S.ARCHIVED} == {
        S.ARCHIVED, S.DISPOSED,
    }  # fmt: skip
    assert next_state(S.ARCHIVED, A.DISPOSE) is S.DISPOSED
    assert not [a for (s, a) in TRANSITIONS if s is S.DISPOSED]


def test_allowed_actions_follow_role_and_state() -> None:
    assert allowed_actions(actor(Role.SPECIALIST), dossier()) == [
        DossierAction.FILE, DossierAction.UNFILE, DossierAction.CLOSE,
    ]  # fmt: skip
    closed = dossier(DossierState.CLOSED)
    assert allowed_actions(actor(Role.LEADER), closed) == [
        DossierAction.REOPEN, DossierAction.TRANSFER, DossierAction.HOLD,
    ]  # fmt: skip
    held = DossierFacts(ORG, UNIT, KEEPER, 0, DossierState.ARCHIVED, held=True)
    assert allowed_actions(actor(Role.LEADER), held) == [DossierAction.RELEASE]
    assert allowed_actions(actor(Role.ARCHIVIST), held) == []
    assert allowed_actions(actor(Role.ARCHIVIST), dossier(DossierState.TRANSFERRED)) == [
        DossierAction.ACCEPT, DossierAction.RETURN,
    ]  # fmt: skip
