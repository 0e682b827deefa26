"""Database plumbing: the declarative base, portable column types, engines and the unit of work.

Works on PostgreSQL (production, tests) and SQLite (the embedded profile). On SQLite every
transaction starts with ``BEGIN IMMEDIATE``: the embedded profile has few writers, and taking the
write lock up front is what makes the number allocator safe there (a deferred transaction that
reads and then writes can fail with "database is locked" instead of waiting).
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import re
import time
import traceback
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import JSON, DateTime, MetaData, TypeDecorator, Uuid, create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.sql.expression import Executable

from docflow.ids import new_id

log = logging.getLogger(__name__)

# A transaction of the embedded profile holding SQLite's write lock this long is logged.
LONG_SQLITE_LOCK_S = 2.0

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware datetimes stored in UTC on every backend (SQLite keeps no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        dt.datetime: UTCDateTime(),
        uuid.UUID: Uuid(),
        dict[str, Any]: JSON(),
        list[str]: JSON(),
    }


class IdMixin:
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine with the per-backend settings DHTN relies on."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        _configure_sqlite(engine)
        return engine
    kwargs.setdefault("pool_pre_ping", False)
    engine = create_engine(url, **kwargs)
    if not kwargs["pool_pre_ping"]:
        _ping_after_idle(engine, PING_AFTER_IDLE_S)
    if engine.dialect.driver == "psycopg":  # what psycopg prepares, and when it forgets
        _end_reads_with_commit(engine)
        _plan_patterns_per_values(engine)
    return engine


#: A statement that only reads: a SELECT (or a WITH over SELECTs) naming nothing that writes
#: or has an effect a ROLLBACK would undo (the functions below; DHTN defines no other function
#: a SELECT calls: its own are trigger functions). Anything else (a write, a lock statement,
#: SET, a savepoint) marks its transaction as one that wrote. A read judged a write only loses
#: the prepared statements (below); a SELECT calling a function of its own that writes would
#: be judged a read: name such a function here before using one.
_READS = re.compile(r"\s*(?:SELECT|WITH)\b", re.IGNORECASE)
_WRITES = re.compile(
    r"\b(?:INSERT|UPDATE|DELETE|MERGE|INTO|COPY|TRUNCATE)\b"
    r"|\b(?:pg_notify|set_config|lo_\w+|dblink\w*|pg_advisory\w*|nextval|setval)\s*\(",
    re.IGNORECASE,
)
_WROTE = "dhtn_wrote"


# Both tests are asked of every statement run: kept per statement text (SQLAlchemy hands the
# same string object for a cached statement, whose hash Python keeps), since scanning a box's
# statement of several KB each time was 2 % of a request's CPU.
@functools.lru_cache(maxsize=2048)
def only_reads(statement: str) -> bool:
    """Whether ``statement`` can only read (conservatively: a doubt is a write)."""
    return _READS.match(statement) is not None and _WRITES.search(statement) is None


def mark_written(connection: Any) -> None:
    """Record that the transaction of ``connection`` (a SQLAlchemy :class:`Connection`) wrote
    through the driver itself (COPY), where the engine's events do not see it."""
    connection.connection.info[_WROTE] = True


#: Conditions whose selectivity the planner reads from the value itself: a pattern (LIKE,
#: ILIKE: a path prefix, a substring) or a text search (``@@``).
_VALUE_SENSITIVE = re.compile(r" I?LIKE |@@")


@functools.lru_cache(maxsize=2048)
def plans_per_values(statement: str) -> bool:
    """Whether ``statement`` is left unprepared, to be planned for its values each time."""
    return _VALUE_SENSITIVE.search(statement) is not None


def _plan_patterns_per_values(engine: Engine) -> None:
    """Statements with a pattern or a text search are never prepared (psycopg's ``prepare=
    False``): they are planned for their values each time, as before prepared statements were
    kept (:func:`_end_reads_with_commit`). A prepared statement gets one generic plan after
    five runs, and a generic plan guesses a bound pattern's selectivity: the document search
    walked an organisation's whole index for a rare word (55 ms instead of 4), and a path
    prefix (``LIKE $1 || '%'``) cannot use an index range without its value."""
    from psycopg import ServerCursor

    dialect = engine.dialect

    def do_execute(cursor: Any, statement: str, parameters: Any, context: Any = None) -> None:
        # A streamed read (yield_per: a server-side cursor) is never prepared, and its
        # execute() takes no ``prepare``.
        if plans_per_values(statement) and not isinstance(cursor, ServerCursor):
            cursor.execute(statement, parameters, prepare=False)
        else:
            cursor.execute(statement, parameters)

    dialect.do_execute = do_execute  # type: ignore[method-assign]


def _record_info(connection: Any) -> dict[str, Any] | None:
    """The pool's dictionary of a pooled connection; None for the dialect's first look at a
    new one (no record), which is then rolled back."""
    try:
        info = connection.info
    except NotImplementedError:
        return None
    return info if isinstance(info, dict) else None


def _end_reads_with_commit(engine: Engine) -> None:
    """End a transaction that only read with COMMIT instead of ROLLBACK (psycopg).

    psycopg prepares a statement on the server once a connection has run it five times, and
    forgets every prepared statement (and its counts) on each ROLLBACK. Ending a unit of work
    without committing rolls back, and most units are reads: so nothing was ever prepared, and
    PostgreSQL planned every statement afresh (issue 19: planning was 44 % of the database's
    time under the load test). For a transaction that ran only reads, COMMIT and ROLLBACK are
    the same to the data; one that wrote anything, or failed, is rolled back as before.

    The writes are seen by the engine's ``before_cursor_execute`` (every statement SQLAlchemy
    runs); what runs on the driver directly says so with :func:`mark_written`.
    """
    from psycopg.pq import TransactionStatus

    dialect = engine.dialect
    rollback, commit = dialect.do_rollback, dialect.do_commit

    @event.listens_for(engine, "before_cursor_execute")
    def _note_write(conn: Any, _cur: Any, statement: str, *_args: Any) -> None:
        if not only_reads(statement):
            conn.connection.info[_WROTE] = True

    def do_rollback(dbapi_connection: Any) -> None:
        info = _record_info(dbapi_connection)
        wrote = info.pop(_WROTE, False) if info is not None else True
        driver = getattr(dbapi_connection, "driver_connection", None)
        status = getattr(getattr(driver, "info", None), "transaction_status", None)
        if wrote or status != TransactionStatus.INTRANS:
            rollback(dbapi_connection)  # a write, a failed transaction, or none open
        else:
            commit(dbapi_connection)

    def do_commit(dbapi_connection: Any) -> None:
        info = _record_info(dbapi_connection)
        if info is not None:
            info.pop(_WROTE, None)
        commit(dbapi_connection)

    dialect.do_rollback = do_rollback  # type: ignore[method-assign]
    dialect.do_commit = do_commit  # type: ignore[method-assign]


#: A pooled connection that has been idle this long is checked (a round trip) before it is
#: handed out again.
PING_AFTER_IDLE_S = 5.0


def _ping_after_idle(engine: Engine, idle_s: float) -> None:
    """Check a pooled connection before use only when it has been idle ``idle_s`` seconds.

    ``pool_pre_ping`` pays a round trip on every checkout, and a request takes several (each
    unit of work its own): under load that was as many pings as statements. A connection used
    a moment ago is alive; one that sat idle may have been closed by a restart, a failover or a
    firewall, and is pinged. One that dies in between fails its statement with a disconnect,
    which makes SQLAlchemy drop every connection of the pool opened before (the request gets
    ``database_unavailable``, 503, like any request during an outage) and the next checkout
    connects afresh. A failed ping discards the connection and the pool tries another.
    """
    key = "dhtn_idle_since"

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_conn: Any, record: Any) -> None:
        record.info[key] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.pop(key, None)  # a new connection has none: it was just made
        if since is None or time.monotonic() - since < idle_s:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except Exception as exc:
            raise sa_exc.DisconnectionError(f"idle connection lost: {exc}") from exc


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
        conn.info["dhtn_began"] = time.monotonic()

    # The write lock is the whole database's: a transaction that holds it long (slow work done
    # inside one) stalls every request of the embedded profile. Say where it was held.
    def _on_end(conn: Any) -> None:
        began = conn.info.pop("dhtn_began", None)
        if began is None:
            return
        held = time.monotonic() - began
        if held >= LONG_SQLITE_LOCK_S:
            frames = [
                f"{f.filename.rsplit('/', 2)[-1]}:{f.lineno} {f.name}"
                for f in traceback.extract_stack()[:-1]
                if "/site-packages/" not in f.filename and "/lib/python" not in f.filename
            ]
            log.warning(
                "SQLite write lock held %.1f s (every other request waited): %s",
                held,
                " < ".join(reversed(frames[-8:])),
            )

    event.listen(engine, "commit", _on_end)
    event.listen(engine, "rollback", _on_end)


def rows(
    session: Session,
    statement: Executable,
    params: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
) -> Any:  # a CursorResult of the statement's columns
    """The result of a statement of plain columns (or of an INSERT, a list of ``params`` for
    many rows), run on the session's connection (its transaction) past the ORM's layer (issue
    19: a select of columns costs 173–209 µs of CPU through ``Session.execute``, 108–119 µs
    here; the token, the list validators and a box's keys run one on every request of their
    kind). Nothing pending is flushed first: for the reads a request starts with, before it
    writes anything, and for rows nothing else refers to."""
    return session.connection().execute(statement, params or {})


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


AfterCommit = Callable[[], None]


def database_unreachable(exc: BaseException) -> bool:
    """The database server cannot be reached (restarting, failing over, the network cut), as
    opposed to an error of the request itself: a connection SQLAlchemy found dead, a psycopg
    error without SQLSTATE (refused, closed, timed out: raised by the client), or SQLSTATE
    class 08 (connection exception) or 57 (operator intervention: shutdown, starting up)."""
    if not isinstance(exc, sa_exc.DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    orig = exc.orig
    if not type(orig).__module__.startswith("psycopg"):
        return False  # SQLite's errors carry no SQLSTATE and are never an outage
    import psycopg

    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate is None:
        return isinstance(orig, psycopg.OperationalError)
    return str(sqlstate)[:2] in ("08", "57")
