"""Who is calling: bearer tokens for the API, the signed session cookie for pages.

The API accepts only bearer tokens (so it needs no CSRF token); pages accept only the session
cookie. A cookie session carries the user's ``session_epoch``: "log out everywhere" and a
password reset bump it, which ends every session at once.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import Flask, g, redirect, request, session, url_for

from app.runtime import make_uow
from docflow import Actor, AuthenticationError
from docflow.services.identity import resolve_token, session_is_current

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


def login_session(user_id: uuid.UUID, epoch: int) -> None:
    session.clear()
    session["uid"] = str(user_id)
    session["epoch"] = epoch
    session.permanent = True


def init_auth(app: Flask) -> None:
    @app.before_request
    def _load_actor() -> None:
        g.actor = None
        if request.path.startswith("/api/"):
            token = bearer_token()
            if token:
                g.actor = resolve_token(make_uow(), token)  # raises 401 on a bad token
            return
        if request.path.startswith("/static/"):
            return
        uid, epoch = session.get("uid"), session.get("epoch")
        if uid is None:
            return
        try:
            actor = session_is_current(make_uow(), uuid.UUID(str(uid)), int(str(epoch)))
        except (ValueError, TypeError):
            actor = None
        if actor is None:
            session.clear()
        g.actor = actor


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
