"""Processing the transactional outbox: claim a message, run its handler, record the result.

Handlers are plain callables ``handler(uow, payload)``, kept as :class:`Handlers` (a topic and
its list of handlers). A topic is a constant owned by the module that enqueues it; each module
that handles topics offers a ``register_outbox_handlers(handlers)`` that adds its own handlers
under those constants, and the composition root (the app) calls them. A topic may have several
listeners (``documents.state_changed``: the internal sender's delivery, and the status message
to an external sender): each adds itself; none wraps another. The handlers of a message run in
order inside one transaction together with the "done" mark, so a message is either handled by
all of them and marked, or by none. Delivery is at least once: handlers must be idempotent.

A handler marked :func:`outside_transaction` (text extraction: OCR takes minutes) runs with no
transaction open: the message is claimed first (its attempt counted, hidden from other workers
for :data:`CLAIM`), the handler opens its own short transactions, and the result is recorded
after it. It gives up after :data:`MAX_ATTEMPTS` like any other.

A handler that must not run yet raises :class:`Later` (the roll-up recomputes a busy
organisation at most once per interval): its work is rolled back and the message waits until
the time given, without counting as an attempt; the periodic relay (every few seconds) hands it
out again then (a message whose time was moved past its creation has no publish of its own to
wait for). Only a handler run inside the message's transaction may defer: one marked
:func:`outside_transaction` has been claimed (an attempt counted) before it runs, and a
``Later`` from it is recorded as a failure and retried with backoff.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from enum import StrEnum
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import DBAPIError

from docflow.db import database_unreachable
from docflow.models import OutboxMessage
from docflow.models.outbox import MAX_ATTEMPTS
from docflow.uow import UnitOfWork

Handler = Callable[[UnitOfWork, dict[str, Any]], None]
# How long a claimed message stays hidden from other workers (longer than any OCR timeout).
CLAIM = dt.timedelta(hours=2)


def outside_transaction(handler: Handler) -> Handler:
    """Mark ``handler`` to run with no transaction open (see the module's docstring)."""
    handler.outside_transaction = True  # type: ignore[attr-defined]
    return handler


class Later(Exception):
    """Raised by a handler: not now, at ``at`` (the message waits; not counted as an attempt)."""

    def __init__(self, at: dt.datetime) -> None:
        super().__init__(f"deferred until {at.isoformat()}")
        self.at = at


def _runs_outside(listeners: Sequence[Handler]) -> bool:
    return bool(listeners) and all(getattr(h, "outside_transaction", False) for h in listeners)


class Handlers(dict[str, list[Handler]]):
    """Each topic and the handlers that listen to it, in the order they were added."""

    def add(self, topic: str, handler: Handler) -> None:
        self.setdefault(topic, []).append(handler)


class Outcome(StrEnum):
    DONE = "done"
    ALREADY_DONE = "already_done"
    RETRY = "retry"
    GAVE_UP = "gave_up"
    DEFERRED = "deferred"  # the handler asked for a later time (Later)
    BUSY = "busy"  # another worker, or a command counting on it, holds it
    MISSING = "missing"


def backoff(attempts: int) -> dt.timedelta:
    """Exponential backoff: 10 s, 20 s, 40 s … capped at one hour."""
    return dt.timedelta(seconds=min(3600, 10 * 2 ** max(0, attempts - 1)))


def process_message(
    uow: UnitOfWork, message_id: uuid.UUID, handlers: Mapping[str, Sequence[Handler]]
) -> Outcome:
    with uow:
        msg = _locked(uow, message_id)
        if msg is None:
            exists = uow.session.get(OutboxMessage, message_id) is not None
            return Outcome.BUSY if exists else Outcome.MISSING
        if msg.done_at is not None:
            return Outcome.ALREADY_DONE
        listeners = handlers.get(msg.topic) or ()
        claimed = _runs_outside(listeners)
        payload: dict[str, Any] = {}
        deferred: dt.datetime | None = None
        try:
            if claimed:
                msg.attempts += 1
                msg.available_at = uow.now() + CLAIM
                payload = dict(msg.payload)
                uow.commit()
            elif not listeners:
                raise LookupError(f"no handler for topic {msg.topic!r}")
            if not claimed:
                for handler in listeners:
                    handler(uow, dict(msg.payload))
                msg.done_at = uow.now()
                msg.attempts += 1
                uow.commit()
                return Outcome.DONE
        except Later as later:
            uow.rollback()
            deferred = later.at
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"[:2000]
            uow.rollback()
            claimed = False
    if deferred is not None:
        with uow:
            msg = _locked(uow, message_id)
            if msg is None:
                return Outcome.BUSY
            msg.available_at = max(deferred, msg.created_at + dt.timedelta(microseconds=1))
            uow.commit()
            return Outcome.DEFERRED
    if claimed:  # the session is closed: the handler runs with no transaction open
        return _run_claimed(uow, message_id, listeners, payload)
    # Record the failure in a fresh transaction: the handler's work was rolled back.
    with uow:
        msg = _locked(uow, message_id)
        if msg is None:
            return Outcome.BUSY
        msg.attempts += 1
        outcome = _failed(uow, msg, error)
        uow.commit()
        return outcome


def _locked(uow: UnitOfWork, message_id: uuid.UUID) -> OutboxMessage | None:
    """The message, locked to handle it or note its outcome, or None while a transaction holds
    it: another worker, or a command counting on it until it commits
    (``UnitOfWork.enqueue_coalesced``, for the whole of a bulk import). The message then stays
    as it was, due again for the relay, instead of the worker waiting for that commit."""
    stmt = select(OutboxMessage).where(OutboxMessage.id == message_id)
    if uow.session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    return uow.session.scalars(stmt).one_or_none()


def _failed(uow: UnitOfWork, msg: OutboxMessage, error: str) -> Outcome:
    """Note a failed attempt (already counted): retried after :func:`backoff`, or given up
    after :data:`MAX_ATTEMPTS`."""
    msg.last_error = error
    if msg.attempts >= MAX_ATTEMPTS:
        msg.available_at = uow.now() + dt.timedelta(days=3650)
        return Outcome.GAVE_UP
    msg.available_at = uow.now() + backoff(msg.attempts)
    return Outcome.RETRY


#: Waits before each new try of recording a claimed message's result while the database is
#: unreachable (a restart takes seconds): 31 s in all.
RECORD_RETRIES = (1.0, 2.0, 4.0, 8.0, 16.0)


def _record(write: Callable[[], Outcome]) -> Outcome:
    """Run ``write`` (one unit of work recording a claimed message's result), again while the
    database cannot be reached (:func:`docflow.db.database_unreachable`). A claimed message is
    hidden for :data:`CLAIM` (two hours): a result left unrecorded because PostgreSQL restarted
    while the handler ran left it there (found by the fault run of issue 19)."""
    for wait in RECORD_RETRIES:
        try:
            return write()
        except DBAPIError as exc:
            if not database_unreachable(exc):
                raise
        time.sleep(wait)
    return write()


def _run_claimed(
    uow: UnitOfWork, message_id: uuid.UUID, listeners: Sequence[Handler], payload: dict[str, Any]
) -> Outcome:
    """Run the handlers of a claimed message with no transaction open, then record it."""
    try:
        for handler in listeners:
            handler(uow, dict(payload))
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"[:2000]
        if uow.depth:
            uow.rollback()

        def failed() -> Outcome:
            with uow:
                outcome = _failed(uow, uow.session.get_one(OutboxMessage, message_id), error)
                uow.commit()
            return outcome

        return _record(failed)

    def done() -> Outcome:
        with uow:
            msg = uow.session.get_one(OutboxMessage, message_id)
            msg.done_at = uow.now()
            uow.commit()
        return Outcome.DONE

    return _record(done)


def due_messages(
    uow: UnitOfWork, *, limit: int = 100, grace: dt.timedelta = dt.timedelta(0)
) -> Sequence[uuid.UUID]:
    """Messages not yet done whose time has come: what the periodic relay republishes.

    A message never tried was handed to a worker at its commit: it is left to that worker for
    ``grace`` (the relay only catches what the publish missed). A message already tried (a
    retry after its backoff, a claim that expired) has nobody else to send it: it is due the
    moment its time comes, so a retry waits for its backoff and the relay's next tick, not for
    the grace as well. So is a message a handler deferred (:class:`Later`): its time was moved
    past its creation.
    """
    with uow:
        now = uow.now()
        return uow.session.scalars(
            select(OutboxMessage.id)
            .where(
                OutboxMessage.done_at.is_(None),
                OutboxMessage.available_at <= now,
                or_(
                    OutboxMessage.attempts > 0,
                    OutboxMessage.available_at <= now - grace,
                    OutboxMessage.available_at > OutboxMessage.created_at,
                ),
            )
            .order_by(OutboxMessage.priority, OutboxMessage.available_at)
            .limit(limit)
        ).all()
