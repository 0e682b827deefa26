"""The outgoing transition table is exactly API.md §3's."""

from __future__ import annotations

import pytest

from docflow.errors import TransitionNotAllowedError
from docflow.outgoing.states import (
    OUTGOING_TRANSITIONS,
    OutgoingAction,
    OutgoingState,
    next_outgoing_state,
)

EXPECTED = {
    ("draft", "submit_for_review"): "in_review",
    ("changes_requested", "submit_for_review"): "in_review",
    ("in_review", "submit_for_review"): "in_review",
    ("in_review", "request_changes"): "changes_requested",
    ("in_review", "approve"): "approved",
    ("in_review", "sign"): "signed",
    ("approved", "sign"): "signed",
    ("signed", "issue"): "issued",
    ("issued", "dispatch"): "dispatched",
    ("dispatched", "recall"): "recalled",
}
COMMENTABLE = {"draft", "in_review", "changes_requested", "approved", "signed"}


@pytest.mark.parametrize("state", list(OutgoingState))
@pytest.mark.parametrize("action", list(OutgoingAction))
def test_transition_table_is_exactly_the_contract(
    state: OutgoingState, action: OutgoingAction
) -> None:
    if action is OutgoingAction.COMMENT:
        expected = state.value if state.value in COMMENTABLE else None
    else:
        expected = EXPECTED.get((state.value, action.value))
    if expected is None:
        with pytest.raises(TransitionNotAllowedError):
            next_outgoing_state(state, action)
    else:
        assert next_outgoing_state(state, action).value == expected


def test_no_extra_moves() -> None:
    moves = {(s.value, a.value) for s, a in OUTGOING_TRANSITIONS if a is not OutgoingAction.COMMENT}
    assert moves == set(EXPECTED)
