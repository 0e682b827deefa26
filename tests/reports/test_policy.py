"""Who may read and work on reports, request states and report periods: plain values, no
database."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from docflow.enums import Role
from docflow.reports import policy
from docflow.reports.commands import FieldValueError, check_values
from docflow.reports.periods import parse_period_key, period_of
from docflow.reports.states import Period, RequestAction, RequestState, next_state

CENTRE, PROV, WARD, OTHER = "/c/", "/c/p/", "/c/p/w/", "/c/q/"


@pytest.mark.parametrize(
    ("roles", "reader", "org", "subtree", "want"),
    [
        ({Role.LEADER}, PROV, PROV, True, None),
        ({Role.LEADER}, PROV, WARD, False, None),
        ({Role.LEADER}, CENTRE, WARD, True, None),
        ({Role.LEADER}, WARD, PROV, True, "not_visible"),
        ({Role.LEADER}, PROV, OTHER, False, "not_visible"),
        ({Role.LEADER}, OTHER, WARD, True, "not_visible"),
        ({Role.SPECIALIST}, PROV, PROV, False, None),
        ({Role.SPECIALIST}, PROV, PROV, True, "forbidden"),
        ({Role.CLERK}, PROV, WARD, False, "forbidden"),
        ({Role.CLERK}, WARD, PROV, False, "not_visible"),
        ({Role.ADMIN}, PROV, PROV, True, "forbidden"),
        (set(), "", PROV, False, "not_visible"),
    ],
)
def test_statistics_refusals(
    roles: set[Role], reader: str, org: str, subtree: bool, want: str | None
) -> None:
    got = policy.stats_refusal(
        roles, reader_path=reader, org_path=org, own_org=reader == org, subtree=subtree
    )
    assert got == want


def test_report_roles() -> None:
    assert policy.may_submit({Role.CLERK}) and policy.may_submit({Role.LEADER})
    assert not policy.may_submit({Role.SPECIALIST}) and not policy.may_submit({Role.ADMIN})
    assert policy.may_define_form({Role.LEADER}) and not policy.may_define_form({Role.CLERK})
    assert policy.may_read_results({Role.SPECIALIST}, reader_path=PROV, form_org_path=PROV)
    assert not policy.may_read_results({Role.CLERK}, reader_path=PROV, form_org_path=PROV)
    assert policy.may_read_results({Role.LEADER}, reader_path=CENTRE, form_org_path=PROV)
    assert not policy.may_read_results({Role.LEADER}, reader_path=WARD, form_org_path=PROV)
    assert policy.may_see_request(reader_path=WARD, request_org_path=WARD, form_org_path=PROV)
    assert policy.may_see_request(reader_path=PROV, request_org_path=WARD, form_org_path=PROV)
    assert not policy.may_see_request(reader_path=OTHER, request_org_path=WARD, form_org_path=PROV)


def test_request_transitions() -> None:
    S, A = RequestState, RequestAction
    # Filled → approved (signed by the leader) → submitted; nothing skips the approval.
    for before in (S.OPEN, S.LATE, S.RETURNED, S.FILLED, S.APPROVED):
        assert next_state(before, A.FILL) is S.FILLED
        assert next_state(before, A.SUBMIT) is (S.SUBMITTED if before is S.APPROVED else None)
    assert next_state(S.FILLED, A.APPROVE) is S.APPROVED
    for before in (S.OPEN, S.LATE, S.RETURNED, S.APPROVED, S.SUBMITTED):
        assert next_state(before, A.APPROVE) is None
    assert next_state(S.OPEN, A.MARK_LATE) is S.LATE
    assert next_state(S.SUBMITTED, A.SUBMIT) is None
    assert next_state(S.SUBMITTED, A.FILL) is None
    assert next_state(S.SUBMITTED, A.MARK_LATE) is None
    assert next_state(S.SUBMITTED, A.CORRECT) is S.FILLED
    assert next_state(S.SUBMITTED, A.RETURN) is S.RETURNED
    assert next_state(S.OPEN, A.RETURN) is None


def test_who_may_move_a_request() -> None:
    S = RequestAction
    assert policy.may_act(S.FILL, {Role.SPECIALIST}, own=True, requester=False)
    assert not policy.may_act(S.FILL, {Role.LEADER}, own=False, requester=True)
    assert policy.may_act(S.APPROVE, {Role.LEADER}, own=True, requester=False)
    assert not policy.may_act(S.APPROVE, {Role.CLERK, Role.SPECIALIST}, own=True, requester=False)
    assert policy.may_act(S.SUBMIT, {Role.CLERK}, own=True, requester=False)
    assert not policy.may_act(S.SUBMIT, {Role.SPECIALIST}, own=True, requester=False)
    assert policy.may_act(S.RETURN, {Role.LEADER}, own=False, requester=True)
    assert not policy.may_act(S.RETURN, {Role.LEADER}, own=True, requester=False)
    assert not policy.may_act(S.MARK_LATE, {Role.LEADER}, own=True, requester=True)


def test_periods_and_deadlines() -> None:
    d = dt.date
    m = period_of(Period.MONTHLY, d(2026, 2, 10), deadline_day=25)
    assert (m.key, m.start, m.end, m.deadline) == ("2026-02", d(2026, 2, 1), d(2026, 2, 28),
                                                   d(2026, 2, 25))  # fmt: skip
    assert period_of(Period.MONTHLY, d(2026, 2, 10), deadline_day=31).deadline == d(2026, 2, 28)
    w = period_of(Period.WEEKLY, d(2026, 11, 25), deadline_day=None)
    assert (w.key, w.start, w.deadline) == ("2026-W48", d(2026, 11, 23), d(2026, 11, 27))
    q = period_of(Period.QUARTERLY, d(2026, 11, 25), deadline_day=25)
    assert (q.key, q.start, q.end, q.deadline) == ("2026-Q4", d(2026, 10, 1), d(2026, 12, 31),
                                                   d(2026, 12, 25))  # fmt: skip
    assert parse_period_key(Period.MONTHLY, "2026-11") == d(2026, 11, 1)
    for bad in ("2026-13", "2026-1", "'; drop", "2026-W99", ""):
        assert parse_period_key(Period.MONTHLY, bad) is None
    assert parse_period_key(Period.WEEKLY, "2026-W48") == d(2026, 11, 23)
    assert parse_period_key(Period.QUARTERLY, "2026-Q5") is None


def test_values_are_checked_against_the_form() -> None:
    fields = [
        {"key": "n", "label": "N", "type": "number"},
        {"key": "p", "label": "P", "type": "percent"},
        {"key": "t", "label": "T", "type": "text"},
    ]
    assert check_values(fields, {"n": 3, "p": 99.5, "t": "a\x00b"}) == {
        "n": 3,
        "p": 99.5,
        "t": "ab",
    }
    for bad in ({"x": 1}, {"n": "3"}, {"n": float("nan")}, {"n": float("inf")}, {"p": 101},
                {"n": -1}, {"n": False}, {"t": ["x"]}):  # fmt: skip
        with pytest.raises(FieldValueError):
            check_values(fields, bad)


def test_fixed_row_tables_and_their_sums() -> None:
    from docflow.reports.gather import totals_of

    table = {
        "key": "tb",
        "label": "Bảng",
        "type": "table",
        "rows": [{"key": "a", "label": "A"}, {"key": "b", "label": "B"}],
        "columns": [
            {"key": "n", "label": "N", "type": "number"},
            {"key": "t", "label": "T", "type": "text"},
        ],
    }
    assert check_values([table], {"tb": {"a": {"n": 2, "t": "x"}}}) == {
        "tb": {"a": {"n": 2, "t": "x"}}
    }
    for bad in ({"tb": [1]}, {"tb": {"z": {}}}, {"tb": {"a": {"z": 1}}}, {"tb": {"a": {"n": -1}}},
                {"tb": {"a": {"t": 3}}}, {"tb": {"a": 5}}):  # fmt: skip
        with pytest.raises(FieldValueError):
            check_values([table], bad)
    gathered = {"key": "g", "label": "G", "type": "gathered"}
    with pytest.raises(FieldValueError):
        check_values([gathered], {"g": {"rows": []}})  # only the system fills it
    rows = [{"tb": {"a": {"n": 2}, "b": {"n": 1}}}, {"tb": {"a": {"n": 3, "t": "y"}}}, {}]
    assert totals_of([table], rows) == {"tb": {"a": {"n": 5}, "b": {"n": 1}}}


def test_a_delegated_move_names_the_delegation() -> None:
    """A leader's delegate approves a report by the delegated role: the decision names the
    delegation, so the audit entry records both people (SECURITY.md), as every delegated
    action does; one who may by their own roles acts in their own name; one who may not,
    even with their delegations, is refused (write review, side note)."""
    import uuid
    from types import SimpleNamespace

    from docflow.actors import DelegatedRole
    from docflow.reports.services import _decision
    from tests.outgoing.test_policy import ORG, person

    leader_role = DelegatedRole(Role.LEADER, uuid.uuid4(), "Lê Văn Minh", "KT.", uuid.uuid4())
    req: Any = SimpleNamespace(organization_id=ORG, form=SimpleNamespace(organization_id=ORG))
    delegate = person(Role.SPECIALIST, delegated=(leader_role,))
    decided = _decision(delegate, req, RequestAction.APPROVE)
    assert (decided.allowed, decided.acting) == (True, leader_role)
    own = _decision(person(Role.LEADER, delegated=(leader_role,)), req, RequestAction.APPROVE)
    assert (own.allowed, own.acting) == (True, None)
    assert not _decision(person(Role.SPECIALIST), req, RequestAction.APPROVE).allowed
