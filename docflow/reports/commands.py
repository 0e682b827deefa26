"""Validated inputs of the reports capability (API.md §7 "Periodic reports")."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from docflow.commands import exactly_one_of
from docflow.reports.states import FieldType, Period

KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
MAX_FIELDS = 60
MAX_TEXT = 4000
MAX_NUMBER = 10**12

# Figures the system fills itself (seed 004's deployment report): source → label.
SYSTEM_SOURCES: dict[str, str] = {
    "documents_received": "Văn bản đến",
    "documents_received_electronic": "Văn bản đến nhận điện tử",
    "documents_sent": "Văn bản đi đã phát hành",
    "documents_sent_electronic": "Văn bản đi gửi điện tử",
    "signed_digitally_percent": "Tỷ lệ văn bản đi ký số (%)",
    "users_active": "Người dùng hoạt động",
    "users_total": "Tổng số tài khoản",
    "tasks_received": "Nhiệm vụ được giao",
    "tasks_on_time_percent": "Tỷ lệ nhiệm vụ hoàn thành đúng hạn (%)",
    "feedback_received": "Phản ánh, kiến nghị tiếp nhận",
    "feedback_answered": "Phản ánh, kiến nghị đã trả lời",
    "feedback_on_time_percent": "Tỷ lệ phản ánh, kiến nghị trả lời đúng hạn (%)",
}


MAX_TABLE_ROWS = 50
MAX_TABLE_COLUMNS = 12


def _clean_label(v: str) -> str:
    v = v.strip()
    if not v or any(ord(c) < 32 for c in v):
        raise ValueError("Nhãn không hợp lệ.")
    return v


class TableRow(BaseModel):
    """A row of a fixed-row table: fixed by the form."""

    model_config = ConfigDict(extra="forbid")
    key: str = Field(pattern=KEY.pattern)
    label: str = Field(min_length=1, max_length=255)

    @field_validator("label")
    @classmethod
    def _label(cls, v: str) -> str:
        return _clean_label(v)


class TableColumn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: str = Field(pattern=KEY.pattern)
    label: str = Field(min_length=1, max_length=255)
    type: Literal["number", "text"]

    @field_validator("label")
    @classmethod
    def _label(cls, v: str) -> str:
        return _clean_label(v)


class FormField(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: str = Field(
        pattern=KEY.pattern, description="Mã trường: chữ thường, số, gạch dưới; bắt đầu bằng chữ."
    )
    label: str = Field(min_length=1, max_length=255)
    type: FieldType = Field(
        description="number, percent, text; table: bảng có dòng cố định (`rows`, `columns`); "
        "gathered: bảng tổng hợp của cấp dưới, hệ thống điền khi tổ chức báo cáo điền từ kết "
        "quả tổng hợp một mẫu của chính mình (`from_results`)."
    )
    source: Literal[tuple(SYSTEM_SOURCES)] | None = Field(  # type: ignore[valid-type]
        default=None,
        description="Số liệu hệ thống tự điền: " + ", ".join(SYSTEM_SOURCES) + ".",
    )
    rows: list[TableRow] | None = Field(
        default=None, min_length=1, max_length=MAX_TABLE_ROWS, description="Bảng: các dòng."
    )
    columns: list[TableColumn] | None = Field(
        default=None, min_length=1, max_length=MAX_TABLE_COLUMNS, description="Bảng: các cột."
    )

    @model_validator(mode="after")
    def _table(self) -> FormField:
        is_table = self.type is FieldType.TABLE
        if is_table != (self.rows is not None) or is_table != (self.columns is not None):
            raise ValueError("Trường bảng (và chỉ trường bảng) cần `rows` và `columns`.")
        if is_table:
            for items in (self.rows or [], self.columns or []):
                keys = [i.key for i in items]
                if len(set(keys)) != len(keys):
                    raise ValueError("Mã dòng hoặc mã cột của bảng bị trùng.")
        if self.source is not None and self.type not in (FieldType.NUMBER, FieldType.PERCENT):
            raise ValueError("Chỉ trường số hoặc phần trăm mới có nguồn số liệu hệ thống.")
        return self

    @field_validator("key")
    @classmethod
    def _key(cls, v: str) -> str:
        if not KEY.match(v):
            raise ValueError("Mã trường chỉ gồm chữ thường không dấu, số và gạch dưới.")
        return v

    @field_validator("label")
    @classmethod
    def _label(cls, v: str) -> str:
        v = v.strip()
        if not v or any(ord(c) < 32 for c in v):
            raise ValueError("Nhãn trường không hợp lệ.")
        return v

    @field_validator("source")
    @classmethod
    def _source(cls, v: str | None) -> str | None:
        if v is not None and v not in SYSTEM_SOURCES:
            raise ValueError("Nguồn số liệu không có trong hệ thống.")
        return v


class Recipients(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra=exactly_one_of("scope", "organization_ids")
    )
    scope: Literal["children"] | None = Field(
        default=None, description='"children": các tổ chức trực thuộc.'
    )
    organization_ids: list[uuid.UUID] | None = Field(default=None, min_length=1, max_length=5000)

    @model_validator(mode="after")
    def _one(self) -> Recipients:
        if (self.scope is None) == (self.organization_ids is None):
            raise ValueError('Chọn "scope": "children" hoặc danh sách "organization_ids".')
        if self.scope is not None and self.scope != "children":
            raise ValueError('Phạm vi nhận chỉ có "children".')
        if self.organization_ids is not None and not self.organization_ids:
            raise ValueError("Danh sách tổ chức báo cáo trống.")
        return self


class CreateReportForm(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1, max_length=255)
    fields: list[FormField] = Field(min_length=1, max_length=MAX_FIELDS)
    period: Period
    deadline_day: int | None = Field(
        default=None,
        ge=1,
        le=31,
        description="Hạn: ngày trong tháng (tháng, quý: 1–31) hoặc thứ trong tuần (tuần: 1–7).",
    )
    deadline: dt.date | None = Field(default=None, description="Hạn của báo cáo một lần.")
    recipients: Recipients

    @field_validator("title")
    @classmethod
    def _title(cls, v: str) -> str:
        v = v.strip()
        if not v or any(ord(c) < 32 for c in v):
            raise ValueError("Tiêu đề không hợp lệ.")
        return v

    @model_validator(mode="after")
    def _checks(self) -> CreateReportForm:
        keys = [f.key for f in self.fields]
        if len(set(keys)) != len(keys):
            raise ValueError("Mã trường bị trùng.")
        if self.period is Period.ONCE and self.deadline is None:
            raise ValueError("Báo cáo một lần cần hạn (deadline).")
        if self.period is Period.WEEKLY and self.deadline_day is not None and self.deadline_day > 7:
            raise ValueError("Hạn báo cáo tuần là thứ trong tuần (1–7).")
        return self


class FromResults(BaseModel):
    """Fill the report from the gathered results of one of the organisation's own forms (the
    province forwards what its communes reported up to the centre)."""

    model_config = ConfigDict(extra="forbid")
    form_id: uuid.UUID = Field(description="Một mẫu báo cáo của chính tổ chức báo cáo.")
    period: str | None = Field(
        default=None,
        max_length=16,
        description="Kỳ của mẫu đó (mặc định: kỳ cùng khóa với báo cáo này, nếu không thì kỳ "
        "hiện tại).",
    )


class FillReport(BaseModel):
    model_config = ConfigDict(extra="forbid")
    values: dict[str, Any] = Field(default_factory=dict, max_length=MAX_FIELDS)
    from_results: FromResults | None = Field(
        default=None,
        description="Điền từ kết quả tổng hợp: trường `gathered` nhận cả bảng; trường số, phần "
        "trăm, bảng cùng mã với trường của mẫu kia nhận tổng cộng (giá trị trong `values` được "
        "ưu tiên).",
    )
    comment: str | None = Field(default=None, max_length=2000)


class ApproveReport(BaseModel):
    model_config = ConfigDict(extra="forbid")
    comment: str | None = Field(default=None, max_length=2000)


class SubmitReport(BaseModel):
    model_config = ConfigDict(extra="forbid")
    values: dict[str, Any] | None = Field(
        default=None,
        max_length=MAX_FIELDS,
        description="Không bắt buộc; nếu có, phải trùng số liệu đã được lãnh đạo ký duyệt.",
    )
    comment: str | None = Field(default=None, max_length=2000)


class CorrectReport(BaseModel):
    model_config = ConfigDict(extra="forbid")
    comment: str = Field(min_length=1, max_length=2000, description="Lý do đính chính.")

    @field_validator("comment")
    @classmethod
    def _comment(cls, v: str) -> str:
        v = v.strip()
        if not v:
            raise ValueError("Cần nêu lý do đính chính.")
        return v


def check_values(fields: list[dict[str, Any]], values: dict[str, Any]) -> dict[str, Any]:
    """The values of a submission checked against the form's fields: returns the clean values
    or raises ValueError naming the field (key, message)."""
    by_key = {f["key"]: f for f in fields}
    clean: dict[str, Any] = {}
    for key, value in values.items():
        f = by_key.get(key)
        if f is None:
            raise FieldValueError(str(key)[:40], "Biểu mẫu không có trường này.")
        if value is None:
            clean[key] = None
            continue
        if f["type"] == FieldType.GATHERED:
            raise FieldValueError(
                key, "Bảng tổng hợp do hệ thống điền từ kết quả tổng hợp (from_results)."
            )
        if f["type"] == FieldType.TABLE:
            clean[key] = _check_table(key, f, value)
            continue
        clean[key] = _check_scalar(key, f["type"], value)
    return clean


def _check_scalar(key: str, kind: str, value: Any) -> Any:
    if kind == FieldType.TEXT:
        if not isinstance(value, str) or len(value) > MAX_TEXT:
            raise FieldValueError(key, f"Nội dung chữ, tối đa {MAX_TEXT} ký tự.")
        return value.replace("\x00", "")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FieldValueError(key, "Phải là một số.")
    if value != value or abs(value) > MAX_NUMBER:  # NaN, huge
        raise FieldValueError(key, "Số không hợp lệ.")
    if value < 0:
        raise FieldValueError(key, "Số không được âm.")
    if kind == FieldType.PERCENT and value > 100:
        raise FieldValueError(key, "Tỷ lệ phần trăm từ 0 đến 100.")
    return value


def _check_table(key: str, f: dict[str, Any], value: Any) -> dict[str, dict[str, Any]]:
    """``{row_key: {column_key: value}}``: only the form's rows and columns."""
    if not isinstance(value, dict):
        raise FieldValueError(key, "Bảng: {mã dòng: {mã cột: giá trị}}.")
    rows = {r["key"] for r in f.get("rows") or []}
    columns = {c["key"]: c["type"] for c in f.get("columns") or []}
    out: dict[str, dict[str, Any]] = {}
    for row_key, cells in value.items():
        if row_key not in rows:
            raise FieldValueError(f"{key}.{str(row_key)[:40]}", "Bảng không có dòng này.")
        if not isinstance(cells, dict):
            raise FieldValueError(f"{key}.{row_key}", "Dòng của bảng: {mã cột: giá trị}.")
        out_row: dict[str, Any] = {}
        for col_key, cell in cells.items():
            if col_key not in columns:
                raise FieldValueError(
                    f"{key}.{row_key}.{str(col_key)[:40]}", "Bảng không có cột này."
                )
            out_row[col_key] = (
                None
                if cell is None
                else _check_scalar(f"{key}.{row_key}.{col_key}", columns[col_key], cell)
            )
        out[row_key] = out_row
    return out


class FieldValueError(ValueError):
    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key
        self.message = message


__all__ = [
    "SYSTEM_SOURCES",
    "ApproveReport",
    "CorrectReport",
    "CreateReportForm",
    "FieldValueError",
    "FillReport",
    "FormField",
    "FromResults",
    "Recipients",
    "SubmitReport",
    "TableColumn",
    "TableRow",
    "check_values",
]
