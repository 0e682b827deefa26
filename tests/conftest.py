"""Shared fixtures: a real PostgreSQL database per test session (per xdist worker), migrated
with Alembic; a SAVEPOINT-isolated session per test; the app wired to that session; the demo
dataset; a clock the test controls.

Services come from ``scripts/services.sh`` (``make test`` starts them and exports their URLs);
PostgreSQL is not optional: without it the suite fails loudly rather than skipping.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from docflow import Actor, UnitOfWork, load_actor, local_date, make_engine, make_session_factory
from docflow.demo import seed_demo
from docflow.models import Organization, User
from docflow.uow import DomainConfig

DEMO_PASSWORD = "demo-password-for-tests"
EMBEDDED_PASSWORD = "embedded-demo-password"
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/dhtn_test"


class Clock:
    """A clock the test moves; starts at a fixed Monday morning in Hà Nội."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self.now = start or dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += dt.timedelta(**kwargs)


def _worker_suffix() -> str:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return f"_{worker}" if worker else ""


def fresh_pg_database(name_suffix: str = "") -> str:
    """Create (or recreate) an empty PostgreSQL database and return its URL."""
    base = make_url(os.environ.get("DHTN_TEST_DATABASE_URL", DEFAULT_PG))
    name = f"{base.database}{_worker_suffix()}{name_suffix}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def own_pg_engine(name_suffix: str, *, pool_size: int = 5) -> Iterator[Engine]:
    """A migrated PostgreSQL database of its own, with a real pool, for a module's fixture
    (``yield from``): tests of transactions side by side, which the shared test connection
    (one transaction, a savepoint per unit of work) cannot show."""
    from migrations import upgrade

    url = fresh_pg_database(name_suffix)
    upgrade(url)
    engine = make_engine(url, pool_size=pool_size)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def pg_url() -> str:
    from migrations import upgrade

    url = fresh_pg_database()
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def pg_engine(pg_url: str) -> Iterator[Engine]:
    engine = make_engine(pg_url)
    yield engine
    engine.dispose()


@pytest.fixture
def connection(pg_engine: Engine) -> Iterator[Connection]:
    """One connection whose outer transaction is rolled back after the test."""
    conn = pg_engine.connect()
    outer = conn.begin()
    yield conn
    outer.rollback()
    conn.close()


@pytest.fixture
def session_factory(connection: Connection) -> sessionmaker[Session]:
    # Each service's commit releases a SAVEPOINT; the test's outer transaction undoes all.
    return sessionmaker(
        bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
    )


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def uow(session_factory: sessionmaker[Session], clock: Clock) -> UnitOfWork:
    return UnitOfWork(session_factory, clock=clock)


@dataclass
class Demo:
    """The demo dataset inside the test's transaction, with lookups by username and code."""

    factory: sessionmaker[Session]
    clock: Clock
    store: Any = None
    config: DomainConfig = field(default_factory=DomainConfig)

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.factory, clock=self.clock, store=self.store, config=self.config)

    def user(self, username: str) -> User:
        with self.factory() as s:
            return s.scalars(select(User).where(User.username == username)).one()

    def actor(self, username: str) -> Actor:
        with self.factory() as s:
            user = s.scalars(select(User).where(User.username == username)).one()
            return load_actor(s, user.id, local_date(self.clock()))

    def org(self, abbreviation_or_code: str) -> Organization:
        with self.factory() as s:
            return s.scalars(
                select(Organization).where(Organization.code == abbreviation_or_code)
            ).one()

    def objects_in_use(self) -> int:
        """Stored objects some row references. A refusal must leave this alone: it deletes no
        object a row references and commits no row. (Bytes a refused attempt stored are orphans
        that only the sweeper removes, after its grace period: see ``docflow.objects``.)"""
        from docflow.objects import referenced_keys

        stored = {info.key for info in self.store.list()}
        return len(stored & set(referenced_keys(self.uow())))

    def org_id(self, key: str) -> uuid.UUID:
        codes = {"tw": "000.00.00.Z01", "tinh": "000.00.01.Z01", "phuong": "000.01.01.Z01"}
        return self.org(codes.get(key, key)).id

    def add_admin(self, username: str = "admin2", org: str = "tw") -> User:
        """A second admin of an organisation (raising a clearance needs two), with the demo
        password; created as the seed creates people. Idempotent."""
        from docflow.directory.passwords import hash_password
        from docflow.models import UserRole

        with self.factory() as s:
            found = s.scalars(select(User).where(User.username == username)).one_or_none()
            if found is not None:
                return found
            user = User(
                organization_id=self.org_id(org),
                username=username,
                full_name="Quản trị viên thứ hai",
                password_hash=hash_password(DEMO_PASSWORD),
                role_rows=[UserRole(role="admin")],
            )
            s.add(user)
            s.commit()
            return user


@pytest.fixture
def store(tmp_path: Path) -> Any:
    """The local object store the test's app uses too (same data dir)."""
    from storage import open_store

    s = open_store(f"file://{tmp_path / 'data' / 'objects'}")
    s.initialize()
    return s


@pytest.fixture
def demo(session_factory: sessionmaker[Session], clock: Clock, store: Any) -> Demo:
    seed_demo(UnitOfWork(session_factory, clock=clock), password=DEMO_PASSWORD)
    return Demo(session_factory, clock, store)


@contextmanager
def sqlite_demo(tmp_path: Path) -> Iterator[Demo]:
    """The embedded profile's database: a fresh SQLite file migrated to head with the demo
    seeded (no test transaction around it: what `dhtn run` has)."""
    from migrations import upgrade

    url = f"sqlite:///{tmp_path / 'dhtn.sqlite'}"
    upgrade(url)
    engine = make_engine(url)
    try:
        factory = make_session_factory(engine)
        clock = Clock()
        seed_demo(UnitOfWork(factory, clock=clock), password=DEMO_PASSWORD)
        yield Demo(factory, clock)
    finally:
        engine.dispose()


def make_test_settings(tmp_path: Path, database_url: str, **overrides: Any) -> Any:
    from app.config import Settings

    base = Settings.from_env(
        {
            "DHTN_DATA_DIR": str(tmp_path / "data"),
            "DHTN_DATABASE_URL": database_url,
            "DHTN_SECRET_KEY": "test-secret-key",
            "DHTN_DEMO_PASSWORD": DEMO_PASSWORD,
            "DHTN_TASKS_EAGER": "true",
            # OCR is slow: the tests that need it turn it on (tests/search).
            "DHTN_OCR": "off",
            "DHTN_BROKER_URL": "memory://",
            "DHTN_LOG_LEVEL": "WARNING",
            # Every action's answer, built from the changed row, is held to a fresh read.
            "DHTN_CHECK_ACTION_ANSWERS": "true",
        }
    )
    return base.with_overrides(**overrides)


@contextmanager
def worker_backed_app(
    tmp_path: Path, name: str, *, clock: Any = None, seed: bool = True, **overrides: Any
) -> Iterator[Any]:
    """An app whose jobs go to a real Celery worker (the test starts one): a fresh PostgreSQL
    database at head, the test Redis as broker, a queue of its own (other workers on the shared
    broker never take its messages), the demo seeded; the engine disposed after."""
    from app import create_app
    from app.celery_app import celery_of, use_one_queue
    from app.runtime import runtime
    from migrations import upgrade

    url = fresh_pg_database(f"_{name}")
    upgrade(url)
    settings = make_test_settings(
        tmp_path,
        url,
        broker_url=os.environ.get("DHTN_TEST_REDIS_URL", "redis://127.0.0.1:6379/15"),
        tasks_eager=False,
        # The worker's jobs change documents while the tests act (text extraction, without the
        # document's lock): an answer checked against a later read would differ by them.
        check_action_answers=False,
        **overrides,
    )
    app = create_app(settings, clock=clock or Clock())
    app.config.update(TESTING=True)
    use_one_queue(celery_of(app), f"{name}-{uuid.uuid4().hex[:8]}")
    rt = runtime(app)
    if seed:
        seed_demo(rt.uow(), password=DEMO_PASSWORD)
    try:
        yield app
    finally:
        if rt.engine is not None:
            rt.engine.dispose()


@pytest.fixture
def app(
    tmp_path: Path, pg_url: str, session_factory: sessionmaker[Session], clock: Clock, demo: Demo
) -> Any:
    from app import create_app

    flask_app = create_app(
        make_test_settings(tmp_path, pg_url), session_factory=session_factory, clock=clock
    )
    flask_app.config.update(TESTING=True)
    return flask_app


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


@pytest.fixture
def api(client: Any) -> Any:
    """``api(username)`` → headers with a fresh bearer token for that demo user."""

    def login(username: str) -> dict[str, str]:
        r = client.post(
            "/api/v1/auth/token", json={"username": username, "password": DEMO_PASSWORD}
        )
        assert r.status_code == 200, r.json
        return {"Authorization": f"Bearer {r.json['access_token']}"}

    return login


@pytest.fixture(scope="session")
def embedded_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """`dhtn run` on a free port with a fresh data dir: the embedded profile, as `make run`
    (without the demo fortnight: the tests expect empty boxes; tests/browser/test_demo_activity.py
    starts a server with it)."""
    from tests.servers import dhtn_env, dhtn_running

    env = dhtn_env(tmp_path_factory.mktemp("embedded"), EMBEDDED_PASSWORD)
    with dhtn_running(env) as server:
        yield {"base": server.base, "data": server.data, "proc": server.proc, "log": server.log}


def _python_stacks(pid: int) -> str:
    """The Python stacks of ``pid`` and its children (py-spy, read from outside: the server
    does nothing to allow it), for the report of a test that waited on a server."""
    import shutil
    import subprocess

    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists():
        return "(py-spy is not installed)"
    children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    out = []
    for p in [str(pid), *children.stdout.split()]:
        try:
            dump = subprocess.run(
                [spy, "dump", "--pid", p], capture_output=True, text=True, timeout=30
            )
            out.append(dump.stdout or dump.stderr)
        except subprocess.TimeoutExpired:
            out.append(f"(py-spy did not answer for {p})")
    return "\n".join(out)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """A failed test that used the embedded server reports the end of the server's and its
    worker's logs and their Python stacks (what the server was doing while the browser
    waited)."""
    report = yield
    server = getattr(item, "funcargs", {}).get("embedded_server")
    if report.failed and isinstance(server, dict):
        for name in ("server.log", "worker.log"):
            path = Path(server["data"]) / name
            if path.exists():
                lines = path.read_text(errors="replace").splitlines()[-60:]
                report.sections.append((f"embedded server: {name}", "\n".join(lines)))
        if server["proc"].poll() is None:
            report.sections.append(("embedded server: stacks", _python_stacks(server["proc"].pid)))
    return report
