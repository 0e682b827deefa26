"""The orphan sweeper: removes objects no row references, after a grace period.

Objects are written before the row that references them commits; when that transaction fails,
the object is an orphan. The sweeper removes orphans older than ``grace`` and never an object
``is_referenced`` reports as referenced.

The one race of deduplication is a new upload re-using an old orphan's bytes just as the
sweeper looks at it: such an upload refreshes the object's modification time (see
``ContentStore.refresh_after``), and the sweeper re-reads the modification time and asks
``is_referenced`` again immediately before each deletion. That alone leaves a window between
the last check and the deletion, in which an upload could find the object still there, keep
it, and commit its row after the deletion. ``guard(key)`` closes it: the sweeper's last check
and the deletion run inside it, and an upload takes the matching hold on the key (``before`` of
``ObjectStore.put_spool``) until its row commits; docflow's guard is a PostgreSQL advisory lock
per key, exclusive for the sweeper and shared for uploads (``docflow.objects``).
"""

from __future__ import annotations

from collections.abc import Callable, Container
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal, Protocol

from storage.errors import ObjectNotFoundError
from storage.objects import ObjectInfo
from storage.store import ObjectStore


class SweepableStore(ObjectStore, Protocol):
    """A store that can also clear its own private litter (``ContentStore`` is one)."""

    @property
    def refresh_after(self) -> timedelta: ...

    def sweep_litter(self, older_than: datetime) -> int: ...


@dataclass(frozen=True, slots=True)
class SweepReport:
    """The outcome of :func:`sweep_orphans`.

    Attributes:
        examined: objects looked at.
        deleted: keys of the orphans removed (or that would be, when ``dry_run``).
        kept_referenced: objects kept because a row references them.
        kept_recent: unreferenced objects kept because they are younger than the grace period
            (uploads whose row may still be committing).
        litter_removed: interrupted spools and stale wrapped-key records removed.
        dry_run: nothing was removed.
    """

    examined: int
    deleted: tuple[str, ...]
    kept_referenced: int
    kept_recent: int
    litter_removed: int
    dry_run: bool


def sweep_orphans(
    store: SweepableStore,
    *,
    grace: timedelta,
    is_referenced: Callable[[str], bool] | Container[str],
    now: datetime | None = None,
    dry_run: bool = False,
    guard: Callable[[str], AbstractContextManager[object]] | None = None,
) -> SweepReport:
    """Remove unreferenced objects older than ``grace``.

    Args:
        store: the store to sweep.
        grace: how old an unreferenced object must be before it goes; must exceed the store's
            ``refresh_after`` (otherwise a re-used object could go while its row commits).
        is_referenced: a callable ``key -> bool`` (e.g. one indexed query), or a container of
            referenced keys (e.g. a set loaded from the database after listing started).
        now: the current time (tests pass a later one instead of waiting).
        dry_run: report what would be removed without removing anything.
        guard: ``key -> context manager`` held around the last check of an orphan and its
            deletion, excluding the uploads' hold on the same key (module docstring).
    """
    if grace <= store.refresh_after:
        raise ValueError("grace must exceed the store's refresh_after")
    referenced = _as_predicate(is_referenced)
    moment = now or datetime.now(UTC)
    cutoff = moment - grace
    examined = kept_referenced = kept_recent = 0
    deleted: list[str] = []
    for info in store.list():
        examined += 1
        verdict = _verdict(info, cutoff, referenced)
        if verdict == "orphan":
            # The listing may be minutes old on a big store: look again right before deleting,
            # with no upload of the same bytes in flight (the guard).
            with guard(info.key) if guard is not None else nullcontext():
                try:
                    verdict = _verdict(store.stat(info.key), cutoff, referenced)
                except ObjectNotFoundError:
                    continue
                if verdict == "orphan":
                    if not dry_run:
                        store.delete(info.key)
                    deleted.append(info.key)
        if verdict == "referenced":
            kept_referenced += 1
        elif verdict == "recent":
            kept_recent += 1
    litter = 0 if dry_run else store.sweep_litter(cutoff)
    return SweepReport(
        examined=examined,
        deleted=tuple(deleted),
        kept_referenced=kept_referenced,
        kept_recent=kept_recent,
        litter_removed=litter,
        dry_run=dry_run,
    )


def _verdict(
    info: ObjectInfo, cutoff: datetime, referenced: Callable[[str], bool]
) -> Literal["referenced", "recent", "orphan"]:
    if referenced(info.key):
        return "referenced"
    if info.last_modified > cutoff:
        return "recent"
    return "orphan"


def _as_predicate(is_referenced: Callable[[str], bool] | Container[str]) -> Callable[[str], bool]:
    if callable(is_referenced):
        return is_referenced
    container = is_referenced
    return lambda key: key in container
