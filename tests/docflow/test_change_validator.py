"""The organisation's list validator (``docflow.changes.organization_validator``, the boxes'
and badges' ETag) as one statement on PostgreSQL (issue 19): the same value as its definition
(the floor from the oldest running transaction, then the organisation's rows at or above it),
and a row of a transaction that was running during a read and commits after it changes the
next read's value (never a wrong 304). Two real connections."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import create_engine, func, insert, select
from sqlalchemy.orm import Session

from docflow.changes import QUANTUM, organization_validator, settled_below, txid_expr
from docflow.models import Change
from migrations import upgrade
from tests.conftest import fresh_pg_database

pytestmark = [pytest.mark.pg]


def _log(session: Session, org: uuid.UUID) -> None:
    session.execute(
        insert(Change).values(
            txid=txid_expr(session),
            kind="document",
            change="created",
            object_id=uuid.uuid4(),
            organization_id=org,
            at=dt.datetime.now(dt.UTC),
        )
    )


def _by_definition(session: Session, org: uuid.UUID) -> str:
    below = settled_below(session)
    floor = below - below % QUANTUM
    count = session.scalar(
        select(func.count()).where(Change.organization_id == org, Change.txid >= floor)
    )
    return f"{floor}:{count}"


def test_one_statement_gives_the_definition_and_sees_a_late_commit() -> None:
    url = fresh_pg_database("_validator")
    upgrade(url)
    engine = create_engine(url)
    org, other = uuid.uuid4(), uuid.uuid4()
    try:
        with Session(engine) as s:
            for _ in range(3):
                _log(s, org)
            _log(s, other)
            s.commit()
        with Session(engine) as reader:
            first = organization_validator(reader, org)
            assert first == _by_definition(reader, org)
            assert first.endswith(":3")
        with Session(engine) as writer:
            _log(writer, org)  # running: its transaction id is below the next reader's floor
            writer.flush()
            with Session(engine) as reader:
                during = organization_validator(reader, org)
                assert during == _by_definition(reader, org)
                assert during == first  # not visible yet
            writer.commit()
        with Session(engine) as reader:
            after = organization_validator(reader, org)
            assert after == _by_definition(reader, org)
            assert after != during
            assert organization_validator(reader, other).endswith(":1")
    finally:
        engine.dispose()


def test_an_object_validator_and_whether_it_is_seen_in_one_statement() -> None:
    """The object validator's statement with ``seen``: None when the condition fails (the read
    answers 404), else the object's row count and last seq, from one statement."""
    from sqlalchemy import ColumnElement, event, false, true

    from docflow.changes import object_validator_statement, validator_of

    def object_validator(
        s: Session, obj: uuid.UUID, seen: ColumnElement[bool] | None = None
    ) -> str | None:
        stmt = object_validator_statement(seen)
        return validator_of(s.execute(stmt, {"object_id": obj}).one())

    url = fresh_pg_database("_validator")
    upgrade(url)
    engine = create_engine(url)
    org, obj = uuid.uuid4(), uuid.uuid4()
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    try:
        with Session(engine) as s:
            assert object_validator(s, obj, seen=true()) == "0.0"
            for _ in range(2):
                s.execute(
                    insert(Change).values(
                        txid=txid_expr(s),
                        kind="document",
                        change="updated",
                        object_id=obj,
                        organization_id=org,
                        at=dt.datetime.now(dt.UTC),
                    )
                )
            last = s.scalar(select(func.max(Change.seq)))
            statements.clear()
            assert object_validator(s, obj, seen=true()) == f"2.{last}"
            assert object_validator(s, obj, seen=false()) is None
            assert object_validator(s, obj) == f"2.{last}"
            assert len(statements) == 3
    finally:
        engine.dispose()
