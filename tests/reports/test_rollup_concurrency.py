"""Two workers handed messages of one organisation at the same moment (issue 19): the first
recomputes, the second waits for its commit and then defers to the interval instead of
recomputing the same rows again. Real concurrent connections on a database of its own (the
shared test connection of the other tests cannot show two transactions)."""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import sessionmaker

from docflow import UnitOfWork
from docflow.db import utcnow
from docflow.models import Organization, OutboxMessage
from docflow.models.reports import ReportRefresh
from docflow.outbox import Outcome, process_message
from docflow.reports.rollup import TOPIC_CHANGED, handle_changed
from docflow.uow import DomainConfig
from tests.conftest import own_pg_engine

INTERVAL = dt.timedelta(seconds=30)


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    yield from own_pg_engine("_rollupconc", pool_size=6)


def _uow(engine: Engine) -> UnitOfWork:
    return UnitOfWork(
        sessionmaker(bind=engine, expire_on_commit=False),
        config=DomainConfig(reports_refresh_interval=INTERVAL),
    )


@pytest.mark.pg
def test_a_second_worker_waits_for_the_first_recomputation_and_defers(engine: Engine) -> None:
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    org = uuid.uuid4()
    with factory() as s:
        s.add(
            Organization(
                id=org, level="central", name="Cơ quan thử", abbreviation="CQT",
                code="000.00.00.Y99", path=f"/{org}/",
            )
        )  # fmt: skip
        s.flush()
        # Recomputed a minute ago: the interval is over, a message may recompute now.
        s.add(
            ReportRefresh(
                organization_id=org,
                refreshed_at=utcnow() - dt.timedelta(minutes=1),
                through_day=dt.date.today(),
            )
        )
        message = OutboxMessage(topic=TOPIC_CHANGED, payload={"organization_id": str(org)})
        message.created_at = message.available_at = utcnow()
        s.add(message)
        s.commit()
        message_id = message.id
    handlers = {TOPIC_CHANGED: [handle_changed]}

    # The first worker is recomputing: it holds the organisation's refresh row.
    first = engine.connect()
    first_tx = first.begin()
    first.execute(
        select(ReportRefresh.organization_id)
        .where(ReportRefresh.organization_id == org)
        .with_for_update()
    )
    outcome: list[Outcome] = []
    second = threading.Thread(
        target=lambda: outcome.append(process_message(_uow(engine), message_id, handlers))
    )
    second.start()
    # The second worker waits on the row (not done before the first commits).
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with engine.connect() as probe:
            waiting = probe.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = current_database()"
                )
            )
        if waiting:
            break
        time.sleep(0.05)
    assert waiting, "the second worker did not wait for the first one's lock"
    assert outcome == []
    # The first finishes its recomputation now.
    first.execute(
        ReportRefresh.__table__.update()
        .where(ReportRefresh.organization_id == org)
        .values(refreshed_at=utcnow())
    )
    first_tx.commit()
    first.close()
    second.join(timeout=30)
    assert outcome == [Outcome.DEFERRED]
    with factory() as s:
        waiting_message = s.get_one(OutboxMessage, message_id)
        assert waiting_message.done_at is None and waiting_message.attempts == 0
        refreshed = s.get_one(ReportRefresh, org).refreshed_at
        assert waiting_message.available_at == refreshed + INTERVAL


def _org(factory: sessionmaker, code: str) -> uuid.UUID:
    org = uuid.uuid4()
    with factory() as s:
        s.add(
            Organization(
                id=org, level="central", name=f"Cơ quan {code}", abbreviation="CQ",
                code=code, path=f"/{org}/",
            )
        )  # fmt: skip
        s.commit()
    return org


def _org_with_message(factory: sessionmaker, code: str) -> tuple[uuid.UUID, uuid.UUID]:
    org = _org(factory, code)
    with factory() as s:
        message = OutboxMessage(topic=TOPIC_CHANGED, payload={"organization_id": str(org)})
        message.created_at = message.available_at = utcnow()
        s.add(message)
        s.commit()
        return org, message.id


@pytest.mark.pg
def test_one_organisation_recomputing_does_not_hold_another_organisations_messages(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker recomputing one organisation takes along that organisation's waiting messages
    (locked, then marked done), and only those: a second worker handed another organisation's
    message meanwhile handles it. (The waiting messages were chosen in Python after a statement
    that locked every organisation's: the second worker found its message held, answered BUSY
    and left it to the relay.)"""
    from docflow.reports import rollup

    factory = sessionmaker(bind=engine, expire_on_commit=False)
    busy_org, busy_message = _org_with_message(factory, "000.00.00.Y97")
    other_org, other_message = _org_with_message(factory, "000.00.00.Y98")
    inside, release = threading.Event(), threading.Event()
    real_refresh = rollup.refresh_organization

    def slow_refresh(uow: UnitOfWork, org_id: uuid.UUID) -> None:
        real_refresh(uow, org_id)
        if org_id == busy_org:
            inside.set()  # the first worker is in its recomputation, its locks held
            release.wait(30)

    monkeypatch.setattr(rollup, "refresh_organization", slow_refresh)
    handlers = {TOPIC_CHANGED: [handle_changed]}
    first: list[Outcome] = []
    worker = threading.Thread(
        target=lambda: first.append(process_message(_uow(engine), busy_message, handlers))
    )
    worker.start()
    try:
        assert inside.wait(30), "the first worker did not start recomputing"
        assert process_message(_uow(engine), other_message, handlers) is Outcome.DONE
    finally:
        release.set()
        worker.join(timeout=30)
    assert first == [Outcome.DONE]
    with factory() as s:
        assert s.get_one(OutboxMessage, busy_message).done_at is not None
        assert s.get_one(OutboxMessage, other_message).done_at is not None
        assert {r.organization_id for r in s.scalars(select(ReportRefresh))} >= {
            busy_org,
            other_org,
        }


def _change(engine: Engine, org: uuid.UUID) -> UnitOfWork:
    """A transaction left open after statistics_changed: the action has not committed yet."""
    from docflow.statistics import statistics_changed

    uow = _uow(engine)
    uow.__enter__()
    statistics_changed(uow, org)
    uow.session.flush()
    return uow


def _waiting_ids(factory: sessionmaker, org: uuid.UUID) -> set[uuid.UUID]:
    with factory() as s:
        return set(
            s.scalars(
                select(OutboxMessage.id).where(
                    OutboxMessage.key == str(org), OutboxMessage.done_at.is_(None)
                )
            )
        )


@pytest.mark.pg
def test_a_change_counting_on_a_waiting_message_keeps_it_from_the_workers(engine: Engine) -> None:
    """An action that found its organisation's message waiting (and wrote none) holds it until
    it commits: a worker handed that message meanwhile leaves it (BUSY, for the relay), so the
    recomputation that handles it runs after the change is committed and counts it. Neither
    waits on the other."""
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    org = _org(factory, "000.00.00.Y96")
    first = _change(engine, org)
    first.commit()
    first.__exit__(None, None, None)
    (message,) = _waiting_ids(factory, org)
    second = _change(engine, org)  # counts on the waiting message, not yet committed
    try:
        assert _waiting_ids(factory, org) == {message}
        handlers = {TOPIC_CHANGED: [handle_changed]}
        started = time.monotonic()
        assert process_message(_uow(engine), message, handlers) is Outcome.BUSY
        assert time.monotonic() - started < 5  # skipped, not waited for
        second.commit()
    finally:
        second.__exit__(None, None, None)
    assert _waiting_ids(factory, org) == {message}
    assert process_message(_uow(engine), message, handlers) is Outcome.DONE
    assert _waiting_ids(factory, org) == set()


@pytest.mark.pg
def test_a_message_a_worker_holds_is_not_counted_on(engine: Engine) -> None:
    """A waiting message a worker has taken (its recomputation may already have read the rows)
    does not stand for a later change: that change writes a message of its own, without
    waiting for the worker."""
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    org = _org(factory, "000.00.00.Y95")
    first = _change(engine, org)
    first.commit()
    first.__exit__(None, None, None)
    (message,) = _waiting_ids(factory, org)
    worker = engine.connect()
    worker_tx = worker.begin()
    worker.execute(select(OutboxMessage.id).where(OutboxMessage.id == message).with_for_update())
    done: list[bool] = []

    def change() -> None:
        unit = _change(engine, org)
        unit.commit()
        unit.__exit__(None, None, None)
        done.append(True)

    try:
        thread = threading.Thread(target=change, daemon=True)
        thread.start()
        thread.join(timeout=10)
        assert done == [True], "the change waited for the worker's lock"
    finally:
        worker_tx.rollback()
        worker.close()
    waiting = _waiting_ids(factory, org)
    assert message in waiting and len(waiting) == 2


@pytest.mark.pg
@pytest.mark.parametrize("outcome", ["later", "failure"])
def test_a_worker_noting_an_outcome_does_not_wait_for_a_command_counting_on_it(
    engine: Engine, outcome: str
) -> None:
    """A command may count on the message between the worker's handler (which put it off, or
    failed) and the worker noting that: the worker does not wait for the command's commit (a
    bulk import holds it to its end), it leaves the message as it was (BUSY) for the relay."""
    from docflow.outbox import Later

    factory = sessionmaker(bind=engine, expire_on_commit=False)
    org = _org(factory, "000.00.00.Y94" if outcome == "later" else "000.00.00.Y93")
    first = _change(engine, org)
    first.commit()
    first.__exit__(None, None, None)
    (message,) = _waiting_ids(factory, org)
    holding: list[UnitOfWork] = []

    def handler(_uow: UnitOfWork, _payload: dict[str, object]) -> None:
        if outcome == "later":
            raise Later(utcnow() + INTERVAL)
        raise RuntimeError("transient")

    class Worker(UnitOfWork):
        def rollback(self) -> None:
            super().rollback()
            if not holding:  # a command counts on the message as soon as the handler let go
                command = _change(engine, org)
                holding.append(command)

    worker = Worker(
        sessionmaker(bind=engine, expire_on_commit=False),
        config=DomainConfig(reports_refresh_interval=INTERVAL),
    )
    result: list[Outcome] = []
    thread = threading.Thread(
        target=lambda: result.append(process_message(worker, message, {TOPIC_CHANGED: [handler]})),
        daemon=True,
    )
    try:
        thread.start()
        thread.join(timeout=10)
        assert result == [Outcome.BUSY], "the worker waited for the command's commit"
        assert _waiting_ids(factory, org) == {message}  # the command counted on it
    finally:
        for command in holding:
            command.commit()
            command.__exit__(None, None, None)
    with factory() as s:
        left = s.get_one(OutboxMessage, message)
        assert left.done_at is None and left.attempts == 0  # as it was: the relay's again
