"""The one action engine: every move of a document, a task, a dossier, a citizen's feedback or
a periodic report request goes through :func:`perform` (filing checks use :func:`check`).

A capability with states brings its transition table (``states.py``), its policy (``policy.py``)
and its trail; the engine applies them in one order, the refusal order of every endpoint
(API.md §7):

1. not visible → 404 (the caller loads the subject through its visibility check);
2. visible but not permitted → 403 (the policy's :class:`Decision`);
3. permitted but not in this state → 409 (the transition table, then the capability's own
   preconditions, e.g. "no recall request waits");
4. bad parameters → 422 (the command is parsed only now);

then the action's effect, the new state, and one trail entry (with its audit entry) that names
the delegation the actor used, if any. A refusal raises before anything is written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from docflow.actors import DelegatedRole
from docflow.errors import DomainError

StateT = TypeVar("StateT")
CommandT = TypeVar("CommandT")
EntryT = TypeVar("EntryT")


@dataclass(frozen=True)
class Decision:
    """A policy's answer: whether the actor may, and the delegation the power comes from
    (``None`` when it is the actor's own)."""

    allowed: bool
    acting: DelegatedRole | None = None


ALLOWED = Decision(True)
REFUSED = Decision(False)


@dataclass(frozen=True)
class Effect:
    """What an action did: the trail comment and the details (both go to the trail and audit)."""

    comment: str | None
    details: dict[str, Any]


@dataclass(frozen=True)
class Move(Generic[StateT]):
    """A move the engine accepted: the states around it and the decision that allowed it."""

    before: StateT
    after: StateT
    decision: Decision


def check(
    decision: Decision,
    before: StateT,
    next_state: Callable[[StateT], StateT],
    *,
    forbidden: Callable[[], DomainError],
    preconditions: Iterable[Callable[[], None]] = (),
) -> Move[StateT]:
    """Steps 2 and 3 of the refusal order: 403 if not permitted, else 409 if not in this state
    (``next_state`` raises :class:`~docflow.errors.TransitionNotAllowedError`), else the move."""
    if not decision.allowed:
        raise forbidden()
    after = next_state(before)
    for precondition in preconditions:
        precondition()
    return Move(before, after, decision)


def perform(
    decision: Decision,
    before: StateT,
    next_state: Callable[[StateT], StateT],
    *,
    forbidden: Callable[[], DomainError],
    parse: Callable[[], CommandT],
    effect: Callable[[CommandT], Effect],
    set_state: Callable[[StateT], None],
    record: Callable[[Move[StateT], Effect], EntryT],
    preconditions: Iterable[Callable[[], None]] = (),
) -> tuple[Move[StateT], EntryT]:
    """Run one action in the refusal order, then its effect, the new state and the trail.

    ``record`` appends the trail entry (and its audit entry) with ``move.decision.acting``, so a
    delegated actor's move is always recorded as delegated. The caller commits.
    """
    move = check(decision, before, next_state, forbidden=forbidden, preconditions=preconditions)
    command = parse()
    done = effect(command)
    set_state(move.after)
    return move, record(move, done)
