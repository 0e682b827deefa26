"""The one lookup of a transition table (``states.py`` of a capability): the next state, or a
409 that names the action and the state in Vietnamese."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol, TypeVar

from docflow.errors import TransitionNotAllowedError


class Labelled(Protocol):
    @property
    def value(self) -> str: ...

    @property
    def label(self) -> str: ...


S = TypeVar("S", bound=Labelled)
A = TypeVar("A", bound=Labelled)


def next_in(
    table: Mapping[tuple[S, A], S], state: S, action: A, *, subject: str, code: str | None = None
) -> S:
    """The state after ``action`` in ``table``; :class:`TransitionNotAllowedError` (409) when the
    table has no such move. ``subject`` names what moves ("nhiệm vụ", "hồ sơ"); ``code`` replaces
    the error's stable code when the capability has its own."""
    try:
        return table[(state, action)]
    except KeyError:
        extra = {"code": code} if code else {}
        raise TransitionNotAllowedError(
            f"Không thể «{action.label.lower()}» khi {subject} đang ở trạng thái "
            f"«{state.label.lower()}».",
            details={"state": state.value, "action": action.value},
            **extra,
        ) from None


def actions_from(table: Mapping[tuple[S, A], S], actions: Iterable[A]) -> dict[str, tuple[A, ...]]:
    """The moves ``table`` allows from each state, by the state's value, each in the order of
    ``actions`` (the action enum): what a document's answer offers is worked out from these few
    rather than by asking the table about every action (issue 19: the box lists ask it for
    twenty documents a page)."""
    out: dict[str, list[A]] = {}
    for action in actions:
        for state, moved in table:
            if moved == action:
                out.setdefault(state.value, []).append(action)
    return {state: tuple(moves) for state, moves in out.items()}
