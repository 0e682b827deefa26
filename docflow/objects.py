"""Which stored objects the database references: the other half of the store's integrity check
and of the orphan sweeper (storage knows objects, docflow knows rows).

:data:`OBJECT_KEY_COLUMNS` is the one registry of columns that hold an object key. The sweeper
keeps every object any of them names, so a table that references objects must be listed here
(``tests/security/test_uploads.py`` walks the models and fails on a key-like column that is
neither listed nor declared not to be an object key).

Deleting objects is the sweeper's job alone: no request deletes one (storage is
content-addressed, so the bytes a failed attempt wrote may be the bytes of another row, or of a
transaction that has not committed yet). The sweeper removes an unreferenced object only when it
is older than :data:`SWEEP_GRACE`, far longer than any transaction runs; an upload that re-uses an
old object's bytes refreshes its modification time (``ContentStore.refresh_after``), and the
sweeper asks again right before each deletion, under the object's lock (:func:`sweep`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterator

from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute

from docflow.models import (
    DocumentFile,
    Dossier,
    FeedbackFile,
    ReportRequest,
    ReportSubmission,
    TaskAttachment,
    User,
)
from docflow.uow import UnitOfWork
from docflow.uploads import lock_object
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

#: Every column whose value is the key of a stored object (None allowed where nullable).
#: Document files cover drafts, prepared, signed and issued PDFs, outgoing attachments and
#: received packages' attachments (internal dispatch shares the sender's objects).
OBJECT_KEY_COLUMNS: tuple[InstrumentedAttribute[str] | InstrumentedAttribute[str | None], ...] = (
    DocumentFile.object_key,
    TaskAttachment.object_key,
    FeedbackFile.object_key,
    User.signature_image_key,
    Dossier.toc_docx_key,
    Dossier.toc_pdf_key,
    ReportRequest.pdf_key,
    ReportSubmission.pdf_key,
)


def referenced_keys(uow: UnitOfWork) -> Iterator[str]:
    """Every object key a row references (each registered column; a key may repeat)."""
    with uow:
        s = uow.session
        for column in OBJECT_KEY_COLUMNS:
            for key in s.scalars(select(column).where(column.is_not(None)).distinct()).yield_per(
                5000
            ):
                if key is not None:
                    yield key


def is_referenced(uow: UnitOfWork, key: str) -> bool:
    """Asked by the sweeper just before deleting an object, in a fresh transaction."""
    with uow:
        s = uow.session
        return any(
            s.scalars(select(column).where(column == key).limit(1)).first() is not None
            for column in OBJECT_KEY_COLUMNS
        )


def verify_objects(uow: UnitOfWork, store: ObjectStore, *, deep: bool = False) -> VerifyReport:
    return verify_store(store, referenced_keys(uow), deep=deep)


def sweep(
    uow_factory: Callable[[], UnitOfWork],
    store: ContentStore,
    *,
    grace: dt.timedelta = SWEEP_GRACE,
    now: dt.datetime | None = None,
) -> SweepReport:
    """Remove orphans older than ``grace``; an object some row references is never deleted.

    The last check of an orphan and its deletion hold the object's advisory lock exclusively
    (PostgreSQL): an upload of the same bytes holds it shared from before the store looks the
    key up until its row commits (:func:`docflow.uploads.hold_object`), so the sweeper either
    sees that row or deletes before the upload looks (which then stores the bytes again)."""

    @contextlib.contextmanager
    def deleting(key: str) -> Iterator[None]:
        uow = uow_factory()
        with uow:
            lock_object(uow, key, shared=False)
            yield
            uow.commit()

    return sweep_orphans(
        store,
        grace=grace,
        now=now,
        is_referenced=lambda key: is_referenced(uow_factory(), key),
        guard=deleting,
    )
