"""Which stored objects the database references: the other half of the store's integrity check
and of the orphan sweeper (storage knows objects, docflow knows rows)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

from sqlalchemy import select

from docflow.models import DocumentFile, TaskAttachment, User
from docflow.uow import UnitOfWork
from storage import (
    ContentStore,
    ObjectStore,
    SweepReport,
    VerifyReport,
    sweep_orphans,
    verify_store,
)

# Objects younger than this may belong to a transaction still committing: never swept.
SWEEP_GRACE = dt.timedelta(days=1)


def referenced_keys(uow: UnitOfWork) -> Iterator[str]:
    """Every object key a row references (document files, task attachments, signature images)."""
    with uow:
        s = uow.session
        yield from s.scalars(select(DocumentFile.object_key).distinct()).yield_per(5000)
        yield from s.scalars(select(TaskAttachment.object_key).distinct()).yield_per(5000)
        for key in s.scalars(
            select(User.signature_image_key).where(User.signature_image_key.is_not(None)).distinct()
        ):
            if key is not None:
                yield key


def is_referenced(uow: UnitOfWork, key: str) -> bool:
    """Asked by the sweeper just before deleting an object, in a fresh transaction."""
    with uow:
        s = uow.session
        for column in (
            DocumentFile.object_key,
            TaskAttachment.object_key,
            User.signature_image_key,
        ):
            if s.scalars(select(column).where(column == key).limit(1)).first() is not None:
                return True
        return False


def verify_objects(uow: UnitOfWork, store: ObjectStore, *, deep: bool = False) -> VerifyReport:
    return verify_store(store, referenced_keys(uow), deep=deep)


def sweep(
    uow_factory: Callable[[], UnitOfWork], store: ContentStore, *, grace: dt.timedelta = SWEEP_GRACE
) -> SweepReport:
    """Remove orphans older than ``grace``; a referenced object is never deleted."""
    return sweep_orphans(
        store, grace=grace, is_referenced=lambda key: is_referenced(uow_factory(), key)
    )
