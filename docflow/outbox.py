"""Processing the transactional outbox: claim a message, run its handler, record the result.

Handlers are plain callables ``handler(uow, payload)`` registered by the composition root (the
app) under a topic; they run inside a transaction together with the "done" mark, so a message is
either handled and marked, or neither. Delivery is at least once: handlers must be idempotent.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Mapping, Sequence
from enum import StrEnum
from typing import Any

from sqlalchemy import select

from docflow.models import OutboxMessage
from docflow.uow import UnitOfWork

Handler = Callable[[UnitOfWork, dict[str, Any]], None]
MAX_ATTEMPTS = 12


class Outcome(StrEnum):
    DONE = "done"
    ALREADY_DONE = "already_done"
    RETRY = "retry"
    GAVE_UP = "gave_up"
    BUSY = "busy"  # another worker holds it
    MISSING = "missing"


def backoff(attempts: int) -> dt.timedelta:
    """Exponential backoff: 10 s, 20 s, 40 s … capped at one hour."""
    return dt.timedelta(seconds=min(3600, 10 * 2 ** max(0, attempts - 1)))


def process_message(
    uow: UnitOfWork, message_id: uuid.UUID, handlers: Mapping[str, Handler]
) -> Outcome:
    with uow:
        stmt = select(OutboxMessage).where(OutboxMessage.id == message_id)
        if uow.session.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        msg = uow.session.scalars(stmt).one_or_none()
        if msg is None:
            exists = uow.session.get(OutboxMessage, message_id) is not None
            return Outcome.BUSY if exists else Outcome.MISSING
        if msg.done_at is not None:
            return Outcome.ALREADY_DONE
        handler = handlers.get(msg.topic)
        try:
            if handler is None:
                raise LookupError(f"no handler for topic {msg.topic!r}")
            handler(uow, dict(msg.payload))
            msg.done_at = uow.now()
            msg.attempts += 1
            uow.commit()
            return Outcome.DONE
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"[:2000]
            uow.rollback()
    # Record the failure in a fresh transaction: the handler's work was rolled back.
    with uow:
        msg = uow.session.get_one(OutboxMessage, message_id)
        msg.attempts += 1
        msg.last_error = error
        if msg.attempts >= MAX_ATTEMPTS:
            msg.available_at = uow.now() + dt.timedelta(days=3650)
            outcome = Outcome.GAVE_UP
        else:
            msg.available_at = uow.now() + backoff(msg.attempts)
            outcome = Outcome.RETRY
        uow.commit()
        return outcome


def due_messages(
    uow: UnitOfWork, *, limit: int = 100, older_than: dt.timedelta = dt.timedelta(0)
) -> Sequence[uuid.UUID]:
    """Messages not yet done whose time has come: what the periodic relay republishes."""
    with uow:
        now = uow.now()
        return uow.session.scalars(
            select(OutboxMessage.id)
            .where(
                OutboxMessage.done_at.is_(None),
                OutboxMessage.available_at <= now - older_than,
            )
            .order_by(OutboxMessage.priority, OutboxMessage.available_at)
            .limit(limit)
        ).all()
