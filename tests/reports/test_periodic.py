"""Periodic reports through the API: seed 004's monthly deployment report before the 25th,
defined by the centre, filled in (figures pre-filled), submitted, late, gathered, exported."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import func, select

from docflow.models import ReportRequest, ReportSubmission
from docflow.reports import mark_late_requests
from tests.reports.conftest import Tree

FORM = {
    "title": "Báo cáo kết quả triển khai Hệ thống",
    "fields": [
        {
            "key": "received_e",
            "label": "Văn bản đến điện tử",
            "type": "number",
            "source": "documents_received_electronic",
        },
        {
            "key": "sent_e",
            "label": "Văn bản đi điện tử",
            "type": "number",
            "source": "documents_sent_electronic",
        },
        {
            "key": "signed",
            "label": "Tỷ lệ ký số",
            "type": "percent",
            "source": "signed_digitally_percent",
        },
        {
            "key": "users",
            "label": "Người dùng hoạt động",
            "type": "number",
            "source": "users_active",
        },
        {
            "key": "on_time",
            "label": "Nhiệm vụ đúng hạn",
            "type": "percent",
            "source": "tasks_on_time_percent",
        },
        {"key": "trained", "label": "Số người được tập huấn", "type": "number"},
        {"key": "notes", "label": "Khó khăn, vướng mắc", "type": "text"},
    ],
    "period": "monthly",
    "deadline_day": 25,
    "recipients": {"scope": "children"},
}


def test_the_monthly_deployment_report_cycle(tree: Tree, client: Any, api: Any) -> None:
    demo = tree.demo
    h = api
    r = client.post("/api/v1/report-forms", json=FORM, headers=h("lanhdao.tw"))
    assert r.status_code == 201, r.json
    form_id = r.json["id"]
    # The province and the other province each have this month's request, due the 25th.
    r = client.get("/api/v1/report-requests?box=to_fill", headers=h("vanthu.tinh"))
    assert r.status_code == 200
    [item] = r.json["items"]
    assert (item["period"], item["deadline"], item["state"]) == ("2026-11", "2026-11-25", "open")
    assert item["form"]["title"] == FORM["title"]
    req_id = item["id"]
    r = client.get(f"/api/v1/report-requests/{req_id}", headers=h("vanthu.tinh"))
    assert set(r.json["prefilled"]) == {"received_e", "sent_e", "signed", "users", "on_time"}
    assert r.json["allowed_actions"] == ["fill"]
    # Not visible: a ward below, another province; visible but not permitted: the centre's
    # clerk may not fill the province's report.
    for who in ("lanhdao.phuong", "lanhdao.tinhkhac"):
        assert client.get(f"/api/v1/report-requests/{req_id}", headers=h(who)).status_code == 404
        for action in ("fill", "approve", "submit"):
            r = client.post(f"/api/v1/report-requests/{req_id}/{action}", json={}, headers=h(who))
            assert r.status_code == 404
    r = client.post(
        f"/api/v1/report-requests/{req_id}/fill",
        json={"values": {"x": 1}},
        headers=h("vanthu.tw"),
    )
    assert r.status_code == 403  # before the bad value
    # Not filled yet: nothing to approve or submit (409).
    for who, action in (("lanhdao.tinh", "approve"), ("vanthu.tinh", "submit")):
        r = client.post(f"/api/v1/report-requests/{req_id}/{action}", json={}, headers=h(who))
        assert r.status_code == 409, r.json
    # Hostile values: refused with the field named, nothing stored.
    bad = [
        {"nope": 1},
        {"signed": 150},
        {"trained": "12; DROP TABLE"},
        {"trained": -3},
        {"trained": True},
        {"trained": 10**15},
        {"notes": 5},
        {"notes": "x" * 5000},
    ]
    for values in bad:
        r = client.post(
            f"/api/v1/report-requests/{req_id}/fill",
            json={"values": values},
            headers=h("chuyenvien.tinh"),
        )
        assert r.status_code == 422, (values, r.json)
        assert r.json["error"]["details"]["fields"]
    r = client.post(
        f"/api/v1/report-requests/{req_id}/fill",
        data="[1]",
        content_type="application/json",
        headers=h("vanthu.tinh"),
    )
    assert r.status_code == 400
    with demo.factory() as s:
        assert s.scalar(select(func.count()).select_from(ReportSubmission)) == 0
        req = s.get_one(ReportRequest, req_id)
        assert (req.version, req.state, req.values) == (0, "open", {})
    # A specialist fills in; system figures fill what was left out.
    values = {"trained": 40, "notes": '=HYPERLINK("http://x")', "users": 12}
    r = client.post(
        f"/api/v1/report-requests/{req_id}/fill",
        json={"values": values},
        headers=h("chuyenvien.tinh"),
    )
    assert r.status_code == 200, r.json
    assert r.json["state"] == "filled" and r.json["version"] == 0
    assert r.json["values"]["trained"] == 40 and r.json["values"]["users"] == 12
    assert "received_e" in r.json["values"]
    # Not the leader: the clerk may not approve (403); the leader signs.
    r = client.post(f"/api/v1/report-requests/{req_id}/approve", json={}, headers=h("vanthu.tinh"))
    assert r.status_code == 403
    r = client.post(f"/api/v1/report-requests/{req_id}/approve", json={}, headers=h("lanhdao.tinh"))
    assert r.status_code == 200, r.json
    assert r.json["state"] == "approved" and r.json["signed_pdf"] is True
    assert r.json["approved_by"] == demo.user("lanhdao.tinh").full_name
    # Submitting other figures than the signed ones is refused.
    r = client.post(
        f"/api/v1/report-requests/{req_id}/submit",
        json={"values": {"trained": 99}},
        headers=h("vanthu.tinh"),
    )
    assert r.status_code == 422 and r.json["error"]["code"] == "report_values_changed"
    r = client.post(
        f"/api/v1/report-requests/{req_id}/submit",
        json={"values": {"trained": 40}},
        headers=h("vanthu.tinh"),
    )
    assert r.status_code == 200, r.json
    assert r.json["state"] == "submitted" and r.json["version"] == 1
    r = client.post(f"/api/v1/report-requests/{req_id}/submit", json={}, headers=h("vanthu.tinh"))
    assert r.status_code == 409
    assert (
        client.get("/api/v1/report-requests?box=to_fill", headers=h("vanthu.tinh")).json["items"]
        == []
    )
    [sent] = client.get("/api/v1/report-requests?box=sent", headers=h("vanthu.tinh")).json["items"]
    assert sent["id"] == req_id
    # The 26th: the other province has not reported; the job marks it late.
    demo.clock.now = dt.datetime(2026, 11, 26, 2, 0, tzinfo=dt.UTC)
    assert mark_late_requests(demo.uow()) == 1
    r = client.get("/api/v1/report-requests?box=to_fill", headers=h("vanthu.xakhac"))
    assert r.json["items"] == []  # a commune is not a child of the centre
    with demo.factory() as s:
        other = s.scalars(
            select(ReportRequest).where(ReportRequest.organization_id == tree.other_province)
        ).one()
        assert other.state == "late"
    # The centre gathers: who submitted, who is late, totals.
    r = client.get(
        f"/api/v1/report-forms/{form_id}/results?period=2026-11", headers=h("lanhdao.tw")
    )
    assert r.status_code == 200, r.json
    assert r.json["counts"]["submitted"] == 1 and r.json["counts"]["late"] == 1
    assert r.json["counts"]["overdue"] == 1
    assert r.json["totals"]["trained"] == 40 and r.json["totals"]["users"] == 12
    states = {i["organization"]["name"]: i["state"] for i in r.json["items"]}
    assert states == {
        "Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh Demo": "submitted",
        "Ủy ban MTTQ tỉnh Khác": "late",
    }
    # The gathered table, opened cell by cell.
    r = client.get(
        f"/api/v1/report-forms/{form_id}/results?period=2026-11&format=xlsx",
        headers=h("lanhdao.tw"),
    )
    assert r.status_code == 200
    ws = load_workbook(io.BytesIO(r.data)).active
    assert ws["A1"].value == f"TỔNG HỢP BÁO CÁO: {FORM['title']}"
    assert [ws.cell(4, c).value for c in range(1, 5)] == [
        "STT",
        "Tổ chức",
        "Trạng thái",
        "Ngày gửi",
    ]
    assert ws.cell(4, 10).value == "Số người được tập huấn"
    assert ws["B5"].value == "Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh Demo"
    assert ws["C5"].value == "Đã gửi"
    assert ws["J5"].value == 40
    assert ws["K5"].value == '=HYPERLINK("http://x")' and ws["K5"].data_type == "s"
    assert ws["C6"].value == "Quá hạn"
    assert ws["B7"].value == "Tổng cộng" and ws["J7"].value == 40
    # Results: hidden from a province that did not ask; 403 for a clerk of the centre.
    assert (
        client.get(f"/api/v1/report-forms/{form_id}/results", headers=h("lanhdao.tinh")).status_code
        == 404
    )
    assert (
        client.get(f"/api/v1/report-forms/{form_id}/results", headers=h("vanthu.tw")).status_code
        == 403
    )
    assert (
        client.get(
            f"/api/v1/report-forms/{form_id}/results?period=2026-13", headers=h("lanhdao.tw")
        ).status_code
        == 422
    )
    # Returned for a correction, filled, signed again, resubmitted: version 2, version 1 kept.
    r = client.post(
        f"/api/v1/report-requests/{req_id}/return",
        json={"comment": "Sửa số"},
        headers=h("lanhdao.tw"),
    )
    assert r.status_code == 200 and r.json["state"] == "returned"
    r = client.post(
        f"/api/v1/report-requests/{req_id}/fill",
        json={"values": {"trained": 41}},
        headers=h("vanthu.tinh"),
    )
    assert r.status_code == 200 and r.json["state"] == "filled"
    r = client.post(f"/api/v1/report-requests/{req_id}/approve", json={}, headers=h("lanhdao.tinh"))
    assert r.status_code == 200
    r = client.post(f"/api/v1/report-requests/{req_id}/submit", json={}, headers=h("vanthu.tinh"))
    assert r.status_code == 200 and r.json["version"] == 2
    assert [v["version"] for v in r.json["versions"]] == [2, 1]
    assert r.json["versions"][1]["values"]["trained"] == 40
    assert r.json["submitted_late"] is True


def test_forms_refuse_bad_input_and_outsiders(tree: Tree, client: Any, api: Any) -> None:
    h = api
    bad = [
        {**FORM, "period": "daily"},
        {**FORM, "fields": []},
        {**FORM, "fields": [{"key": "A B", "label": "x", "type": "number"}]},
        {**FORM, "fields": [{"key": "a", "label": "x", "type": "money"}]},
        {**FORM, "fields": [{"key": "a", "label": "x", "type": "number", "source": "secret"}]},
        {**FORM, "fields": [FORM["fields"][0], FORM["fields"][0]]},
        {**FORM, "recipients": {"scope": "everyone"}},
        {**FORM, "recipients": {"organization_ids": [str(tree.other_province)]}, "extra": 1},
        {**FORM, "period": "once"},
        {**FORM, "deadline_day": 40},
        {**FORM, "title": "  "},
    ]
    for body in bad:
        r = client.post("/api/v1/report-forms", json=body, headers=h("lanhdao.tinh"))
        assert r.status_code == 422, (body, r.json)
    # A province may not ask another province (not below it).
    r = client.post(
        "/api/v1/report-forms",
        json={**FORM, "recipients": {"organization_ids": [str(tree.other_province)]}},
        headers=h("lanhdao.tinh"),
    )
    assert r.status_code == 422 and r.json["error"]["code"] == "invalid_recipient"
    assert (
        client.post("/api/v1/report-forms", json=FORM, headers=h("vanthu.tinh")).status_code == 403
    )
    with tree.demo.factory() as s:
        assert s.scalar(select(func.count()).select_from(ReportRequest)) == 0
    r = client.get("/api/v1/report-requests?box=bogus", headers=h("vanthu.tinh"))
    assert r.status_code == 422
    r = client.get("/api/v1/report-requests?cursor=%%%", headers=h("vanthu.tinh"))
    assert r.status_code == 422


def test_processing_api_roll_up(tree: Tree, client: Any, api: Any) -> None:
    h = api
    tinh = tree.demo.org_id("tinh")
    q = "from=2026-11-01&to=2026-11-30"
    r = client.get(
        f"/api/v1/reports/processing?{q}&scope=subtree&group_by=organization",
        headers=h("lanhdao.tinh"),
    )
    assert r.status_code == 200, r.json
    assert r.json["source"] == "aggregate" and len(r.json["items"]) == 2
    assert r.json["items"][1]["subtree"] is True
    r = client.get(
        f"/api/v1/reports/processing?{q}&organization_id={tinh}", headers=h("lanhdao.tinhkhac")
    )
    assert r.status_code == 404
    r = client.get(f"/api/v1/reports/processing?{q}&scope=subtree", headers=h("vanthu.tinh"))
    assert r.status_code == 403
    r = client.get(f"/api/v1/reports/processing?{q}&scope=all", headers=h("lanhdao.tinh"))
    assert r.status_code == 422
    r = client.get(
        f"/api/v1/reports/processing?{q}&organization_id=1%27%20OR%201=1", headers=h("lanhdao.tinh")
    )
    assert r.status_code == 422
    r = client.get(
        f"/api/v1/reports/processing?{q}&scope=subtree&group_by=organization&format=xlsx",
        headers=h("lanhdao.tw"),
    )
    assert r.status_code == 200
    ws = load_workbook(io.BytesIO(r.content if hasattr(r, "content") else r.data)).active
    assert ws["B4"].value == "Tổ chức"


def test_reminders_before_and_on_the_deadline_once_each(tree: Tree, client: Any, api: Any) -> None:
    from docflow.models import Notification
    from docflow.reports import remind_report_requests

    demo = tree.demo
    r = client.post("/api/v1/report-forms", json=FORM, headers=api("lanhdao.tw"))
    assert r.status_code == 201
    clerk = demo.user("vanthu.tinh").id

    def reminders() -> int:
        with demo.factory() as s:
            return (
                s.scalar(
                    select(func.count())
                    .select_from(Notification)
                    .where(Notification.user_id == clerk, Notification.kind == "report_reminder")
                )
                or 0
            )

    assert remind_report_requests(demo.uow(), days_before=2) == 2  # both provinces, 25/11
    assert remind_report_requests(demo.uow(), days_before=2) == 0  # once
    assert reminders() == 1
    demo.clock.now = dt.datetime(2026, 11, 25, 1, 0, tzinfo=dt.UTC)
    assert remind_report_requests(demo.uow(), days_before=2) == 2  # the day itself
    assert reminders() == 2
