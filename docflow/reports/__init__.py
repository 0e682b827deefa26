"""Reports and printable outputs: processing statistics (tasks and incoming deadlines), registers
(sổ) as DOCX/XLSX, the processing slip of an incoming document."""

from docflow.reports.processing import (
    SOURCES,
    DeadlineSource,
    GroupBy,
    ProcessingReport,
    ProcessingRow,
    ReportScope,
    processing_report,
    task_items,
)
from docflow.reports.xlsx import processing_xlsx, tasks_export, tasks_xlsx

__all__ = [
    "SOURCES",
    "DeadlineSource",
    "GroupBy",
    "ProcessingReport",
    "ProcessingRow",
    "ReportScope",
    "processing_report",
    "processing_xlsx",
    "task_items",
    "tasks_export",
    "tasks_xlsx",
]
