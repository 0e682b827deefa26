"""PostgreSQL out of reach (restarted, failing over, the network cut): the API answers 503
``database_unavailable`` with Retry-After, pages a 503 page — not 500 — and a database error that
is not about reaching the server stays a 500 (bench/load/faults.py shows the figures under load).
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import psycopg
import psycopg.errors
import pytest
from sqlalchemy import exc as sa_exc

from app.errors import database_unreachable
from tests.conftest import make_test_settings


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again when we return: nothing listens there


@pytest.fixture
def unreachable_app(tmp_path: Path) -> Any:
    from app import create_app

    url = f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/dhtn"
    flask_app = create_app(make_test_settings(tmp_path, url))
    flask_app.config.update(TESTING=True, WTF_CSRF_ENABLED=False)
    return flask_app


def test_api_answers_503_with_retry_after_when_the_database_is_unreachable(
    unreachable_app: Any,
) -> None:
    client = unreachable_app.test_client()
    r = client.get("/api/v1/me/counters", headers={"Authorization": "Bearer not-checked-yet"})
    assert r.status_code == 503, r.data
    assert r.json["error"]["code"] == "database_unavailable"
    assert r.headers["Retry-After"] == "5"
    r = client.post("/api/v1/auth/token", json={"username": "vanthu.tw", "password": "x"})
    assert r.status_code == 503
    assert r.json["error"]["code"] == "database_unavailable"


def test_page_answers_a_503_page_when_the_database_is_unreachable(unreachable_app: Any) -> None:
    client = unreachable_app.test_client()
    r = client.post("/login", data={"username": "vanthu.tw", "password": "x"})
    assert r.status_code == 503, r.data
    assert "text/html" in r.content_type
    assert r.headers["Retry-After"] == "5"


def _operational(orig: Exception) -> sa_exc.OperationalError:
    return sa_exc.OperationalError("SELECT 1", {}, orig)


@pytest.mark.parametrize(
    ("error", "unreachable"),
    [
        # connection refused / closed under the client: psycopg sets no SQLSTATE
        (psycopg.OperationalError("connection failed: Connection refused"), True),
        (psycopg.errors.AdminShutdown("terminating connection"), True),  # pg_ctl stop -m fast
        (psycopg.errors.CannotConnectNow("the database system is starting up"), True),
        (psycopg.errors.ConnectionFailure("x"), True),
        # errors of the request itself, or of sizing: stay 500
        (psycopg.errors.DeadlockDetected("deadlock detected"), False),
        (psycopg.errors.TooManyConnections("too many clients"), False),
        (psycopg.errors.UndefinedTable("no such table"), False),
    ],
)
def test_which_database_errors_count_as_unreachable(error: Exception, unreachable: bool) -> None:
    assert database_unreachable(_operational(error)) is unreachable


def test_sqlite_errors_and_invalidated_connections() -> None:
    import sqlite3

    # SQLite's OperationalError has no SQLSTATE ("no such table" …): a bug, not an outage.
    assert database_unreachable(_operational(sqlite3.OperationalError("no such table"))) is False
    invalidated = sa_exc.OperationalError(
        "SELECT 1", {}, RuntimeError("gone"), connection_invalidated=True
    )
    assert database_unreachable(invalidated) is True
    assert database_unreachable(ValueError("x")) is False
