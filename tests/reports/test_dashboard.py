"""The home page's dashboards (docflow.reports.dashboard): a province leader's view counted by
hand (stock by unit, due this week, received and sent by week and month, the reports asked of
those below and owed above) with clearance and another organisation's rows in the data; the
clerk's day; refusals; the home page rendering them with their links."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.engine import Engine

from docflow import PermissionDeniedError
from docflow.enums import Secrecy
from docflow.ids import new_id
from docflow.models import Delivery, Document, ReportRequest
from docflow.reports import rebuild_all
from docflow.reports.dashboard import clerk_day, leader_dashboard
from tests.app.test_pages import login
from tests.app.test_query_counts import counting
from tests.reports.conftest import Tree
from tests.reports.test_periodic import FORM
from tests.reports.test_rollup import assign, build_tree_history

D = dt.date
VN = dt.timezone(dt.timedelta(hours=7))


def add_doc(
    tree: Tree,
    org: uuid.UUID,
    direction: str,
    state: str,
    listed: dt.datetime,
    *,
    secrecy: Secrecy = Secrecy.NONE,
    due: dt.date | None = None,
    subject: str = "Văn bản",
) -> uuid.UUID:
    doc_id = new_id()
    with tree.demo.factory() as s:
        s.add(
            Document(
                id=doc_id,
                organization_id=org,
                direction=direction,
                state=state,
                doc_type="CV",
                subject=subject,
                listed_at=listed.astimezone(dt.UTC),
                secrecy=secrecy.value,
                secrecy_rank=secrecy.rank,
                due_date=due,
                source="paper",
            )
        )
        s.commit()
    return doc_id


def at(day: dt.date, hour: int = 9) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), VN)


def cleared(actor: Any) -> Any:
    return dataclasses.replace(actor, clearance=Secrecy.TOP_SECRET)


@pytest.fixture
def province_week(tree: Tree) -> Tree:
    """The roll-up's hand-counted history, then on Wednesday 2 December 2026 (the week runs
    Monday 30 November – Sunday 6 December): the province's tasks and documents around it."""
    build_tree_history(tree)  # ends on 2 December
    demo, tinh = tree.demo, tree.demo.org_id("tinh")
    tree.tasks.set_today(D(2026, 12, 1))
    assign(tree, "lanhdao.tinh", "chuyenvien.tinh", D(2026, 12, 4), "G: tỉnh, hạn thứ Sáu")
    assign(tree, "lanhdao.tinh", "chuyenvien.tinh", D(2026, 12, 8), "H: tỉnh, hạn tuần sau")
    assign(tree, "lanhdao.phuong", "vanthu.phuong", D(2026, 12, 3), "I: phường, tuần này")
    tree.tasks.set_today(D(2026, 12, 2))
    # Received: this week and month, this week only (30 Nov), three weeks ago, a secret one
    # this week, another organisation's; sent: dispatched today, issued but not dispatched.
    add_doc(tree, tinh, "incoming", "assigned", at(D(2026, 12, 1)), due=D(2026, 12, 5),
            subject="Văn bản đến hạn thứ Bảy")  # fmt: skip
    add_doc(tree, tinh, "incoming", "done", at(D(2026, 11, 30)))
    add_doc(tree, tinh, "incoming", "done", at(D(2026, 11, 18)))
    add_doc(tree, tinh, "incoming", "in_progress", at(D(2026, 12, 2)), secrecy=Secrecy.SECRET,
            due=D(2026, 12, 3), subject="Tối mật")  # fmt: skip
    add_doc(tree, tree.other_province, "incoming", "assigned", at(D(2026, 12, 1)),
            due=D(2026, 12, 2))  # fmt: skip
    add_doc(tree, tinh, "outgoing", "dispatched", at(D(2026, 12, 2)))
    add_doc(tree, tinh, "outgoing", "issued", at(D(2026, 12, 2)))
    add_doc(tree, tinh, "outgoing", "dispatched", at(D(2026, 8, 30)))  # before the 12 weeks
    rebuild_all(demo.uow())
    return tree


def test_a_province_leaders_dashboard_counted_by_hand(province_week: Tree) -> None:
    tree = province_week
    demo = tree.demo
    b = leader_dashboard(demo.uow(), demo.actor("lanhdao.tinh"))
    assert (b.today, b.week_start, b.week_end, b.month_start) == (
        D(2026, 12, 2),
        D(2026, 11, 30),
        D(2026, 12, 6),
        D(2026, 12, 1),
    )
    # Stock: B (overdue since 9 Nov), G and H open; the ward's tasks are not the province's.
    assert [(u.open, u.overdue) for u in b.units] == [(3, 1)]
    assert (b.open_total, b.overdue_total) == (3, 1)
    assert b.refreshed_through == D(2026, 12, 2)
    # Due this week: G (Friday) and the incoming document due Saturday; not H (next week),
    # not the ward's I, not the secret document (no clearance), not another province's.
    assert b.due_count == 2
    assert [(i.kind, i.due_date) for i in b.due_items] == [
        ("task", D(2026, 12, 4)),
        ("document", D(2026, 12, 5)),
    ]
    # Received: 1 Dec and 30 Nov this week, 1 Dec this month; sent: the dispatched one only.
    assert (b.received_week, b.received_month, b.sent_week, b.sent_month) == (2, 1, 1, 1)
    assert len(b.trend) == 12 and b.trend[-1].start == D(2026, 11, 30)
    by_week = {w.start: (w.received, w.sent) for w in b.trend}
    assert by_week[D(2026, 11, 30)] == (2, 1)
    assert by_week[D(2026, 11, 16)] == (1, 0)
    assert sum(w.received for w in b.trend) == 3 and sum(w.sent for w in b.trend) == 1
    # The same leader cleared for secrets counts the secret document too.
    c = leader_dashboard(demo.uow(), cleared(demo.actor("lanhdao.tinh")))
    assert (c.received_week, c.received_month, c.due_count) == (3, 2, 3)
    assert [i.title for i in c.due_items if i.kind == "document"] == [
        "Tối mật",
        "Văn bản đến hạn thứ Bảy",
    ]


def test_the_ward_and_other_province_see_only_their_own(province_week: Tree) -> None:
    demo = province_week.demo
    ward = leader_dashboard(demo.uow(), demo.actor("lanhdao.phuong"))
    # The ward: D (open, due 15 Dec) and I (due Thursday); nothing of the province's.
    assert (ward.open_total, ward.overdue_total, ward.due_count) == (2, 0, 1)
    assert (ward.received_week, ward.sent_week) == (0, 0)
    # The other province: its own document only (received Tuesday, due today).
    other = leader_dashboard(demo.uow(), demo.actor("lanhdao.tinhkhac"))
    assert (other.received_week, other.due_count, other.open_total) == (1, 1, 0)
    assert [(i.kind, i.due_date) for i in other.due_items] == [("document", D(2026, 12, 2))]


def test_only_leaders_and_clerks_get_their_part(province_week: Tree) -> None:
    demo = province_week.demo
    for who in ("vanthu.tinh", "chuyenvien.tinh"):
        with pytest.raises(PermissionDeniedError):
            leader_dashboard(demo.uow(), demo.actor(who))
    for who in ("lanhdao.tinh", "chuyenvien.tinh"):
        with pytest.raises(PermissionDeniedError):
            clerk_day(demo.uow(), demo.actor(who))


def test_the_clerks_day(tree: Tree) -> None:
    demo, tinh = tree.demo, tree.demo.org_id("tinh")
    now = at(D(2026, 12, 2))
    tree.tasks.set_today(D(2026, 12, 2))
    for _ in range(2):
        add_doc(tree, tinh, "incoming", "arrived", now)
    add_doc(tree, tinh, "incoming", "arrived", now, secrecy=Secrecy.CONFIDENTIAL)
    add_doc(tree, tinh, "incoming", "registered", now)
    add_doc(tree, tinh, "outgoing", "signed", now)
    issued = add_doc(tree, tinh, "outgoing", "issued", now)
    add_doc(tree, tinh, "outgoing", "issued", now)
    add_doc(tree, tree.other_province, "incoming", "arrived", now)
    with demo.factory() as s:
        for state, channel in (("failed", "axis"), ("sent", "axis"), ("failed", "internal")):
            s.add(
                Delivery(
                    document_id=issued,
                    position=1,
                    recipient_code="000.00.99.H01",
                    recipient_name="Cơ quan ngoài",
                    channel=channel,
                    state=state,
                )
            )
        s.commit()
    day = clerk_day(demo.uow(), demo.actor("vanthu.tinh"))
    assert (
        day.to_register,
        day.to_submit,
        day.to_issue,
        day.to_dispatch,
        day.failed_deliveries,
    ) == (2, 1, 1, 2, 1)
    assert clerk_day(demo.uow(), cleared(demo.actor("vanthu.tinh"))).to_register == 3
    # Another organisation's clerk sees none of it.
    other = clerk_day(demo.uow(), demo.actor("vanthu.xakhac"))
    assert (other.to_register, other.to_dispatch, other.failed_deliveries) == (0, 0, 0)


def test_reports_asked_below_and_owed_above(tree: Tree, client: Any, api: Any) -> None:
    demo = tree.demo
    tree.tasks.set_today(D(2026, 12, 2))
    r = client.post("/api/v1/report-forms", json=FORM, headers=api("lanhdao.tw"))
    assert r.status_code == 201, r.json
    with counting(Engine) as first:
        centre = leader_dashboard(demo.uow(), demo.actor("lanhdao.tw"))
    [form] = centre.forms
    assert (form.title, form.period, form.deadline) == (FORM["title"], "2026-12", D(2026, 12, 25))
    assert (form.asked, form.submitted, form.late, form.not_started) == (2, 0, 0, 2)
    prov = leader_dashboard(demo.uow(), demo.actor("lanhdao.tinh"))
    assert [(o.title, o.deadline, o.late) for o in prov.own_reports] == [
        (FORM["title"], D(2026, 12, 25), False)
    ]
    # Two more forms (weekly, quarterly): the same number of statements, each in its period.
    for period, title in (("weekly", "Tuần"), ("quarterly", "Quý")):
        more = {**FORM, "title": f"Báo cáo {title}", "period": period, "deadline_day": 5}
        assert (
            client.post("/api/v1/report-forms", json=more, headers=api("lanhdao.tw")).status_code
            == 201
        )
    with counting(Engine) as again:
        forms = leader_dashboard(demo.uow(), demo.actor("lanhdao.tw")).forms
    assert len(again) == len(first)
    assert sorted((f.title, f.period, f.asked) for f in forms) == [
        ("Báo cáo Quý", "2026-Q4", 2),
        ("Báo cáo Tuần", "2026-W49", 2),
        (FORM["title"], "2026-12", 2),
    ]
    # One province submits (state written as the cycle leaves it), the deadline passes.
    with demo.factory() as s:
        s.execute(
            update(ReportRequest)
            .where(ReportRequest.organization_id == demo.org_id("tinh"))
            .values(state="submitted")
        )
        s.commit()
    tree.tasks.set_today(D(2026, 12, 28))
    forms = leader_dashboard(demo.uow(), demo.actor("lanhdao.tw")).forms
    [form] = [f for f in forms if f.title == FORM["title"]]
    assert (form.asked, form.submitted, form.late, form.not_started) == (2, 1, 1, 0)
    assert [r.title for r in leader_dashboard(demo.uow(), demo.actor("lanhdao.tinh")).own_reports
            if r.title == FORM["title"]] == []  # fmt: skip
    owed = leader_dashboard(demo.uow(), demo.actor("lanhdao.tinhkhac")).own_reports
    [late] = [r for r in owed if r.title == FORM["title"]]
    assert late.late


def test_the_home_page_shows_each_part_with_its_links(province_week: Tree, app: Any) -> None:
    leader = app.test_client()
    login(leader, "lanhdao.tinh")
    html = leader.get("/").get_data(as_text=True)
    assert "Tình hình cơ quan" in html and "Việc văn thư trong ngày" not in html
    assert 'data-figure="overdue">1<' in html and 'data-figure="received-week">2<' in html
    assert 'data-figure="due">2<' in html and 'data-figure="sent-month">1<' in html
    assert "G: tỉnh, hạn thứ Sáu" in html and "Tối mật" not in html
    assert "state=dispatched" in html and "from=2026-11-30" in html and "<svg" in html
    # The linked lists answer, with the filters the numbers were counted with.
    assert (
        leader.get("/outgoing?box=all&state=dispatched&from=2026-11-30&to=2026-12-06").status_code
        == 200
    )
    clerk = app.test_client()
    login(clerk, "vanthu.tinh")
    html = clerk.get("/").get_data(as_text=True)
    assert "Việc văn thư trong ngày" in html and "Tình hình cơ quan" not in html
    page = clerk.get("/outgoing?box=all&state=dispatched&from=2026-11-30&to=2026-12-06")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Đang lọc" in text and "Bỏ lọc" in text
    specialist = app.test_client()
    login(specialist, "chuyenvien.tinh")
    html = specialist.get("/").get_data(as_text=True)
    assert "Tình hình cơ quan" not in html and "Việc văn thư trong ngày" not in html


def test_report_periods_read_as_people_say_them() -> None:
    from app.pages import report_period

    assert [report_period(k) for k in ("2026-11", "2026-W48", "2026-Q4", "once", "x-y")] == [
        "tháng 11/2026",
        "tuần 48/2026",
        "quý 4/2026",
        "một lần",
        "x-y",
    ]
