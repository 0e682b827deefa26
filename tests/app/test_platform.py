"""Health, metrics, the OpenAPI description, security headers and request ids."""

from __future__ import annotations

from typing import Any

from openapi_spec_validator import validate


def test_healthz_and_readyz(client: Any) -> None:
    assert client.get("/healthz").get_json() == {"status": "ok"}
    r = client.get("/readyz")
    assert r.status_code == 200
    assert r.get_json()["checks"] == {"database": "ok", "object_store": "ok", "broker": "ok"}


def test_readyz_is_503_when_the_broker_is_unreachable(app: Any, client: Any) -> None:
    from app.runtime import runtime

    rt = runtime(app)
    rt.settings = rt.settings.with_overrides(broker_url="redis://127.0.0.1:1/0")
    r = client.get("/readyz")
    assert r.status_code == 503 and r.get_json()["checks"]["broker"].startswith("error")


def test_metrics_are_prometheus_text(client: Any) -> None:
    client.get("/healthz")
    r = client.get("/metrics")
    assert r.status_code == 200 and r.mimetype == "text/plain"
    assert "dhtn_http_requests_total" in r.get_data(as_text=True)


def _gauges(client: Any) -> dict[str, float]:
    text = client.get("/metrics").get_data(as_text=True)
    return {
        name: float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        for name in ("dhtn_outbox_pending", "dhtn_outbox_deferred", "dhtn_outbox_lag_seconds")
        if line.startswith(name + " ")
    }


def test_outbox_gauges_tell_the_backlog_from_what_waits_for_its_time(app: Any, client: Any) -> None:
    """``pending`` is the backlog (due, not handled) whose oldest gives the lag; a message put
    off to later (a retry's backoff, a report refresh's interval) is ``deferred``, not backlog,
    and a handled one is neither."""
    import datetime as dt

    from sqlalchemy import delete

    from app.runtime import runtime
    from docflow.models import OutboxMessage

    rt = runtime(app)
    now = rt.clock()
    with rt.session_factory() as s:
        s.execute(delete(OutboxMessage))
        s.add_all(
            [
                OutboxMessage(topic="t", payload={}, available_at=now - dt.timedelta(seconds=40)),
                OutboxMessage(topic="t", payload={}, available_at=now - dt.timedelta(seconds=5)),
                OutboxMessage(topic="t", payload={}, available_at=now + dt.timedelta(minutes=5)),
                OutboxMessage(
                    topic="t", payload={}, available_at=now - dt.timedelta(hours=1), done_at=now
                ),
            ]
        )
        s.commit()
    gauges = _gauges(client)
    assert gauges["dhtn_outbox_pending"] == 2
    assert gauges["dhtn_outbox_deferred"] == 1
    assert 40 <= gauges["dhtn_outbox_lag_seconds"] < 100


def test_openapi_is_valid_and_lists_the_contract(client: Any) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    validate(spec)
    for path, method in [
        ("/api/v1/auth/token", "post"),
        ("/api/v1/auth/token", "delete"),
        ("/api/v1/me", "get"),
        ("/api/v1/organizations", "get"),
    ]:
        assert method in spec["paths"][path], (path, method)


def test_openapi_matches_the_routes(app: Any, client: Any) -> None:
    """Every API route is described, and every description is a route."""
    spec = client.get("/api/v1/openapi.json").get_json()
    described = {(p, m.upper()) for p, ops in spec["paths"].items() for m in ops}
    served = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.rule.endswith("openapi.json"):
            continue
        path = rule.rule
        for arg in rule.arguments:
            path = path.replace(f"<uuid:{arg}>", f"{{{arg}}}").replace(f"<{arg}>", f"{{{arg}}}")
        served |= {(path, m) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert described == served


def test_security_headers_and_request_id(client: Any) -> None:
    # No trusted proxy in front: a client's X-Request-ID is not taken, one is generated.
    r = client.get("/login", headers={"X-Request-ID": "abc123"})
    assert r.headers["X-Request-ID"] != "abc123" and len(r.headers["X-Request-ID"]) == 32
    assert "default-src 'self'" in r.headers["Content-Security-Policy"]
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert r.headers["Referrer-Policy"] == "same-origin"
    hostile = client.get("/healthz", headers={"X-Request-ID": "<script>"})
    assert hostile.headers["X-Request-ID"] != "<script>"


def test_security_headers_are_added_once_and_a_view_s_own_are_kept(app: Any) -> None:
    from flask import Response

    with app.test_request_context("/trang"):
        own = Response(
            "<p>x</p>",
            mimetype="text/html",
            headers={"x-frame-options": "DENY", "Cache-Control": "private, max-age=60"},
        )
        out = app.process_response(own)
    assert out.headers.getlist("X-Frame-Options") == ["DENY"]
    assert out.headers.getlist("Cache-Control") == ["private, max-age=60"]
    assert out.headers.getlist("X-Content-Type-Options") == ["nosniff"]
    assert len(out.headers.getlist("Content-Security-Policy")) == 1
    with app.test_request_context("/trang"):
        plain = app.process_response(Response("<p>x</p>", mimetype="text/html"))
    assert plain.headers.getlist("Cache-Control") == ["no-store"]
    assert plain.headers.getlist("X-Frame-Options") == ["SAMEORIGIN"]


def _requests_counted(client: Any, endpoint: str, status: str) -> float:
    text = client.get("/metrics").get_data(as_text=True)
    prefix = f'dhtn_http_requests_total{{endpoint="{endpoint}",method="GET",status="{status}"}} '
    return sum(
        float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(prefix)
    )


def test_requests_are_counted_per_route_and_status(client: Any) -> None:
    ok, missing = (
        _requests_counted(client, "/healthz", "200"),
        _requests_counted(client, "unmatched", "404"),
    )
    for _ in range(3):
        client.get("/healthz")
    client.get("/khong-co-trang-nay")
    assert _requests_counted(client, "/healthz", "200") == ok + 3
    assert _requests_counted(client, "unmatched", "404") == missing + 1


def test_the_session_serializer_is_made_once_and_a_cookieless_call_parses_none(
    app: Any, client: Any
) -> None:
    from app.security import SessionCookies

    sessions = app.session_interface
    assert isinstance(sessions, SessionCookies)
    assert sessions.get_signing_serializer(app) is sessions.get_signing_serializer(app)
    with app.test_request_context("/healthz"):
        from flask import request

        opened = sessions.open_session(app, request)
        assert opened is not None and dict(opened) == {} and not opened.modified
    # A signed session still round-trips through the cookie (the web pages' sign-in).
    with client.session_transaction() as s:
        s["probe"] = "giá trị"
    with client.session_transaction() as s:
        assert s["probe"] == "giá trị"
