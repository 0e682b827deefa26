"""The pool checks a connection before use only when it sat idle (docflow.db._ping_after_idle):
a connection used a moment ago costs no round trip, one that idled and was closed by the server
is replaced without anyone seeing it, and a hot connection closed under it fails once, after
which the pool starts afresh (the request gets 503 database_unavailable, app.errors)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine, make_url

import docflow.db
from docflow.db import make_engine
from tests.conftest import DEFAULT_PG

URL = make_url(os.environ.get("DHTN_TEST_DATABASE_URL", DEFAULT_PG)).set(database="postgres")


@pytest.fixture
def admin() -> Iterator[Engine]:
    engine = create_engine(URL, isolation_level="AUTOCOMMIT")
    yield engine
    engine.dispose()


def _pid(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _kill(admin: Engine, pid: int) -> None:
    with admin.connect() as conn:
        assert conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar_one()
    for _ in range(50):  # the backend is gone once pg_stat_activity no longer lists it
        with admin.connect() as conn:
            if not conn.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE pid = :p"), {"p": pid}
            ).scalar_one():
                return
        time.sleep(0.05)


def _pings(engine: Engine) -> list[int]:
    """Count the pings (the dialect's do_ping) made for ``engine``."""
    made: list[int] = []
    real = engine.dialect.do_ping

    def counted(dbapi_conn: object) -> bool:
        made.append(1)
        return bool(real(dbapi_conn))

    engine.dialect.do_ping = counted  # type: ignore[method-assign]
    return made


def test_an_idle_connection_closed_by_the_server_is_replaced_unseen(
    admin: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(docflow.db, "PING_AFTER_IDLE_S", 0.2)
    engine = make_engine(URL.render_as_string(hide_password=False), pool_size=1)
    try:
        pings = _pings(engine)
        first = _pid(engine)
        assert _pid(engine) == first and pings == []  # used a moment ago: not pinged
        _kill(admin, first)
        time.sleep(0.3)
        second = _pid(engine)  # pinged, found dead, replaced: no error reaches the caller
        assert second != first and pings == [1]
    finally:
        engine.dispose()


def test_a_busy_connection_is_not_pinged_and_a_lost_one_fails_once(
    admin: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(docflow.db, "PING_AFTER_IDLE_S", 60.0)
    engine = make_engine(URL.render_as_string(hide_password=False), pool_size=2)
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    try:
        pings = _pings(engine)
        pids = {_pid(engine) for _ in range(20)}
        assert len(pids) == 1 and pings == []
        assert statements == ["SELECT pg_backend_pid()"] * 20  # nothing but the work itself
        _kill(admin, pids.pop())
        with pytest.raises(sa_exc.OperationalError) as failed:
            _pid(engine)
        assert failed.value.connection_invalidated
        assert _pid(engine)  # the pool started afresh
    finally:
        engine.dispose()
