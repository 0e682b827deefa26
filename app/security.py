"""Security headers on every response, CSRF protection for forms, and who the client is.

The client address (login throttle, audit log) is the TCP peer. ``X-Forwarded-For`` is believed
only when ``DHTN_TRUSTED_PROXIES`` says how many reverse proxies stand in front (then the address
that many hops back is taken, as werkzeug's ProxyFix does); by default a client cannot choose
its address by sending the header.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Request, Response, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_wtf.csrf import CSRFProtect
from itsdangerous import URLSafeTimedSerializer
from werkzeug.middleware.proxy_fix import ProxyFix

csrf = CSRFProtect()

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "font-src 'self'",
        "connect-src 'self'",
        "frame-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'self'",
    ]
)


#: The headers every response carries unless its view set them (HSTS only over HTTPS).
SECURITY_HEADERS = (
    ("Content-Security-Policy", CSP),
    ("X-Frame-Options", "SAMEORIGIN"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
)
HSTS = ("Strict-Transport-Security", "max-age=31536000; includeSubDomains")


def client_address() -> str | None:
    """The client's IP address as this installation determines it (see the module text)."""
    return request.remote_addr


class SessionCookies(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with the signing serializer made once per key rather
    than for every request, and a request that carries no cookie (the API's bearer calls) given
    a new session without parsing any (about 2 % of an API request's CPU, issue 19). The
    serializer keeps no state between calls, so threads share it."""

    def __init__(self) -> None:
        self._serializers: dict[tuple[Any, ...], URLSafeTimedSerializer] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        key = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        found = self._serializers.get(key)
        if found is None:
            found = super().get_signing_serializer(app)
            if found is None:
                return None
            self._serializers[key] = found
        return found

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if "HTTP_COOKIE" not in request.environ:
            if self.get_signing_serializer(app) is None:
                return None
            return self.session_class()
        return super().open_session(app, request)


class SafeRequest(Request):
    """Flask's request whose JSON nested deeper than the parser goes (a few hundred thousand
    ``[``) is malformed JSON like any other (the parser's RecursionError is not the ValueError
    ``get_json`` expects: it was a 500)."""

    def get_json(self, force: bool = False, silent: bool = False, cache: bool = True) -> Any:
        try:
            return super().get_json(force=force, silent=silent, cache=cache)
        except RecursionError as exc:
            if silent:
                return None
            return self.on_json_loading_failed(ValueError(str(exc)))


def refuse_unstorable_text() -> None:
    """Path and query parameters, form fields and file names, like JSON bodies
    (:func:`app.api.spec.validate_input`), never carry NUL or lone surrogates, on every page as
    in the API: 422 ``invalid_text`` (a Vietnamese error page for people), before anything
    reaches the database, which refuses NUL in text."""
    from app.api.spec import check_text

    check_text(request.view_args or {})
    check_text(request.args.to_dict(flat=False))
    if request.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        check_text(request.form.to_dict(flat=False))
        for name, part in request.files.items(multi=True):  # every file of every field
            check_text(part.filename or "", name)


def init_security(app: Flask) -> None:
    app.request_class = SafeRequest
    from app.runtime import runtime

    proxies = runtime(app).settings.trusted_proxies
    if proxies > 0:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=0, x_port=0, x_prefix=0
        )
    csrf.init_app(app)
    app.before_request(refuse_unstorable_text)
    app.session_interface = SessionCookies()

    @app.after_request
    def _headers(response: Response) -> Response:
        h = response.headers
        # Each header unless the view set it: the names present are read once (a setdefault
        # per header scanned the list each time, a few percent of an API request's CPU).
        present = {name.lower() for name, _value in h.items()}
        wanted = list(SECURITY_HEADERS)
        if app.config.get("SESSION_COOKIE_SECURE"):
            wanted.append(HSTS)
        if response.mimetype == "text/html":
            wanted.append(("Cache-Control", "no-store"))
        h.extend([(name, value) for name, value in wanted if name.lower() not in present])
        return response
