"""The incoming policy on plain values: no database, one actor and the facts of one document."""

from __future__ import annotations

import uuid

import pytest

from docflow.actors import Actor, DelegatedRole
from docflow.enums import Role
from docflow.incoming.policy import Holder, IncomingFacts, decide, holds, leader_directs
from docflow.incoming.states import IncomingAction as A
from docflow.incoming.states import IncomingState as S

ORG, UNIT, OTHER_UNIT = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


def person(*roles: Role, unit: uuid.UUID | None = UNIT, delegated: tuple[DelegatedRole, ...] = ()):
    return Actor(
        user_id=uuid.uuid4(),
        username="x",
        full_name="X",
        organization_id=ORG,
        organization_path="/1/",
        unit_id=unit,
        roles=frozenset(roles),
        delegated=delegated,
    )


def delegation(role: Role, delegator: uuid.UUID) -> DelegatedRole:
    return DelegatedRole(role, delegator, "Người ủy quyền", "TUQ.", uuid.uuid4())


@pytest.mark.parametrize("action", [A.REGISTER, A.REJECT, A.SUBMIT, A.ACCEPT_RECALL])
def test_only_clerks_register_reject_submit_and_decide_recalls(action: A) -> None:
    facts = IncomingFacts(S.ARRIVED)
    assert decide(person(Role.CLERK), facts, action).allowed
    for role in (Role.LEADER, Role.UNIT_HEAD, Role.SPECIALIST):
        assert not decide(person(role), facts, action).allowed


def test_a_clerk_by_delegation_acts_as_delegated() -> None:
    boss = uuid.uuid4()
    d = decide(
        person(Role.SPECIALIST, delegated=(delegation(Role.CLERK, boss),)),
        IncomingFacts(S.ARRIVED),
        A.REGISTER,
    )
    assert d.allowed and d.acting is not None and d.acting.delegator_id == boss
    assert decide(person(Role.CLERK), IncomingFacts(S.ARRIVED), A.REGISTER).acting is None


def test_the_permission_does_not_depend_on_the_state() -> None:
    # A clerk may register (the table answers 409 for a registered one); a specialist never may.
    assert decide(person(Role.CLERK), IncomingFacts(S.DONE), A.REGISTER).allowed
    assert not decide(person(Role.SPECIALIST), IncomingFacts(S.ARRIVED), A.REGISTER).allowed


def test_a_leader_directs_unless_presented_to_another_leader() -> None:
    leader, other = person(Role.LEADER), uuid.uuid4()
    assert decide(leader, IncomingFacts(S.REGISTERED), A.ASSIGN).allowed
    assert decide(
        leader, IncomingFacts(S.SUBMITTED, submitted_to_id=leader.user_id), A.ASSIGN
    ).allowed
    assert not decide(leader, IncomingFacts(S.SUBMITTED, submitted_to_id=other), A.ASSIGN).allowed
    # ...or holding that leader's delegation: then the trail names the delegator.
    deputy = person(Role.LEADER, delegated=(delegation(Role.LEADER, other),))
    d = decide(deputy, IncomingFacts(S.SUBMITTED, submitted_to_id=other), A.ASSIGN)
    assert d.allowed and d.acting is not None and d.acting.delegator_id == other


def test_under_way_only_the_unit_passes_the_work_on() -> None:
    facts = IncomingFacts(S.IN_PROGRESS, unit_level=(UNIT,))
    assert not leader_directs(person(Role.LEADER), facts)
    assert not decide(person(Role.LEADER, unit=None), facts, A.ASSIGN).allowed
    assert decide(person(Role.UNIT_HEAD), facts, A.ASSIGN).allowed
    assert not decide(person(Role.UNIT_HEAD, unit=OTHER_UNIT), facts, A.ASSIGN).allowed


def test_the_lead_handler_starts_and_completes() -> None:
    me, head = person(Role.SPECIALIST), person(Role.UNIT_HEAD)
    mine = IncomingFacts(S.ASSIGNED, lead=(Holder(me.user_id, UNIT),))
    units = IncomingFacts(S.ASSIGNED, lead=(Holder(None, UNIT),))
    assert decide(me, mine, A.START).allowed and decide(me, mine, A.COMPLETE).allowed
    assert not decide(person(Role.SPECIALIST), mine, A.START).allowed
    assert holds(head, Holder(None, UNIT)) and decide(head, units, A.COMPLETE).allowed
    assert not decide(person(Role.SPECIALIST), units, A.START).allowed
    assert not decide(person(Role.UNIT_HEAD, unit=OTHER_UNIT), units, A.START).allowed


def test_returning_a_submission_is_for_the_leader_it_was_presented_to() -> None:
    leader = person(Role.LEADER)
    assert decide(
        leader, IncomingFacts(S.SUBMITTED, submitted_to_id=leader.user_id), A.RETURN
    ).allowed
    assert not decide(
        leader, IncomingFacts(S.SUBMITTED, submitted_to_id=uuid.uuid4()), A.RETURN
    ).allowed
    assert decide(leader, IncomingFacts(S.ASSIGNED), A.RETURN).allowed
    assert not decide(person(Role.SPECIALIST), IncomingFacts(S.ASSIGNED), A.RETURN).allowed


def test_with_no_work_handed_out_the_state_answers() -> None:
    assert decide(person(Role.CLERK), IncomingFacts(S.REGISTERED), A.START).allowed


def test_anyone_who_sees_it_comments() -> None:
    assert decide(person(Role.SPECIALIST), IncomingFacts(S.DONE), A.COMMENT).allowed


def test_clerks_register() -> None:
    from docflow.incoming.policy import may_register

    assert may_register(person(Role.CLERK)) and not may_register(person(Role.LEADER))
