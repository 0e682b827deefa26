"""Commands of the task flow (API.md §5), validated before anything is stored.

An action arrives as ``{"action": "<name>", …parameters}``; :class:`TaskActionRequest` picks the
command by its ``action`` field, so each action accepts exactly its own parameters.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, RootModel, StringConstraints, model_validator

from docflow.commands import Command, exactly_one_of
from docflow.tasks.states import Priority

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=500)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=20000)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
Comment = Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)]


class Party(Command):
    """A unit or a person (exactly one)."""

    model_config = ConfigDict(json_schema_extra=exactly_one_of("unit_id", "user_id"))

    unit_id: uuid.UUID | None = None
    user_id: uuid.UUID | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Party:
        if (self.unit_id is None) == (self.user_id is None):
            raise ValueError("Chọn một đơn vị hoặc một người.")
        return self


class Deadline(Command):
    """A deadline as a date, or as N working days from today (exactly one)."""

    model_config = ConfigDict(json_schema_extra=exactly_one_of("due_date", "due_in_working_days"))

    due_date: dt.date | None = None
    due_in_working_days: int | None = Field(default=None, ge=1, le=365)

    @model_validator(mode="after")
    def _one_deadline(self) -> Deadline:
        if (self.due_date is None) == (self.due_in_working_days is None):
            raise ValueError("Nhập hạn hoàn thành: một ngày, hoặc số ngày làm việc.")
        return self


class CreateTask(Deadline):
    """Giao nhiệm vụ: from a document or on its own."""

    title: Title
    description: Description = ""
    document_id: uuid.UUID | None = None
    lead: Party
    cooperating: list[Party] = Field(default_factory=list, max_length=50)
    priority: Priority = Priority.NORMAL


class CreateSubtask(Deadline):
    """A unit head hands part of the unit's task to a person of the unit (giao việc con)."""

    title: Title
    description: Description = ""
    lead: Party
    cooperating: list[Party] = Field(default_factory=list, max_length=50)
    priority: Priority | None = None


class Start(Command):
    action: Literal["start"] = "start"
    comment: Comment | None = None


class ReportProgress(Command):
    action: Literal["report_progress"] = "report_progress"
    percent: int = Field(ge=0, le=100)
    comment: Comment | None = None


class RequestExtension(Command):
    action: Literal["request_extension"] = "request_extension"
    new_due_date: dt.date
    reason: Text


class DecideExtension(Command):
    action: Literal["decide_extension"] = "decide_extension"
    approve: bool
    comment: Comment | None = None


class SubmitCompletion(Command):
    action: Literal["submit_completion"] = "submit_completion"
    comment: Text


class ApproveCompletion(Command):
    action: Literal["approve_completion"] = "approve_completion"
    comment: Comment | None = None


class RejectCompletion(Command):
    action: Literal["reject_completion"] = "reject_completion"
    comment: Comment | None = None


class Cancel(Command):
    action: Literal["cancel"] = "cancel"
    reason: Text


ActionCommand = (
    Start
    | ReportProgress
    | RequestExtension
    | DecideExtension
    | SubmitCompletion
    | ApproveCompletion
    | RejectCompletion
    | Cancel
)


class TaskActionRequest(RootModel[Annotated[ActionCommand, Field(discriminator="action")]]):
    """The body of ``POST /tasks/{id}/actions``: the action's name and its parameters."""
