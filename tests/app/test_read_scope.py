"""A GET of the API runs in one unit of work (app.runtime.open_read_scope, issue 19): the
token, the ETag's validator, the query and what decorates the answer share one connection and
one transaction. What its services ask to commit (the audit log's record of the read, a 304's
record of a cached read, the token's last use) is committed when the view has answered, and
nothing of a request that failed is.

The tests' connection wraps each unit of work's transaction in a savepoint, so the savepoints
of a request count its units (production takes a pooled connection for each)."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.engine import Connection, Engine

from docflow.models import ApiToken, AuditPendingRead, User
from tests.app.test_query_counts import API
from tests.conftest import DEMO_PASSWORD, Demo, own_pg_engine
from tests.incoming.conftest import Incoming

pytestmark = [pytest.mark.pg]


def _units(
    connection: Connection, client: Any, path: str, headers: dict[str, str]
) -> tuple[Any, int]:
    from sqlalchemy import event

    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SAVEPOINT"):
            seen.append(statement)

    event.listen(connection, "before_cursor_execute", count)
    try:
        answer = client.get(path, headers=headers)
    finally:
        event.remove(connection, "before_cursor_execute", count)
    return answer, len(seen)


def _reads(demo: Demo, document_id: str) -> list[dict[str, Any]]:
    with demo.factory() as s:
        return [
            dict(r.details or {}, event=r.event)
            for r in s.scalars(
                select(AuditPendingRead)
                .where(AuditPendingRead.object_id == document_id)
                .order_by(AuditPendingRead.at)
            )
        ]


def test_every_read_of_the_api_is_one_unit_of_work(
    client: Any, api: Any, demo: Demo, connection: Connection
) -> None:
    flow = Incoming(client, api, demo)
    doc = flow.to_assigned(lead={"user_id": flow.user_id("chuyenvien.dcgs")}, cooperating=[])
    for username in ("lanhdao.tw", "chuyenvien.dcgs"):
        headers = flow.h(username)
        for path in [*API, f"/api/v1/documents/{doc}"]:
            r, units = _units(connection, client, path, headers)
            assert r.status_code == 200, (username, path, r.get_json())
            assert units == 1, (username, path, units)
            tag = r.headers.get("ETag")
            if tag:
                again, units = _units(connection, client, path, {**headers, "If-None-Match": tag})
                assert again.status_code == 304 and units == 1, (username, path, units)


def test_reads_are_logged_by_the_units_commit_a_cached_one_too(
    client: Any, api: Any, demo: Demo
) -> None:
    flow = Incoming(client, api, demo)
    doc = flow.to_assigned(lead={"user_id": flow.user_id("chuyenvien.dcgs")}, cooperating=[])
    headers = flow.h("lanhdao.tw")
    before = len(_reads(demo, doc))
    r = client.get(f"/api/v1/documents/{doc}", headers=headers)
    assert r.status_code == 200
    tag = r.headers["ETag"]
    again = client.get(f"/api/v1/documents/{doc}", headers={**headers, "If-None-Match": tag})
    assert again.status_code == 304
    reads = _reads(demo, doc)[before:]
    assert [r["event"] for r in reads] == ["document.read", "document.read"]
    # The test's clock stands still: both records have the same time, in no set order.
    assert sorted(r.get("cached") is True for r in reads) == [False, True]


def test_a_read_that_fails_commits_nothing_and_one_that_answers_does(
    client: Any, api: Any, demo: Demo
) -> None:
    """The token's last use (written at most once a minute) is the unit's only write here: a
    request answered 404 leaves it as it was, the next one answered 200 records it."""
    flow = Incoming(client, api, demo)
    headers = flow.h("chuyenvien.dcgs")
    long_ago = demo.clock() - dt.timedelta(hours=2)
    with demo.factory() as s:
        user = s.scalars(select(User.id).where(User.username == "chuyenvien.dcgs")).one()
        s.execute(update(ApiToken).where(ApiToken.user_id == user).values(last_used_at=long_ago))
        s.commit()

    def last_used() -> dt.datetime:
        with demo.factory() as s:
            value = s.scalar(
                select(func.max(ApiToken.last_used_at)).where(ApiToken.user_id == user)
            )
            assert value is not None
            return value

    r = client.get(f"/api/v1/documents/{uuid.uuid4()}", headers=headers)
    assert r.status_code == 404
    assert last_used() == long_ago
    assert client.get("/api/v1/notifications", headers=headers).status_code == 200
    assert last_used() > long_ago


def test_only_the_light_validated_reads_share_one_unit(app: Any) -> None:
    """The reads with a validator's ETag (boxes, a document, tasks, notifications, counters)
    run in one unit; exports, packages and the audit log (which commit before slow work or take
    locks) keep a unit per step."""
    scoped = {
        rule.rule
        for rule in app.url_map.iter_rules()
        if getattr(app.view_functions[rule.endpoint], "read_scoped", False)
    }
    assert scoped == {
        "/api/v1/documents",
        "/api/v1/documents/<uuid:document_id>",
        "/api/v1/tasks",
        "/api/v1/notifications",
        "/api/v1/me/counters",
    }


def _posted_units(
    connection: Connection, client: Any, path: str, headers: dict[str, str], body: dict[str, Any]
) -> tuple[Any, int]:
    from sqlalchemy import event

    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SAVEPOINT"):
            seen.append(statement)
        # An action's unit is not a read's: its commit waits for the disk.
        assert "synchronous_commit" not in statement, statement

    event.listen(connection, "before_cursor_execute", count)
    try:
        answer = client.post(path, headers=headers, json=body)
    finally:
        event.remove(connection, "before_cursor_execute", count)
    return answer, len(seen)


def test_a_document_action_is_one_unit_of_work(
    client: Any, app: Any, api: Any, demo: Demo, connection: Connection
) -> None:
    """The token, the document's direction, the action and its answer (deadlines read from the
    calendar) share one transaction (app.api.spec.write_scoped), where they took four; what
    the action wrote is committed with it, and its answer is what a fresh read gives. (The
    check of every answer against a fresh read, on in the other tests, is a unit more.)"""
    from dataclasses import replace

    from app.runtime import runtime

    rt = runtime(app)
    rt.settings = replace(rt.settings, check_action_answers=False)
    flow = Incoming(client, api, demo)
    doc = flow.register().get_json()["id"]
    # The jobs the actions queue are kept here, not run in the request (the tests' eager
    # Celery): they are the worker's units, not the request's.
    queued: list[Any] = []
    rt.publisher = queued.extend
    steps = [
        ("vanthu.tw", "submit", {"to_user_id": flow.user_id("lanhdao.tw")}),
        (
            "lanhdao.tw",
            "assign",
            {"lead": {"user_id": flow.user_id("chuyenvien.dcgs")}, "due_in_working_days": 5},
        ),
        ("chuyenvien.dcgs", "start", {}),
        ("chuyenvien.dcgs", "complete", {"comment": "Đã xử lý."}),
    ]
    for username, action, params in steps:
        headers = flow.h(username)
        r, units = _posted_units(
            connection,
            client,
            f"/api/v1/documents/{doc}/actions",
            headers,
            {"action": action, **params},
        )
        assert r.status_code == 200, (action, r.get_json())
        assert units == 1, (action, units)
        if action == "assign":  # handed on once committed: the statistics' message
            assert [q.topic for q in queued] == ["reports.changed"], queued
        fresh = client.get(f"/api/v1/documents/{doc}", headers=headers)
        assert fresh.get_json() == r.get_json(), action
    assert fresh.get_json()["state"] == "done"


def test_a_refused_action_commits_nothing_not_even_the_tokens_last_use(
    client: Any, api: Any, demo: Demo
) -> None:
    """A refused action rolls back its whole unit: the document is as it was, and so is the
    token's last use, which the same unit would have written (as a failed read's)."""
    flow = Incoming(client, api, demo)
    doc = flow.to_assigned(lead={"user_id": flow.user_id("chuyenvien.dcgs")}, cooperating=[])
    headers = flow.h("chuyenvien.tg")  # not the lead: may not start it
    long_ago = demo.clock() - dt.timedelta(hours=2)
    with demo.factory() as s:
        user = s.scalars(select(User.id).where(User.username == "chuyenvien.tg")).one()
        s.execute(update(ApiToken).where(ApiToken.user_id == user).values(last_used_at=long_ago))
        s.commit()
    before = client.get(f"/api/v1/documents/{doc}", headers=flow.h("chuyenvien.dcgs")).get_json()
    r = client.post(f"/api/v1/documents/{doc}/actions", headers=headers, json={"action": "start"})
    assert r.status_code in (403, 404), r.get_json()
    with demo.factory() as s:
        used = s.scalar(select(func.max(ApiToken.last_used_at)).where(ApiToken.user_id == user))
    assert used == long_ago
    after = client.get(f"/api/v1/documents/{doc}", headers=flow.h("chuyenvien.dcgs")).get_json()
    assert after == before


def test_only_the_document_actions_share_one_unit_with_their_token(app: Any) -> None:
    """Uploads and the other writes (which wait on the object store or the network, or commit
    as they go) keep a unit per step: only the document actions are write-scoped."""
    scoped = {
        (rule.rule, method)
        for rule in app.url_map.iter_rules()
        for method in rule.methods or ()
        if getattr(app.view_functions[rule.endpoint], "write_scoped", False)
        and method not in ("HEAD", "OPTIONS")
    }
    assert scoped == {("/api/v1/documents/<uuid:document_id>/actions", "POST")}


@pytest.fixture(scope="module")
def own_engine() -> Iterator[Engine]:
    yield from own_pg_engine("_tokenlock", pool_size=3)


def test_the_tokens_last_use_waits_for_nobody(own_engine: Engine) -> None:
    """A request of the same token holds the token's row (a read's unit holds it until it
    answers): another request skips writing the last use instead of waiting behind it."""
    from docflow import UnitOfWork, make_session_factory
    from docflow.demo import seed_demo
    from docflow.directory.identity import issue_token, resolve_token

    factory = make_session_factory(own_engine)
    seed_demo(UnitOfWork(factory), password=DEMO_PASSWORD)
    with factory() as s:
        user = s.scalars(select(User.id).where(User.username == "chuyenvien.dcgs")).one()
    token = issue_token(UnitOfWork(factory), user, ttl=dt.timedelta(hours=1)).token
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
    with factory() as s:
        s.execute(update(ApiToken).where(ApiToken.user_id == user).values(last_used_at=long_ago))
        s.commit()

    def last_used() -> dt.datetime | None:
        with factory() as s:
            return s.scalar(select(ApiToken.last_used_at).where(ApiToken.user_id == user))

    done: list[str] = []
    with own_engine.connect() as holder:
        holder.execute(select(ApiToken.id).where(ApiToken.user_id == user).with_for_update()).all()
        worker = threading.Thread(
            target=lambda: done.append(resolve_token(UnitOfWork(factory), token).username)
        )
        worker.start()
        worker.join(timeout=10)
        assert done == ["chuyenvien.dcgs"], "resolving the token waited for the row lock"
        holder.rollback()
    assert last_used() == long_ago  # skipped, not waited for
    resolve_token(UnitOfWork(factory), token)
    used = last_used()
    assert used is not None and used > long_ago
