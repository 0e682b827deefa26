"""No N+1: the number of SQL statements a page or an endpoint runs does not grow with the data.

Each main page and endpoint (home, boxes, a document, tasks, notifications, search; pages and
the JSON API) is requested by the leader and the specialist at two data sizes (2 documents and
tasks on their desks, then 8); the statements are counted on the connection (SQLAlchemy
``before_cursor_execute``). A count that grows with the data is an N+1 (a query per row)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from tests.app.test_pages import login
from tests.conftest import Demo
from tests.incoming.conftest import Incoming

pytestmark = [pytest.mark.pg]

SERIAL = itertools.count(900)
PAGES = [
    "/",
    "/documents?box=inbox",
    "/documents?box=all",
    "/documents?box=all&q=ke+hoach",
    "/tasks",
    "/notifications",
]
API = [
    "/api/v1/documents?box=inbox",
    "/api/v1/documents?box=processing",
    "/api/v1/documents?box=all",
    "/api/v1/documents?box=all&q=ke+hoach",
    "/api/v1/tasks",
    "/api/v1/notifications",
    "/api/v1/me/counters",
]


@contextmanager
def counting(connection: Connection | type[Engine]) -> Iterator[list[str]]:
    """The statements run on ``connection`` (or on every engine: ``Engine``) inside the block."""
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        # The tests' connection wraps each unit of work in a savepoint; production does not.
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK TO")):
            statements.append(statement)

    event.listen(connection, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(connection, "before_cursor_execute", count)


def add_work(flow: Incoming, client: Any, n: int) -> str:
    """n documents assigned to the DCGSPBXH unit with chuyenvien.dcgs as lead, and n tasks."""
    last = ""
    spec = flow.user_id("chuyenvien.dcgs")
    for _ in range(n):
        last = flow.to_assigned(lead={"user_id": spec}, cooperating=[])
        r = client.post(
            "/api/v1/tasks",
            headers=flow.h("lanhdao.tw"),
            json={
                "title": "Nhiệm vụ thử đếm truy vấn",
                "lead": {"user_id": spec},
                "cooperating": [{"unit_id": flow.unit_id("TG")}],
                "due_in_working_days": 5,
                "document_id": last,
            },
        )
        assert r.status_code == 201, r.get_json()
        # A leader's own box: documents presented to them and not yet assigned.
        doc = flow.register(notation=f"{next(SERIAL)}/KH-NPLUS").get_json()["id"]
        flow.act("vanthu.tw", doc, "submit", to_user_id=flow.user_id("lanhdao.tw"))
    return last


def measure(app: Any, connection: Connection, flow: Incoming, doc_id: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for username in ("lanhdao.tw", "chuyenvien.dcgs"):
        pages = app.test_client()
        assert login(pages, username).status_code == 302
        for path in [*PAGES, f"/documents/{doc_id}"]:
            pages.get(path)  # warm: first-use caches are not N+1
            with counting(connection) as statements:
                r = pages.get(path)
            assert r.status_code == 200, (username, path, r.status_code)
            counts[f"{username} {path.replace(doc_id, '{id}')}"] = len(statements)
        headers = flow.h(username)
        for path in [*API, f"/api/v1/documents/{doc_id}"]:
            flow.client.get(path, headers=headers)
            with counting(connection) as statements:
                r = flow.client.get(path, headers=headers)
            assert r.status_code == 200, (username, path, r.get_json())
            counts[f"{username} {path.replace(doc_id, '{id}')}"] = len(statements)
    return counts


def test_statements_per_request_do_not_grow_with_the_data(
    app: Any, client: Any, api: Any, demo: Demo, connection: Connection
) -> None:
    flow = Incoming(client, api, demo)
    doc = add_work(flow, client, 2)
    small = measure(app, connection, flow, doc)
    doc = add_work(flow, client, 6)
    large = measure(app, connection, flow, doc)
    grown = {k: (small[k], large[k]) for k in small if large[k] > small[k]}
    assert not grown, f"statements per request grew with the data (2 → 8 items): {grown}"
    for key, value in sorted(large.items()):
        print(f"{value:4d}  {key}")
    # And stay bounded: the document page (its trail, files, assignments, tasks, dossiers,
    # reviews, the reader's audit entry) is the heaviest; nothing should drift far above it.
    heavy = {k: v for k, v in large.items() if v > 50}
    assert not heavy, heavy


def test_an_action_reads_its_document_once_and_the_people_on_it_by_name(
    client: Any, app: Any, api: Any, demo: Demo, connection: Connection
) -> None:
    """An action (issue 19): the document is read once, under its row lock, and the answer is
    built from that row as the action left it (not read again: ``check_action_answers``, which
    the other tests keep on, is off here as in production); its row is written once; the
    people named on it come with their names only (no roles, organisation or unit), and the
    answer is not logged as a read. The answer is the document as a fresh read gives it."""
    from dataclasses import replace

    from app.runtime import runtime

    rt = runtime(app)
    rt.settings = replace(rt.settings, check_action_answers=False)
    flow = Incoming(client, api, demo)
    doc = flow.to_assigned(lead={"user_id": flow.user_id("chuyenvien.dcgs")}, cooperating=[])
    headers = flow.h("chuyenvien.dcgs")
    with counting(connection) as statements:
        r = client.post(
            f"/api/v1/documents/{doc}/actions", headers=headers, json={"action": "start"}
        )
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["state"] == "in_progress"
    assert r.get_json()["assignments"][0]["user_name"]  # the people are named in the answer
    flat = [" ".join(s.split()) for s in statements]
    whole = [
        s for s in flat if s.startswith("SELECT documents.organization_id, documents.direction")
    ]
    assert len(whole) == 1, whole
    assert len([s for s in flat if s.startswith("UPDATE documents SET")]) == 1, flat
    assert any(s.startswith("SELECT documents.direction FROM documents") for s in flat)
    assert not [s for s in flat if s.startswith("SELECT user_roles")]
    # The actor's unit, named on the trail, came with the token (docflow.actors).
    assert not [s for s in flat if s.startswith("SELECT units.")], flat
    assert not [s for s in flat if s.startswith("INSERT INTO audit_pending_reads")]
    # An incoming document has no review chain to read (access.read_document).
    assert not [s for s in flat if s.startswith("SELECT document_reviews.")], flat
    assert len(flat) <= 15, flat
    fresh = client.get(f"/api/v1/documents/{doc}", headers=headers)
    assert fresh.status_code == 200
    assert r.get_json() == fresh.get_json()
    trail = client.get(f"/api/v1/documents/{doc}/trail", headers=headers).get_json()["items"]
    step = trail[-1]
    assert step["action"] == "start"
    units = client.get(
        f"/api/v1/organizations/{demo.org_id('tw')}/units", headers=flow.h("admin")
    ).get_json()["items"]
    dcgs = next(u for u in units if u["abbreviation"] == "DCGSPBXH")
    assert step["unit"] == {"id": dcgs["id"], "name": dcgs["name"]}


def test_a_box_of_incoming_documents_reads_no_review_chains(
    client: Any, api: Any, demo: Demo, connection: Connection
) -> None:
    """The review chain is an outgoing document's: a page of incoming ones reads the documents,
    their files and assignments, and no reviews (issue 19)."""
    flow = Incoming(client, api, demo)
    for _ in range(3):
        flow.register(notation=f"{next(SERIAL)}/KH-MTTW-BTT")
    with counting(connection) as statements:
        r = client.get("/api/v1/documents?box=all&direction=incoming", headers=flow.h("vanthu.tw"))
    assert r.status_code == 200 and len(r.get_json()["items"]) >= 3
    flat = [" ".join(s.split()) for s in statements]
    assert [s for s in flat if "FROM document_files" in s], flat
    assert not [s for s in flat if s.startswith("SELECT document_reviews.")], flat
