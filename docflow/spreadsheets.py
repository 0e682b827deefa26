"""The one way every XLSX export of DHTN writes a cell (:func:`put`, :func:`row`).

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

Numbers and dates are written as such. New exports (of any capability: reports, dossiers,
feedback, the audit log) must write through these two functions.

A streamed (write-only) workbook is opened with :func:`streamed_workbook`: when an export stops
half way (a refusal, a failed query), its sheets are closed in order and their temporary files
removed, instead of being left to the garbage collector (which closes openpyxl's nested
generators in any order and leaves the temporary files behind).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell, WriteOnlyCell

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


@contextmanager
def streamed_workbook() -> Iterator[Workbook]:
    """A write-only workbook; if the block raises, its sheets are closed and their temporary
    files removed before the error goes on."""
    wb = Workbook(write_only=True)
    try:
        yield wb
    except BaseException:
        discard(wb)
        raise


def discard(wb: Workbook) -> None:
    """Close the sheets of a write-only workbook that will not be saved, and remove their
    temporary files."""
    for ws in wb.worksheets:
        with suppress(Exception):
            if not ws.closed:
                ws.close()
        writer = getattr(ws, "_writer", None)
        if writer is not None:
            with suppress(Exception):
                writer.cleanup()
