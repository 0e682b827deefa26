"""A claimed message (text extraction, OCR: run with no transaction open) whose handler was
running when PostgreSQL restarted: its result is still recorded once the database is back,
instead of the message staying claimed, hidden for two hours (found by the fault run of issue
19: one extraction still waiting 180 s after the outage). The restart is played by
terminating every connection of the database while the handler runs; the pool's connections
are then dead, as after a real restart."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import NullPool

from docflow import UnitOfWork
from docflow.db import utcnow
from docflow.models import OutboxMessage
from docflow.outbox import CLAIM, Outcome, outside_transaction, process_message
from tests.conftest import own_pg_engine

pytestmark = pytest.mark.pg


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    yield from own_pg_engine("_outboxoutage", pool_size=2)


def _cut_every_connection(engine: Engine) -> None:
    """What a restart does to the pool: every session of the database terminated (from a
    connection outside the pool, closed after)."""
    others = "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
    outside = create_engine(engine.url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    with outside.connect() as conn:
        cut = conn.execute(text(f"SELECT count(pg_terminate_backend(pid)) {others}")).scalar_one()
        assert cut >= 1  # the pool's connection, which the recording will take
        # Terminating only signals the backends: wait until they are gone, else the recording
        # could still reach its old connection and the cut would prove nothing.
        for _ in range(100):
            if not conn.execute(text(f"SELECT count(*) {others}")).scalar_one():
                break
            time.sleep(0.05)
        else:
            raise AssertionError("the terminated backends are still there")
    outside.dispose()


def _message(engine: Engine, topic: str) -> Any:
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    with factory() as s:
        msg = OutboxMessage(topic=topic, payload={})
        msg.created_at = msg.available_at = utcnow()
        s.add(msg)
        s.commit()
        return msg.id


def _read(engine: Engine, message_id: Any) -> OutboxMessage:
    with sessionmaker(bind=engine, expire_on_commit=False)() as s:
        return s.get_one(OutboxMessage, message_id)


@pytest.mark.parametrize("fails", [False, True], ids=["handled", "failed"])
def test_the_result_of_a_claimed_message_is_recorded_after_the_connections_were_cut(
    engine: Engine, fails: bool
) -> None:
    uow = UnitOfWork(sessionmaker(bind=engine, expire_on_commit=False))
    # Warm the pool: the recording would otherwise open a fresh connection and never see the cut.
    for _ in range(2):
        with uow:
            uow.session.execute(text("SELECT 1"))

    @outside_transaction
    def extract(_uow: UnitOfWork, _payload: dict[str, Any]) -> None:
        with _uow:  # the handler's own short transaction, on a pooled connection
            _uow.session.execute(text("SELECT 1"))
        _cut_every_connection(engine)
        if fails:
            raise ConnectionError("the object store is away")

    message_id = _message(engine, "test.extract")
    before = utcnow()
    outcome = process_message(uow, message_id, {"test.extract": [extract]})
    msg = _read(engine, message_id)
    if fails:
        assert outcome is Outcome.RETRY
        assert msg.done_at is None and "object store" in (msg.last_error or "")
        # Due again after its backoff (10 s), not after the two-hour claim.
        assert msg.available_at < before + dt.timedelta(minutes=1) < before + CLAIM
    else:
        assert outcome is Outcome.DONE
        assert msg.done_at is not None
    assert msg.attempts == 1
