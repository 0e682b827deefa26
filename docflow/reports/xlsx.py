"""Excel workbooks: the processing statistics (a table and a bar chart) and task lists, in
Vietnamese. Every cell is written through :mod:`docflow.spreadsheets` (:func:`put`,
:func:`row`), so text a person or another system chose never becomes a formula.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from docflow import audit
from docflow.actors import Actor
from docflow.reports.processing import GroupBy, ProcessingReport
from docflow.spreadsheets import CellValue, put
from docflow.tasks import TaskView
from docflow.tasks.states import TaskState
from docflow.uow import UnitOfWork
from docflow.workdays import local_date

HEADERS = (
    "STT",
    "Đơn vị",
    "Được giao trong kỳ",
    "Hoàn thành đúng hạn",
    "Hoàn thành quá hạn",
    "Đang thực hiện, còn hạn",
    "Quá hạn, chưa hoàn thành",
)


def processing_xlsx(report: ProcessingReport) -> bytes:
    """One sheet: title, period, the table with a total line, and a stacked bar chart."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Thống kê xử lý"
    who = "đơn vị" if report.group_by is GroupBy.UNIT else "cá nhân"
    put(ws, 1, 1, f"THỐNG KÊ TÌNH HÌNH THỰC HIỆN NHIỆM VỤ THEO {who.upper()}").font = Font(
        bold=True, size=13
    )
    put(
        ws,
        2,
        1,
        f"Từ ngày {report.date_from:%d/%m/%Y} đến ngày {report.date_to:%d/%m/%Y}"
        f" (tình trạng tính đến ngày {report.as_of:%d/%m/%Y})",
    )
    headers = list(HEADERS)
    headers[1] = "Đơn vị" if report.group_by is GroupBy.UNIT else "Cá nhân"
    if getattr(report, "group", None) == "organization":
        headers[1] = "Tổ chức"
    header_row = 4
    fill = PatternFill("solid", fgColor="DDE7F3")
    for col, text in enumerate(headers, start=1):
        cell = put(ws, header_row, col, text)
        cell.font = Font(bold=True)
        cell.fill = fill
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
    line = header_row
    for i, r in enumerate(report.rows, start=1):
        line += 1
        values: tuple[CellValue, ...] = (
            i,
            r.name,
            r.received,
            r.done_on_time,
            r.done_late,
            r.open,
            r.overdue,
        )
        for col, value in enumerate(values, start=1):
            put(ws, line, col, value)
    last_data_row = line
    line += 1
    t = report.total
    totals: tuple[CellValue, ...] = (
        "",
        t.name,
        t.received,
        t.done_on_time,
        t.done_late,
        t.open,
        t.overdue,
    )
    for col, value in enumerate(totals, start=1):
        put(ws, line, col, value).font = Font(bold=True)
    for col, width in enumerate((6, 42, 14, 14, 14, 16, 16), start=1):
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.row_dimensions[header_row].height = 32
    ws.freeze_panes = ws.cell(row=header_row + 1, column=1)
    if report.rows:
        chart = BarChart()
        chart.type = "bar"
        chart.grouping = "stacked"
        chart.overlap = 100
        chart.title = "Tình hình thực hiện"
        data = Reference(ws, min_col=4, max_col=7, min_row=header_row, max_row=last_data_row)
        cats = Reference(ws, min_col=2, min_row=header_row + 1, max_row=last_data_row)
        chart.add_data(data, titles_from_data=True)
        chart.set_categories(cats)
        chart.height = max(7.5, 1.0 * len(report.rows) + 4)
        chart.width = 22
        ws.add_chart(chart, f"A{line + 2}")
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


TASK_HEADERS = (
    "STT",
    "Nhiệm vụ",
    "Người giao",
    "Chủ trì",
    "Ngày giao",
    "Hạn",
    "Tiến độ (%)",
    "Trạng thái",
    "Quá hạn (ngày làm việc)",
)


def tasks_xlsx(title: str, views: Sequence[TaskView]) -> bytes:
    """A follow-up list as a sheet: one task per row, lateness derived as on screen."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Nhiệm vụ"
    put(ws, 1, 1, title.upper()).font = Font(bold=True, size=13)
    fill = PatternFill("solid", fgColor="DDE7F3")
    for col, text in enumerate(TASK_HEADERS, start=1):
        cell = put(ws, 3, col, text)
        cell.font = Font(bold=True)
        cell.fill = fill
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
    for i, v in enumerate(views, start=1):
        t = v.task
        lead = t.lead_user.full_name if t.lead_user else (t.lead_unit.name if t.lead_unit else "")
        values = (
            i,
            t.title,
            t.assigner.full_name,
            lead,
            local_date(t.created_at),
            t.due_date,
            100 if t.state == TaskState.DONE else t.progress,
            TaskState(t.state).label,
            v.status.days_late or None,
        )
        for col, value in enumerate(values, start=1):
            cell = put(ws, 3 + i, col, value)
            if col in (5, 6):
                cell.number_format = "DD/MM/YYYY"
    for col, width in enumerate((6, 50, 24, 34, 12, 12, 11, 20, 14), start=1):
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.row_dimensions[3].height = 32
    ws.freeze_panes = "A4"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def tasks_export(uow: UnitOfWork, actor: Actor, title: str, views: Sequence[TaskView]) -> bytes:
    """:func:`tasks_xlsx`, logged in the audit log as an export by ``actor``."""
    audit.record_read(uow, actor, "tasks.exported", object_type="task", rows=len(views))
    return tasks_xlsx(title, views)


def results_xlsx(results: Any) -> bytes:
    """The gathered answers of a periodic report (:class:`docflow.reports.FormResults`): one
    row per reporting organisation with its state and values, then the totals (sums of
    numbers, averages of percentages)."""
    from docflow.reports.states import STATE_LABELS as labels

    form = results.form
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Tổng hợp"
    put(ws, 1, 1, f"TỔNG HỢP BÁO CÁO: {form.title}").font = Font(bold=True, size=13)
    put(ws, 2, 1, f"Kỳ {results.period}, hạn {results.deadline:%d/%m/%Y}")
    simple = [f for f in form.fields if f["type"] in ("number", "percent", "text")]
    headers = ["STT", "Tổ chức", "Trạng thái", "Ngày gửi", *(f["label"] for f in simple)]
    fill = PatternFill("solid", fgColor="DDE7F3")
    for col, text in enumerate(headers, start=1):
        cell = put(ws, 4, col, text)
        cell.font = Font(bold=True)
        cell.fill = fill
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
    line = 4
    for i, r in enumerate(results.rows, start=1):
        line += 1
        sent = local_date(r.submitted_at) if r.submitted_at else None
        state = labels.get(r.state, r.state) + (" (muộn)" if r.submitted_late else "")
        values: list[CellValue] = [i, r.organization_name, state, sent]
        values += [r.values.get(f["key"]) for f in simple]
        for col, value in enumerate(values, start=1):
            put(ws, line, col, value)
    line += 1
    totals: list[CellValue] = ["", "Tổng cộng", "", None]
    totals += [results.totals.get(f["key"]) for f in simple]
    for col, value in enumerate(totals, start=1):
        put(ws, line, col, value).font = Font(bold=True)
    for col, width in enumerate([6, 42, 14, 12] + [16] * len(simple), start=1):
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.freeze_panes = ws.cell(row=5, column=1)
    used = {ws.title}
    for f in form.fields:
        if f["type"] == "table":
            _table_sheet(wb, _sheet_title(f["label"], used), f, results, fill)
        elif f["type"] == "gathered":
            _gathered_sheet(wb, _sheet_title(f["label"], used), f, results, fill)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _sheet_title(label: str, used: set[str]) -> str:
    """An Excel sheet name: at most 31 characters, none of []:*?/\\, unique in the book."""
    base = "".join(" " if c in "[]:*?/\\" else c for c in label).strip()[:28] or "Bảng"
    title, n = base, 1
    while title in used:
        n += 1
        title = f"{base[:26]} {n}"
    used.add(title)
    return title


def _header(ws: Any, row: int, texts: list[str], fill: PatternFill) -> None:
    for col, text in enumerate(texts, start=1):
        cell = put(ws, row, col, text)
        cell.font = Font(bold=True)
        cell.fill = fill
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")


def _table_sheet(wb: Workbook, title: str, f: dict[str, Any], results: Any, fill: Any) -> None:
    """A fixed-row table: each organisation's rows, then the sums per cell."""
    ws = wb.create_sheet(title)
    put(ws, 1, 1, f["label"]).font = Font(bold=True, size=13)
    put(ws, 2, 1, f"Kỳ {results.period}")
    cols = f["columns"]
    _header(ws, 4, ["STT", "Tổ chức", "Dòng", *(c["label"] for c in cols)], fill)
    line = 4
    for i, r in enumerate(results.rows, start=1):
        table = r.values.get(f["key"]) or {}
        for row in f["rows"]:
            line += 1
            cells = table.get(row["key"]) or {}
            values: list[CellValue] = [i, r.organization_name, row["label"]]
            values += [cells.get(c["key"]) for c in cols]
            for col, value in enumerate(values, start=1):
                put(ws, line, col, value)
    total = results.totals.get(f["key"]) or {}
    for row in f["rows"]:
        line += 1
        cells = total.get(row["key"]) or {}
        values = ["", "Tổng cộng", row["label"], *(cells.get(c["key"]) for c in cols)]
        for col, value in enumerate(values, start=1):
            put(ws, line, col, value).font = Font(bold=True)
    for col, width in enumerate([6, 42, 30] + [14] * len(cols), start=1):
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.freeze_panes = ws.cell(row=5, column=1)


def _gathered_sheet(wb: Workbook, title: str, f: dict[str, Any], results: Any, fill: Any) -> None:
    """The gathered tables the reporting organisations forwarded: each one's subordinates."""
    ws = wb.create_sheet(title)
    put(ws, 1, 1, f["label"]).font = Font(bold=True, size=13)
    cols: list[dict[str, Any]] = []
    for r in results.rows:
        for c in (r.values.get(f["key"]) or {}).get("fields", []):
            if c["type"] in ("number", "percent") and c["key"] not in {x["key"] for x in cols}:
                cols.append(c)
    _header(ws, 3, ["Tổ chức báo cáo", "Tổ chức cấp dưới", *(c["label"] for c in cols)], fill)
    line = 3
    for r in results.rows:
        table = r.values.get(f["key"]) or {}
        for sub in table.get("rows", []):
            line += 1
            values: list[CellValue] = [r.organization_name, sub["organization"]["name"]]
            values += [sub["values"].get(c["key"]) for c in cols]
            for col, value in enumerate(values, start=1):
                put(ws, line, col, value)
        if table:
            line += 1
            values = [r.organization_name, "Cộng", *(table["totals"].get(c["key"]) for c in cols)]
            for col, value in enumerate(values, start=1):
                put(ws, line, col, value).font = Font(bold=True)
    for col, width in enumerate([36, 36] + [14] * len(cols), start=1):
        ws.column_dimensions[get_column_letter(col)].width = width
