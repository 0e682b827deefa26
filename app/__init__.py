"""app: the composition root of DHTN (Flask).

``create_app`` reads the settings, builds the runtime (database, object store, outbox
publisher), and mounts the JSON API, the pages, health checks and metrics. Views parse input,
call one docflow service and render; they never commit and hold no business rule.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from flask import Flask
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings, ensure_data_dir


def create_app(
    settings: Settings | None = None,
    *,
    session_factory: sessionmaker[Session] | None = None,
    clock: Callable[[], dt.datetime] | None = None,
) -> Flask:
    """Build the application. Tests pass their own session factory and clock."""
    from app.api import init_api
    from app.auth import init_auth
    from app.celery_app import make_celery
    from app.errors import init_errors
    from app.exchange import init_exchange
    from app.health import init_health
    from app.logs import configure_logging, init_request_ids
    from app.notify import init_notify
    from app.pages import init_pages
    from app.pki import make_signing, make_verifier, mount_pki
    from app.push import init_push
    from app.runtime import build_runtime
    from app.runtime import runtime as runtime_of
    from app.security import init_security
    from app.static_files import init_static

    settings = ensure_data_dir(settings or Settings.from_env())
    configure_logging(settings.log_level)
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=(settings.max_upload_mb + 5) * 1024 * 1024,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.cookie_secure,
        SESSION_COOKIE_NAME="dhtn_session",
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=settings.token_ttl_hours),
        # The cookie is sent again only when the session changes (sign-in, sign-out, a
        # message to show, a form's first token), not with every answer: an answer to a
        # request sent before signing out (a stylesheet, the manifest) arrived after the sign-in
        # page and put the old cookie back, and the sign-in form then failed its CSRF check.
        # The idle and absolute limits are the server's (app.auth), not the cookie's date.
        SESSION_REFRESH_EACH_REQUEST=False,
        BOOTSTRAP_SERVE_LOCAL=True,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
        JSON_SORT_KEYS=False,
    )
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.extensions["dhtn"] = build_runtime(settings, session_factory=session_factory, clock=clock)
    init_request_ids(app, trust_header=settings.trusted_proxies > 0)
    init_security(app)
    init_static(app)
    init_errors(app)
    init_auth(app)
    init_health(app)
    init_api(app)
    init_pages(app)
    register_handlers(app)
    runtime_of(app).verifier = make_verifier(settings)
    runtime_of(app).signing = make_signing(settings)
    mount_pki(app, settings)
    init_notify(app)
    init_push(app)
    init_exchange(app)
    make_celery(app)
    return app


def register_handlers(app: Flask) -> None:
    """docflow's outbox topics, each registered by the module that owns it (the exchange's and
    the e-mail's are registered by init_exchange and init_notify)."""
    from app.runtime import runtime
    from docflow.documents import queries as documents
    from docflow.outgoing import dispatch
    from docflow.outgoing import versions as outgoing_versions
    from docflow.reports import rollup

    rt = runtime(app)
    documents.register_outbox_handlers(rt.handlers)
    outgoing_versions.register_outbox_handlers(rt.handlers)
    dispatch.register_outbox_handlers(rt.handlers)
    rollup.register_outbox_handlers(rt.handlers)
    register_search_handlers(app)


def register_search_handlers(app: Flask) -> None:
    """Text extraction of stored files (docflow.search), with OCR in the sandbox."""
    from app.ocr import make_recognizer
    from app.runtime import runtime
    from docflow.outbox import outside_transaction
    from docflow.search import (
        TOPIC_EXTRACT,
        TOPIC_EXTRACT_TASK,
        ExtractionSettings,
        extract_document_text,
        extract_task_text,
    )

    rt = runtime(app)
    recognizer = make_recognizer(rt.settings)
    settings = ExtractionSettings(ocr=recognizer is not None)

    @outside_transaction  # OCR takes minutes: no transaction is held while it runs
    def extract_text(uow: Any, payload: dict[str, Any]) -> None:
        extract_document_text(uow, payload, recognizer=recognizer, settings=settings)

    rt.handlers.add(TOPIC_EXTRACT, extract_text)

    @outside_transaction
    def extract_task_files(uow: Any, payload: dict[str, Any]) -> None:
        extract_task_text(uow, payload, recognizer=recognizer, settings=settings)

    rt.handlers.add(TOPIC_EXTRACT_TASK, extract_task_files)
