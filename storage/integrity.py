"""Verification of a store against the keys the database references (``dhtn storage verify``).

A verification reports problems; it raises only when it cannot verify at all (the store is
unreachable, or a master key is missing).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from storage.errors import IntegrityError, ObjectNotFoundError
from storage.objects import is_key
from storage.readers import DEFAULT_CHUNK
from storage.store import ObjectStore


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """The outcome of :func:`verify_store`.

    Attributes:
        deep: whether content was read and hashed (else only presence was checked).
        referenced: distinct well-formed keys the database references.
        stored: objects found in the store.
        missing: referenced keys with no object (data loss: restore from backup).
        corrupted: objects whose content does not match their key, or that fail
            authentication (deep only).
        orphans: stored objects no row references (the sweeper removes them after its grace).
        invalid: referenced values that are not keys of this store at all.
    """

    deep: bool
    referenced: int
    stored: int
    missing: tuple[str, ...]
    corrupted: tuple[str, ...]
    orphans: tuple[str, ...]
    invalid: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """No referenced object is missing, corrupted or malformed (orphans are only litter)."""
        return not (self.missing or self.corrupted or self.invalid)


def verify_store(
    store: ObjectStore, referenced_keys: Iterable[str], *, deep: bool = False
) -> VerifyReport:
    """Compare the store's objects with ``referenced_keys``; with ``deep``, hash every object.

    The referenced keys are read once into memory (about 150 bytes per key).
    """
    referenced: set[str] = set()
    invalid: set[str] = set()
    for key in referenced_keys:
        (referenced if is_key(key) else invalid).add(key)

    seen: set[str] = set()
    orphans: list[str] = []
    corrupted: list[str] = []
    for info in store.list():
        seen.add(info.key)
        if info.key not in referenced:
            orphans.append(info.key)
        if deep and not _content_matches(store, info.key):
            corrupted.append(info.key)
    missing = sorted(referenced - seen)
    return VerifyReport(
        deep=deep,
        referenced=len(referenced),
        stored=len(seen),
        missing=tuple(missing),
        corrupted=tuple(sorted(corrupted)),
        orphans=tuple(sorted(orphans)),
        invalid=tuple(sorted(invalid)),
    )


def _content_matches(store: ObjectStore, key: str) -> bool:
    try:
        with store.open(key, verify=True) as reader:
            while reader.read(DEFAULT_CHUNK):
                pass
    except IntegrityError:
        return False
    except ObjectNotFoundError:
        return True  # deleted since it was listed: nothing to judge
    return True
