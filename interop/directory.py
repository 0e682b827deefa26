"""This installation in the axis's directory, and the axis's directory in this installation.

* :func:`register_due` — ``registerAgency`` for each of our organisations the axis has not been
  told about (new, renamed, moved) or was told about longer ago than a day; each success is
  remembered, so the call is cheap when nothing changed. Run at worker start, hourly, when an
  organisation is created or renamed (outbox), and before a send.
* :func:`refresh_directory` — ``getAgenciesList`` into the stored directory (daily and at worker
  start). Every entry is external input: the docflow side skips what is not sane.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from docflow import directory
from docflow.outbox import Handlers
from docflow.uow import UnitOfWork
from interop.axis_client import AxisClient

log = logging.getLogger(__name__)


def register_due(
    uow_factory: Callable[[], UnitOfWork],
    client: AxisClient,
    *,
    organization_ids: Sequence[uuid.UUID] | None = None,
    force: bool = False,
) -> int:
    """Register what is due; returns how many organisations the axis was told about. An axis
    refusal propagates (the caller retries: outbox backoff, next job run, next send)."""
    due = directory.registrations_due(uow_factory(), organization_ids=organization_ids, force=force)
    for item in due:
        client.register_agency(
            item.code,
            item.name,
            parent_code=item.parent_code,
            address=item.address,
            email=item.email,
            phone=item.phone,
        )
        directory.record_registration(uow_factory(), item)
        log.info("registered %s (%s) with the axis", item.code, item.name)
    return len(due)


def refresh_directory(uow_factory: Callable[[], UnitOfWork], client: AxisClient) -> int:
    """The axis's list of organisations into the stored directory; returns how many it holds."""
    entries = [
        directory.AgencyEntry(a.code, a.name, a.parent_code, a.system_id)
        for a in client.get_agencies()
    ]
    result = directory.replace_directory(uow_factory(), entries)
    if result.skipped:
        log.warning("directory: %d entries of the axis skipped (no code/name, or too long)",
                    result.skipped)  # fmt: skip
    return len(entries) - result.skipped


def register_outbox_handlers(
    handlers: Handlers,
    uow_factory: Callable[[], UnitOfWork],
    client: Callable[[], AxisClient | None],
) -> None:
    """An organisation was created or renamed: the axis's directory follows at once. Without
    an axis there is nothing to do; an axis refusal retries with the outbox's backoff."""

    def handle_register(uow: UnitOfWork, payload: dict[str, Any]) -> None:
        axis = client()
        if axis is not None:
            with axis:
                register_due(
                    uow_factory, axis, organization_ids=[uuid.UUID(payload["organization_id"])]
                )

    handlers.add(directory.TOPIC_REGISTER, handle_register)
