"""Who is calling: bearer tokens for the API, the signed session cookie for pages.

The API accepts only bearer tokens (so it needs no CSRF token); pages accept only the session
cookie. The signed cookie carries only the id of a server-side session row
(docflow.directory.identity): logout, a password change or reset, deactivation and "log out
everywhere" end the row, after which a copy of the cookie is worthless. Sessions also end after
``DHTN_SESSION_IDLE_MINUTES`` without a request and ``DHTN_TOKEN_TTL_HOURS`` in all.
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import Flask, current_app, g, redirect, request, session, url_for

from app.runtime import close_read_scope, make_uow, open_read_scope, runtime
from docflow import Actor, AuthenticationError
from docflow.directory import SessionLimits, resolve_token, session_actor

F = TypeVar("F", bound=Callable[..., Any])


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def current_actor() -> Actor | None:
    actor: Actor | None = g.get("actor")
    return actor


def session_limits() -> SessionLimits:
    settings = runtime().settings
    return SessionLimits(
        idle=dt.timedelta(minutes=settings.session_idle_minutes),
        absolute=dt.timedelta(hours=settings.token_ttl_hours),
    )


def login_session(session_id: uuid.UUID) -> None:
    """Put a (new) server-side session in the cookie; anything the old cookie held is gone."""
    session.clear()
    session["sid"] = str(session_id)
    session.permanent = True


def current_session_id() -> uuid.UUID | None:
    try:
        return uuid.UUID(str(session["sid"]))
    except (KeyError, ValueError):
        return None


# Files served alike to everyone (static files, the app's manifest, worker and icons): their
# answers do not look the session up (nor keep an idle one alive).
PUBLIC_FILES = frozenset(
    {"static", "bootstrap.static", "pwa.manifest_file", "pwa.service_worker", "pwa.icon"}
)


def init_auth(app: Flask) -> None:
    @app.before_request
    def _load_actor() -> None:
        g.actor = None
        if request.path.startswith("/api/"):
            token = bearer_token()
            if token:
                view = current_app.view_functions.get(request.endpoint or "")
                if request.method in ("GET", "HEAD") and getattr(view, "read_scoped", False):
                    open_read_scope()  # ended by spec.read_scoped's wrapper, or at teardown
                elif request.method == "POST" and getattr(view, "write_scoped", False):
                    # The body first (small: an action's parameters): a slow client does not
                    # keep the unit's transaction open while it sends.
                    request.get_data(cache=True)
                    open_read_scope(writes=True)  # ended by spec.write_scoped's, or teardown
                g.actor = resolve_token(make_uow(), token)  # raises 401 on a bad token
            return
        if request.endpoint in PUBLIC_FILES:
            return  # the same for everyone: no session read, so none written back
        if "sid" not in session and "uid" not in session:
            return  # anonymous (a CSRF token for the login form at most)
        sid = current_session_id()  # None for a cookie of the older, epoch-based kind
        actor = None
        if sid is not None:
            actor = session_actor(make_uow(), sid, idle=session_limits().idle)
        # A session found ended (signed out here or elsewhere, idle, too old) is not cleared
        # from the cookie: the answer would delete the cookie, and a request sent before a
        # sign-out and answered after the next sign-in deleted that sign-in's cookie. The
        # stale id is refused on every request and replaced at the next sign-in.
        g.actor = actor

    @app.teardown_request
    def _end_read_scope(_exc: BaseException | None) -> None:
        close_read_scope(commit=False)  # a request that never reached its view


def api_auth(view: F) -> F:
    """The API view needs a valid bearer token."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if current_actor() is None:
            raise AuthenticationError("Bạn cần đăng nhập.", code="unauthenticated")
        return view(*args, **kwargs)

    wrapper.__dict__["api_auth"] = True
    return cast(F, wrapper)


def page_auth(view: F) -> F:
    """The page needs a signed-in user; others are sent to the login page."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if current_actor() is None:
            return redirect(url_for("pages.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return cast(F, wrapper)


def actor_required() -> Actor:
    actor = current_actor()
    if actor is None:
        raise AuthenticationError("Bạn cần đăng nhập.", code="unauthenticated")
    return actor
