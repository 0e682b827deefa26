"""Reading an old system's export: a manifest (``manifest.xlsx`` or ``manifest.csv``) beside
the files it names, row by row; and writing the report of an import (XLSX, streamed).

Nothing here holds the whole manifest: :func:`read_manifest` yields one
:class:`~docflow.imports.commands.ImportItem` per row (openpyxl's read-only mode for XLSX, the
``csv`` module for CSV), and :class:`ReportWriter` appends rows to a write-only workbook. Headers
are the column keys of :data:`~docflow.imports.commands.MANIFEST_COLUMNS` or their Vietnamese
names (case and spacing ignored); unknown columns are ignored; files are named relative to the
folder, separated by ``;``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from openpyxl import Workbook, load_workbook

from docflow.imports.commands import (
    MANIFEST_ALIASES,
    MANIFEST_COLUMNS,
    FileSource,
    ImportItem,
    ItemOutcome,
)
from docflow.imports.policy import split_files

MANIFEST_NAMES = ("manifest.xlsx", "manifest.csv")
STATUS_LABELS = {"imported": "Đã nhập", "skipped": "Bỏ qua (đã có)", "refused": "Từ chối"}


class ManifestError(Exception):
    """The folder has no readable manifest (or its header names no known column)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _norm(text: str) -> str:
    return " ".join(str(text).strip().lower().split())


_HEADERS = (
    {_norm(k): k for k in MANIFEST_COLUMNS}
    | {_norm(v): k for k, v in MANIFEST_COLUMNS.items()}
    | {_norm(k): v for k, v in MANIFEST_ALIASES.items()}
)


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def find_manifest(folder: Path) -> Path | None:
    for name in MANIFEST_NAMES:
        if (folder / name).is_file():
            return folder / name
    return None


def count_rows(path: Path) -> int:
    """How many data rows the manifest has (one streaming pass; for the progress bar)."""
    return sum(1 for _ in _raw_rows(path)) - 1 if path.exists() else 0


def _raw_rows(path: Path) -> Iterator[list[Any]]:
    if path.suffix.lower() == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as fh:
            sample = fh.read(4096)
            fh.seek(0)
            try:
                dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
            except csv.Error:
                dialect = csv.excel
            yield from csv.reader(fh, dialect)
        return
    wb = load_workbook(path, read_only=True, data_only=True)
    try:
        ws = wb["manifest"] if "manifest" in wb.sheetnames else wb.worksheets[0]
        for row in ws.iter_rows(values_only=True):
            yield list(row)
    finally:
        wb.close()


def _opener(path: Path) -> Any:
    def open_() -> IO[bytes]:
        return path.open("rb")

    return open_


def _file_source(folder: Path, name: str) -> FileSource:
    path = (folder / name).resolve()
    inside = path.is_relative_to(folder.resolve())
    return FileSource(name=name, open=_opener(path), exists=inside and path.is_file())


def read_manifest(folder: Path, manifest: Path | None = None) -> Iterator[ImportItem]:
    """The manifest's rows, one at a time (row numbers as the sheet shows them: header = 1)."""
    path = manifest or find_manifest(folder)
    if path is None:
        raise ManifestError(
            f"Thư mục {folder} không có manifest.xlsx hay manifest.csv (hay gói edXML)."
        )
    rows = _raw_rows(path)
    header = next(rows, None)
    if header is None:
        return
    keys = [_HEADERS.get(_norm(_cell_text(h))) for h in header]
    if not {"register", "number"} <= set(keys) and "direction" not in keys:
        raise ManifestError(
            f"Dòng tiêu đề của {path.name} không có cột nào đã biết "
            f"(ví dụ: {', '.join(MANIFEST_COLUMNS)})."
        )
    for index, raw in enumerate(rows, start=2):
        cells: dict[str, str] = {}
        for key, value in zip(keys, raw, strict=False):
            if key and key not in cells:
                cells[key] = _cell_text(value)
        if not any(cells.values()):
            continue
        files = tuple(_file_source(folder, n) for n in split_files(cells.get("files", "")))
        yield ImportItem(source=path.name, row=index, cells=cells, files=files)


def manifest_csv(rows: list[dict[str, str]], *, vietnamese: bool = True) -> str:
    """A manifest as CSV text (the README's example; tests write theirs by hand)."""
    out = io.StringIO()
    keys = list(MANIFEST_COLUMNS)
    writer = csv.writer(out)
    writer.writerow([MANIFEST_COLUMNS[k] if vietnamese else k for k in keys])
    for r in rows:
        writer.writerow([r.get(k, "") for k in keys])
    return out.getvalue()


class ReportWriter:
    """The final report of an import as XLSX, written as the import goes (write-only workbook:
    memory stays flat): one line per item, then a summary sheet."""

    HEADERS = (
        "Tệp nguồn",
        "Dòng",
        "Văn bản đến/đi",
        "Sổ văn bản",
        "Số",
        "Số, ký hiệu",
        "Kết quả",
        "Lý do",
        "Mã văn bản trong hệ thống",
    )

    def __init__(self) -> None:
        self.book = Workbook(write_only=True)
        self.sheet = self.book.create_sheet("Kết quả nhập")
        self.sheet.append(list(self.HEADERS))
        self.counts = {"imported": 0, "skipped": 0, "refused": 0}

    def add(self, outcome: ItemOutcome) -> None:
        item = outcome.item
        self.counts[outcome.status] = self.counts.get(outcome.status, 0) + 1
        self.sheet.append(
            [
                item.source,
                item.row,
                item.get("direction"),
                outcome.register or item.get("register"),
                outcome.number if outcome.number is not None else item.get("number"),
                item.get("notation"),
                STATUS_LABELS.get(outcome.status, outcome.status),
                "; ".join(outcome.reasons),
                outcome.document_id or "",
            ]
        )

    def save(self, path: Path, *, dry_run: bool = False) -> None:
        summary = self.book.create_sheet("Tổng hợp")
        summary.append(["Kết quả", "Số văn bản"])
        for status, n in self.counts.items():
            summary.append([STATUS_LABELS[status], n])
        if dry_run:
            summary.append(["Chạy thử: không ghi gì vào hệ thống.", None])
        self.book.save(path)
