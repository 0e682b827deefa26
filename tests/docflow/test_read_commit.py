"""A unit of work that only read ends with COMMIT, so psycopg keeps the statements it prepared
(it forgets all of them on every ROLLBACK, and most units are reads that end uncommitted:
issue 19 found PostgreSQL planning every statement afresh). One that wrote anything, through
the ORM, Core, text, a writing CTE or the driver's COPY, or that failed, is still rolled back
(docflow.db._end_reads_with_commit), on PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DataError

from docflow.db import (
    make_engine,
    make_session_factory,
    mark_written,
    only_reads,
    plans_per_values,
)
from docflow.models.calendar import Holiday
from docflow.uow import UnitOfWork

DAY = dt.date(2199, 1, 5)  # a day no other test writes
COUNT_DAYS = select(Holiday.day).where(Holiday.day == DAY)


@pytest.fixture
def engine(pg_url: str) -> Iterator[Engine]:
    engine = make_engine(pg_url, pool_size=1, max_overflow=0)  # one connection: the same one
    yield engine
    with engine.begin() as conn:
        conn.execute(delete(Holiday).where(Holiday.day >= DAY))
    engine.dispose()


def _prepared(engine: Engine) -> dict[str, tuple[int, int]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements")
        )
        return {r[0]: (r[1], r[2]) for r in rows}


def _stored(engine: Engine) -> list[dt.date]:
    with engine.connect() as conn:
        return list(conn.scalars(select(Holiday.day).where(Holiday.day >= DAY)))


def test_reads_left_uncommitted_keep_their_prepared_statements(engine: Engine) -> None:
    uow = UnitOfWork(make_session_factory(engine))
    # psycopg prepares on the 6th run (after 5 unprepared); PostgreSQL plans the first 5 runs
    # of a prepared statement for their values, then keeps one generic plan.
    for _ in range(12):
        with uow:
            assert uow.session.scalars(COUNT_DAYS).all() == []
    kept = {s: plans for s, plans in _prepared(engine).items() if "FROM holidays" in s}
    assert len(kept) == 1, _prepared(engine)
    generic, custom = next(iter(kept.values()))
    assert (generic, custom) == (2, 5), kept  # 7 prepared runs: kept across all 12 units


@pytest.mark.parametrize(
    "write",
    [
        "orm",
        "core insert",
        "core update",
        "text insert",
        "writing cte",
        "select for update then insert",
    ],
)
def test_a_write_left_uncommitted_is_rolled_back(engine: Engine, write: str) -> None:
    with engine.begin() as conn:
        conn.execute(insert(Holiday).values(day=DAY, name="có sẵn", kind="off"))
    uow = UnitOfWork(make_session_factory(engine))
    with uow:
        s = uow.session
        s.scalars(COUNT_DAYS).all()  # a read first: the write that follows decides
        later = DAY + dt.timedelta(days=1)
        if write == "orm":
            s.add(Holiday(day=later, name="mới", kind="off"))
            s.flush()
        elif write == "core insert":
            s.execute(insert(Holiday).values(day=later, name="mới", kind="off"))
        elif write == "core update":
            s.execute(update(Holiday).where(Holiday.day == DAY).values(name="đổi"))
        elif write == "text insert":
            s.execute(
                text("insert into holidays (day, name, kind) values (:d, 'mới', 'off')"),
                {"d": later},
            )
        elif write == "writing cte":
            s.execute(
                text(
                    "WITH moved AS (UPDATE holidays SET name = 'đổi' WHERE day = :d "
                    "RETURNING day) SELECT count(*) FROM moved"
                ),
                {"d": DAY},
            )
        else:
            s.execute(select(Holiday).where(Holiday.day == DAY).with_for_update())
            s.execute(insert(Holiday).values(day=later, name="mới", kind="off"))
    assert _stored(engine) == [DAY]
    with engine.connect() as conn:
        assert conn.scalar(select(Holiday.name).where(Holiday.day == DAY)) == "có sẵn"


def test_a_copy_through_the_driver_is_rolled_back_when_marked(engine: Engine) -> None:
    uow = UnitOfWork(make_session_factory(engine))
    with uow:
        connection = uow.session.connection()
        mark_written(connection)  # what docflow.reports.rollup's COPY writer does
        raw = connection.connection.driver_connection
        assert raw is not None
        with raw.cursor() as cur, cur.copy("COPY holidays (day, name, kind) FROM STDIN") as cp:
            cp.write_row((DAY, "chép", "off"))
    assert _stored(engine) == []


def test_a_failed_read_is_rolled_back_and_the_connection_serves_again(engine: Engine) -> None:
    """Seen through psycopg itself: the statements it had prepared are gone after the failed
    read, which only a ROLLBACK does (a COMMIT would have kept them)."""
    uow = UnitOfWork(make_session_factory(engine))
    for _ in range(7):
        with uow:
            uow.session.scalars(COUNT_DAYS).all()
    assert any("FROM holidays" in x for x in _prepared(engine))
    with pytest.raises(DataError), uow:
        uow.session.scalars(COUNT_DAYS).all()
        uow.session.execute(text("SELECT 1 / 0"))
    assert not any("FROM holidays" in x for x in _prepared(engine))
    with uow:
        assert uow.session.scalar(text("SELECT 2")) == 2


def test_a_committed_write_then_a_read_only_unit(engine: Engine) -> None:
    """The mark of a write ends with its transaction: the next unit, a read, is committed (its
    statements stay prepared) and the committed row is there."""
    uow = UnitOfWork(make_session_factory(engine))
    with uow:
        uow.session.add(Holiday(day=DAY, name="mới", kind="off"))
        uow.commit()
    for _ in range(6):
        with uow:
            assert uow.session.scalars(COUNT_DAYS).all() == [DAY]
    assert any("FROM holidays" in s for s in _prepared(engine))


def test_patterns_and_text_searches_are_planned_for_their_values(engine: Engine) -> None:
    """A generic plan guesses a bound pattern's selectivity (the document search took 55 ms
    instead of 4 with one): such statements are never prepared, the others are."""
    uow = UnitOfWork(make_session_factory(engine))
    for _ in range(8):
        with uow:
            s = uow.session
            s.scalars(select(Holiday.day).where(Holiday.name.like("Tết%"))).all()
            s.scalars(select(Holiday.day).where(Holiday.name.startswith("Tết", autoescape=True)))
            s.scalars(select(Holiday.day).where(Holiday.name.icontains("tết"))).all()
            s.scalar(
                text("SELECT to_tsvector('simple', :t) @@ to_tsquery('simple', :q)"),
                {"t": "kế hoạch", "q": "hoach"},
            )
            s.scalars(COUNT_DAYS).all()
    prepared = list(_prepared(engine))
    assert [x for x in prepared if "LIKE" in x or "@@" in x] == []
    assert any("WHERE holidays.day = $1" in x for x in prepared), prepared


def test_a_streamed_read_with_a_pattern(engine: Engine) -> None:
    """A server-side cursor (``yield_per``, the directory export) takes no ``prepare``."""
    with engine.begin() as conn:
        conn.execute(insert(Holiday).values(day=DAY, name="Tết Dương lịch", kind="off"))
    uow = UnitOfWork(make_session_factory(engine))
    with uow:
        stmt = select(Holiday.day).where(
            Holiday.name.startswith("Tết", autoescape=True), Holiday.day >= DAY
        )
        assert list(uow.session.scalars(stmt.execution_options(yield_per=10))) == [DAY]


def test_a_side_effect_in_a_select_left_uncommitted_is_rolled_back(engine: Engine) -> None:
    """set_config(..., false) in a transaction that is rolled back is undone: the next unit on
    the same connection does not inherit it."""
    uow = UnitOfWork(make_session_factory(engine))
    setting = text("SELECT current_setting('statement_timeout')")  # a read (SHOW is not one)
    with uow:
        before = uow.session.scalar(setting)
    with uow:  # the unit holds nothing else that would count as a write
        uow.session.execute(text("SELECT set_config('statement_timeout', '1234ms', false)"))
    with uow:
        assert uow.session.scalar(setting) == before != "1234ms"


@pytest.mark.parametrize(
    ("statement", "per_values"),
    [
        ("SELECT o.id FROM organizations AS o WHERE o.path LIKE $1 || '%' ESCAPE '/'", True),
        ("SELECT t.id FROM tasks AS t WHERE lower(t.title) NOT LIKE '%' || $1 || '%'", True),
        ("SELECT u.id FROM users AS u WHERE u.full_name ILIKE $1", True),
        ("SELECT s.document_id FROM document_search AS s WHERE s.tsv @@ to_tsquery($1, $2)", True),
        ("SELECT documents.id FROM documents WHERE documents.organization_id = $1", False),
    ],
)
def test_which_statements_are_planned_per_values(statement: str, per_values: bool) -> None:
    assert plans_per_values(statement) is per_values


@pytest.mark.parametrize(
    ("statement", "reads"),
    [
        ("SELECT documents.id FROM documents WHERE documents.updated_at > $1", True),
        ("  select 1", True),
        ("WITH f AS (SELECT 1 AS x) SELECT f.x FROM f", True),
        ("SELECT documents.id FROM documents FOR UPDATE", False),
        ("WITH m AS (DELETE FROM t RETURNING id) SELECT count(*) FROM m", False),
        ("SELECT * INTO copy_of FROM documents", False),
        ("INSERT INTO t VALUES (1)", False),
        ("UPDATE t SET x = 1", False),
        ("SET LOCAL work_mem = '64MB'", False),
        ("SAVEPOINT sa_1", False),
        ("LOCK TABLE registers", False),
        ("SELECT pg_notify('kênh', $1)", False),
        ("SELECT set_config('statement_timeout', '1ms', false)", False),
        ("SELECT lo_from_bytea(0, $1)", False),
        ("WITH f AS (SELECT nextval('s') AS n) SELECT f.n FROM f", False),
        ("SELECT pg_advisory_lock($1)", False),
        ("SELECT ts_rank(d.tsv, q) FROM d", True),
    ],
)
def test_which_statements_only_read(statement: str, reads: bool) -> None:
    assert only_reads(statement) is reads
