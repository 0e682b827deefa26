"""The register number allocator: consecutive, never a duplicate, never a gap on rollback,
under real concurrent transactions on PostgreSQL and on SQLite."""

from __future__ import annotations

import itertools
import random
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from docflow import ConflictError, NotFoundError, allocate_number, format_number, make_engine
from docflow.enums import Direction, OrgLevel
from docflow.ids import new_id
from docflow.models import Organization, Register
from migrations import upgrade
from tests.conftest import own_pg_engine

#: Organisation codes of the test's registers: distinct within a run (a random two-digit
#: suffix collided now and then on a database shared by several tests).
_CODES = itertools.count(10)


def _make_register(factory: sessionmaker[Session], year: int = 2026) -> uuid.UUID:
    with factory() as s, s.begin():
        org_id = new_id()
        s.add(
            Organization(
                id=org_id,
                level=OrgLevel.CENTRAL.value,
                name="Tổ chức thử",
                abbreviation="TEST",
                code=f"000.00.00.T{next(_CODES)}",
                path=f"/{org_id}/",
            )
        )
        reg = Register(
            organization_id=org_id, direction=Direction.OUTGOING.value, year=year, name="Sổ đi"
        )
        s.add(reg)
        s.flush()
        return reg.id


def _hammer(
    factory: sessionmaker[Session], register_id: uuid.UUID, writers: int, per_writer: int
) -> tuple[list[int], int]:
    """Each writer allocates in its own transaction and rolls back about one in four."""
    committed: list[int] = []
    rolled_back = 0
    lock = threading.Lock()
    errors: list[BaseException] = []

    def work(seed: int) -> None:
        nonlocal rolled_back
        rng = random.Random(seed)
        try:
            for _ in range(per_writer):
                with factory() as s:
                    s.begin()
                    n = allocate_number(s, register_id, year=2026)
                    if rng.random() < 0.25:
                        s.rollback()
                        with lock:
                            rolled_back += 1
                    else:
                        s.commit()
                        with lock:
                            committed.append(n)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return committed, rolled_back


@pytest.fixture(scope="module")
def pg_numbering_engine() -> Iterator[Engine]:
    yield from own_pg_engine("_numbering", pool_size=10)


@pytest.mark.pg
def test_parallel_allocations_on_postgresql_have_no_duplicate_and_no_gap(
    pg_numbering_engine: Engine,
) -> None:
    factory = sessionmaker(bind=pg_numbering_engine, expire_on_commit=False)
    register_id = _make_register(factory)
    committed, rolled_back = _hammer(factory, register_id, writers=8, per_writer=40)
    assert rolled_back > 0
    assert sorted(committed) == list(range(1, len(committed) + 1))
    with factory() as s:
        assert s.get_one(Register, register_id).last_number == len(committed)


def test_parallel_allocations_on_sqlite_have_no_duplicate_and_no_gap(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'n.sqlite'}"
    upgrade(url)
    engine = make_engine(url)
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    register_id = _make_register(factory)
    committed, rolled_back = _hammer(factory, register_id, writers=4, per_writer=25)
    engine.dispose()
    assert rolled_back > 0
    assert sorted(committed) == list(range(1, len(committed) + 1))


@pytest.mark.pg
def test_register_of_another_year_refuses_and_consumes_nothing(
    pg_numbering_engine: Engine,
) -> None:
    factory = sessionmaker(bind=pg_numbering_engine, expire_on_commit=False)
    register_id = _make_register(factory, year=2025)
    with factory() as s, pytest.raises(ConflictError) as info, s.begin():
        allocate_number(s, register_id, year=2026)
    assert info.value.code == "register_year_closed"
    with factory() as s:
        assert s.get_one(Register, register_id).last_number == 0


@pytest.mark.pg
def test_unknown_register_is_not_found(pg_numbering_engine: Engine) -> None:
    factory = sessionmaker(bind=pg_numbering_engine)
    with factory() as s, pytest.raises(NotFoundError):
        allocate_number(s, new_id(), year=2026)


def test_numbers_below_ten_have_a_leading_zero() -> None:
    assert [format_number(n) for n in (1, 9, 10, 123)] == ["01", "09", "10", "123"]
