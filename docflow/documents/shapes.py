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
so the rule is written once. A statement is kept only if it is the same, once bound, for a
second stand-in whose ids and texts all differ from the first: a builder that used anything of
the reader other than the shape and the ids bound here (their organisation's path, an id
written as text) would otherwise be kept with one stand-in's value for everyone. Such a
statement is built for each reader instead (:class:`Unshareable`, logged), and the tests hold
the bound statements to the built ones for readers of every shape.
"""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

from sqlalchemy import CompoundSelect, Select, bindparam
from sqlalchemy.sql import visitors
from sqlalchemy.sql.elements import BindParameter

from docflow.actors import Actor, DelegatedRole

#: Statements kept per process: one per builder, shape and arguments. An entry is the
#: statement's clause tree with its cache key, 16 KB to 0.5 MB.
KEPT = 256

_PREFIX = "dhtn_reader_"
log = logging.getLogger(__name__)

#: A statement of any columns (a union of them too).
S = TypeVar("S", bound=Select[*tuple[Any, ...]] | CompoundSelect[*tuple[Any, ...]])


def _sentinel(n: int, variant: int) -> uuid.UUID:
    # A version-4-looking id nobody is given: the 'dhtn' bytes, the stand-in and a counter.
    return uuid.UUID(f"d47e0000-0000-4000-8{variant:03x}-{n:012x}")


def _text(variant: int) -> str:
    """The stand-in's text fields (names, username, organisation path, a delegator's name and
    competence): no statement of a shape may use them."""
    return f"dhtn-reader-text-{variant}"


class Unshareable(RuntimeError):
    """A statement that depends on the reader beyond their shape (see :func:`for_reader`)."""


def shape_of(actor: Actor, variant: int = 0) -> Actor:
    """The stand-in reader of ``actor``'s shape: the same roles, delegated roles, clearance and
    whether they have a unit; every id and text a sentinel of ``variant``. Stand-ins of one
    variant are equal for every reader of the shape; those of two variants differ in every
    field that is not the shape."""
    text = _text(variant)
    return Actor(
        user_id=_sentinel(1, variant),
        username=text,
        full_name=text,
        organization_id=_sentinel(2, variant),
        organization_path=text,
        unit_id=_sentinel(3, variant) if actor.unit_id is not None else None,
        roles=actor.roles,
        delegated=tuple(
            DelegatedRole(
                d.role, _sentinel(0x100 + i, variant), text, text, _sentinel(0x200 + i, variant)
            )
            for i, d in enumerate(actor.delegated)
        ),
        clearance=actor.clearance,
        unit_name=text,
    )


def _fields(actor: Actor) -> dict[str, Any]:
    """The reader's ids, by the parameter each becomes."""
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
        values = _fields(actor)
        for name, parts in self.lists.items():
            values[name] = [values[p] for p in parts]
        return values


def _bound(stmt: S, shape: Actor) -> Kept[S]:
    """``stmt`` (built for ``shape``) with the stand-in's ids replaced by named parameters."""
    names = {v: k for k, v in _fields(shape).items()}
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

    return Kept(cast(S, visitors.replacement_traverse(cast(Any, stmt), {}, named)), lists)


def _same(one: Kept[Any], other: Kept[Any]) -> bool:
    """Whether two bound statements are the same statement with the same values: SQLAlchemy's
    cache key (the SQL's structure, literal text included) and every bound value in order."""
    a, b = one.statement._generate_cache_key(), other.statement._generate_cache_key()
    if a is None or b is None or a.key != b.key or one.lists != other.lists:
        return False
    return [p.value for p in a.bindparams] == [p.value for p in b.bindparams]


def _kept(
    build: Callable[..., S | None], shape: Actor, args: tuple[Hashable, ...]
) -> Kept[S] | None:
    """The statement of ``shape`` (variant 0) and ``args``, checked against the one built for a
    second stand-in of the shape whose ids and texts all differ: once bound, the two must be
    the same statement with the same values, or some value of the reader other than the ids
    replaced here (a text, an id written as text) is in it."""
    stmt = build(shape, *args)
    if stmt is None:
        return None
    kept = _bound(stmt, shape)
    other = shape_of(shape, 1)
    second = build(other, *args)
    if second is None or not _same(kept, _bound(second, other)):
        raise Unshareable(f"{build.__qualname__} depends on the reader beyond their shape")
    return kept


def for_reader(
    build: Callable[..., S | None], actor: Actor, *args: Hashable
) -> tuple[S, dict[str, Any]] | None:
    """``build(actor, *args)`` as a statement kept for ``actor``'s shape and the parameters
    that make it ``actor``'s (None when ``build`` gives None). ``build`` must be a function of
    its arguments alone (a module's function, not a closure over a request's values).

    A statement that depends on the reader beyond their shape and ids (their organisation's
    path, say), or on ``args`` in a way that meets the stand-ins' values (a filter naming a
    sentinel id), cannot be shared: it is built for each reader (the refusal logged once per
    process, shape and arguments), so the answer is right either way."""
    kept = _shared(build, shape_of(actor), args)
    if isinstance(kept, Unshareable):
        stmt = build(actor, *args)
        return None if stmt is None else (stmt, {})
    if kept is None:
        return None
    return kept.statement, kept.params(actor)


@functools.lru_cache(maxsize=KEPT)
def _shared(
    build: Callable[..., S | None], shape: Actor, args: tuple[Hashable, ...]
) -> Kept[S] | Unshareable | None:
    """:func:`_kept`, remembered with its refusal: a statement found unshareable is neither
    checked again (two builds) nor logged again for every request of its shape and arguments."""
    try:
        return _kept(build, shape, args)
    except Unshareable as refused:
        log.warning("statement built for each reader: %s", refused)
        return refused.with_traceback(None)  # kept: not with the frames of its build
