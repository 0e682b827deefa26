"""A reader's statements kept by shape, the reader's own values bound at execution (issue 19).

A box is a union of one index range per reason, direction and state (a specialist's ``done``
box: a dozen); building it and the key SQLAlchemy's statement cache finds its SQL by cost about
as much CPU as the rest of the request. What the statement says depends on the reader only
through their *shape*: their roles and delegated roles, whether they have a unit, and their
clearance. Their *values* (who they are, their organisation, their unit, on whose behalf they
answer) only fill it in. So a statement is built once per shape, for a stand-in reader whose
values are sentinels (:func:`shape_of`), the sentinels are replaced by named parameters, and
every reader of that shape runs the same statement object with their own values
(:func:`for_reader`): its SQL is compiled once, its cache key computed once, and a process keeps
a few hundred of them whoever reads.

The statement builders stay the ones every other read path uses (``access``, ``box_ranges``),
so the rule is written once. A sentinel that reaches the statement in a form not replaced here
(a value computed from it, say) would make the statement read nothing for everyone: building
refuses it instead (``RuntimeError``), and the tests hold the bound statements to the built
ones for readers of every shape.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

from sqlalchemy import Select, bindparam
from sqlalchemy.sql import visitors
from sqlalchemy.sql.elements import BindParameter

from docflow.actors import Actor, DelegatedRole

#: Statements kept per process: one per builder, shape and arguments. An entry is the
#: statement's clause tree with its cache key, 16 KB to 0.5 MB.
KEPT = 256

_PREFIX = "dhtn_reader_"

#: A statement of any columns.
S = TypeVar("S", bound=Select[*tuple[Any, ...]])


def _sentinel(n: int) -> uuid.UUID:
    # A version-4-looking id nobody is given: the 'dhtn' bytes and a counter.
    return uuid.UUID(f"d47e0000-0000-4000-8000-{n:012x}")


_ME, _ORG, _UNIT = _sentinel(1), _sentinel(2), _sentinel(3)
#: The stand-in's text fields (name, username, organisation path, a delegator's name and
#: competence): no statement of a shape may use them, so they are sentinels a statement is
#: refused for, not values it could silently be built with.
_TEXT = "dhtn-reader-text-d47e"


def _delegator(i: int) -> uuid.UUID:
    return _sentinel(0x100 + i)


def _delegation(i: int) -> uuid.UUID:
    return _sentinel(0x200 + i)


def shape_of(actor: Actor) -> Actor:
    """The stand-in reader of ``actor``'s shape: the same roles, delegated roles, clearance and
    whether they have a unit, every id and text a sentinel (equal for every reader of the
    shape). Every field of an ``Actor`` is either the shape or a sentinel, so a statement built
    from anything else of the reader is refused by :func:`_bound`."""
    return Actor(
        user_id=_ME,
        username=_TEXT,
        full_name=_TEXT,
        organization_id=_ORG,
        organization_path=_TEXT,
        unit_id=_UNIT if actor.unit_id is not None else None,
        roles=actor.roles,
        delegated=tuple(
            DelegatedRole(d.role, _delegator(i), _TEXT, _TEXT, _delegation(i))
            for i, d in enumerate(actor.delegated)
        ),
        clearance=actor.clearance,
        unit_name=_TEXT,
    )


def _names(shape: Actor) -> dict[uuid.UUID, str]:
    """Each sentinel of ``shape`` and the parameter it becomes."""
    out = {_ME: "me", _ORG: "org"}
    if shape.unit_id is not None:
        out[_UNIT] = "unit"
    for i, d in enumerate(shape.delegated):
        out[d.delegator_id] = f"delegator{i}"
        out[d.delegation_id] = f"delegation{i}"
    return {k: _PREFIX + v for k, v in out.items()}


def _values(actor: Actor) -> dict[str, Any]:
    """The reader's own value of each parameter of :func:`_names`."""
    out: dict[str, Any] = {"me": actor.user_id, "org": actor.organization_id}
    if actor.unit_id is not None:
        out["unit"] = actor.unit_id
    for i, d in enumerate(actor.delegated):
        out[f"delegator{i}"] = d.delegator_id
        out[f"delegation{i}"] = d.delegation_id
    return {_PREFIX + k: v for k, v in out.items()}


@dataclass(frozen=True)
class Kept(Generic[S]):
    """A statement of a shape: run it with :meth:`params` of a reader of that shape."""

    statement: S
    #: Parameters that are lists of the reader's values (``IN`` over self and delegators).
    lists: Mapping[str, tuple[str, ...]]

    def params(self, actor: Actor) -> dict[str, Any]:
        values = _values(actor)
        for name, parts in self.lists.items():
            values[name] = [values[p] for p in parts]
        return values


def _bound(stmt: S, shape: Actor) -> Kept[S]:
    """``stmt`` (built for ``shape``) with its sentinels replaced by named parameters."""
    names = _names(shape)
    lists: dict[str, tuple[str, ...]] = {}

    def named(element: Any, **_kw: Any) -> Any:
        if not isinstance(element, BindParameter):
            return None
        value = element.value
        if isinstance(value, uuid.UUID) and value in names:
            return bindparam(names[value], type_=element.type, required=True)
        if element.expanding and isinstance(value, list | tuple) and value:
            if not all(isinstance(v, uuid.UUID) and v in names for v in value):
                return None
            parts = tuple(names[v] for v in value)
            name = _PREFIX + "list_" + "_".join(p.removeprefix(_PREFIX) for p in parts)
            lists[name] = parts
            return bindparam(name, expanding=True, type_=element.type, required=True)
        return None

    out = cast(S, visitors.replacement_traverse(cast(Any, stmt), {}, named))
    texts = [_TEXT, *(str(n) for n in names)]
    for element in visitors.iterate(out):
        if isinstance(element, BindParameter):
            value = element.value
            for v in value if isinstance(value, list | tuple) else [value]:
                if (isinstance(v, uuid.UUID) and v in names) or (
                    isinstance(v, str) and any(t in v for t in texts)
                ):
                    raise RuntimeError(f"a reader's value left unbound in {element!r}")
    return Kept(out, lists)


@functools.lru_cache(maxsize=KEPT)
def _kept(
    build: Callable[..., S | None], shape: Actor, args: tuple[Hashable, ...]
) -> Kept[S] | None:
    stmt = build(shape, *args)
    return None if stmt is None else _bound(stmt, shape)


def for_reader(
    build: Callable[..., S | None], actor: Actor, *args: Hashable
) -> tuple[S, dict[str, Any]] | None:
    """``build(actor, *args)`` as a statement kept for ``actor``'s shape and the parameters
    that make it ``actor``'s (None when ``build`` gives None). ``build`` must be a function of
    its arguments alone (a module's function, not a closure over a request's values), reading
    of the reader only what :func:`shape_of` keeps or replaces."""
    kept = _kept(build, shape_of(actor), args)
    if kept is None:
        return None
    return kept.statement, kept.params(actor)
