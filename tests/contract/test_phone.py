"""The phone's cheap refreshes (API.md §7): badge counts and conditional reads."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Clock, Demo

pytestmark = pytest.mark.pg


def test_counters_follow_the_lists(client: Any, api: Any, demo: Demo, clock: Clock) -> None:
    me = api("chuyenvien.tg")
    before = client.get("/api/v1/me/counters", headers=me)
    assert before.status_code == 200
    assert set(before.json) == {"waiting", "overdue", "unread"}
    r = client.post(
        "/api/v1/tasks",
        headers=api("lanhdao.tw"),
        json={
            "title": "Tổng hợp ý kiến cử tri",
            "lead": {"user_id": str(demo.user("chuyenvien.tg").id)},
            "due_in_working_days": 1,
        },
    )
    assert r.status_code == 201, r.json
    now = client.get("/api/v1/me/counters", headers=me).json
    unread = client.get("/api/v1/notifications/unread-count", headers=me).json["unread"]
    assert now["unread"] == unread >= before.json["unread"] + 1
    assert now["overdue"] == before.json["overdue"]
    clock.advance(days=7)  # a week later: at least one working day late
    me = api("chuyenvien.tg")  # (the first token has expired)
    late = client.get("/api/v1/me/counters", headers=me).json
    assert late["overdue"] == now["overdue"] + 1
    listed = client.get("/api/v1/tasks?box=mine&overdue=true", headers=me).json["items"]
    assert len(listed) == late["overdue"] - 0  # no incoming document waits for a specialist here
    # Someone else's task is not theirs to count.
    assert client.get("/api/v1/me/counters", headers=api("chuyenvien.dcgs")).json["overdue"] == 0


def test_a_list_read_again_unchanged_is_304(client: Any, api: Any) -> None:
    me = api("vanthu.tw")
    first = client.get("/api/v1/notifications", headers=me)
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "private, no-cache"
    again = client.get("/api/v1/notifications", headers={**me, "If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    other = client.get("/api/v1/notifications", headers={**me, "If-None-Match": '"other"'})
    assert other.status_code == 200 and other.headers["ETag"] == etag
    # Another reader, another body, another tag: a tag says nothing about someone else's list.
    theirs = client.get("/api/v1/me", headers={**api("lanhdao.tw"), "If-None-Match": etag})
    assert theirs.status_code == 200


def test_a_changed_resource_gets_a_new_tag(client: Any, api: Any) -> None:
    admin = api("admin")
    first = client.get("/api/v1/holidays?year=2026", headers=admin)
    r = client.put("/api/v1/holidays", headers=admin, json={"day": "2026-12-31", "name": "Nghỉ bù"})
    assert r.status_code == 200, r.json
    after = client.get(
        "/api/v1/holidays?year=2026", headers={**admin, "If-None-Match": first.headers["ETag"]}
    )
    assert after.status_code == 200 and after.headers["ETag"] != first.headers["ETag"]


def test_a_document_tag_follows_its_changes_and_its_reader(
    client: Any, api: Any, demo: Demo
) -> None:
    """``GET /documents/{id}``: 304 while unchanged, 200 with a new tag once it changed, and
    404 for a caller who may not see it, whatever tag they send (the validator and the
    visibility come from one statement)."""
    from tests.incoming.conftest import Incoming

    flow = Incoming(client, api, demo)
    doc = flow.register().get_json()["id"]
    clerk = flow.h("vanthu.tw")
    first = client.get(f"/api/v1/documents/{doc}", headers=clerk)
    tag = first.headers["ETag"]
    again = client.get(f"/api/v1/documents/{doc}", headers={**clerk, "If-None-Match": tag})
    assert again.status_code == 304
    r = flow.act("vanthu.tw", doc, "submit", to_user_id=flow.user_id("lanhdao.tw"))
    assert r.status_code == 200
    changed = client.get(f"/api/v1/documents/{doc}", headers={**clerk, "If-None-Match": tag})
    assert changed.status_code == 200 and changed.headers["ETag"] != tag
    stranger = client.get(
        f"/api/v1/documents/{doc}",
        headers={**flow.h("chuyenvien.dcgs"), "If-None-Match": changed.headers["ETag"]},
    )
    assert stranger.status_code == 404
