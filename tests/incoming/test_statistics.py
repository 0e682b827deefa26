"""Incoming documents with a deadline count in the processing statistics beside tasks."""

from __future__ import annotations

from typing import Any

from tests.incoming.conftest import Incoming


def _report(flow: Incoming, group_by: str) -> dict[str, Any]:
    r = flow.client.get(
        f"/api/v1/reports/processing?from=2026-11-01&to=2026-12-31&group_by={group_by}",
        headers=flow.h("lanhdao.tw"),
    )
    assert r.status_code == 200, r.get_json()
    return r.get_json()  # type: ignore[no-any-return]


def _row(report: dict[str, Any], name: str) -> dict[str, Any]:
    return next(row for row in report["items"] if row["group"] and row["group"]["name"] == name)


def test_done_on_time_late_and_overdue_documents_are_counted(flow: Incoming) -> None:
    on_time = flow.to_assigned(due_in_working_days=5)  # due Mon 30 Nov
    late = flow.to_assigned(due_in_working_days=1)  # due Tue 24 Nov
    flow.to_assigned(due_in_working_days=2)  # due Wed 25 Nov, never done: overdue later
    flow.act("truongban.dcgs", on_time, "assign", lead={"user_id": flow.user_id("chuyenvien.dcgs")})
    flow.act("chuyenvien.dcgs", on_time, "complete", comment="xong")
    flow.demo.clock.advance(days=3)  # Thursday 26 Nov: one late, one overdue
    flow._tokens.clear()
    flow.act("truongban.dcgs", late, "complete", comment="xong muộn")
    unit = _row(_report(flow, "unit"), "Ban Dân chủ, Giám sát và Phản biện xã hội")
    assert (unit["received"], unit["done_on_time"], unit["done_late"], unit["overdue"]) == (
        3,
        1,
        1,
        1,
    )
    person = _row(_report(flow, "user"), "Đỗ Quang Huy")
    assert (person["received"], person["done_on_time"]) == (1, 1)
