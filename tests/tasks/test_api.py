"""The tasks API end to end (API.md §2, §5): shapes, boxes and keyset pages, refusals that
change nothing, files, and the notifications of the bell."""

from __future__ import annotations

import io
from typing import Any

from pypdf import PdfWriter

from tests.tasks.conftest import Tasks


def _pdf() -> bytes:
    w = PdfWriter()
    w.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def _create(client: Any, headers: dict[str, str], **body: Any) -> Any:
    return client.post("/api/v1/tasks", json=body, headers=headers)


def test_assign_follow_and_finish_through_the_api(client: Any, api: Any, tasks: Tasks) -> None:
    leader, head = api("lanhdao.tw"), api("truongban.dcgs")
    r = _create(
        client,
        leader,
        title="Giám sát việc thực hiện quy chế dân chủ",
        description="Báo cáo kết quả trước ngày hạn.",
        lead={"unit_id": str(tasks.unit("DCGSPBXH"))},
        cooperating=[{"user_id": str(tasks.uid("chuyenvien.tg"))}],
        due_in_working_days=5,
        priority="high",
    )
    assert r.status_code == 201, r.json
    task = r.json
    assert task["state"] == "assigned" and task["due_date"] == "2026-11-30"  # Mon + 5 wd
    assert task["lead"]["unit"]["name"].startswith("Ban Dân chủ") and task["lead"]["user"] is None
    assert task["cooperating"][0]["user"]["name"] == "Vũ Thị Lan"
    assert (task["is_overdue"], task["days_late"], task["days_left"]) == (False, 0, 5)
    assert task["allowed_actions"] == ["cancel"]  # the leader's, now
    tid = task["id"]
    assert client.get(f"/api/v1/tasks/{tid}", headers=head).json["allowed_actions"] == [
        "start",
        "request_extension",
        "split",
        "submit_completion",
    ]
    r = client.post(f"/api/v1/tasks/{tid}/actions", json={"action": "start"}, headers=head)
    assert r.status_code == 200 and r.json["state"] == "in_progress"
    r = client.post(
        f"/api/v1/tasks/{tid}/subtasks",
        json={
            "title": "Tổng hợp số liệu",
            "lead": {"user_id": str(tasks.uid("chuyenvien.dcgs"))},
            "due_date": "2026-11-27",
        },
        headers=head,
    )
    assert r.status_code == 201 and r.json["parent_id"] == tid
    sub = r.json["id"]
    parent = client.get(f"/api/v1/tasks/{tid}", headers=leader).json
    assert [s["id"] for s in parent["subtasks"]] == [sub] and parent["children_progress"] == 0
    trail = client.get(f"/api/v1/tasks/{tid}/trail", headers=leader).json["items"]
    assert [(s["seq"], s["action"], s["actor"]["name"]) for s in trail] == [
        (1, "assign", "Lê Văn Minh"),
        (2, "start", "Phạm Thị Hạnh"),
        (3, "split", "Phạm Thị Hạnh"),
    ]
    assert trail[1]["unit"]["name"].startswith("Ban Dân chủ") and trail[1]["at"].endswith(
        ("Z", "+00:00")
    )
    # Boxes: the specialist's own list has the sub-task; the leader's "assigned by me" the task.
    mine = client.get("/api/v1/tasks?box=mine", headers=api("chuyenvien.dcgs")).json
    assert [i["id"] for i in mine["items"]] == [sub] and mine["next_cursor"] is None
    assert [
        i["id"]
        for i in client.get("/api/v1/tasks?box=assigned_by_me", headers=leader).json["items"]
    ] == [tid]
    unit_box = client.get("/api/v1/tasks?box=unit", headers=head).json["items"]
    assert [i["id"] for i in unit_box] == [sub, tid]  # nearest deadline first
    coop = client.get("/api/v1/tasks?box=mine", headers=api("chuyenvien.tg")).json["items"]
    assert [i["id"] for i in coop] == [tid]


def test_lists_page_by_deadline_and_filter_overdue(client: Any, api: Any, tasks: Tasks) -> None:
    for day in (23, 24, 25, 26, 27):
        tasks.create(
            user="chuyenvien.dcgs",
            due=tasks.demo.clock().date().replace(day=day),
            title=f"Việc hạn {day}/11",
        )
    tasks.set_today(tasks.demo.clock().date().replace(day=26))  # Thursday
    leader = api("lanhdao.tw")  # after moving the clock: tokens live 12 hours
    seen: list[str] = []
    cursor = None
    while True:
        url = "/api/v1/tasks?box=all&limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(url, headers=leader).json
        seen += [i["due_date"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["2026-11-23", "2026-11-24", "2026-11-25", "2026-11-26", "2026-11-27"]
    overdue = client.get("/api/v1/tasks?box=all&overdue=true", headers=leader).json["items"]
    assert [(i["due_date"], i["days_late"]) for i in overdue] == [
        ("2026-11-23", 3),
        ("2026-11-24", 2),
        ("2026-11-25", 1),
    ]
    assert all(i["is_overdue"] for i in overdue)
    # "all" is for leaders; a bad cursor or box is a 422, not a crash.
    assert client.get("/api/v1/tasks?box=all", headers=api("chuyenvien.dcgs")).status_code == 403
    # The box's refusal comes before a cursor's (which the first page, kept per reader shape,
    # does not read): an unreadable cursor does not turn the 403 into a 422.
    spec = api("chuyenvien.dcgs")
    assert client.get("/api/v1/tasks?box=all&cursor=abc", headers=spec).status_code == 403
    bad = client.get("/api/v1/tasks?cursor=abc", headers=spec)
    assert bad.status_code == 422 and bad.json["error"]["code"] == "invalid_field"
    assert client.get("/api/v1/tasks?cursor=%%%", headers=leader).status_code == 422
    assert client.get("/api/v1/tasks?box=nobody", headers=leader).status_code == 422


def test_refusals_have_the_api_shape_and_change_nothing(
    client: Any, api: Any, tasks: Tasks
) -> None:
    leader, head = api("lanhdao.tw"), api("truongban.dcgs")
    tid = str(tasks.create(unit="DCGSPBXH").id)
    trail_len = len(tasks.trail(tasks.create(unit="TG").id))  # a second task, untouched
    before = client.get(f"/api/v1/tasks/{tid}", headers=leader).json

    def unchanged() -> None:
        now = client.get(f"/api/v1/tasks/{tid}", headers=leader).json
        assert now == before
        assert len(client.get(f"/api/v1/tasks/{tid}/trail", headers=leader).json["items"]) == 1

    r = client.post(
        f"/api/v1/tasks/{tid}/actions", json={"action": "approve_completion"}, headers=leader
    )
    assert r.status_code == 409 and r.json["error"]["code"] == "transition_not_allowed"
    unchanged()
    r = client.post(f"/api/v1/tasks/{tid}/actions", json={"action": "start"}, headers=leader)
    assert r.status_code == 403 and r.json["error"]["code"] == "task_action_forbidden"
    unchanged()
    r = client.post(
        f"/api/v1/tasks/{tid}/actions", json={"action": "start"}, headers=api("lanhdao.tinh")
    )
    assert r.status_code == 404 and r.json["error"]["code"] == "task_not_found"
    assert client.get(f"/api/v1/tasks/{tid}", headers=api("lanhdao.tinh")).status_code == 404
    assert client.get(f"/api/v1/tasks/{tid}/trail", headers=api("chuyenvien.tg")).status_code == 404
    unchanged()
    for body in (
        {"action": "report_progress", "percent": 140},
        {"action": "start", "percent": 10},
        {"action": "fly"},
        {"action": "request_extension", "new_due_date": "mai", "reason": "x"},
    ):
        r = client.post(f"/api/v1/tasks/{tid}/actions", json=body, headers=head)
        assert r.status_code == 422, body
        assert r.json["error"]["code"] == "invalid_field" and r.json["error"]["details"]["fields"]
    r = client.post(f"/api/v1/tasks/{tid}/actions", data="not json", headers=head)
    assert r.status_code == 400
    unchanged()
    n_tasks = len(client.get("/api/v1/tasks?box=all", headers=leader).json["items"])
    for body in (
        {"title": "Có hạn", "lead": {"unit_id": str(tasks.unit("TG"))}},  # no deadline
        {
            "title": "Hai người",
            "lead": {"unit_id": str(tasks.unit("TG")), "user_id": str(tasks.uid("chuyenvien.tg"))},
            "due_date": "2026-12-01",
        },
        {
            "title": "Tỉnh",
            "lead": {"user_id": str(tasks.uid("chuyenvien.tinh"))},
            "due_date": "2026-12-01",
        },
        {"title": "Quá khứ", "lead": {"unit_id": str(tasks.unit("TG"))}, "due_date": "2026-11-01"},
    ):
        r = _create(client, leader, **body)
        assert r.status_code == 422, (body, r.json)
    assert (
        _create(
            client,
            api("chuyenvien.dcgs"),
            title="Tự giao",
            lead={"unit_id": str(tasks.unit("TG"))},
            due_date="2026-12-01",
        ).status_code
        == 403
    )
    assert len(client.get("/api/v1/tasks?box=all", headers=leader).json["items"]) == n_tasks
    assert trail_len == 1


def test_files_with_the_task_and_with_a_progress_report(
    client: Any, api: Any, tasks: Tasks
) -> None:
    import json

    leader = api("lanhdao.tw")
    pdf = _pdf()
    meta = {
        "title": "Kèm tệp",
        "lead": {"user_id": str(tasks.uid("chuyenvien.dcgs"))},
        "due_date": "2026-12-04",
    }
    r = client.post(
        "/api/v1/tasks",
        data={"meta": json.dumps(meta), "files": [(io.BytesIO(pdf), "Kế hoạch giám sát.pdf")]},
        headers=leader,
        content_type="multipart/form-data",
    )
    assert r.status_code == 201, r.json
    tid = r.json["id"]
    [f] = r.json["files"]
    assert (f["name"], f["size"], f["trail_seq"]) == ("Kế hoạch giám sát.pdf", len(pdf), 1)
    me = api("chuyenvien.dcgs")
    client.post(f"/api/v1/tasks/{tid}/actions", json={"action": "start"}, headers=me)
    r = client.post(
        f"/api/v1/tasks/{tid}/actions",
        data={
            "meta": json.dumps({"action": "report_progress", "percent": 50, "comment": "Nửa"}),
            "files": [(io.BytesIO(pdf + b"\n%extra"), "bien-ban.pdf")],
        },
        headers=me,
        content_type="multipart/form-data",
    )
    assert r.status_code == 200, r.json
    assert [x["trail_seq"] for x in r.json["files"]] == [1, 3]
    trail = client.get(f"/api/v1/tasks/{tid}/trail", headers=me).json["items"]
    assert [x["name"] for x in trail[2]["files"]] == ["bien-ban.pdf"]
    got = client.get(f"/api/v1/tasks/{tid}/files/{f['id']}/content", headers=me)
    assert got.status_code == 200 and got.data == pdf
    assert (
        client.get(
            f"/api/v1/tasks/{tid}/files/{f['id']}/content", headers=api("chuyenvien.tg")
        ).status_code
        == 404
    )
    # A refused file refuses the whole action: no progress, no trail step.
    r = client.post(
        f"/api/v1/tasks/{tid}/actions",
        data={
            "meta": json.dumps({"action": "report_progress", "percent": 80}),
            "files": [(io.BytesIO(b"MZ\x90\x00 not a document"), "virus.exe")],
        },
        headers=me,
        content_type="multipart/form-data",
    )
    assert r.status_code in (415, 422), r.json
    after = client.get(f"/api/v1/tasks/{tid}", headers=me).json
    assert after["progress"] == 50 and len(after["files"]) == 2


def test_the_bell(client: Any, api: Any, tasks: Tasks) -> None:
    task = tasks.create(unit="DCGSPBXH")
    head = api("truongban.dcgs")
    assert client.get("/api/v1/notifications/unread-count", headers=head).json == {"unread": 1}
    [n] = client.get("/api/v1/notifications", headers=head).json["items"]
    assert (
        n["kind"] == "task_assigned" and n["link"] == f"/tasks/{task.id}" and n["read_at"] is None
    )
    assert n["title"].startswith("Nhiệm vụ mới: ")
    # Someone else's notification is not found, and stays unread.
    assert (
        client.post(f"/api/v1/notifications/{n['id']}/read", headers=api("lanhdao.tw")).status_code
        == 404
    )
    assert (
        client.get("/api/v1/notifications?unread=true", headers=head).json["items"][0]["id"]
        == n["id"]
    )
    r = client.post(f"/api/v1/notifications/{n['id']}/read", headers=head)
    assert r.status_code == 200 and r.json["read_at"] is not None
    assert client.get("/api/v1/notifications/unread-count", headers=head).json == {"unread": 0}
    tasks.act(
        "truongban.dcgs", task.id, "request_extension", new_due_date="2026-12-11", reason="Chờ"
    )
    tasks.act("lanhdao.tw", task.id, "decide_extension", approve=True)
    tasks.act("lanhdao.tw", task.id, "cancel", reason="Thôi")
    assert client.get("/api/v1/notifications/unread-count", headers=head).json == {"unread": 2}
    assert client.post("/api/v1/notifications/read-all", headers=head).json == {"marked": 2}
    kinds = [
        i["kind"] for i in client.get("/api/v1/notifications?limit=2", headers=head).json["items"]
    ]
    assert kinds == ["task_cancelled", "task_extension_decided"]  # newest first
