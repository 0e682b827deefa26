"""The composition root's state: engine, sessions, clock, object store and outbox publisher.

Built once per app by :func:`build_runtime` and kept in ``app.extensions["dhtn"]``; views and
tasks get a fresh :class:`docflow.UnitOfWork` from :func:`make_uow`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings, audit_key
from docflow import UnitOfWork, make_engine, make_session_factory, utcnow
from docflow.documents.ports import Verifier
from docflow.login_throttle import ThrottlePolicy
from docflow.outbox import Handlers
from docflow.uow import DomainConfig, Publisher
from storage import ContentStore, create_key_file, open_store


@dataclass
class Runtime:
    settings: Settings
    engine: Engine | None
    session_factory: sessionmaker[Session]
    clock: Callable[[], dt.datetime] = utcnow
    store: Any = None
    verifier: Verifier | None = None
    config: DomainConfig = field(default_factory=DomainConfig)
    publisher: Publisher | None = None
    handlers: Handlers = field(default_factory=Handlers)
    # The outgoing flow's collaborators: DOCX -> PDF, and the server-held signing credentials.
    converter: Any = None
    signing: Any = None

    def uow(self, context: dict[str, Any] | None = None) -> UnitOfWork:
        return UnitOfWork(
            self.session_factory,
            publisher=self.publisher,
            clock=self.clock,
            store=self.store,
            verifier=self.verifier,
            config=self.config,
            context=context,
            converter=self.converter,
            signing=self.signing,
        )


def build_store(settings: Settings) -> ContentStore:
    """The object store of ``DHTN_STORAGE_URL``; encrypting when the profile asks for it, with
    the master key of ``DHTN_MASTER_KEY_FILE`` (generated once into the data dir if unset)."""
    key_file = settings.master_key_file
    if key_file is None and settings.encrypts:
        key_file = settings.data_dir / "master.key"
        if not key_file.exists():
            create_key_file(key_file)
    store = open_store(
        settings.storage_url,
        master_key=key_file if key_file and key_file.exists() else None,
        encrypt=settings.encrypts,
    )
    store.initialize()
    return store


def build_runtime(
    settings: Settings,
    *,
    session_factory: sessionmaker[Session] | None = None,
    clock: Callable[[], dt.datetime] | None = None,
) -> Runtime:
    from app.conversion import LibreOfficeConverter
    from app.sandbox import Sandbox

    engine = None
    if session_factory is None:
        engine = make_engine(settings.database_url, **engine_options(settings))
        if settings.slow_query_ms > 0:
            from app.metrics import log_slow_queries

            log_slow_queries(engine, settings.slow_query_ms)
        session_factory = make_session_factory(engine)
    return Runtime(
        settings=settings,
        engine=engine,
        session_factory=session_factory,
        clock=clock or utcnow,
        store=build_store(settings),
        config=DomainConfig(
            secret_network=settings.secret_network,
            max_upload_bytes=settings.max_upload_mb * 1024 * 1024,
            # A key of its own for the throttle's bucket hash, derived from the secret key.
            login_throttle=ThrottlePolicy(
                key=hashlib.sha256(b"dhtn-login-throttle\0" + settings.secret_key.encode()).digest()
            ),
            audit_key=audit_key(settings),
            reports_refresh_interval=dt.timedelta(seconds=settings.reports_refresh_seconds),
        ),
        # One warm LibreOffice per process, started on the first conversion.
        converter=LibreOfficeConverter(
            settings.data_dir / "converter", sandbox=Sandbox(settings.sandbox)
        ),
    )


def engine_options(settings: Settings) -> dict[str, Any]:
    """The connection pool of one process (PostgreSQL); see README, "Connection pooling"."""
    if settings.is_sqlite:
        return {}
    options: dict[str, Any] = {
        "pool_size": settings.db_pool_size,
        "max_overflow": settings.db_max_overflow,
        "pool_timeout": settings.db_pool_timeout,
        "pool_recycle": 1800,
    }
    if settings.db_pgbouncer:
        # psycopg prepares a statement run 5 times on the server: not with transaction pooling.
        options["connect_args"] = {"prepare_threshold": None}
    return options


def runtime(app: Flask | None = None) -> Runtime:
    rt: Runtime = (app or current_app).extensions["dhtn"]
    return rt


def make_uow() -> UnitOfWork:
    """A unit of work carrying the request's ip and id for the audit log; inside a read
    request's scope (:func:`open_read_scope`), that request's one unit."""
    context: dict[str, Any] = {}
    if has_request_context():
        shared: UnitOfWork | None = g.get(READ_SCOPE)
        if shared is not None:
            return shared
        context = {"ip": request.remote_addr, "request_id": g.get("request_id")}
    return runtime().uow(context)


READ_SCOPE = "dhtn_read_scope"


def open_read_scope(*, writes: bool = False) -> None:
    """A frequent read of the API on PostgreSQL (``app.api.spec.read_scoped``) runs in one unit
    of work: the token, the validator of its ETag, the query and what decorates its answer
    (deadlines, reply links) share one pooled connection and one transaction, instead of taking
    and giving back a connection, with its BEGIN and ROLLBACK, for each (issue 19). Reads see
    the same data either way (READ COMMITTED: each statement its own snapshot).

    The services inside are nested in it: what they ask to commit (the token's last use, the
    audit log's record of the read) is committed by :func:`ending_read_scope` when the view has
    answered, and rolled back when it raised. The embedded profile (SQLite, where every
    transaction takes the database's write lock) keeps a unit per service.

    ``writes``: the request is a frequent action (``app.api.spec.write_scoped``): the token,
    the action and its answer share the unit the same way, and the action's writes are
    committed with it, durably (a read's unit commits its log without waiting for the disk)."""
    rt = runtime()
    if rt.settings.is_sqlite or g.get(READ_SCOPE) is not None:
        return
    uow = make_uow()
    uow.read_scope = not writes
    uow.__enter__()
    setattr(g, READ_SCOPE, uow)


@contextmanager
def ending_read_scope() -> Iterator[None]:
    """End the request's read scope after the block: commit what its services asked to when
    the block finished, roll back when it raised."""
    try:
        yield
    except BaseException:
        close_read_scope(commit=False)
        raise
    close_read_scope(commit=True)


@contextmanager
def reading() -> Iterator[None]:
    """A read inside a request that is not a scoped GET (the document sent back as the answer
    to an action) in one unit of work, as :func:`open_read_scope`; nothing when one is open."""
    if g.get(READ_SCOPE) is not None:
        yield
        return
    open_read_scope()
    with ending_read_scope():
        yield


def close_read_scope(*, commit: bool) -> None:
    """End the request's unit: commit what its services asked to (``commit``: the view answered),
    else roll back; later units of the request (a streamed body's) are their own again."""
    uow: UnitOfWork | None = g.pop(READ_SCOPE, None)
    if uow is None:
        return
    try:
        if commit and uow.commit_wanted:
            uow.commit()
    finally:
        uow.__exit__(None, None, None)
