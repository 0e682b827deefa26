"""Reading the directory workbook and writing the template and the activation-code sheet
(openpyxl). Headers may be the column keys (``code``) or the template's Vietnamese headers
(``Mã định danh``); sheets may be named by key (``users``) or in Vietnamese (``Người dùng``).
Reading is streaming (read-only mode): memory grows with the rows kept, not the file's styles.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from zipfile import BadZipFile

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font
from openpyxl.utils.exceptions import InvalidFileException

from docflow import spreadsheets
from docflow.imports.commands import COLUMNS, REQUIRED, SHEETS, DirectoryFile, Problem, SheetRow

SAMPLE: dict[str, list[str]] = {
    "organizations": [
        "000.00.07.Z99",
        "000.00.00.Z01",
        "province",
        "Ủy ban MTTQ Việt Nam tỉnh Mẫu",
        "MTTQ",
        "Số 1 đường Mẫu, tỉnh Mẫu",
        "vanphong@mau.example",
        "0243 123 4567",
    ],
    "units": ["000.00.07.Z99", "VP", "Văn phòng", ""],
    "users": [
        "nguyen.van.mau",
        "Nguyễn Văn Mẫu",
        "000.00.07.Z99",
        "VP",
        "Chuyên viên",
        "specialist;clerk",
        "none",
        "mau@mau.example",
        "0912 345 678",
        "có",
    ],
}


def _norm(text: str) -> str:
    return " ".join(text.strip().lower().split())


def _aliases(sheet: str) -> dict[str, str]:
    cols = COLUMNS[sheet]
    out = {_norm(k): k for k in cols} | {_norm(v): k for k, v in cols.items()}
    if sheet == "units":
        out[_norm("parent unit")] = "parent_abbreviation"
        out[_norm("parent_unit")] = "parent_abbreviation"
    return out


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "có" if value else "không"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value).strip()


Opener = Callable[[], IO[bytes]]


def _opener(source: str | Path | IO[bytes] | bytes) -> Opener:
    if isinstance(source, bytes):
        data = source
        return lambda: io.BytesIO(data)
    if isinstance(source, str | Path):
        path = Path(source)
        return lambda: path.open("rb")
    stream = source
    content = stream.read()
    return lambda: io.BytesIO(content)


def _header_keys(
    sheet: str, header: Iterable[Any], problems: list[Problem], file: str = ""
) -> list[str | None] | None:
    aliases = _aliases(sheet)
    keys: list[str | None] = [aliases.get(_norm(_cell_text(h))) for h in header]
    missing = [req for req in REQUIRED[sheet] if req not in keys]
    for req in missing:
        problems.append(Problem(sheet, 1, req, "Thiếu cột bắt buộc.", file))
    return None if missing else keys


def _sheet_rows(keys: list[str | None], it: Iterable[Iterable[Any]]) -> Iterator[SheetRow]:
    for number, values in enumerate(it, start=2):
        cells = {
            key: _cell_text(v)
            for key, v in zip(keys, values, strict=False)
            if key is not None and v is not None
        }
        if any(cells.values()):
            yield SheetRow(number, {k: v for k, v in cells.items() if v})


class WorkbookRows:
    """A directory workbook read as a stream: the headers are checked when it is opened, and
    each call of :meth:`rows` reads one sheet again from the file (read-only mode), keeping
    nothing."""

    def __init__(
        self, source: str | Path | IO[bytes] | bytes, files: dict[str, str] | None = None
    ) -> None:
        self._open = _opener(source)
        self.problems: list[Problem] = []
        # A workbook made of CSV files (the page's upload) names them in its problems.
        self.files: dict[str, str] = dict(files or {})
        self._sheets: dict[str, tuple[str, list[str | None]]] = {}
        try:
            with self._open() as fh:
                wb = load_workbook(fh, read_only=True, data_only=True)
                try:
                    self._read_headers(wb)
                finally:
                    wb.close()
        except (InvalidFileException, BadZipFile, OSError, KeyError, ValueError) as exc:
            self.problems.append(
                Problem("", 0, None, f"Tệp không phải sổ tính Excel (.xlsx) đọc được ({exc}).")
            )

    def _read_headers(self, wb: Any) -> None:
        names = {_norm(n): n for n in wb.sheetnames}
        found = False
        for sheet, label in SHEETS.items():
            name = names.get(_norm(sheet)) or names.get(_norm(label))
            if name is None:
                continue
            found = True
            header = next(wb[name].iter_rows(values_only=True, max_row=1), None)
            if header is None:
                continue
            keys = _header_keys(sheet, header, self.problems)
            if keys is not None:
                self._sheets[sheet] = (name, keys)
        if not found:
            self.problems.append(
                Problem(
                    "",
                    0,
                    None,
                    "Sổ tính không có trang nào trong số: organizations, units, users.",
                )
            )

    def rows(self, sheet: str) -> Iterator[SheetRow]:
        if sheet not in self._sheets:
            return
        name, keys = self._sheets[sheet]
        with self._open() as fh:
            wb = load_workbook(fh, read_only=True, data_only=True)
            try:
                it = wb[name].iter_rows(values_only=True)
                next(it, None)
                yield from _sheet_rows(keys, it)
            finally:
                wb.close()


def sheet_of_csv(filename: str) -> str | None:
    """The sheet a CSV file holds, by its name: ``users.csv`` or ``Người dùng.csv``."""
    stem = _norm(Path(filename).stem)
    for sheet, label in SHEETS.items():
        if stem in (_norm(sheet), _norm(label)):
            return sheet
    return None


def _csv_dialect(line: str) -> str:
    return ";" if line.count(";") > line.count(",") else ","


class CsvRows:
    """The directory as CSV files, one per sheet (``organizations.csv``, ``units.csv``,
    ``users.csv``; the Vietnamese sheet names too), UTF-8 with or without a BOM, separated by
    commas (or semicolons, as a spreadsheet set to Vietnamese writes them), with the same
    headers as the workbook. Read as a stream, again at each call of :meth:`rows`; problems
    name the file."""

    def __init__(self, files: Iterable[tuple[str, str | Path | IO[bytes] | bytes]]) -> None:
        self.problems: list[Problem] = []
        self.files: dict[str, str] = {}
        self._sheets: dict[str, tuple[Opener, list[str | None], str]] = {}
        for filename, source in files:
            name = Path(filename).name
            sheet = sheet_of_csv(name)
            if sheet is None:
                self.problems.append(
                    Problem(
                        "",
                        0,
                        None,
                        f"Tệp «{name}»: tên tệp phải là organizations.csv, units.csv hoặc "
                        "users.csv.",
                    )
                )
                continue
            if sheet in self.files:
                self.problems.append(
                    Problem("", 0, None, f"Hai tệp cho cùng trang {sheet}: «{name}».")
                )
                continue
            self.files[sheet] = name
            opener = _opener(source)
            delimiter = self._check(opener, sheet, name)
            if delimiter is None:
                continue
            with self._text(opener) as text:
                header = next(csv.reader(text, delimiter=delimiter), None)
            if header is None:
                continue
            keys = _header_keys(sheet, header, self.problems, name)
            if keys is not None:
                self._sheets[sheet] = (opener, keys, delimiter)
        if not self.files and not self.problems:
            self.problems.append(
                Problem("", 0, None, "Không có tệp organizations.csv, units.csv hay users.csv.")
            )

    @staticmethod
    def _text(opener: Opener) -> io.TextIOWrapper:
        return io.TextIOWrapper(opener(), encoding="utf-8-sig", newline="")

    def _check(self, opener: Opener, sheet: str, name: str) -> str | None:
        """Read the whole file once (streaming) to find an encoding error before anything is
        checked; the separator, from the header line."""
        try:
            with self._text(opener) as text:
                first = text.readline()
                while text.read(1 << 16):
                    pass
        except UnicodeDecodeError as exc:
            self.problems.append(
                Problem(
                    sheet,
                    0,
                    None,
                    f"Tệp không phải văn bản UTF-8 (byte thứ {exc.start}); lưu lại dạng "
                    "«CSV UTF-8».",
                    name,
                )
            )
            return None
        except OSError as exc:
            self.problems.append(Problem(sheet, 0, None, f"Không đọc được tệp ({exc}).", name))
            return None
        return _csv_dialect(first)

    def rows(self, sheet: str) -> Iterator[SheetRow]:
        if sheet not in self._sheets:
            return
        opener, keys, delimiter = self._sheets[sheet]
        with self._text(opener) as text:
            it = csv.reader(text, delimiter=delimiter)
            next(it, None)
            yield from _sheet_rows(keys, it)


def csv_workbook(rows: CsvRows) -> bytes:
    """The CSV files as one workbook (write-only, streamed), each record on the row it had,
    cells as text: what the page stores between the preview and the confirmation."""
    wb = Workbook(write_only=True)
    for sheet in COLUMNS:
        if sheet not in rows._sheets:
            continue
        opener, _keys, delimiter = rows._sheets[sheet]
        ws = wb.create_sheet(sheet)
        with rows._text(opener) as text:
            for record in csv.reader(text, delimiter=delimiter):
                ws.append(record)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def csv_files_in(folder: str | Path) -> list[tuple[str, Path]]:
    """The directory's CSV files in a folder (by name, as :class:`CsvRows` takes them)."""
    return sorted(
        (p.name, p)
        for p in Path(folder).iterdir()
        if p.is_file() and p.suffix.lower() == ".csv" and sheet_of_csv(p.name)
    )


def open_directory(
    source: str | Path | bytes | Sequence[str | Path],
) -> WorkbookRows | CsvRows:
    """The directory to import, read as a stream: a workbook (path or bytes), a folder of CSV
    files, or the CSV files themselves."""
    if isinstance(source, str | Path) and Path(source).is_dir():
        return CsvRows(csv_files_in(source))
    if isinstance(source, str | Path) and Path(source).suffix.lower() == ".csv":
        return CsvRows([(Path(source).name, Path(source))])
    if isinstance(source, str | Path | bytes):
        return WorkbookRows(source)
    paths = [Path(p) for p in source]
    if len(paths) == 1 and paths[0].suffix.lower() != ".csv":
        return open_directory(paths[0])
    return CsvRows([(p.name, p) for p in paths])


def read_directory(source: str | Path | IO[bytes] | bytes) -> DirectoryFile:
    """The rows of the three sheets (absent sheets are empty), with the problems of the file's
    shape (not a workbook, a required column missing), all in memory (small files, tests)."""
    rows = WorkbookRows(source)
    return DirectoryFile(
        organizations=list(rows.rows("organizations")),
        units=list(rows.rows("units")),
        users=list(rows.rows("users")),
        problems=rows.problems,
    )


def _sheet_book(sheets: Iterable[tuple[str, list[str], Iterable[list[str]]]]) -> bytes:
    wb = Workbook(write_only=False)
    wb.remove(wb.active)
    for title, headers, rows in sheets:
        ws = wb.create_sheet(title)
        ws.append(headers)
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in rows:
            ws.append(row)
        for i, h in enumerate(headers, start=1):
            ws.column_dimensions[ws.cell(1, i).column_letter].width = max(14, len(h) + 4)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def template_xlsx() -> bytes:
    """The template: one sheet per kind, named by key, Vietnamese headers, one sample row
    (fictitious: code with the letter Z), and a sheet explaining the values."""
    sheets = [(sheet, list(COLUMNS[sheet].values()), [SAMPLE[sheet]]) for sheet in COLUMNS]
    help_rows = [
        ["Cấp", "central, province, commune, village (hoặc: Trung ương, Tỉnh, Xã, Thôn)"],
        [
            "Vai trò",
            "Cách nhau bởi «;»: admin, clerk, leader, unit_head, specialist, "
            "feedback_officer, archivist (hoặc tên tiếng Việt: Quản trị; Văn thư; …)",
        ],
        [
            "Độ mật",
            "none, confidential, secret, top_secret (hoặc: Thường, Mật, Tối mật, Tuyệt mật)",
        ],
        ["Hoạt động", "có / không (để trống: có)"],
        ["Mã định danh", "Dạng 000.00.00.A00 (13 ký tự)"],
        [
            "Quyền cao",
            "Vai trò quản trị và độ mật cao hơn hiện có không áp dụng ngay: "
            "thành đề nghị chờ quản trị viên thứ hai phê duyệt.",
        ],
        ["Mật khẩu", "Không ghi mật khẩu: người dùng mới nhận mã kích hoạt dùng một lần."],
    ]
    sheets.append(("Hướng dẫn", ["Mục", "Giá trị chấp nhận"], help_rows))
    return _sheet_book(sheets)


@dataclass(frozen=True)
class ActivationLine:
    username: str
    full_name: str
    organization_code: str
    code: str
    link: str | None
    expires_at: dt.datetime


ACTIVATION_HEADERS = [
    "Tên đăng nhập",
    "Họ và tên",
    "Mã tổ chức",
    "Mã kích hoạt",
    "Liên kết",
    "Hết hạn",
]


def _activation_row(ln: ActivationLine) -> list[str]:
    return [
        ln.username,
        ln.full_name,
        ln.organization_code,
        ln.code,
        ln.link or "",
        ln.expires_at.strftime("%Y-%m-%d %H:%M UTC"),
    ]


def activations_xlsx(lines: Iterable[ActivationLine]) -> bytes:
    """The sheet the admin hands out when no e-mail is configured: one line per new account."""
    return _sheet_book([("Mã kích hoạt", ACTIVATION_HEADERS, map(_activation_row, lines))])


class ActivationSheet:
    """The same sheet written as the import goes (openpyxl write-only: rows go to a temporary
    file, not memory), for imports of any size: ``add`` each line, ``save`` at the end."""

    def __init__(self) -> None:
        self._wb = Workbook(write_only=True)
        self._ws = self._wb.create_sheet("Mã kích hoạt")
        self._ws.append(ACTIVATION_HEADERS)
        self.count = 0
        self._saved = False

    def add(self, line: ActivationLine) -> None:
        self._ws.append(_activation_row(line))
        self.count += 1

    def save(self, path: str | Path) -> None:
        self._wb.save(str(path))
        self._saved = True

    def discard(self) -> None:
        """Drop the sheet if it was not saved (nothing to hand out, a dry run, an error)."""
        if not self._saved:
            spreadsheets.discard(self._wb)
            self._saved = True
