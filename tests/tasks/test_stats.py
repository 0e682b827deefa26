"""Processing statistics against a hand-computed fixture: twelve tasks lived through October to
December 2026 by the services themselves (the clock moves), counted for November."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from openpyxl import load_workbook

from docflow import PermissionDeniedError
from docflow import ValidationError as DomainValidationError
from docflow.reports import GroupBy, ProcessingReport, processing_report
from tests.tasks.conftest import Tasks

D = dt.date
FIELDS = ("received", "done_on_time", "done_late", "open", "overdue")


def build_history(t: Tasks) -> dict[str, Any]:
    """The fixture, in the order it happened. Letters name the tasks of the expectations."""
    ids: dict[str, Any] = {}

    def on(day: dt.date) -> None:
        t.set_today(day)

    def done(key: str, by: str, approver: str = "lanhdao.tw") -> None:
        t.act(by, ids[key], "submit_completion", comment="Hoàn thành")
        t.act(approver, ids[key], "approve_completion")

    on(D(2026, 10, 1))
    ids["J"] = t.create(unit="DCGSPBXH", due=D(2026, 10, 20), title="J: xong trước kỳ").id
    on(D(2026, 10, 15))
    done("J", "truongban.dcgs")
    on(D(2026, 10, 20))
    ids["A"] = t.create(unit="DCGSPBXH", due=D(2026, 11, 10), title="A: giao trước kỳ").id
    on(D(2026, 11, 2))
    ids["B"] = t.create(unit="DCGSPBXH", due=D(2026, 11, 13), title="B: xong thứ Bảy").id
    on(D(2026, 11, 3))
    ids["C"] = t.create(user="chuyenvien.dcgs", due=D(2026, 11, 13), title="C: xong muộn").id
    on(D(2026, 11, 5))
    ids["D"] = t.create(unit="TG", due=D(2026, 11, 20), title="D: quá hạn").id
    on(D(2026, 11, 9))
    t.act("truongban.dcgs", ids["A"], "submit_completion", comment="Xong")
    on(D(2026, 11, 10))
    t.act("lanhdao.tw", ids["A"], "approve_completion")
    ids["E"] = t.create(unit="TG", due=D(2026, 12, 10), title="E: còn hạn").id
    on(D(2026, 11, 12))
    ids["F"] = t.create(unit="DCGSPBXH", due=D(2026, 11, 30), title="F: hạn cuối kỳ").id
    ids["G"] = t.create(unit="DCGSPBXH", due=D(2026, 11, 30), title="G: bị hủy").id
    on(D(2026, 11, 13))
    ids["H"] = t.split("truongban.dcgs", ids["F"], "chuyenvien.dcgs", due=D(2026, 11, 27)).id
    on(D(2026, 11, 14))  # Saturday: B is reported done the day after its Friday deadline
    t.act("truongban.dcgs", ids["B"], "submit_completion", comment="Xong")
    on(D(2026, 11, 16))
    t.act("lanhdao.tw", ids["B"], "approve_completion")
    done("C", "chuyenvien.dcgs")
    ids["L"] = t.create(user="chuyenvien.tg", due=D(2026, 11, 18), title="L: chờ duyệt").id
    on(D(2026, 11, 20))
    t.act("lanhdao.tw", ids["G"], "cancel", reason="Thôi")
    t.act("chuyenvien.tg", ids["L"], "submit_completion", comment="Xong, chờ duyệt")
    on(D(2026, 11, 25))
    ids["I"] = t.create(unit="DCGSPBXH", due=D(2026, 12, 4), title="I: xong sau kỳ").id
    on(D(2026, 12, 1))
    done("I", "truongban.dcgs")
    ids["K"] = t.create(unit="DCGSPBXH", due=D(2026, 12, 10), title="K: giao sau kỳ").id
    on(D(2026, 12, 2))
    return ids


def table(report: ProcessingReport) -> dict[str, tuple[int, ...]]:
    out = {r.name: tuple(getattr(r, f) for f in FIELDS) for r in report.rows}
    out["total"] = tuple(getattr(report.total, f) for f in FIELDS)
    return out


DCGS = "Ban Dân chủ, Giám sát và Phản biện xã hội"
TG = "Ban Tuyên giáo"


def test_statistics_of_november_by_unit_and_by_person(tasks: Tasks) -> None:
    build_history(tasks)
    demo = tasks.demo
    leader = demo.actor("lanhdao.tw")

    def report(group_by: GroupBy, who: Any = leader, **period: dt.date) -> ProcessingReport:
        return processing_report(
            demo.uow(),
            who,
            date_from=period.get("start", D(2026, 11, 1)),
            date_to=period.get("end", D(2026, 11, 30)),
            group_by=group_by,
        )

    # received, done on time, done late, open (in time), overdue — per unit, top-level tasks:
    # DCGS: B C F G I received; A B on time (B done on Saturday, the day after a Friday
    # deadline); C late; F (due 30/11, the last day) and I (done only on 1/12) open.
    # TG: D E L received; E open; D overdue, L too (reported done, not yet approved).
    nov = report(GroupBy.UNIT)
    assert nov.as_of == D(2026, 11, 30)
    assert table(nov) == {
        DCGS: (5, 2, 1, 2, 0),
        TG: (3, 0, 0, 1, 2),
        "total": (8, 2, 1, 3, 2),
    }
    # Per person, sub-tasks included: C (late) and H (the sub-task of F, due 27/11, overdue).
    assert table(report(GroupBy.USER)) == {
        "Đỗ Quang Huy": (2, 0, 1, 0, 1),
        "Vũ Thị Lan": (1, 0, 0, 0, 1),
        "total": (3, 0, 1, 0, 2),
    }
    # A period reaching past today is judged as of today (2/12): F is now overdue, I is done
    # on time, K is received and open.
    wide = report(GroupBy.UNIT, end=D(2026, 12, 31))
    assert wide.as_of == D(2026, 12, 2)
    assert table(wide) == {
        DCGS: (6, 3, 1, 1, 1),
        TG: (3, 0, 0, 1, 2),
        "total": (9, 3, 1, 2, 3),
    }
    # October: J done on time, A still open at the end of October; J and A received.
    assert table(report(GroupBy.UNIT, start=D(2026, 10, 1), end=D(2026, 10, 31))) == {
        DCGS: (2, 1, 0, 1, 0),
        "total": (2, 1, 0, 1, 0),
    }


def test_who_sees_which_statistics(tasks: Tasks) -> None:
    build_history(tasks)
    demo = tasks.demo
    period = {"date_from": D(2026, 11, 1), "date_to": D(2026, 11, 30)}
    head = processing_report(
        demo.uow(), demo.actor("truongban.dcgs"), group_by=GroupBy.USER, **period
    )
    assert table(head) == {"Đỗ Quang Huy": (2, 0, 1, 0, 1), "total": (2, 0, 1, 0, 1)}
    head_units = processing_report(demo.uow(), demo.actor("truongban.dcgs"), **period)
    assert table(head_units) == {DCGS: (5, 2, 1, 2, 0), "total": (5, 2, 1, 2, 0)}
    me = processing_report(demo.uow(), demo.actor("chuyenvien.tg"), group_by=GroupBy.USER, **period)
    assert table(me) == {"Vũ Thị Lan": (1, 0, 0, 0, 1), "total": (1, 0, 0, 0, 1)}
    with pytest.raises(PermissionDeniedError):
        processing_report(demo.uow(), demo.actor("chuyenvien.tg"), **period)
    other_org = processing_report(demo.uow(), demo.actor("lanhdao.tinh"), **period)
    assert other_org.rows == [] and other_org.total.received == 0
    with pytest.raises(DomainValidationError):
        processing_report(
            demo.uow(), demo.actor("lanhdao.tw"), date_from=D(2026, 12, 1), date_to=D(2026, 11, 1)
        )


def test_report_api_json_and_xlsx(tasks: Tasks, client: Any, api: Any) -> None:
    build_history(tasks)
    headers = api("lanhdao.tw")
    r = client.get(
        "/api/v1/reports/processing?from=2026-11-01&to=2026-11-30&group_by=unit", headers=headers
    )
    assert r.status_code == 200, r.json
    body = r.json
    assert (body["from"], body["to"], body["as_of"]) == ("2026-11-01", "2026-11-30", "2026-11-30")
    rows = {i["group"]["name"]: [i[f] for f in FIELDS] for i in body["items"]}
    assert rows == {DCGS: [5, 2, 1, 2, 0], TG: [3, 0, 0, 1, 2]}
    assert [body["total"][f] for f in FIELDS] == [8, 2, 1, 3, 2]
    x = client.get(
        "/api/v1/reports/processing?from=2026-11-01&to=2026-11-30&group_by=user&format=xlsx",
        headers=headers,
    )
    assert x.status_code == 200 and x.mimetype.endswith("spreadsheetml.sheet")
    ws = load_workbook(io.BytesIO(x.data)).active
    cells = [[c.value for c in row] for row in ws.iter_rows(min_row=5, max_row=7)]
    assert cells == [
        [1, "Đỗ Quang Huy", 2, 0, 1, 0, 1],
        [2, "Vũ Thị Lan", 1, 0, 0, 0, 1],
        [None, "Tổng cộng", 3, 0, 1, 0, 2],
    ]
    assert ws._charts, "the workbook has its chart"
    bad = client.get("/api/v1/reports/processing?from=2026-11-31&to=2026-11-30", headers=headers)
    assert bad.status_code == 422 and "from" in bad.json["error"]["details"]["fields"]
    forbidden = client.get(
        "/api/v1/reports/processing?from=2026-11-01&to=2026-11-30", headers=api("chuyenvien.tg")
    )
    assert forbidden.status_code == 403
