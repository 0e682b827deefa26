"""The directory's commands: organisations, units, people, registers, delegations, the calendar.

The API parses JSON into these, the pages parse forms into the same ones, so a rule is written
once. Error messages are Vietnamese; the field name is the key.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

from pydantic import (
    BeforeValidator,
    Field,
    StringConstraints,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from docflow.commands import Command, NotNull
from docflow.directory.orgcodes import is_valid_code, normalise_code
from docflow.enums import Direction, HolidayKind, OrgLevel, Role, Secrecy

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
Abbr = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=32, pattern=r"^[^\s/]+$"),
]
Username = Annotated[
    str,
    BeforeValidator(lambda v: v.strip().lower() if isinstance(v, str) else v),
    StringConstraints(min_length=2, max_length=64, pattern=r"^[a-z0-9._-]+$"),
    # Typed any case, stored in lower case; the published schema says what is accepted as sent.
    WithJsonSchema(
        {
            "type": "string",
            "minLength": 2,
            "maxLength": 64,
            "pattern": r"^\s*[A-Za-z0-9._-]{2,64}\s*$",
            "description": "Chữ, số, «.», «_», «-»; chữ hoa được đổi thành chữ thường.",
        }
    ),
]
Phone = Annotated[str | None, StringConstraints(strip_whitespace=True, max_length=32)]
Password = Annotated[str, StringConstraints(min_length=10, max_length=256)]
OptText = Annotated[str | None, StringConstraints(strip_whitespace=True, max_length=255)]


class CodeMixin(Command):
    code: str = Field(
        description="Mã định danh, dạng 000.00.00.A00 (chữ thường được đổi thành chữ hoa)",
        json_schema_extra={"pattern": r"^\s*[0-9]{3}\.[0-9]{2}\.[0-9]{2}\.[A-Za-z][0-9]{2}\s*$"},
    )

    @field_validator("code")
    @classmethod
    def _check_code(cls, v: str) -> str:
        v = normalise_code(v)
        if not is_valid_code(v):
            raise ValueError("Mã định danh phải có dạng 000.00.00.A00 (13 ký tự).")
        return v


class CreateOrganization(CodeMixin):
    parent_id: uuid.UUID | None = None
    level: OrgLevel
    name: Name
    abbreviation: Abbr
    address: OptText = None
    email: OptText = None
    phone: Phone = None


class UpdateOrganization(Command):
    """Fields left out stay as they are; ``null`` clears only what may be empty."""

    name: NotNull[Name] = None
    abbreviation: NotNull[Abbr] = None
    address: OptText = None
    email: OptText = None
    phone: Phone = None
    active: NotNull[bool] = None


class CreateUnit(Command):
    organization_id: uuid.UUID
    parent_id: uuid.UUID | None = None
    name: Name
    abbreviation: Abbr


class UpdateUnit(Command):
    """Fields left out stay as they are; ``parent_id: null`` makes it a top unit."""

    name: NotNull[Name] = None
    abbreviation: NotNull[Abbr] = None
    parent_id: uuid.UUID | None = None
    active: NotNull[bool] = None


class CreateUser(Command):
    organization_id: uuid.UUID
    unit_id: uuid.UUID | None = None
    username: Username
    full_name: Name
    position: OptText = None
    email: OptText = None
    phone: Phone = None
    password: Password
    roles: list[Role] = Field(default_factory=list)
    clearance: Secrecy = Secrecy.NONE


class UpdateUser(Command):
    """Fields left out stay as they are; ``null`` clears only what may be empty."""

    unit_id: uuid.UUID | None = None
    full_name: NotNull[Name] = None
    position: OptText = None
    email: OptText = None
    phone: Phone = None
    roles: NotNull[list[Role]] = None
    clearance: NotNull[Secrecy] = None
    active: NotNull[bool] = None


class SetPassword(Command):
    password: Password


class ChangeOwnPassword(Command):
    current_password: str
    new_password: Password


class CreateRegister(Command):
    organization_id: uuid.UUID
    direction: Direction
    year: int = Field(ge=2000, le=2100)
    name: Name
    secret_series: bool = False


class CreateDelegation(Command):
    """Ủy quyền: vai trò người ủy quyền đang giữ (không có quản trị), cho người cùng tổ chức;
    quyền lãnh đạo đơn vị chỉ cho người cùng đơn vị. Khi dùng, chỉ còn hiệu lực với vai trò mà
    người ủy quyền vẫn đang giữ; dấu vết ghi cả hai tên (người làm và người được thay)."""

    delegator_id: uuid.UUID
    delegate_id: uuid.UUID
    roles: list[Role] = Field(min_length=1)
    competence: Annotated[str, StringConstraints(pattern=r"^(TUQ\.|KT\.|TL\.|TM\.|Q\.)$")] = "TUQ."
    start_date: dt.date
    end_date: dt.date
    reason: OptText = None

    @model_validator(mode="after")
    def _dates(self) -> CreateDelegation:
        if self.end_date < self.start_date:
            raise ValueError("Ngày kết thúc phải sau ngày bắt đầu.")
        if self.delegator_id == self.delegate_id:
            raise ValueError("Không thể ủy quyền cho chính mình.")
        return self


class SetHoliday(Command):
    day: dt.date
    name: Name
    kind: HolidayKind = HolidayKind.HOLIDAY


BULK_MAX = 200


class BulkUserAction(Command):
    """Một thao tác cho nhiều người cùng lúc (tối đa 200): khóa tài khoản (``deactivate``),
    mở lại (``activate``), chuyển đơn vị (``move_unit``, kèm ``unit_id`` cùng tổ chức) hoặc
    cấp lại mã kích hoạt (``reset_activation``: mật khẩu cũ hết hiệu lực). Tất cả hoặc không."""

    action: Literal["deactivate", "activate", "move_unit", "reset_activation"]
    user_ids: list[uuid.UUID] = Field(min_length=1, max_length=BULK_MAX)
    unit_id: uuid.UUID | None = None

    @model_validator(mode="after")
    def _unit(self) -> BulkUserAction:
        if self.action == "move_unit" and self.unit_id is None:
            raise ValueError("Chọn đơn vị để chuyển đến.")
        return self
