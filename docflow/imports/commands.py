"""The inputs of the directory import: the rows of a workbook as read (text, with their sheet
row), the problems found in them, and the activation of an imported account.

A row keeps its cells as text: the checks of :mod:`docflow.imports.policy` turn them into values
and report what is wrong with the sheet, row and column, in Vietnamese.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Annotated, Protocol

from pydantic import StringConstraints

from docflow.commands import Command

# Sheet names and columns: the key the code uses, and the Vietnamese header of the template.
SHEETS: dict[str, str] = {
    "organizations": "Tổ chức",
    "units": "Đơn vị",
    "users": "Người dùng",
}

COLUMNS: dict[str, dict[str, str]] = {
    "organizations": {
        "code": "Mã định danh",
        "parent_code": "Mã tổ chức cấp trên",
        "level": "Cấp",
        "name": "Tên tổ chức",
        "abbreviation": "Tên viết tắt",
        "address": "Địa chỉ",
        "email": "Thư điện tử",
        "phone": "Điện thoại",
    },
    "units": {
        "organization_code": "Mã tổ chức",
        "abbreviation": "Tên viết tắt",
        "name": "Tên đơn vị",
        "parent_abbreviation": "Đơn vị cấp trên (viết tắt)",
    },
    "users": {
        "username": "Tên đăng nhập",
        "full_name": "Họ và tên",
        "organization_code": "Mã tổ chức",
        "unit_abbreviation": "Đơn vị (viết tắt)",
        "position": "Chức vụ",
        "roles": "Vai trò",
        "clearance": "Độ mật",
        "email": "Thư điện tử",
        "phone": "Điện thoại",
        "active": "Hoạt động",
    },
}

REQUIRED: dict[str, tuple[str, ...]] = {
    "organizations": ("code", "level", "name", "abbreviation"),
    "units": ("organization_code", "abbreviation", "name"),
    "users": ("username", "full_name", "organization_code"),
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong in the file: where (sheet, row of the sheet, column key) and why."""

    sheet: str
    row: int
    column: str | None
    message: str
    file: str = ""  # the CSV file the row is in (empty for a workbook's sheet)

    def describe(self) -> str:
        if self.file:
            where = f"Tệp «{self.file}», dòng {self.row}"
        elif not self.sheet:
            where = "Tệp"
        else:
            where = f"Trang «{SHEETS.get(self.sheet, self.sheet)}» ({self.sheet}), dòng {self.row}"
        if self.column:
            header = COLUMNS.get(self.sheet, {}).get(self.column, self.column)
            where += f", cột «{header}» ({self.column})"
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class SheetRow:
    """A row as read: its number in the sheet and its cells (column key → stripped text)."""

    row: int
    cells: dict[str, str]

    def get(self, key: str) -> str:
        return self.cells.get(key, "")


@dataclass(frozen=True)
class DirectoryFile:
    """The three sheets of a workbook, and the problems found while reading it (missing
    sheets or columns)."""

    organizations: list[SheetRow] = field(default_factory=list)
    units: list[SheetRow] = field(default_factory=list)
    users: list[SheetRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)

    def rows(self, sheet: str) -> Iterator[SheetRow]:
        return iter(getattr(self, sheet))


class DirectoryRows(Protocol):
    """What the import reads: the problems of the file's shape (found when it was opened), the
    file each sheet came from (CSV files; empty for a workbook), and the rows of a sheet, read
    again from the start at each call (the import reads the people twice: check, then write,
    without keeping them)."""

    @property
    def problems(self) -> list[Problem]: ...

    @property
    def files(self) -> dict[str, str]: ...

    def rows(self, sheet: str) -> Iterator[SheetRow]: ...


class ActivateAccount(Command):
    """Kích hoạt tài khoản: tên đăng nhập, mã kích hoạt một lần và mật khẩu tự chọn."""

    username: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=64)]
    code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=4, max_length=64)]
    password: Annotated[str, StringConstraints(min_length=10, max_length=256)]


# ---------------------------------------------------------------- documents from old systems

# The manifest's columns: the key the code uses, and the Vietnamese header (either is accepted).
MANIFEST_COLUMNS: dict[str, str] = {
    "direction": "Văn bản đến/đi",
    "organization_code": "Mã tổ chức",
    "register": "Sổ văn bản",
    "year": "Năm",
    "number": "Số",
    "notation": "Số, ký hiệu",
    "type": "Loại văn bản",
    "subject": "Trích yếu",
    "issuer": "Cơ quan ban hành",
    "issued_date": "Ngày văn bản",
    "received_date": "Ngày đến/ban hành",
    "due_date": "Hạn xử lý",
    "urgency": "Độ khẩn",
    "secrecy": "Độ mật",
    "state": "Trạng thái",
    "handler": "Người xử lý",
    "files": "Tệp",
}
# More headers people write for the same columns.
MANIFEST_ALIASES: dict[str, str] = {
    "hướng": "direction",
    "loại sổ": "direction",
    "sổ": "register",
    "số đến": "number",
    "số đi": "number",
    "số đến/đi": "number",
    "số ký hiệu": "notation",
    "ký hiệu": "notation",
    "loại": "type",
    "doc_type": "type",
    "nơi gửi": "issuer",
    "tác giả": "issuer",
    "cơ quan gửi": "issuer",
    "date": "issued_date",
    "dates": "issued_date",
    "ngày ban hành": "received_date",
    "ngày đến": "received_date",
    "ngày vào sổ": "received_date",
    "registered_date": "received_date",
    "hạn": "due_date",
    "hạn giải quyết": "due_date",
    "tình trạng": "state",
    "người giải quyết": "handler",
    "tệp đính kèm": "files",
    "tệp tin": "files",
    "file": "files",
    "file names": "files",
}


@dataclass(frozen=True)
class FileSource:
    """A file of an imported document: its name (as the old system knew it) and a way to open
    it (a path in the import folder, or an edXML attachment); ``exists`` False when the manifest
    names a file the folder does not hold."""

    name: str
    open: Callable[[], IO[bytes]]
    exists: bool = True


@dataclass(frozen=True)
class ImportItem:
    """One document to bring in, as read: where it comes from (file, row), its cells as text
    (the keys of :data:`MANIFEST_COLUMNS`) and its files. ``identity`` is set by readers that
    know the document's own id (edXML); otherwise the register and number make it."""

    source: str
    row: int | None
    cells: dict[str, str]
    files: tuple[FileSource, ...] = ()
    identity: str | None = None
    problems: tuple[str, ...] = ()

    def get(self, key: str) -> str:
        return self.cells.get(key, "")


@dataclass(frozen=True)
class ItemOutcome:
    """What became of one item: ``imported``, ``skipped`` (already there) or ``refused``, with
    the reasons in Vietnamese."""

    item: ImportItem
    status: str
    reasons: tuple[str, ...] = ()
    document_id: str | None = None
    register: str = ""
    number: int | None = None
