"""Excel workbooks: the processing statistics (a table and a bar chart) and task lists, in
Vietnamese; and the one way every XLSX export of DHTN writes a cell (:func:`put`, :func:`row`).

Formula injection: a subject, an issuer's name or a task title is text a person or another
system chose, and a spreadsheet must never run it. openpyxl turns any string starting with ``=``
into a formula; Excel and LibreOffice also treat ``+``, ``-``, ``@`` (and a leading tab or
carriage return) as the start of a formula when a cell is edited. So every string goes through
:func:`put` / :func:`row`, which

* type the cell as a string (``t="inlineStr"`` in the sheet XML, never an ``<f>`` element),
  keeping the text exactly as it was (no apostrophe added to the value);
* mark a string that starts with one of those characters with Excel's ``quotePrefix`` cell
  style, the stored form of a typed leading apostrophe: shown without it, and still text when
  someone edits the cell;
* drop the control characters XML cannot carry (they would make the export fail).

Numbers and dates are written as such. New exports must write through these two functions.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell, WriteOnlyCell
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from docflow.reports.processing import GroupBy, ProcessingReport
from docflow.tasks.queries import TaskView
from docflow.tasks.states import TaskState
from docflow.workdays import local_date

# What makes a spreadsheet read a cell as a formula (when stored, typed or edited).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")

CellValue = str | int | float | dt.date | dt.datetime | None


def _assign(cell: Any, value: CellValue) -> Any:
    if isinstance(value, str):
        text = ILLEGAL_CHARACTERS_RE.sub("", value)
        cell.value = text
        cell.data_type = "s"  # openpyxl made "=…" a formula: it is text
        if text.startswith(FORMULA_TRIGGERS):
            cell.quotePrefix = True
    else:
        cell.value = value
    return cell


def put(ws: Any, row: int, column: int, value: CellValue) -> Cell:
    """Write ``value`` into a cell of a normal worksheet (strings always as text)."""
    cell: Cell = _assign(ws.cell(row=row, column=column), value)
    return cell


def row(ws: Any, values: Iterable[CellValue]) -> list[WriteOnlyCell]:
    """The cells of one row for ``ws.append`` on a write-only worksheet (strings as text)."""
    return [_assign(WriteOnlyCell(ws), value) for value in values]


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
