"""The transactional outbox: published only after commit, handled once, retried with backoff."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy import select

from docflow import UnitOfWork
from docflow.models import AuditEntry, OutboxMessage
from docflow.models.outbox import MAX_ATTEMPTS
from docflow.outbox import Outcome, due_messages, process_message
from docflow.uow import Queued
from tests.conftest import Clock, Demo


def _uow(demo: Demo, published: list[uuid.UUID]) -> UnitOfWork:
    def publish(queued: Sequence[Queued]) -> None:
        published.extend(q.id for q in queued)

    return UnitOfWork(demo.factory, clock=demo.clock, publisher=publish)


def test_messages_are_published_only_after_commit(demo: Demo) -> None:
    published: list[uuid.UUID] = []
    uow = _uow(demo, published)
    with uow:
        message_id = uow.enqueue("test.topic", {"x": 1})
        assert published == []  # not before the commit
        uow.commit()
    assert published == [message_id]


def test_a_message_is_written_with_the_transaction_not_by_a_flush_of_its_own(
    demo: Demo,
) -> None:
    published: list[uuid.UUID] = []
    uow = _uow(demo, published)
    with uow:
        message_id = uow.enqueue("test.topic", {"x": 1})
        ids = uow.enqueue_many("test.topic", [{"x": 2}, {"x": 3}])
        pending = [m for m in uow.session.new if isinstance(m, OutboxMessage)]
        assert {m.id for m in pending} == {message_id, *ids}  # ids known, rows not yet written
        uow.commit()
    assert published == [message_id, *ids]
    with demo.factory() as s:
        rows = {m.id: m.payload for m in s.scalars(select(OutboxMessage))}
    assert rows == {message_id: {"x": 1}, ids[0]: {"x": 2}, ids[1]: {"x": 3}}


def test_rolled_back_work_queues_nothing(demo: Demo) -> None:
    published: list[uuid.UUID] = []
    uow = _uow(demo, published)
    with pytest.raises(RuntimeError), uow:
        uow.enqueue("test.topic", {"x": 1})
        raise RuntimeError("the service failed")
    assert published == []
    with demo.factory() as s:
        assert s.scalars(select(OutboxMessage)).all() == []


def test_a_failing_publisher_does_not_undo_the_commit(demo: Demo) -> None:
    def broken(queued: Sequence[Queued]) -> None:
        raise ConnectionError("broker down")

    uow = UnitOfWork(demo.factory, clock=demo.clock, publisher=broken)
    with uow:
        message_id = uow.enqueue("test.topic", {})
        uow.commit()
    # The relay finds it once the grace period has passed.
    assert list(due_messages(demo.uow())) == [message_id]


def _record_handler(calls: list[dict[str, Any]]) -> Any:
    def handler(uow: UnitOfWork, payload: dict[str, Any]) -> None:
        from docflow import audit

        calls.append(payload)
        audit.record(uow, "handled", actor_name="worker", details=payload)

    return handler


def test_handler_runs_once_and_its_work_commits_with_the_done_mark(demo: Demo) -> None:
    calls: list[dict[str, Any]] = []
    uow = demo.uow()
    with uow:
        message_id = uow.enqueue("t", {"n": 7})
        uow.commit()
    handlers = {"t": [_record_handler(calls)]}
    assert process_message(demo.uow(), message_id, handlers) is Outcome.DONE
    assert process_message(demo.uow(), message_id, handlers) is Outcome.ALREADY_DONE
    assert calls == [{"n": 7}]
    with demo.factory() as s:
        assert len(s.scalars(select(AuditEntry).where(AuditEntry.event == "handled")).all()) == 1
    assert list(due_messages(demo.uow())) == []


def test_failure_rolls_back_the_handler_and_retries_with_backoff(demo: Demo) -> None:
    clock: Clock = demo.clock
    attempts: list[int] = []

    def flaky(uow: UnitOfWork, payload: dict[str, Any]) -> None:
        from docflow import audit

        audit.record(uow, "half_done", actor_name="worker")
        attempts.append(1)
        if len(attempts) < 3:
            raise TimeoutError("the axis did not answer")

    uow = demo.uow()
    with uow:
        message_id = uow.enqueue("t", {})
        uow.commit()
    assert process_message(demo.uow(), message_id, {"t": [flaky]}) is Outcome.RETRY
    with demo.factory() as s:
        msg = s.get_one(OutboxMessage, message_id)
        assert msg.attempts == 1 and "TimeoutError" in (msg.last_error or "")
        assert (msg.available_at - clock()).total_seconds() == 10
        assert s.scalars(select(AuditEntry).where(AuditEntry.event == "half_done")).all() == []
    assert list(due_messages(demo.uow())) == []  # not before its time
    clock.advance(seconds=11)
    assert process_message(demo.uow(), message_id, {"t": [flaky]}) is Outcome.RETRY
    clock.advance(seconds=21)
    assert process_message(demo.uow(), message_id, {"t": [flaky]}) is Outcome.DONE
    with demo.factory() as s:
        assert len(s.scalars(select(AuditEntry).where(AuditEntry.event == "half_done")).all()) == 1


def test_the_relay_leaves_a_fresh_message_its_grace_but_not_a_retry(demo: Demo) -> None:
    clock: Clock = demo.clock
    grace = dt.timedelta(seconds=30)
    uow = demo.uow()
    with uow:
        fresh = uow.enqueue("t", {})
        retried = uow.enqueue("t", {})
        uow.commit()

    def fails(uow: UnitOfWork, payload: dict[str, Any]) -> None:
        raise TimeoutError("the axis did not answer")

    assert process_message(demo.uow(), retried, {"t": [fails]}) is Outcome.RETRY  # 10 s backoff
    assert list(due_messages(demo.uow(), grace=grace)) == []
    clock.advance(seconds=11)
    # The retry is due when its backoff ends; the fresh one still belongs to its worker.
    assert list(due_messages(demo.uow(), grace=grace)) == [retried]
    clock.advance(seconds=20)
    assert set(due_messages(demo.uow(), grace=grace)) == {fresh, retried}


def test_unknown_topic_is_retried_not_lost(demo: Demo) -> None:
    uow = demo.uow()
    with uow:
        message_id = uow.enqueue("nobody.handles.this", {})
        uow.commit()
    assert process_message(demo.uow(), message_id, {}) is Outcome.RETRY


def test_every_listener_of_a_topic_runs_in_order_in_one_transaction(demo: Demo) -> None:
    from docflow.outbox import Handlers

    calls: list[dict[str, Any]] = []
    handlers = Handlers()
    handlers.add("t", _record_handler(calls))
    attempts = {"n": 0}

    def second(uow: UnitOfWork, payload: dict[str, Any]) -> None:
        attempts["n"] += 1
        calls.append({"second": attempts["n"]})
        if attempts["n"] == 1:
            raise ConnectionError("second listener down")

    handlers.add("t", second)
    uow = demo.uow()
    with uow:
        message_id = uow.enqueue("t", {"n": 1})
        uow.commit()
    # The second listener failed: the first's work is rolled back with it, all retried.
    assert process_message(demo.uow(), message_id, handlers) is Outcome.RETRY
    with demo.factory() as s:
        assert s.scalars(select(AuditEntry).where(AuditEntry.event == "handled")).all() == []
    demo.clock.advance(minutes=1)
    assert process_message(demo.uow(), message_id, handlers) is Outcome.DONE
    assert calls == [{"n": 1}, {"second": 1}, {"n": 1}, {"second": 2}]
    with demo.factory() as s:
        assert len(s.scalars(select(AuditEntry).where(AuditEntry.event == "handled")).all()) == 1


def test_a_deferred_message_waits_without_an_attempt_and_the_relay_sends_it_then(
    demo: Demo,
) -> None:
    """``Later``: the handler's work is rolled back, the message keeps its attempts, is not due
    before the time asked, and is due at that time without the fresh messages' grace (nobody
    else will publish it)."""
    from docflow.outbox import Later

    calls: list[dict[str, Any]] = []
    uow = demo.uow()
    with uow:
        message_id = uow.enqueue("t", {"n": 1})
        uow.commit()
    until = demo.clock() + dt.timedelta(seconds=30)

    def not_yet(uow: UnitOfWork, payload: dict[str, Any]) -> None:
        _record_handler(calls)(uow, payload)  # work done before deciding: rolled back
        if uow.now() < until:
            raise Later(until)

    handlers = {"t": [not_yet]}
    assert process_message(demo.uow(), message_id, handlers) is Outcome.DEFERRED
    with demo.factory() as s:
        msg = s.get_one(OutboxMessage, message_id)
        assert (msg.attempts, msg.done_at, msg.last_error) == (0, None, None)
        assert msg.available_at == until
        assert s.scalars(select(AuditEntry).where(AuditEntry.event == "handled")).all() == []
    grace = dt.timedelta(minutes=5)
    demo.clock.advance(seconds=29)
    assert message_id not in due_messages(demo.uow(), grace=grace)
    demo.clock.advance(seconds=1)
    assert message_id in due_messages(demo.uow(), grace=grace)
    assert process_message(demo.uow(), message_id, handlers) is Outcome.DONE
    with demo.factory() as s:
        assert s.get_one(OutboxMessage, message_id).attempts == 1
        assert len(s.scalars(select(AuditEntry).where(AuditEntry.event == "handled")).all()) == 1


def _waiting(factory: Any, topic: str) -> list[OutboxMessage]:
    with factory() as s:
        return list(
            s.scalars(
                select(OutboxMessage).where(
                    OutboxMessage.topic == topic, OutboxMessage.done_at.is_(None)
                )
            )
        )


def _coalesced_changes(demo: Demo, published: list[uuid.UUID], keys: Sequence[str]) -> None:
    for key in keys:  # one transaction each, as one action each
        uow = _uow(demo, published)
        with uow:
            uow.enqueue_coalesced("test.coalesced", {"org": key}, key=key)
            uow.enqueue_coalesced("test.coalesced", {"org": key}, key=key)  # twice in one
            uow.commit()


def _check_coalescing(demo: Demo) -> None:
    published: list[uuid.UUID] = []
    _coalesced_changes(demo, published, ["a", "a", "b", "a", "b"])
    waiting = _waiting(demo.factory, "test.coalesced")
    # One message per key while it waits, published once: a later change counts on it.
    assert sorted(m.key for m in waiting if m.key) == ["a", "b"]
    assert sorted(published) == sorted(m.id for m in waiting)
    # Once handled (done), the next change writes a message again.
    with demo.factory() as s:
        done = s.get_one(OutboxMessage, next(m.id for m in waiting if m.key == "a"))
        done.done_at = demo.clock()
        s.commit()
    _coalesced_changes(demo, published, ["a"])
    assert sorted(m.key for m in _waiting(demo.factory, "test.coalesced") if m.key) == ["a", "b"]
    assert len(published) == 3
    # A message that failed before waits out its retry delay (up to an hour) and may be given
    # up: it stands for nothing, a new one is written.
    with demo.factory() as s:
        for m in s.scalars(select(OutboxMessage).where(OutboxMessage.key == "b")):
            m.attempts = 1
            m.available_at = demo.clock() + dt.timedelta(minutes=20)
        s.commit()
    _coalesced_changes(demo, published, ["b"])
    assert len(published) == 4
    assert len([m for m in _waiting(demo.factory, "test.coalesced") if m.key == "b"]) == 2
    # One given up, likewise.
    with demo.factory() as s:
        for m in s.scalars(select(OutboxMessage).where(OutboxMessage.key == "a")):
            m.attempts = MAX_ATTEMPTS
        s.commit()
    _coalesced_changes(demo, published, ["a"])
    assert len(published) == 5


def test_a_change_counts_on_the_message_waiting_for_its_key(demo: Demo) -> None:
    """enqueue_coalesced (an organisation's statistics, issue 19): while a message of the topic
    and key waits, later transactions write none; a handled one, one that failed before or
    one given up does not count."""
    _check_coalescing(demo)


def test_a_change_counts_on_the_message_waiting_for_its_key_on_sqlite(tmp_path: Any) -> None:
    from tests.conftest import sqlite_demo

    with sqlite_demo(tmp_path) as demo:
        _check_coalescing(demo)
