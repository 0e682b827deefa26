"""The task pages through the test client: forms into the same commands, refusals explained in
Vietnamese, the bell's count in every page, the statistics page and its Excel file."""

from __future__ import annotations

import io
import re
from typing import Any

from openpyxl import load_workbook

from tests.app.test_pages import csrf_of, login
from tests.tasks.conftest import Tasks


def _post(client: Any, url: str, data: dict[str, Any], page: str | None = None) -> Any:
    html = client.get(page or url).get_data(as_text=True)
    return client.post(url, data={**data, "csrf_token": csrf_of(html)})


def _no_inline_code(html: str) -> None:
    """CSP forbids inline styles and scripts: the pages carry none."""
    assert " style=" not in html and "<script>" not in html and "onclick" not in html


def test_assign_split_report_and_approve_through_the_pages(app: Any, tasks: Tasks) -> None:
    leader, head, me = app.test_client(), app.test_client(), app.test_client()
    login(leader, "lanhdao.tw")
    login(head, "truongban.dcgs")
    login(me, "chuyenvien.dcgs")
    form = leader.get("/tasks/new").get_data(as_text=True)
    _no_inline_code(form)
    assert "Giao nhiệm vụ" in form and f'value="unit:{tasks.unit("DCGSPBXH")}"' in form
    # Both deadlines at once: refused, explained, nothing created.
    r = _post(
        leader,
        "/tasks/new",
        {
            "title": "Sơ kết 6 tháng",
            "lead": f"unit:{tasks.unit('DCGSPBXH')}",
            "due_date": "2026-12-04",
            "due_in_working_days": "5",
        },
    )
    assert r.status_code == 422 and "Nhập hạn hoàn thành" in r.get_data(as_text=True)
    assert "Sơ kết 6 tháng" not in leader.get("/tasks?box=all").get_data(as_text=True)
    r = _post(
        leader,
        "/tasks/new",
        {
            "title": "Sơ kết 6 tháng",
            "lead": f"unit:{tasks.unit('DCGSPBXH')}",
            "cooperating": f"user:{tasks.uid('chuyenvien.tg')}",
            "due_in_working_days": "5",
            "priority": "high",
        },
    )
    assert r.status_code == 302
    task_url = r.headers["Location"]
    page = leader.get(task_url).get_data(as_text=True)
    assert "Sơ kết 6 tháng" in page and "30/11/2026" in page and "Hủy nhiệm vụ" in page
    _no_inline_code(page)
    # The unit head has one unread notification: the bell says so on every page.
    home = head.get("/").get_data(as_text=True)
    assert re.search(r'aria-label="Thông báo: 1 chưa đọc"', home)
    head_page = head.get(task_url).get_data(as_text=True)
    assert "Giao việc con" in head_page and "Bắt đầu thực hiện" in head_page
    r = head.post(
        f"{task_url}/subtasks",
        data={
            "title": "Tổng hợp số liệu các tỉnh",
            "lead_user_id": str(tasks.uid("chuyenvien.dcgs")),
            "due_date": "2026-12-05",
            "csrf_token": csrf_of(head_page),
        },
    )
    assert r.status_code == 422 and "Hạn của việc con không được sau hạn" in r.get_data(
        as_text=True
    )
    r = head.post(
        f"{task_url}/subtasks",
        data={
            "title": "Tổng hợp số liệu các tỉnh",
            "lead_user_id": str(tasks.uid("chuyenvien.dcgs")),
            "due_date": "2026-11-27",
            "csrf_token": csrf_of(head_page),
        },
    )
    assert r.status_code == 302
    sub_url = r.headers["Location"]
    for action, extra in (
        ("start", {}),
        ("report_progress", {"percent": "50", "comment": "Được một nửa"}),
    ):
        r = _post(me, f"{sub_url}/act", {"action": action, **extra}, page=sub_url)
        assert r.status_code == 302, r.get_data(as_text=True)
    # A percent out of range is explained and changes nothing.
    r = _post(me, f"{sub_url}/act", {"action": "report_progress", "percent": "150"}, page=sub_url)
    assert r.status_code == 422 and "Giá trị quá lớn" in r.get_data(as_text=True)
    parent = leader.get(task_url).get_data(as_text=True)
    assert "Các việc con: 50%" in parent and "Tổng hợp số liệu các tỉnh" in parent
    # The lists: the leader's whole organisation, the specialist's own, with progress shown.
    listing = leader.get("/tasks?box=all").get_data(as_text=True)
    _no_inline_code(listing)
    assert "Sơ kết 6 tháng" in listing and "Tổng hợp số liệu các tỉnh" in listing
    mine = me.get("/tasks").get_data(as_text=True)
    assert "Tổng hợp số liệu các tỉnh" in mine and "Sơ kết 6 tháng" not in mine
    assert 'value="50"' in mine and "Đang thực hiện" in mine
    overdue = leader.get("/tasks?box=all&overdue=1").get_data(as_text=True)
    assert "Không có nhiệm vụ nào." in overdue
    sheet = load_workbook(io.BytesIO(leader.get("/tasks.xlsx?box=all").data)).active
    exported = [[c.value for c in row][1:4] for row in sheet.iter_rows(min_row=4)]
    assert exported == [
        ["Tổng hợp số liệu các tỉnh", "Phạm Thị Hạnh", "Đỗ Quang Huy"],
        ["Sơ kết 6 tháng", "Lê Văn Minh", "Ban Dân chủ, Giám sát và Phản biện xã hội"],
    ]
    # Someone else's action is refused with the reason, not performed.
    r = _post(me, f"{task_url}/act", {"action": "cancel", "reason": "x"}, page=task_url)
    assert r.status_code == 403
    assert "Đang thực hiện" in leader.get(task_url).get_data(as_text=True)


def test_statistics_page_table_chart_and_excel(app: Any, tasks: Tasks) -> None:
    task = tasks.create(unit="DCGSPBXH")
    tasks.act("truongban.dcgs", task.id, "submit_completion", comment="Xong")
    tasks.act("lanhdao.tw", task.id, "approve_completion")
    tasks.create(unit="TG", due=tasks.demo.clock().date().replace(day=24))
    tasks.set_today(tasks.demo.clock().date().replace(day=26))
    client = app.test_client()
    login(client, "lanhdao.tw")
    html = client.get("/tasks/stats?from=2026-11-01&to=2026-11-30&group_by=unit").get_data(
        as_text=True
    )
    _no_inline_code(html)
    rows = re.findall(r"<tr>\s*<td>([^<]+)</td>((?:\s*<td[^>]*>\d+</td>){5})", html)
    table = {name: re.findall(r">(\d+)<", cells) for name, cells in rows}
    assert table == {
        "Ban Dân chủ, Giám sát và Phản biện xã hội": ["1", "1", "0", "0", "0"],
        "Ban Tuyên giáo": ["1", "0", "0", "0", "1"],
    }
    assert html.count('<svg class="dhtn-bar"') == 2 and 'class="dhtn-fill-overdue"' in html
    x = client.get("/tasks/stats.xlsx?from=2026-11-01&to=2026-11-30&group_by=unit")
    assert x.status_code == 200
    ws = load_workbook(io.BytesIO(x.data)).active
    assert ws["B5"].value.startswith("Ban Dân chủ") and ws["D5"].value == 1
    # A specialist sees only their own figures, per person.
    me = app.test_client()
    login(me, "chuyenvien.tg")
    mine = me.get("/tasks/stats?group_by=unit").get_data(as_text=True)
    assert "Cá nhân" in mine and "Ban Tuyên giáo" not in mine


def test_the_notifications_page_opens_and_marks_read(app: Any, tasks: Tasks) -> None:
    task = tasks.create(user="chuyenvien.dcgs")
    client = app.test_client()
    login(client, "chuyenvien.dcgs")
    html = client.get("/notifications").get_data(as_text=True)
    _no_inline_code(html)
    assert "Nhiệm vụ mới: Tổng hợp ý kiến giám sát quý IV" in html
    [nid] = re.findall(r"/notifications/([0-9a-f-]{36})/open", html)
    r = client.post(f"/notifications/{nid}/open", data={"csrf_token": csrf_of(html)})
    assert r.status_code == 302 and r.headers["Location"] == f"/tasks/{task.id}"
    assert 'aria-label="Thông báo"' in client.get("/").get_data(as_text=True)  # no count left
    other = app.test_client()
    login(other, "chuyenvien.tg")
    page = other.get("/notifications").get_data(as_text=True)
    assert (
        other.post(f"/notifications/{nid}/open", data={"csrf_token": csrf_of(page)}).status_code
        == 404
    )
    assert other.get(f"/tasks/{task.id}").status_code == 404
