"""The signal that an organisation's processing statistics changed.

A command that changes what the roll-up counts (a task created, split, moved, finished or
cancelled; an incoming document's lead assignment made, started, finished, returned or recalled)
calls :func:`statistics_changed` inside its own transaction. That writes one outbox message
(:data:`TOPIC`, one per organisation and transaction, whatever the number of calls) with the
rest of the command's writes, unless one for the organisation is already waiting, which will
then count this change too (:meth:`docflow.uow.UnitOfWork.enqueue_coalesced`: the waiting
message is locked with ``SKIP LOCKED``, never waited for). Nothing else is touched in the
caller's transaction, so busy organisations do not queue behind a shared counter row. The
worker's handler (:func:`docflow.reports.rollup.handle_changed`) recomputes that
organisation's daily rows; the figures are therefore as fresh as the outbox is short
(normally seconds).
"""

from __future__ import annotations

import uuid

from docflow.uow import UnitOfWork

TOPIC = "reports.changed"
# Behind deliveries and people's notifications: a late figure is better than a late message.
PRIORITY = 8


def statistics_changed(uow: UnitOfWork, organization_id: uuid.UUID | None) -> None:
    """Ask for the organisation's statistics to be recomputed after this transaction."""
    if organization_id is not None:
        uow.enqueue_coalesced(
            TOPIC,
            {"organization_id": str(organization_id)},
            key=str(organization_id),
            priority=PRIORITY,
        )
