"""Commands of dossiers and file plans (API.md §7), validated before anything is stored."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StringConstraints, model_validator
from pydantic.config import JsonDict

from docflow.commands import Command, exactly_one_of
from docflow.enums import Secrecy

Code = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$"
    ),
]
Title = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=3, max_length=500, pattern=r"^[^\x00-\x08\x0b-\x1f\x7f]+$"
    ),
]
Comment = Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)]
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)]
Year = Annotated[int, Field(ge=2000, le=2100)]
#: Years of retention; None is permanent (vĩnh viễn).
Retention = Annotated[int | None, Field(ge=1, le=100)]


NOT_NULL: JsonDict = {"not": {"type": "null"}}


class OpenDossier(Command):
    """``POST /dossiers``. From a plan item (``plan_item_id``: code, title and unit come from it
    unless given; its retention and keeper always do, and a different ``retention_years`` is
    422: the plan the head approved is changed instead) or unplanned (code, title and
    ``retention_years`` required; ``null`` is permanent, so an absent field and ``null``
    differ)."""

    model_config = ConfigDict(
        # Inside an allOf, so that a client generator keeps the properties (see exactly_one_of).
        json_schema_extra={
            "allOf": [
                {
                    "anyOf": [
                        {"required": ["plan_item_id"], "properties": {"plan_item_id": NOT_NULL}},
                        {
                            "required": ["code", "title", "retention_years"],
                            "properties": {"code": NOT_NULL, "title": NOT_NULL},
                        },
                    ]
                }
            ]
        }
    )

    organization_id: uuid.UUID
    year: Year
    code: Code | None = None
    title: Title | None = None
    retention_years: Retention = None
    unit_id: uuid.UUID | None = None
    plan_item_id: uuid.UUID | None = None
    secrecy: Secrecy = Secrecy.NONE
    note: Note | None = None

    @model_validator(mode="after")
    def _planned_or_complete(self) -> OpenDossier:
        if self.plan_item_id is None and (
            self.code is None
            or self.title is None
            or "retention_years" not in self.model_fields_set
        ):
            raise ValueError(
                "Nhập số, ký hiệu, tiêu đề và thời hạn bảo quản của hồ sơ, "
                "hoặc chọn từ danh mục hồ sơ."
            )
        return self


class FileInto(Command):
    """``POST /dossiers/{id}/documents``: one document (API.md), a task, or several documents
    at once (``document_ids``, each decided separately)."""

    model_config = ConfigDict(
        json_schema_extra=exactly_one_of("document_id", "task_id", "document_ids")
    )

    document_id: uuid.UUID | None = None
    task_id: uuid.UUID | None = None
    document_ids: list[uuid.UUID] | None = Field(default=None, min_length=1, max_length=1000)

    @model_validator(mode="after")
    def _exactly_one(self) -> FileInto:
        given = [x for x in (self.document_id, self.task_id, self.document_ids) if x is not None]
        if len(given) != 1:
            raise ValueError(
                "Chọn một văn bản (document_id), một nhiệm vụ (task_id) hoặc danh sách văn bản (document_ids)."
            )
        return self


class DossierActionCommand(Command):
    """``POST /dossiers/{id}/actions``. ``reopen``, ``return`` and ``hold`` need a reason
    (``comment``):
    its absence is checked after visibility, permission and state (refusal order)."""

    action: Literal["close", "reopen", "transfer", "accept", "return", "hold", "release"]
    comment: Comment | None = None


class CreateFilePlan(Command):
    """``POST /file-plans``: an empty draft, or a copy of the previous year's plan."""

    organization_id: uuid.UUID
    year: Year
    copy_from_year: Year | None = None


class AddHeading(Command):
    code: Code
    title: Title
    unit_id: uuid.UUID | None = None


class AddPlanItem(Command):
    heading_id: uuid.UUID
    code: Code
    title: Title
    retention_years: Retention = None
    unit_id: uuid.UUID | None = None
    keeper_id: uuid.UUID | None = None
    note: Note | None = None


class FilePlanActionCommand(Command):
    action: Literal["approve"]
    comment: Comment | None = None


class ProposeDisposal(Command):
    """``POST /disposals``: the archive proposes to destroy archived dossiers past their
    retention."""

    dossier_ids: list[uuid.UUID] = Field(min_length=1, max_length=500)
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=4000)]


class DisposalActionCommand(Command):
    """``POST /disposals/{id}/actions``: the head approves or rejects."""

    action: Literal["approve", "reject"]
    comment: Comment | None = None
