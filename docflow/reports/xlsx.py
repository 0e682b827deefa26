"""The processing statistics as an Excel workbook (a table and a bar chart), in Vietnamese."""

from __future__ import annotations

import io
from collections.abc import Sequence

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from docflow import audit
from docflow.actors import Actor
from docflow.reports.processing import GroupBy, ProcessingReport
from docflow.tasks.queries import TaskView
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
    ws["A1"] = f"THỐNG KÊ TÌNH HÌNH THỰC HIỆN NHIỆM VỤ THEO {who.upper()}"
    ws["A1"].font = Font(bold=True, size=13)
    ws["A2"] = (
        f"Từ ngày {report.date_from:%d/%m/%Y} đến ngày {report.date_to:%d/%m/%Y}"
        f" (tình trạng tính đến ngày {report.as_of:%d/%m/%Y})"
    )
    headers = list(HEADERS)
    headers[1] = "Đơn vị" if report.group_by is GroupBy.UNIT else "Cá nhân"
    header_row = 4
    fill = PatternFill("solid", fgColor="DDE7F3")
    for col, text in enumerate(headers, start=1):
        cell = ws.cell(row=header_row, column=col, value=text)
        cell.font = Font(bold=True)
        cell.fill = fill
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
    row = header_row
    for i, r in enumerate(report.rows, start=1):
        row += 1
        values = (i, r.name, r.received, r.done_on_time, r.done_late, r.open, r.overdue)
        for col, value in enumerate(values, start=1):
            ws.cell(row=row, column=col, value=value)
    last_data_row = row
    row += 1
    t = report.total
    for col, value in enumerate(
        ("", t.name, t.received, t.done_on_time, t.done_late, t.open, t.overdue), start=1
    ):
        ws.cell(row=row, column=col, value=value).font = Font(bold=True)
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
        ws.add_chart(chart, f"A{row + 2}")
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
    ws["A1"] = title.upper()
    ws["A1"].font = Font(bold=True, size=13)
    fill = PatternFill("solid", fgColor="DDE7F3")
    for col, text in enumerate(TASK_HEADERS, start=1):
        cell = ws.cell(row=3, column=col, value=text)
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
            cell = ws.cell(row=3 + i, column=col, value=value)
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
