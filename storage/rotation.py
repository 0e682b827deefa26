"""Master-key rotation: re-wrap every data key with the current master key.

Run after :func:`storage.keyring.rotate_key_file` with a store opened on the rotated key file;
once the report shows no failures, the old key can be retired. Content is never rewritten: only a
small wrapped-key record per object is. Safe to re-run (objects already on the current key are
skipped) and to interrupt.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from storage.errors import IntegrityError, MasterKeyError, ObjectNotFoundError
from storage.store import ObjectStore


class RewrappableStore(ObjectStore, Protocol):
    """A store whose encrypted objects can be re-wrapped (``ContentStore`` is one)."""

    def rewrap(self, key: str) -> bool: ...


@dataclass(frozen=True, slots=True)
class RewrapReport:
    """The outcome of :func:`rewrap_store`.

    Attributes:
        encrypted: encrypted objects examined.
        rewrapped: data keys re-wrapped by this run.
        current: data keys that were on the current master key already.
        failed: keys whose data key could not be unwrapped (missing master key, damage).
    """

    encrypted: int
    rewrapped: int
    current: int
    failed: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """Every encrypted object is now readable with the current master key alone."""
        return not self.failed


def rewrap_store(store: RewrappableStore) -> RewrapReport:
    """Re-wrap the data key of every encrypted object with the current master key."""
    encrypted = rewrapped = current = 0
    failed: list[str] = []
    for info in store.list():
        if not info.encrypted:
            continue
        encrypted += 1
        try:
            changed = store.rewrap(info.key)
        except ObjectNotFoundError:
            encrypted -= 1  # deleted since it was listed
            continue
        except (MasterKeyError, IntegrityError):
            failed.append(info.key)
            continue
        if changed:
            rewrapped += 1
        else:
            current += 1
    return RewrapReport(encrypted, rewrapped, current, tuple(failed))
