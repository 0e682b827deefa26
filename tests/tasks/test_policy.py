"""The task policy on plain values: an actor and an unsaved task, no database."""

from __future__ import annotations

import datetime as dt
import uuid

from docflow.actors import Actor, DelegatedRole
from docflow.enums import Role
from docflow.models import Task, TaskCooperator
from docflow.tasks.policy import allowed_actions, can_view, standing
from docflow.tasks.states import TaskAction as A

ORG, UNIT, OTHER = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


def person(
    *roles: Role, unit: uuid.UUID | None = UNIT, delegated: tuple[DelegatedRole, ...] = ()
) -> Actor:
    return Actor(uuid.uuid4(), "x", "X", ORG, "/1/", unit, frozenset(roles), delegated)


def task(
    assigner: Actor,
    *,
    lead_user: uuid.UUID | None = None,
    state: str = "assigned",
    cooperators: list[TaskCooperator] | None = None,
) -> Task:
    return Task(
        id=uuid.uuid4(),
        organization_id=ORG,
        title="t",
        state=state,
        assigner_id=assigner.user_id,
        assigner_unit_id=assigner.unit_id,
        lead_unit_id=UNIT,
        lead_user_id=lead_user,
        due_date=dt.date(2026, 12, 31),
        cooperators=cooperators or [],
        parent_id=None,
        extension_due_date=None,
    )


def test_the_lead_starts_even_a_finished_task_as_far_as_the_policy_goes() -> None:
    # The refusal order: permitted (the policy) before the state (the table's 409).
    leader, lead = person(Role.LEADER, unit=None), person(Role.SPECIALIST)
    t = task(leader, lead_user=lead.user_id, state="done")
    assert standing(lead, t, A.START).allowed
    assert not standing(leader, t, A.START).allowed


def test_a_unit_head_leads_a_unit_task_and_splits_it() -> None:
    leader, head = person(Role.LEADER, unit=None), person(Role.UNIT_HEAD)
    t = task(leader)
    assert standing(head, t, A.START).allowed and standing(head, t, A.SPLIT).allowed
    assert not standing(person(Role.UNIT_HEAD, unit=OTHER), t, A.START).allowed
    assert not standing(person(Role.SPECIALIST), t, A.SPLIT).allowed


def test_the_assigner_or_their_delegate_decides() -> None:
    leader = person(Role.LEADER, unit=None)
    t = task(leader)
    assert standing(leader, t, A.CANCEL).allowed
    deputy = person(
        Role.SPECIALIST,
        unit=None,
        delegated=(DelegatedRole(Role.LEADER, leader.user_id, "L", "KT.", uuid.uuid4()),),
    )
    d = standing(deputy, t, A.APPROVE_COMPLETION)
    assert d.allowed and d.acting is not None and d.acting.delegator_id == leader.user_id
    assert not standing(person(Role.LEADER, unit=None), t, A.CANCEL).allowed


def test_cooperators_report_progress_and_see_the_task() -> None:
    leader, helper = person(Role.LEADER, unit=None), person(Role.SPECIALIST, unit=OTHER)
    t = task(leader, cooperators=[TaskCooperator(position=0, user_id=helper.user_id)])
    assert standing(helper, t, A.REPORT_PROGRESS).allowed and can_view(helper, t)
    stranger = person(Role.SPECIALIST, unit=uuid.uuid4())
    assert not can_view(stranger, t) and not standing(stranger, t, A.REPORT_PROGRESS).allowed


def test_allowed_actions_combine_the_policy_and_the_table() -> None:
    leader, head = person(Role.LEADER, unit=None), person(Role.UNIT_HEAD)
    t = task(leader, state="in_progress")
    got = allowed_actions(head, t, decider_id=leader.user_id, open_children=0)
    assert A.START not in got and A.SUBMIT_COMPLETION in got and A.CANCEL not in got
    assert A.CANCEL in allowed_actions(leader, t, decider_id=leader.user_id, open_children=0)


def test_who_assigns_and_where() -> None:
    from docflow.tasks.policy import assigns_in_own_unit_only, may_assign, sees_every_task

    leader, head, clerk = person(Role.LEADER), person(Role.UNIT_HEAD), person(Role.CLERK)
    assert may_assign(leader) and may_assign(head) and not may_assign(clerk)
    assert not assigns_in_own_unit_only(leader) and assigns_in_own_unit_only(head)
    assert sees_every_task(leader) and not sees_every_task(head)
