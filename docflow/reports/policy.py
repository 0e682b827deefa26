"""Who may read statistics and work on periodic reports: functions of plain values.

Organisations are compared by their materialised paths (``/root/…/id/``): an organisation is
in a reader's subtree when its path starts with the reader's path.
"""

from __future__ import annotations

from collections.abc import Iterable

from docflow.enums import Role
from docflow.reports.states import RequestAction

# Roles that work on their own organisation's reports (fill them in).
FILLERS = frozenset({Role.LEADER, Role.UNIT_HEAD, Role.SPECIALIST, Role.CLERK})
# Roles that submit a report in the organisation's name (the clerk, or the leader).
SUBMITTERS = frozenset({Role.LEADER, Role.CLERK})
# Roles that approve (sign) the organisation's report: its leaders.
APPROVERS = frozenset({Role.LEADER})
# Roles that define report forms and read the gathered results of their organisation.
REQUESTERS = frozenset({Role.LEADER, Role.UNIT_HEAD, Role.SPECIALIST})


def in_subtree(reader_path: str, org_path: str) -> bool:
    """``org_path`` is the reader's organisation or below it."""
    return bool(reader_path) and org_path.startswith(reader_path)


def may_read_other_or_subtree(roles: Iterable[Role]) -> bool:
    """Statistics of another organisation or of a subtree: leaders only."""
    return Role.LEADER in set(roles)


def stats_refusal(
    roles: Iterable[Role], *, reader_path: str, org_path: str, own_org: bool, subtree: bool
) -> str | None:
    """Why the reader may not read these statistics: ``"not_visible"`` (404),
    ``"forbidden"`` (403) or None. Refusal order: visibility first."""
    if not in_subtree(reader_path, org_path):
        return "not_visible"
    if (subtree or not own_org) and not may_read_other_or_subtree(roles):
        return "forbidden"
    return None


def may_define_form(roles: Iterable[Role]) -> bool:
    return bool(REQUESTERS & set(roles))


def may_fill(roles: Iterable[Role]) -> bool:
    return bool(FILLERS & set(roles))


def may_submit(roles: Iterable[Role]) -> bool:
    return bool(SUBMITTERS & set(roles))


def may_approve(roles: Iterable[Role]) -> bool:
    return bool(APPROVERS & set(roles))


def may_act(action: RequestAction, roles: Iterable[Role], *, own: bool, requester: bool) -> bool:
    """Who may move a report request: ``own`` — the actor belongs to the reporting
    organisation; ``requester`` — to the organisation that asked for the report.

    fill, correct: the reporting organisation's fillers; approve: its leader (who signs);
    submit: its clerk or leader; return: the requesting organisation's requesters."""
    rs = set(roles)
    if action in (RequestAction.FILL, RequestAction.CORRECT):
        return own and may_fill(rs)
    if action is RequestAction.APPROVE:
        return own and may_approve(rs)
    if action is RequestAction.SUBMIT:
        return own and may_submit(rs)
    if action is RequestAction.RETURN:
        return requester and may_define_form(rs)
    return False


def may_read_results(roles: Iterable[Role], *, reader_path: str, form_org_path: str) -> bool:
    """The gathered results: the requesting organisation's requesters, or leaders above it."""
    rs = set(roles)
    if reader_path == form_org_path:
        return bool(REQUESTERS & rs)
    return in_subtree(reader_path, form_org_path) and Role.LEADER in rs


def may_see_request(*, reader_path: str, request_org_path: str, form_org_path: str) -> bool:
    """A request is visible to its own organisation and to the requesting organisation (and
    above it)."""
    return reader_path == request_org_path or in_subtree(reader_path, form_org_path)


__all__ = [
    "APPROVERS",
    "FILLERS",
    "REQUESTERS",
    "SUBMITTERS",
    "in_subtree",
    "may_act",
    "may_approve",
    "may_define_form",
    "may_fill",
    "may_read_other_or_subtree",
    "may_read_results",
    "may_see_request",
    "may_submit",
    "stats_refusal",
]
