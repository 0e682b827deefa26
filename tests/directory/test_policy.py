"""Every "who may" of the directory, on plain values: an Actor and small stand-ins for the
organisation, the person and the request (no database, no ORM)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import get_args

import pytest

from docflow.actors import Actor, DelegatedRole
from docflow.directory import policy
from docflow.directory.states import (
    DEFAULT_REQUEST_FILTER,
    RequestAction,
    RequestFilter,
    RequestState,
    next_state,
)
from docflow.enums import Role, Secrecy
from docflow.errors import ConflictError, NotFoundError, PermissionDeniedError


@dataclass(frozen=True)
class Org:
    id: uuid.UUID
    path: str


@dataclass(frozen=True)
class Person:
    id: uuid.UUID
    organization: Org
    roles: frozenset[Role] = frozenset()
    clearance_level: Secrecy = Secrecy.NONE


@dataclass(frozen=True)
class Request:
    user: Person
    requested_by_id: uuid.UUID

    @property
    def user_id(self) -> uuid.UUID:
        return self.user.id


def _org(parent: Org | None = None) -> Org:
    oid = uuid.uuid4()
    return Org(oid, f"{parent.path if parent else '/'}{oid}/")


ROOT = _org()
PROVINCE = _org(ROOT)
COMMUNE = _org(PROVINCE)
OTHER_PROVINCE = _org(ROOT)


def _actor(
    org: Org,
    *roles: Role,
    delegated: tuple[Role, ...] = (),
    user_id: uuid.UUID | None = None,
) -> Actor:
    return Actor(
        user_id=user_id or uuid.uuid4(),
        username="x",
        full_name="X",
        organization_id=org.id,
        organization_path=org.path,
        unit_id=None,
        roles=frozenset(roles),
        delegated=tuple(
            DelegatedRole(r, uuid.uuid4(), "Người ủy quyền", "TUQ.", uuid.uuid4())
            for r in delegated
        ),
    )


def _person(org: Org, *roles: Role, clearance: Secrecy = Secrecy.NONE) -> Person:
    return Person(uuid.uuid4(), org, frozenset(roles), clearance)


def _as(person: Person, *roles: Role) -> Actor:
    return _actor(person.organization, *roles, user_id=person.id)


# ---------------------------------------------------------------- organisations and people


def test_an_admin_administers_their_organisation_and_everything_below() -> None:
    admin = _actor(PROVINCE, Role.ADMIN)
    assert policy.is_admin_of(admin, PROVINCE) and policy.is_admin_of(admin, COMMUNE)
    assert not policy.is_admin_of(admin, ROOT)
    assert not policy.is_admin_of(admin, OTHER_PROVINCE)
    assert not policy.is_admin_of(_actor(PROVINCE, Role.LEADER, Role.CLERK), PROVINCE)


def test_managing_an_organisation_hides_what_is_outside_the_admins_subtree() -> None:
    admin = _actor(PROVINCE, Role.ADMIN)
    assert policy.ensure_can_manage_org(admin, COMMUNE) is COMMUNE
    assert policy.ensure_can_manage_org(admin, PROVINCE) is PROVINCE
    for outside in (ROOT, OTHER_PROVINCE, None):
        with pytest.raises(NotFoundError):
            policy.ensure_can_manage_org(admin, outside)


def test_a_member_who_is_not_admin_sees_their_organisation_but_may_not_change_it() -> None:
    clerk = _actor(PROVINCE, Role.CLERK, Role.LEADER)
    with pytest.raises(PermissionDeniedError):
        policy.ensure_can_manage_org(clerk, PROVINCE)
    with pytest.raises(NotFoundError):  # not forbidden: it would tell that it exists
        policy.ensure_can_manage_org(clerk, COMMUNE)


def test_internals_are_seen_by_members_and_admins_above_only() -> None:
    assert policy.ensure_can_view_org_internals(_actor(COMMUNE, Role.SPECIALIST), COMMUNE)
    assert policy.ensure_can_view_org_internals(_actor(PROVINCE, Role.ADMIN), COMMUNE)
    for actor, org in (
        (_actor(COMMUNE, Role.ADMIN), PROVINCE),  # an admin below does not see above
        (_actor(PROVINCE, Role.LEADER), COMMUNE),  # a leader above is no admin
        (_actor(OTHER_PROVINCE, Role.ADMIN), COMMUNE),
    ):
        with pytest.raises(NotFoundError):
            policy.ensure_can_view_org_internals(actor, org)
    with pytest.raises(NotFoundError):
        policy.ensure_can_view_org_internals(_actor(ROOT, Role.ADMIN), None)


def test_a_person_is_managed_through_their_organisation() -> None:
    person = _person(COMMUNE, Role.SPECIALIST)
    assert policy.ensure_can_manage_user(_actor(PROVINCE, Role.ADMIN), person) is person
    with pytest.raises(NotFoundError):
        policy.ensure_can_manage_user(_actor(OTHER_PROVINCE, Role.ADMIN), person)
    with pytest.raises(PermissionDeniedError):
        policy.ensure_can_manage_user(_actor(COMMUNE, Role.LEADER), person)
    with pytest.raises(NotFoundError):
        policy.ensure_can_manage_user(_actor(PROVINCE, Role.ADMIN), None)


def test_deactivated_people_and_every_delegation_are_listed_to_admins_only() -> None:
    assert policy.sees_inactive_users(_actor(ROOT, Role.ADMIN), COMMUNE)
    assert not policy.sees_inactive_users(_actor(COMMUNE, Role.LEADER), COMMUNE)
    assert policy.sees_all_delegations(_actor(COMMUNE, Role.ADMIN), COMMUNE)
    assert not policy.sees_all_delegations(_actor(COMMUNE, Role.LEADER, Role.CLERK), COMMUNE)


# ---------------------------------------------------------------- registers and the calendar


@pytest.mark.parametrize(
    ("roles", "delegated", "sees"),
    [
        ((Role.CLERK,), (), True),
        ((Role.LEADER,), (), True),
        ((Role.ADMIN,), (), True),
        ((Role.SPECIALIST,), (Role.CLERK,), True),  # the clerk's duties, delegated
        ((Role.SPECIALIST, Role.UNIT_HEAD), (), False),
        ((), (), False),
    ],
)
def test_registers_are_the_clerks_the_leaders_and_the_admins_business(
    roles: tuple[Role, ...], delegated: tuple[Role, ...], sees: bool
) -> None:
    actor = _actor(COMMUNE, *roles, delegated=delegated)
    if sees:
        assert policy.ensure_can_view_registers(actor, COMMUNE) is COMMUNE
    else:
        with pytest.raises(NotFoundError):
            policy.ensure_can_view_registers(actor, COMMUNE)


def test_registers_of_another_organisation_follow_the_admin_rule() -> None:
    assert policy.ensure_can_view_registers(_actor(PROVINCE, Role.ADMIN), COMMUNE) is COMMUNE
    with pytest.raises(NotFoundError):
        policy.ensure_can_view_registers(_actor(PROVINCE, Role.CLERK, Role.LEADER), COMMUNE)


def test_only_admins_of_the_root_organisation_edit_the_calendar() -> None:
    assert policy.may_edit_calendar(_actor(ROOT, Role.ADMIN), ROOT.id)
    policy.ensure_can_edit_calendar(_actor(ROOT, Role.ADMIN), ROOT.id)
    for actor, root in (
        (_actor(PROVINCE, Role.ADMIN), ROOT.id),  # an admin, but below the root
        (_actor(ROOT, Role.LEADER, Role.CLERK), ROOT.id),  # of the root, but no admin
        (_actor(ROOT, Role.ADMIN), None),  # no tree yet
        (_actor(ROOT, Role.ADMIN), PROVINCE.id),
    ):
        assert not policy.may_edit_calendar(actor, root)
        with pytest.raises(PermissionDeniedError):
            policy.ensure_can_edit_calendar(actor, root)


# ---------------------------------------------------------------- delegations


def test_a_leader_delegates_their_own_roles_and_an_admin_may_record_it() -> None:
    leader = _person(COMMUNE, Role.LEADER)
    deputy = _person(COMMUNE, Role.SPECIALIST)
    policy.ensure_can_create_delegation(_as(leader, Role.LEADER), leader, deputy)
    policy.ensure_can_create_delegation(_actor(PROVINCE, Role.ADMIN), leader, deputy)
    policy.ensure_can_revoke_delegation(_as(leader, Role.LEADER), leader)
    policy.ensure_can_revoke_delegation(_actor(COMMUNE, Role.ADMIN), leader)


def test_nobody_else_creates_or_revokes_a_delegation() -> None:
    leader = _person(COMMUNE, Role.LEADER)
    deputy = _person(COMMUNE, Role.SPECIALIST)
    with pytest.raises(PermissionDeniedError):  # the deputy themselves
        policy.ensure_can_create_delegation(_as(deputy, Role.SPECIALIST), leader, deputy)
    with pytest.raises(PermissionDeniedError):
        policy.ensure_can_revoke_delegation(_as(deputy, Role.SPECIALIST), leader)
    with pytest.raises(NotFoundError):  # another organisation's admin
        policy.ensure_can_create_delegation(_actor(OTHER_PROVINCE, Role.ADMIN), leader, deputy)
    with pytest.raises(NotFoundError):
        policy.ensure_can_revoke_delegation(_actor(OTHER_PROVINCE, Role.ADMIN), leader)


def test_an_admin_may_not_record_a_delegation_to_themselves() -> None:
    leader = _person(COMMUNE, Role.LEADER)
    admin = _person(COMMUNE, Role.ADMIN)
    with pytest.raises(PermissionDeniedError) as info:
        policy.ensure_can_create_delegation(_as(admin, Role.ADMIN), leader, admin)
    assert info.value.code == "self_privilege_change"


# ---------------------------------------------------------------- the two-person rule


def test_granting_admin_or_raising_clearance_waits_for_a_second_admin() -> None:
    split = policy.split_change(
        frozenset({Role.CLERK}),
        Secrecy.NONE,
        frozenset({Role.CLERK, Role.LEADER, Role.ADMIN}),
        Secrecy.SECRET,
    )
    assert split.roles_now == {Role.CLERK, Role.LEADER}
    assert split.roles_to_grant == {Role.ADMIN}
    assert (split.clearance_now, split.clearance_to_grant) == (None, Secrecy.SECRET)
    assert split.needs_approval
    one_step = policy.split_change(frozenset(), Secrecy.NONE, None, Secrecy.CONFIDENTIAL)
    assert (one_step.clearance_now, one_step.clearance_to_grant) == (None, Secrecy.CONFIDENTIAL)
    assert one_step.roles_now is None and one_step.needs_approval


def test_lowering_clearance_and_other_role_changes_apply_at_once() -> None:
    split = policy.split_change(
        frozenset({Role.ADMIN, Role.CLERK}),
        Secrecy.SECRET,
        frozenset({Role.ADMIN, Role.LEADER}),
        Secrecy.CONFIDENTIAL,
    )
    assert split.roles_now == {Role.ADMIN, Role.LEADER}
    assert split.clearance_now is Secrecy.CONFIDENTIAL
    assert not split.needs_approval
    unchanged = policy.split_change(frozenset(), Secrecy.SECRET, None, Secrecy.SECRET)
    assert unchanged.clearance_now is Secrecy.SECRET and not unchanged.needs_approval


def test_nobody_changes_their_own_roles_or_clearance() -> None:
    admin = _person(COMMUNE, Role.ADMIN, clearance=Secrecy.CONFIDENTIAL)
    me = _as(admin, Role.ADMIN)
    for roles, clearance in (
        (frozenset({Role.ADMIN, Role.LEADER}), None),
        (None, Secrecy.SECRET),
        (None, Secrecy.NONE),
    ):
        with pytest.raises(PermissionDeniedError) as info:
            policy.ensure_not_own_privileges(me, admin, roles, clearance)
        assert info.value.code == "self_privilege_change"
    # Sending the current values back is no change; changing someone else is another rule.
    policy.ensure_not_own_privileges(me, admin, frozenset({Role.ADMIN}), Secrecy.CONFIDENTIAL)
    other = _person(COMMUNE)
    policy.ensure_not_own_privileges(me, other, frozenset({Role.ADMIN}), Secrecy.SECRET)


def test_a_request_is_approved_by_an_admin_other_than_the_requester_and_the_person() -> None:
    person = _person(COMMUNE, Role.CLERK)
    asker = _person(COMMUNE, Role.ADMIN)
    request = Request(person, asker.id)
    policy.ensure_can_decide(_actor(PROVINCE, Role.ADMIN), request, approve=True)
    policy.ensure_can_decide(_as(asker, Role.ADMIN), request, approve=False)  # withdraw
    with pytest.raises(PermissionDeniedError) as info:
        policy.ensure_can_decide(_as(asker, Role.ADMIN), request, approve=True)
    assert info.value.code == "second_admin_required"
    with pytest.raises(PermissionDeniedError) as info:
        policy.ensure_can_decide(_as(person, Role.ADMIN), request, approve=True)
    assert info.value.code == "self_privilege_change"
    with pytest.raises(PermissionDeniedError):
        policy.ensure_can_decide(_actor(COMMUNE, Role.LEADER), request, approve=False)


@pytest.mark.parametrize(
    ("roles", "clearance", "waits"),
    [
        ((Role.ADMIN,), Secrecy.NONE, True),
        ((Role.SPECIALIST,), Secrecy.CONFIDENTIAL, True),
        ((Role.LEADER, Role.CLERK), Secrecy.NONE, False),
    ],
)
def test_resetting_the_password_of_an_admin_or_a_cleared_person_waits(
    roles: tuple[Role, ...], clearance: Secrecy, waits: bool
) -> None:
    person = _person(COMMUNE, *roles, clearance=clearance)
    assert policy.reset_needs_second_admin(_actor(COMMUNE, Role.ADMIN), person) is waits
    assert not policy.reset_needs_second_admin(_as(person, Role.ADMIN), person)  # one's own


def test_a_request_is_decided_once() -> None:
    assert next_state("pending", RequestAction.APPROVE) is RequestState.APPROVED
    assert next_state(RequestState.PENDING, RequestAction.REJECT) is RequestState.REJECTED
    for decided in (RequestState.APPROVED, RequestState.REJECTED):
        for action in RequestAction:
            with pytest.raises(ConflictError) as info:
                next_state(decided, action)
            assert info.value.code == "request_decided"


def test_the_request_filter_names_every_state_and_all() -> None:
    assert set(get_args(RequestFilter)) == {*RequestState, "all"}
    assert DEFAULT_REQUEST_FILTER == RequestState.PENDING
