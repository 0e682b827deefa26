"""The phone's change feed (``GET /api/v1/changes``) and the cheap conditional reads of the
boxes and of a document (issue #20)."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import delete, event, func, insert, literal_column, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from docflow import changes, utcnow
from docflow.changes import ChangeKind, ChangeType, Position
from docflow.models import AuditPendingRead, Change
from tests.conftest import Demo
from tests.incoming.conftest import Incoming

pytestmark = pytest.mark.pg


@pytest.fixture
def flow(client: Any, api: Any, demo: Demo) -> Incoming:
    return Incoming(client, api, demo)


def feed(client: Any, headers: dict[str, str], since: str | None = None) -> dict[str, Any]:
    url = "/api/v1/changes" + (f"?since={since}" if since else "")
    r = client.get(url, headers=headers)
    assert r.status_code == 200, r.json
    return dict(r.json)


def seen(page: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {(i["kind"], i["id"], i["change"]) for i in page["items"]}


def test_the_feed_lists_what_changed_for_the_caller_only(flow: Incoming, client: Any) -> None:
    heads = {u: feed(client, flow.h(u)) for u in ("vanthu.tw", "chuyenvien.tg", "chuyenvien.tinh")}
    assert all(h["items"] == [] and h["has_more"] is False for h in heads.values())
    doc = flow.register().json["id"]
    clerk = feed(client, flow.h("vanthu.tw"), heads["vanthu.tw"]["next_cursor"])
    assert ("document", doc, "created") in seen(clerk)
    # A specialist of another unit is not involved yet; another organisation never is.
    assert all(
        i["id"] != doc
        for i in feed(client, flow.h("chuyenvien.tg"), heads["chuyenvien.tg"]["next_cursor"])[
            "items"
        ]
    )
    assert (
        feed(client, flow.h("chuyenvien.tinh"), heads["chuyenvien.tinh"]["next_cursor"])["items"]
        == []
    )
    # Assigned to their unit (co-operating): now the document is theirs to see, as "created"
    # since their position (it is new to them), together with their notification.
    r = flow.act("vanthu.tw", doc, "submit", to_user_id=flow.user_id("lanhdao.tw"))
    assert r.status_code == 200, r.json
    r = flow.act(
        "lanhdao.tw",
        doc,
        "assign",
        lead={"unit_id": flow.unit_id("DCGSPBXH")},
        cooperating=[{"unit_id": flow.unit_id("TG")}],
        due_in_working_days=5,
    )
    assert r.status_code == 200, r.json
    tg = feed(client, flow.h("chuyenvien.tg"), heads["chuyenvien.tg"]["next_cursor"])
    assert ("document", doc, "created") in seen(tg)
    assert len([i for i in tg["items"] if i["id"] == doc]) == 1  # one item per object
    # The clerk, from where they were, sees the same document updated, not twice created.
    again = feed(client, flow.h("vanthu.tw"), clerk["next_cursor"])
    assert ("document", doc, "updated") in seen(again)
    # Nothing new: the same position comes back, with nothing.
    still = feed(client, flow.h("vanthu.tw"), again["next_cursor"])
    assert still["items"] == [] and still["next_cursor"] == again["next_cursor"]


def test_tasks_and_notifications_reach_only_their_people(client: Any, api: Any, demo: Demo) -> None:
    tg, dcgs = api("chuyenvien.tg"), api("chuyenvien.dcgs")
    start = {"tg": feed(client, tg)["next_cursor"], "dcgs": feed(client, dcgs)["next_cursor"]}
    r = client.post(
        "/api/v1/tasks",
        headers=api("lanhdao.tw"),
        json={
            "title": "Tổng hợp ý kiến cử tri",
            "lead": {"user_id": str(demo.user("chuyenvien.tg").id)},
            "due_in_working_days": 3,
        },
    )
    assert r.status_code == 201, r.json
    task = r.json["id"]
    mine = feed(client, tg, start["tg"])
    kinds = {(i["kind"], i["change"]) for i in mine["items"]}
    assert ("task", task, "created") in seen(mine)
    assert ("notification", "created") in kinds
    assert feed(client, dcgs, start["dcgs"])["items"] == []
    # Reading all notifications (one bulk statement) is a change the phone hears of.
    assert client.post("/api/v1/notifications/read-all", headers=tg).status_code == 200
    read = feed(client, tg, mine["next_cursor"])
    assert {i["change"] for i in read["items"] if i["kind"] == "notification"} == {"updated"}
    r = client.post(
        f"/api/v1/tasks/{task}/actions",
        headers=tg,
        json={"action": "start"},
    )
    assert r.status_code == 200, r.json
    assert ("task", task, "updated") in seen(feed(client, tg, read["next_cursor"]))


def test_a_page_is_cut_by_limit_and_goes_on(client: Any, api: Any, demo: Demo) -> None:
    leader = api("lanhdao.tw")
    start = feed(client, leader)["next_cursor"]
    made = []
    for n in range(3):
        r = client.post(
            "/api/v1/tasks",
            headers=leader,
            json={
                "title": f"Nhiệm vụ {n}",
                "lead": {"user_id": str(demo.user("chuyenvien.tg").id)},
                "due_in_working_days": 3,
            },
        )
        made.append(r.json["id"])
    first = client.get(f"/api/v1/changes?since={start}&limit=2", headers=leader).json
    assert len(first["items"]) == 2 and first["has_more"] is True
    rest = feed(client, leader, first["next_cursor"])
    ids = [i["id"] for i in first["items"] + rest["items"] if i["kind"] == "task"]
    assert ids == made


def test_a_cursor_is_checked_not_trusted(client: Any, api: Any) -> None:
    me, other = api("vanthu.tw"), api("lanhdao.tw")
    cursor = feed(client, me)["next_cursor"]
    raw = bytearray(base64.urlsafe_b64decode(cursor + "=="))
    raw[15] ^= 1  # one bit of the position
    forged = base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
    for bad in (forged, "A" * 38, "x", "!" * 38):
        r = client.get(f"/api/v1/changes?since={bad}", headers=me)
        assert r.status_code == 422, (bad, r.json)
        assert "since" in r.json["error"]["details"]["fields"]
    # Someone else's cursor is not theirs to use.
    r = client.get(f"/api/v1/changes?since={cursor}", headers=other)
    assert r.status_code == 422
    assert client.get(f"/api/v1/changes?since={cursor}").status_code == 401


def test_a_late_commit_is_not_skipped(pg_engine: Engine) -> None:
    """Sequence numbers are taken in insertion order, not commit order: a transaction that took
    a smaller number and commits later must still be read after a reader went past a larger
    one. Two real connections, real commits (cleaned up after).

    Other sessions on the same PostgreSQL (other test runs) may hold the settled bound further
    back than these two transactions: that can only delay rows, so the first check holds
    whatever they do, and the second one gives the bound these two alone set."""
    org = uuid.uuid4()
    row = {"kind": "task", "change": "created", "organization_id": org, "at": utcnow()}
    txid = literal_column("(pg_current_xact_id()::text)::bigint")
    slow, fast, reader = pg_engine.connect(), pg_engine.connect(), pg_engine.connect()
    try:
        slow.execute(insert(Change).values(**row, object_id=uuid.uuid4(), txid=txid))
        fast.execute(insert(Change).values(**row, object_id=uuid.uuid4(), txid=txid))
        fast.commit()

        def read(after: Position, below: int | None = None) -> list[tuple[int, int]]:
            with Session(bind=reader) as s:
                found = s.execute(
                    select(Change.txid, Change.seq)
                    .where(
                        Change.organization_id == org,
                        changes.settled_clause(s, below),
                        changes.after(after),
                    )
                    .order_by(Change.txid, Change.seq)
                ).all()
                s.rollback()
            return [(int(t), int(q)) for t, q in found]

        # The fast one committed, but the slow one (an earlier number) is running: a reader
        # going past the fast one's row now would never see the slow one's. It waits.
        assert read(Position(0, 0)) == []
        slow.commit()
        with Session(bind=reader) as s:
            rows = s.execute(
                select(Change.txid, Change.seq).where(Change.organization_id == org)
            ).all()
        bound = max(int(t) for t, _ in rows) + 1
        both = read(Position(0, 0), bound)
        assert len(both) == 2 and both[0][1] < both[1][1]
        assert read(Position(*both[-1]), bound) == []
        assert read(Position(*both[0]), bound) == both[1:]
    finally:
        slow.rollback()
        slow.execute(delete(Change).where(Change.organization_id == org))
        slow.commit()
        for c in (slow, fast, reader):
            c.close()


@pytest.fixture
def statements(pg_engine: Engine, connection: Any) -> Iterator[list[str]]:
    seen: list[str] = []

    def log(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(connection, "before_cursor_execute", log)
    yield seen
    event.remove(connection, "before_cursor_execute", log)


def test_a_box_unchanged_is_304_without_reading_it(
    flow: Incoming, client: Any, statements: list[str]
) -> None:
    me = flow.h("vanthu.tw")
    boxes = ("/api/v1/documents?box=all", "/api/v1/tasks?box=mine", "/api/v1/notifications")
    for path in (*boxes, "/api/v1/me/counters"):
        first = client.get(path, headers=me)
        assert first.status_code == 200
        tag = first.headers["ETag"]
        assert tag.startswith('W/"')
        assert first.headers["Cache-Control"] == "private, no-cache"
        assert "Authorization" in first.headers["Vary"]
        statements.clear()
        again = client.get(path, headers={**me, "If-None-Match": tag})
        assert again.status_code == 304 and again.data == b""
        assert again.headers["ETag"] == tag and "Authorization" in again.headers["Vary"]
        table = path.split("/")[3].split("?")[0].replace("me", "documents")
        assert not any(f"FROM {table}" in s for s in statements), statements
        # Another reader, or other parameters: another tag.
        theirs = client.get(path, headers={**flow.h("lanhdao.tw"), "If-None-Match": tag})
        assert theirs.status_code == 200 and theirs.headers["ETag"] != tag
    # Invalid parameters are still 422, whatever the tag.
    bad = client.get("/api/v1/documents?limit=0", headers={**me, "If-None-Match": "*"})
    assert bad.status_code == 422
    # A change in the organisation gives the box a new tag.
    box = client.get("/api/v1/documents?box=all", headers=me)
    flow.register()
    after = client.get(
        "/api/v1/documents?box=all", headers={**me, "If-None-Match": box.headers["ETag"]}
    )
    assert after.status_code == 200 and after.headers["ETag"] != box.headers["ETag"]
    assert len(after.json["items"]) == len(box.json["items"]) + 1


def _reads(flow: Incoming, doc: str) -> int:
    with flow.demo.factory() as s:
        return int(
            s.scalar(
                select(func.count())
                .select_from(AuditPendingRead)
                .where(AuditPendingRead.object_id == doc, AuditPendingRead.event == "document.read")
            )
            or 0
        )


def test_a_document_unchanged_is_304_and_still_404_to_others(flow: Incoming, client: Any) -> None:
    doc = flow.register().json["id"]
    me = flow.h("vanthu.tw")
    first = client.get(f"/api/v1/documents/{doc}", headers=me)
    tag = first.headers["ETag"]
    assert tag.startswith('W/"')
    reads = _reads(flow, doc)
    assert (
        client.get(f"/api/v1/documents/{doc}", headers={**me, "If-None-Match": tag}).status_code
        == 304
    )
    assert _reads(flow, doc) == reads + 1  # a 304 is still a read the audit log records
    # A reader who cannot see it gets 404, whatever they send.
    for header in (tag, "*"):
        r = client.get(
            f"/api/v1/documents/{doc}", headers={**flow.h("chuyenvien.tg"), "If-None-Match": header}
        )
        assert r.status_code == 404
    # An action on it: a new tag.
    r = flow.act("vanthu.tw", doc, "submit", to_user_id=flow.user_id("lanhdao.tw"))
    assert r.status_code == 200
    after = client.get(f"/api/v1/documents/{doc}", headers={**me, "If-None-Match": tag})
    assert after.status_code == 200 and after.json["state"] == "submitted"
    # Reading it (an audited read) does not change its tag.
    again = client.get(
        f"/api/v1/documents/{doc}", headers={**me, "If-None-Match": after.headers["ETag"]}
    )
    assert again.status_code == 304


def test_the_log_is_written_with_the_change_or_not_at_all(flow: Incoming, demo: Demo) -> None:
    with demo.factory() as s:
        before = s.scalar(select(func.count()).select_from(Change))
    r = flow.register(notation="")  # refused: nothing stored, nothing logged
    assert r.status_code == 422
    with demo.factory() as s:
        assert s.scalar(select(func.count()).select_from(Change)) == before
    doc = flow.register().json["id"]
    with demo.factory() as s:
        rows = s.execute(
            select(Change.kind, Change.change)
            .where(Change.object_id == uuid.UUID(doc))
            .order_by(Change.seq)
        ).all()
    # Created first; the background work that follows (reading the file's text) updates it.
    assert (ChangeKind(rows[0][0]), ChangeType(rows[0][1])) == (
        ChangeKind.DOCUMENT,
        ChangeType.CREATED,
    )
    assert {ChangeType(c) for _, c in rows[1:]} <= {ChangeType.UPDATED}
