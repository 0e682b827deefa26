"""/healthz (alive), /readyz (database, object store, broker reachable) and /metrics."""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, Flask, Response, g, jsonify, request
from kombu.connection import Connection
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram
from sqlalchemy import text

from app.runtime import runtime

bp = Blueprint("health", __name__)

REQUESTS = Counter("dhtn_http_requests_total", "HTTP requests", ["method", "endpoint", "status"])
LATENCY = Histogram(
    "dhtn_http_request_duration_seconds",
    "HTTP request latency",
    ["method", "endpoint"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


_SERIES: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def _series(method: str, endpoint: str, status: int) -> tuple[Any, Any]:
    """The request counter and latency histogram of one route and status: found once and then
    kept (``labels`` validates and locks on every call, about 2 % of an API request's CPU).
    Routes and statuses are few; a value still follows the process it is used in (the
    multiprocess files are per pid)."""
    key = (method, endpoint, status)
    found = _SERIES.get(key)
    if found is None:
        found = (
            REQUESTS.labels(method, endpoint, str(status)),
            LATENCY.labels(method, endpoint),
        )
        _SERIES[key] = found
    return found


@bp.get("/healthz")
def healthz() -> Any:
    return jsonify(status="ok")


def _check_database() -> None:
    with runtime().session_factory() as session:
        session.execute(text("SELECT 1"))


def _check_store() -> None:
    store = runtime().store
    if store is not None and hasattr(store, "ping"):
        store.ping()


def _check_broker() -> None:
    with Connection(runtime().settings.celery_broker_url, connect_timeout=2) as conn:  # type: ignore[no-untyped-call]
        conn.ensure_connection(max_retries=1, timeout=2)


@bp.get("/readyz")
def readyz() -> Any:
    checks: dict[str, str] = {}
    ok = True
    for name, check in (
        ("database", _check_database),
        ("object_store", _check_store),
        ("broker", _check_broker),
    ):
        try:
            check()
            checks[name] = "ok"
        except Exception as exc:
            ok = False
            checks[name] = f"error: {type(exc).__name__}"
    return jsonify(status="ok" if ok else "unavailable", checks=checks), 200 if ok else 503


@bp.get("/metrics")
def metrics() -> Response:
    from app.metrics import render

    return Response(render(runtime()), mimetype=CONTENT_TYPE_LATEST)


def init_health(app: Flask) -> None:
    app.register_blueprint(bp)

    @app.before_request
    def _start_timer() -> None:
        g.metrics_start = time.perf_counter()

    @app.after_request
    def _observe(response: Response) -> Response:
        start = g.get("metrics_start")
        if start is not None:
            endpoint = request.url_rule.rule if request.url_rule else "unmatched"
            counted, timed = _series(request.method, endpoint, response.status_code)
            counted.inc()
            timed.observe(time.perf_counter() - start)
        return response
