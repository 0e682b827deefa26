"""The moves a document's answer offers come from the transition tables alone: the lookup by
state (:func:`docflow.transitions.actions_from`) says exactly what the table says, in the order
of the action enum, for every state and action of both directions."""

from __future__ import annotations

from enum import StrEnum
from types import SimpleNamespace
from typing import Any

import pytest

from docflow.incoming import actions as incoming_actions
from docflow.incoming.states import INCOMING_TRANSITIONS, IncomingAction, IncomingState
from docflow.outgoing import actions as outgoing_actions
from docflow.outgoing.states import OUTGOING_TRANSITIONS, OutgoingAction, OutgoingState
from docflow.transitions import actions_from

TABLES: list[tuple[Any, type[StrEnum], type[StrEnum]]] = [
    (INCOMING_TRANSITIONS, IncomingState, IncomingAction),
    (OUTGOING_TRANSITIONS, OutgoingState, OutgoingAction),
]


@pytest.mark.parametrize(("table", "states", "actions"), TABLES)
def test_the_moves_from_each_state_are_the_tables_in_the_enums_order(
    table: Any, states: type[StrEnum], actions: type[StrEnum]
) -> None:
    moves = actions_from(table, actions)
    for state in states:
        expected = tuple(a for a in actions if (state, a) in table)
        assert moves.get(state.value, ()) == expected, state
    assert set(moves) <= {s.value for s in states}


def test_a_state_with_no_move_offers_none() -> None:
    moves = actions_from(INCOMING_TRANSITIONS, IncomingAction)
    assert IncomingState.RECALLED.value not in moves
    assert IncomingState.REJECTED.value not in moves


@pytest.mark.parametrize("state", list(OutgoingState))
def test_an_outgoing_move_is_possible_exactly_when_the_table_has_it(state: OutgoingState) -> None:
    doc: Any = SimpleNamespace(state=state.value)
    for action in OutgoingAction:
        assert outgoing_actions.possible(doc, action) == ((state, action) in OUTGOING_TRANSITIONS)


@pytest.mark.parametrize("state", list(IncomingState))
@pytest.mark.parametrize("recall_request", [None, {"reason": "Gửi nhầm"}])
def test_an_incoming_move_is_possible_exactly_when_the_table_has_it(
    state: IncomingState, recall_request: dict[str, str] | None
) -> None:
    doc: Any = SimpleNamespace(state=state.value, recall_request=recall_request)
    decisions = (IncomingAction.ACCEPT_RECALL, IncomingAction.REFUSE_RECALL)
    for action in IncomingAction:
        in_table = (state, action) in INCOMING_TRANSITIONS
        # A recall decision also needs a request to decide.
        expected = in_table and (action not in decisions or recall_request is not None)
        assert incoming_actions._possible(doc, action) == expected, (state, action)
