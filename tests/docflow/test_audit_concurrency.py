"""Changes are audited off the write path (issue 19): a writer inserts its entry and takes no
chain lock, so two transactions writing in the same organisation do not wait for each other; the
chainer appends the entries later, in the order they were committed, and the chain verifies.

Each test runs on a database of its own with real concurrent connections (the shared test
connection of the other tests cannot show two transactions).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import sessionmaker

from docflow import UnitOfWork, audit, make_engine
from docflow.models import AuditChainHead, AuditEntry
from docflow.uow import DomainConfig
from migrations import upgrade
from tests.conftest import own_pg_engine

KEY = b"k" * 32


@pytest.fixture(scope="module")
def pg_audit_engine() -> Iterator[Engine]:
    yield from own_pg_engine("_auditconc", pool_size=12)


def _uow(engine: Engine) -> UnitOfWork:
    return UnitOfWork(
        sessionmaker(bind=engine, expire_on_commit=False), config=DomainConfig(audit_key=KEY)
    )


def _record(uow: UnitOfWork, org: uuid.UUID, i: int) -> uuid.UUID:
    return audit.record(
        uow, "test.write", organization_id=org, actor_name="ai đó", details={"i": i}
    )


def _chain_of(engine: Engine, org: uuid.UUID) -> list[AuditEntry]:
    with sessionmaker(bind=engine)() as s:
        return list(
            s.scalars(
                select(AuditEntry).where(AuditEntry.chain == str(org)).order_by(AuditEntry.seq)
            )
        )


@pytest.mark.pg
def test_a_second_writer_commits_while_the_first_is_still_open(pg_audit_engine: Engine) -> None:
    org = uuid.uuid4()
    # The organisation's chain already has a head (what made the old writers wait on its lock).
    with _uow(pg_audit_engine) as first_uow:
        _record(first_uow, org, 0)
        first_uow.commit()
    audit.chain_all_pending(_uow(pg_audit_engine))
    assert len(_chain_of(pg_audit_engine, org)) == 1

    first = _uow(pg_audit_engine)
    with first:
        early = _record(first, org, 1)  # its INSERT has run; the transaction stays open
        second = _uow(pg_audit_engine)
        with second:
            # Waiting for any lock the first holds would fail here instead of hanging.
            second.session.execute(text("SET LOCAL lock_timeout = '2s'"))
            late = _record(second, org, 2)
            second.commit()
        # The chainer runs meanwhile: it sees the committed entry only, and waits for nothing.
        assert audit.chain_pending(_uow(pg_audit_engine), organization_id=org) == 1
        first.commit()
    assert audit.chain_pending(_uow(pg_audit_engine), organization_id=org) == 1
    chain = _chain_of(pg_audit_engine, org)
    # Chained in commit order: the entry written first but committed last comes last.
    assert [e.id for e in chain[-2:]] == [late, early]
    assert early < late
    with sessionmaker(bind=pg_audit_engine)() as s:
        report = audit.verify(s, key=KEY)
    assert report.ok, report.problems


@pytest.mark.pg
def test_a_rolled_back_change_leaves_no_entry(pg_audit_engine: Engine) -> None:
    org = uuid.uuid4()
    uow = _uow(pg_audit_engine)
    with uow:
        _record(uow, org, 0)
        uow.session.flush()
        uow.session.rollback()
    assert audit.chain_pending(_uow(pg_audit_engine), organization_id=org) == 0
    assert _chain_of(pg_audit_engine, org) == []


def _hammer(engine: Engine, orgs: list[uuid.UUID], writers: int, per_writer: int) -> None:
    """``writers`` threads write into the same organisations while a chainer runs in a loop."""
    errors: list[BaseException] = []
    done = threading.Event()

    def write(n: int) -> None:
        try:
            for i in range(per_writer):
                uow = _uow(engine)
                with uow:
                    _record(uow, orgs[(n + i) % len(orgs)], n * 1000 + i)
                    if i % 3 == 0:  # some transactions write two entries
                        _record(uow, orgs[(n + i) % len(orgs)], n * 1000 + i + 500)
                    uow.commit()
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    def chain() -> None:
        try:
            while not done.is_set():
                audit.chain_pending(_uow(engine), limit=7)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    chainers = [threading.Thread(target=chain) for _ in range(2)]
    for t in threads + chainers:
        t.start()
    for t in threads:
        t.join()
    done.set()
    for t in chainers:
        t.join()
    assert not errors, errors
    audit.chain_all_pending(_uow(engine))


def _check_chains(engine: Engine, orgs: list[uuid.UUID], expected: int) -> None:
    with sessionmaker(bind=engine)() as s:
        report = audit.verify(s, key=KEY)
        assert report.ok, report.problems
        assert report.pending_changes == 0
        total = 0
        for org in orgs:
            seqs = list(
                s.scalars(
                    select(AuditEntry.seq)
                    .where(AuditEntry.chain == str(org))
                    .order_by(AuditEntry.seq)
                )
            )
            assert seqs == list(range(1, len(seqs) + 1))
            assert s.get_one(AuditChainHead, str(org)).seq == len(seqs)
            total += len(seqs)
        assert total == expected
        unchained = s.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.seq.is_(None))
        )
        assert unchained == 0


def _expected(writers: int, per_writer: int) -> int:
    return writers * (per_writer + len(range(0, per_writer, 3)))


@pytest.mark.pg
def test_the_chain_verifies_after_concurrent_writes_on_postgresql(pg_audit_engine: Engine) -> None:
    orgs = [uuid.uuid4(), uuid.uuid4()]
    _hammer(pg_audit_engine, orgs, writers=6, per_writer=20)
    _check_chains(pg_audit_engine, orgs, _expected(6, 20))


def test_the_chain_verifies_after_concurrent_writes_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.sqlite'}"
    upgrade(url)
    engine = make_engine(url)
    try:
        orgs = [uuid.uuid4(), uuid.uuid4()]
        _hammer(engine, orgs, writers=3, per_writer=10)
        _check_chains(engine, orgs, _expected(3, 10))
        # Tampering is still caught on SQLite.
        with engine.begin() as c:
            c.execute(
                text("UPDATE audit_entries SET details = '{}' WHERE chain = :c AND seq = 3"),
                {"c": str(orgs[0])},
            )
        with sessionmaker(bind=engine)() as s:
            problems = [(p.seq, p.problem) for p in audit.verify(s, key=KEY).problems]
        assert problems == [(3, "entry altered")]
    finally:
        engine.dispose()
