"""The bell (and, through :func:`docflow.notifications.notify`, a push) for the people a
document now waits for or whose work on it has moved: incoming and outgoing documents tell
their people the same way. The subject is shown only when a lock screen may show it (not for a
document marked Mật or above); the link opens the document."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from docflow.models import Document
from docflow.notifications import notify
from docflow.push import shown_on_lock_screen
from docflow.uow import UnitOfWork


def tell(
    uow: UnitOfWork,
    people: Iterable[uuid.UUID | None],
    doc: Document,
    kind: str,
    title: str,
    *,
    skip: uuid.UUID | None = None,
) -> None:
    """Notify ``people`` (None and ``skip``, the person acting, left out) about ``doc``."""
    ids = [p for p in people if p is not None and p != skip]
    notify(
        uow,
        ids,
        kind=kind,
        title=title,
        body=doc.subject if shown_on_lock_screen(doc.secrecy) else "",
        link=f"/documents/{doc.id}",
    )
