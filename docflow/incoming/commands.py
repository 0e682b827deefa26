"""Commands of the incoming flow (API.md §3), validated before anything is stored."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StringConstraints, model_validator

from docflow.commands import Command, at_most_one_of, exactly_one_of
from docflow.documents.commands import Comment, Text
from docflow.enums import Secrecy, Urgency


class IssuerRef(Command):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
    code: Annotated[str, StringConstraints(pattern=r"^\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}$")] | None = (
        None
    )


class RegisterIncoming(Command):
    """Register a received document (clerk): the fields of the incoming register."""

    model_config = ConfigDict(json_schema_extra=at_most_one_of("due_date", "due_in_working_days"))

    notation: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=64)]
    doc_type: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=8)]
    subject: Text
    issuer: IssuerRef
    issued_date: dt.date
    urgency: Urgency = Urgency.NORMAL
    secrecy: Secrecy = Secrecy.NONE
    due_date: dt.date | None = None
    due_in_working_days: int | None = Field(default=None, ge=1, le=365)
    page_count: int | None = Field(default=None, ge=1, le=100000)
    source: Literal["paper", "email", "internal", "axis"] = "paper"
    register_id: uuid.UUID | None = None
    recipients_text: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)] | None
    ) = None
    note: Comment | None = None
    confirm_duplicate: bool = Field(
        default=False,
        description=(
            "Gửi lại sau cảnh báo trùng (409 possible_duplicate). Chỉ văn bản người đăng ký xem"
            " được mới được xét trùng: văn bản có độ mật vượt mức được phép của họ được coi như"
            " không có (không chặn, không nêu tên)."
        ),
    )

    @model_validator(mode="after")
    def _one_deadline(self) -> RegisterIncoming:
        if self.due_date is not None and self.due_in_working_days is not None:
            raise ValueError("Chỉ nhập hạn giải quyết theo ngày hoặc theo số ngày làm việc.")
        return self


class Target(Command):
    """A unit or a person (exactly one)."""

    model_config = ConfigDict(json_schema_extra=exactly_one_of("unit_id", "user_id"))

    unit_id: uuid.UUID | None = None
    user_id: uuid.UUID | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Target:
        if (self.unit_id is None) == (self.user_id is None):
            raise ValueError("Chọn một đơn vị hoặc một người.")
        return self


class RegisterArrived(Command):
    register_id: uuid.UUID | None = None


class Reject(Command):
    reason: Text


class Submit(Command):
    to_user_id: uuid.UUID
    comment: Comment | None = None


class Assign(Command):
    model_config = ConfigDict(json_schema_extra=at_most_one_of("due_date", "due_in_working_days"))

    lead: Target
    cooperating: list[Target] = Field(default_factory=list, max_length=50)
    informed: list[Target] = Field(default_factory=list, max_length=200)
    due_date: dt.date | None = None
    due_in_working_days: int | None = Field(default=None, ge=1, le=365)
    comment: Comment | None = None

    @model_validator(mode="after")
    def _one_deadline(self) -> Assign:
        if self.due_date is not None and self.due_in_working_days is not None:
            raise ValueError("Chỉ nhập hạn giải quyết theo ngày hoặc theo số ngày làm việc.")
        return self


class NoParams(Command):
    pass


class Complete(Command):
    comment: Text
    reply_document_id: uuid.UUID | None = None


class Return(Command):
    comment: Text


class AddComment(Command):
    comment: Text


class AcceptRecall(Command):
    comment: Comment | None = None
