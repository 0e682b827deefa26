"""Commands of citizen feedback (API.md §7), validated before anything is stored.

The public form and ``POST /public/feedback`` parse into :class:`SubmitFeedback`; an officer's
move arrives as ``{"action": "<name>", …parameters}`` and :class:`FeedbackActionRequest` picks
the command by its ``action`` field, so each action accepts exactly its own parameters.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Annotated, Literal

from pydantic import Field, RootModel, StringConstraints, field_validator, model_validator

from docflow.commands import Command
from docflow.feedback.states import Complexity

MAX_CONTENT = 5000
Content = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=10, max_length=MAX_CONTENT)
]
AGENCY_CODE = r"^\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}$"  # the axis identifier
Short = Annotated[str, StringConstraints(strip_whitespace=True, max_length=150)]
Text = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_CONTENT)
]
Comment = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]

EMAIL = re.compile(r"^[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+$")


def normalise_phone(value: str) -> str:
    """Digits only, a leading +84 as 0: the key of the per-phone limit."""
    digits = re.sub(r"[\s.\-()]", "", value)
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    elif digits.startswith("84") and len(digits) == 11:
        digits = "0" + digits[2:]
    return digits


class Sender(Command):
    """The sender's optional details (all confidential)."""

    name: Short | None = None
    phone: Annotated[str, StringConstraints(strip_whitespace=True, max_length=20)] | None = None
    email: Annotated[str, StringConstraints(strip_whitespace=True, max_length=254)] | None = None
    address: Annotated[str, StringConstraints(strip_whitespace=True, max_length=255)] | None = None
    share_contact: bool = False

    @field_validator("name", "phone", "email", "address", mode="after")
    @classmethod
    def _blank_is_none(cls, v: str | None) -> str | None:
        return v or None

    @field_validator("phone", mode="after")
    @classmethod
    def _phone(cls, v: str | None) -> str | None:
        if v is None:
            return None
        phone = normalise_phone(v)
        if not re.fullmatch(r"0\d{8,10}", phone):
            raise ValueError("Số điện thoại không hợp lệ (ví dụ 0912345678).")
        return phone

    @field_validator("email", mode="after")
    @classmethod
    def _email(cls, v: str | None) -> str | None:
        if v is not None and not EMAIL.match(v):
            raise ValueError("Địa chỉ thư điện tử không hợp lệ.")
        return v


class SubmitFeedback(Sender):
    """What a citizen sends (the ``meta`` of ``POST /public/feedback``).

    ``website`` is the honeypot: a field people never see (hidden on the page, absent from the
    documentation of the form); a program that fills it is sent to quarantine.
    """

    organization_code: Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)]
    category: Short | None = None
    place: Short | None = None
    content: Content
    consent: bool = Field(
        json_schema_extra={"const": True},
        description="Đồng ý cho xử lý dữ liệu cá nhân (Nghị định 13/2023/NĐ-CP): phải là true.",
    )
    website: Annotated[str, StringConstraints(max_length=500)] | None = None

    @field_validator("consent")
    @classmethod
    def _consent(cls, v: bool) -> bool:
        if v is not True:
            raise ValueError(
                "Cần đồng ý cho phép xử lý dữ liệu cá nhân (Nghị định 13/2023/NĐ-CP) để gửi."
            )
        return v


class RegisterPaper(Sender):
    """A paper letter from the backup mailbox, typed in by an officer."""

    category: Short | None = None
    place: Short | None = None
    content: Content
    received_on: dt.date | None = None


class Accept(Command):
    action: Literal["accept"] = "accept"
    comment: Comment | None = None


class Reject(Command):
    action: Literal["reject"] = "reject"
    reason: Text


class Classify(Command):
    action: Literal["classify"] = "classify"
    complexity: Complexity
    category: Short | None = None
    in_scope: bool = True
    comment: Comment | None = None


class Assign(Command):
    action: Literal["assign"] = "assign"
    user_id: uuid.UUID
    comment: Comment | None = None


class Forward(Command):
    """To an organisation of the tree (``organization_id``) or a body outside (``agency``)."""

    action: Literal["forward"] = "forward"
    organization_id: uuid.UUID | None = None
    agency: Short | None = None
    comment: Comment | None = None
    # Outside the tree: a draft công văn (template) to the agency, linked to the item.
    draft_letter: bool = Field(
        default=True,
        description="Chuyển ra cơ quan ngoài: soạn dự thảo công văn (văn bản đi) từ phản ánh "
        "(mặc định có); false: chỉ ghi nhận việc chuyển.",
    )
    agency_code: (
        Annotated[str, StringConstraints(strip_whitespace=True, pattern=AGENCY_CODE)] | None
    ) = Field(default=None, description="Mã định danh của cơ quan ngoài (nơi nhận công văn).")
    signer_user_id: uuid.UUID | None = Field(
        default=None,
        description="Người ký công văn (lãnh đạo của tổ chức); mặc định: người chuyển nếu là "
        "lãnh đạo, nếu không thì lãnh đạo đầu tiên của tổ chức.",
    )

    @model_validator(mode="after")
    def _one_target(self) -> Forward:
        if (self.organization_id is None) == (not self.agency):
            raise ValueError("Chọn một tổ chức trong hệ thống, hoặc nhập tên cơ quan ngoài.")
        if self.organization_id is not None and (self.agency_code or self.signer_user_id):
            raise ValueError("Mã cơ quan và người ký chỉ dùng khi chuyển ra cơ quan ngoài.")
        return self


class Answer(Command):
    action: Literal["answer"] = "answer"
    text: Text


class Close(Command):
    action: Literal["close"] = "close"
    comment: Comment | None = None


class RequestExtension(Command):
    action: Literal["request_extension"] = "request_extension"
    working_days: int = Field(ge=1, le=20)
    reason: Text


class Release(Command):
    action: Literal["release"] = "release"
    comment: Comment | None = None


class Discard(Command):
    action: Literal["discard"] = "discard"
    comment: Comment | None = None


ActionCommand = (
    Accept
    | Reject
    | Classify
    | Assign
    | Forward
    | Answer
    | Close
    | RequestExtension
    | Release
    | Discard
)


class FeedbackActionRequest(RootModel[Annotated[ActionCommand, Field(discriminator="action")]]):
    """The body of ``POST /feedback/{id}/actions``: the action's name and its parameters."""


class MailboxSettings(Command):
    """An organisation's mailbox settings (categories, villages, retention)."""

    categories: list[Short] = Field(min_length=1, max_length=50)
    places: list[Short] = Field(default_factory=list, max_length=500)
    retention_days: int = Field(default=730, ge=30, le=3650)
    enabled: bool = True
