"""The unit of work: one transaction per service call, rolled back unless committed.

A service does ``with uow: …; uow.commit()``. Work queued with :meth:`UnitOfWork.enqueue` is
written to the outbox inside the same transaction and handed to the publisher only after the
commit succeeded, so nothing is queued for a transaction that did not happen.

Units nest: a service called inside another's ``with uow`` joins its transaction, and its
commit is left to the outermost unit (:attr:`UnitOfWork.commit_wanted` says one was asked).
The app runs its frequent reads that way, one unit for the whole request
(``app.runtime.open_read_scope``).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple, Self

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from docflow import changes
from docflow.db import utcnow
from docflow.ids import new_id
from docflow.login_throttle import ThrottlePolicy
from docflow.models.outbox import OutboxMessage

if TYPE_CHECKING:
    from docflow.documents.ports import DocumentConverter, SigningProvider, Verifier

log = logging.getLogger(__name__)
changes.install()  # every flush through a unit of work logs what it changed (the phone's feed)


class Queued(NamedTuple):
    """An outbox message handed to the publisher after the commit: its id, and its topic (which
    decides the worker queue, so that publishing reads nothing back)."""

    id: uuid.UUID
    topic: str


Publisher = Callable[[Sequence[Queued]], None]


@dataclass(frozen=True)
class DomainConfig:
    """Deployment facts the rules depend on.

    Attributes:
        secret_network: the isolated deployment for state-secret documents (content allowed).
        max_upload_bytes: the largest file a person may upload.
        login_throttle: limits and bucket sizes of the login throttle.
        audit_key: the HMAC key of the audit chains (DHTN_AUDIT_KEY_FILE); None writes unkeyed
            entries (tests of other areas only: the app always has a key).
        audit_reads: log reads (opening, downloading, exporting); off only for a benchmark's
            baseline.
        reports_refresh_interval: an organisation's roll-up statistics are recomputed at most
            once per this interval (zero: after every change).
    """

    secret_network: bool = False
    max_upload_bytes: int = 100 * 1024 * 1024
    login_throttle: ThrottlePolicy = field(default_factory=ThrottlePolicy)
    audit_key: bytes | None = field(default=None, repr=False)
    audit_reads: bool = True
    reports_refresh_interval: dt.timedelta = dt.timedelta(0)


class UnitOfWork:
    """Holds the session and the collaborators a service needs (clock, object store, verifier,
    converter, signing provider)."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        *,
        publisher: Publisher | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
        store: Any = None,
        verifier: Verifier | None = None,
        config: DomainConfig | None = None,
        context: dict[str, Any] | None = None,
        converter: DocumentConverter | None = None,
        signing: SigningProvider | None = None,
    ) -> None:
        self._session_factory = session_factory
        # Hands the committed outbox messages on (Celery); replaceable for one unit.
        self.publisher = publisher
        self.clock = clock
        self.store = store
        # verifier(pdf_bytes) -> signing's typed report, or None when not configured.
        self.verifier = verifier
        self.config = config or DomainConfig()
        # DOCX -> PDF for drafts, and the server-held signing credentials (outgoing flow).
        self.converter = converter
        self.signing = signing
        # Request facts the audit log records (ip, request id); empty outside requests.
        self.context: dict[str, Any] = context or {}
        self._session: Session | None = None
        self._queued: list[Queued] = []
        self._once: set[tuple[str, str]] = set()
        self._after_commit: list[Callable[[], None]] = []
        self._depth = 0
        self._commit_wanted = False
        # The outermost transaction is a read's (a GET request's unit, app.runtime): whatever a
        # service writes in it is a log of the read, committed without waiting for the disk.
        self.read_scope = False

    @property
    def session(self) -> Session:
        if self._session is None:
            raise RuntimeError("unit of work used outside 'with'")
        return self._session

    def __enter__(self) -> Self:
        # Re-entrant: a service may call another service inside the same transaction.
        if self._depth == 0:
            self._session = self._session_factory()
            self._session.info[changes.CLOCK] = self.clock
            self._queued = []
            self._once = set()
            self._after_commit = []
            self._commit_wanted = False
        self._depth += 1
        return self

    def __exit__(self, *exc: object) -> None:
        self._depth -= 1
        if self._depth > 0:
            return
        assert self._session is not None
        # close() rolls back what was not committed and detaches the loaded objects without
        # expiring them, so a service's result stays readable after its transaction.
        self._session.close()
        self._session = None

    @property
    def depth(self) -> int:
        """How many services are inside this unit now (0: no transaction open)."""
        return self._depth

    @property
    def commit_wanted(self) -> bool:
        """Whether a service inside asked to commit (the outermost one then commits)."""
        return self._commit_wanted

    def commit(self) -> None:
        if self._depth > 1:
            self._commit_wanted = True
            return  # the outermost service commits
        self._commit_wanted = False
        self.session.commit()
        queued, self._queued = self._queued, []
        self._once = set()
        callbacks, self._after_commit = self._after_commit, []
        if queued and self.publisher is not None:
            try:
                self.publisher(queued)
            except Exception:  # the relay will pick them up; the commit stands
                log.exception("publishing outbox messages failed; the relay will retry")
        for callback in callbacks:
            try:
                callback()
            except Exception:
                log.exception("after-commit callback failed")

    def rollback(self) -> None:
        self.session.rollback()
        self._queued = []
        self._once = set()
        self._after_commit = []

    def enqueue(
        self, topic: str, payload: dict[str, Any], *, priority: int = 5, key: str | None = None
    ) -> uuid.UUID:
        """Write an outbox message in this transaction; it is published after commit."""
        # Its id made here, not by a flush of its own: the row is written with the rest of the
        # transaction (a flush per message was about 7 % of an action's CPU, issue 19).
        message = OutboxMessage(
            id=new_id(), topic=topic, payload=payload, priority=priority, key=key
        )
        message.created_at = message.available_at = self.clock()
        self.session.add(message)
        self._queued.append(Queued(message.id, topic))
        return message.id

    def enqueue_once(self, topic: str, payload: dict[str, Any], *, priority: int = 5) -> None:
        """:meth:`enqueue`, unless the same message was already queued in this transaction."""
        key = (topic, json.dumps(payload, sort_keys=True))
        if key not in self._once:
            self.enqueue(topic, payload, priority=priority)
            self._once.add(key)

    def enqueue_coalesced(
        self, topic: str, payload: dict[str, Any], *, key: str, priority: int = 5
    ) -> None:
        """:meth:`enqueue_once`, unless a message of ``topic`` with ``key`` is waiting: for work
        that one run does for every change committed before it (an organisation's statistics
        are recomputed from its rows), so a burst of changes writes one message, and costs one
        worker's task, instead of one each (issue 19).

        The waiting message is locked until this transaction ends (``FOR UPDATE SKIP LOCKED``):
        a worker taking messages to handle skips it meanwhile, so it is still waiting when this
        change is committed, and the run that takes it sees the change. One a worker already
        holds (its run may have read the rows before this change) is skipped here in turn, and
        this change writes a message of its own. So does a message that has failed before: it
        waits out its retry delay (up to an hour) and may be given up, which would leave the
        change uncounted; a message only put off (``docflow.outbox.Later``) has no attempt
        counted and is counted on. Nothing waits on a lock either way. On SQLite, whose writers
        take turns, there is no concurrent worker to skip.

        The worker that finds the message locked leaves it to the relay
        (``app.celery_app.RELAY_GRACE``): the figures may then wait that long."""
        once = (topic, json.dumps(payload, sort_keys=True))
        if once in self._once:
            return
        # Without a flush of its own: the lookup reads no row this transaction writes.
        with self.session.no_autoflush:
            waiting = self.session.scalar(
                select(OutboxMessage.id)
                .where(
                    OutboxMessage.topic == topic,
                    OutboxMessage.key == key,
                    OutboxMessage.done_at.is_(None),
                    OutboxMessage.attempts == 0,
                )
                .limit(1)
                .with_for_update(skip_locked=True)
            )
        if waiting is None:
            self.enqueue(topic, payload, priority=priority, key=key)
        self._once.add(once)

    def enqueue_many(
        self, topic: str, payloads: Sequence[dict[str, Any]], *, priority: int = 5
    ) -> list[uuid.UUID]:
        """:meth:`enqueue` for several messages of one topic (bulk writers)."""
        messages = [
            OutboxMessage(id=new_id(), topic=topic, payload=p, priority=priority) for p in payloads
        ]
        for message in messages:
            message.created_at = message.available_at = self.clock()
        self.session.add_all(messages)
        ids = [m.id for m in messages]
        self._queued.extend(Queued(i, topic) for i in ids)
        return ids

    def fresh_session(self) -> Session:
        """A session outside this unit's transaction (for clean-up after a rollback)."""
        return self._session_factory()

    def after_commit(self, callback: Callable[[], None]) -> None:
        self._after_commit.append(callback)

    def now(self) -> dt.datetime:
        return self.clock()
