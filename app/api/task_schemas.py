"""Response bodies of the tasks, reports and notifications API (also the OpenAPI schemas)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from pydantic import BaseModel, Field

from docflow.models import Notification, Task, TaskAttachment, Unit, User
from docflow.reports import ProcessingReport, ProcessingRow
from docflow.tasks import TaskState, TaskView, TrailStep


class NameRef(BaseModel):
    id: uuid.UUID
    name: str


class PartyOut(BaseModel):
    """A unit and/or a person: the lead person comes with their unit."""

    unit: NameRef | None = None
    user: NameRef | None = None


def _unit(unit: Unit | None) -> NameRef | None:
    return NameRef(id=unit.id, name=unit.name) if unit else None


def _user(user: User | None) -> NameRef | None:
    return NameRef(id=user.id, name=user.full_name) if user else None


class TaskFileOut(BaseModel):
    id: uuid.UUID
    name: str
    size: int
    sha256: str
    content_type: str
    trail_seq: int
    created_at: dt.datetime
    text_status: Literal["none", "pending", "done", "failed"] = Field(
        description="Đọc nội dung tệp (tìm kiếm theo nội dung): none | pending | done | failed"
    )

    @classmethod
    def of(cls, f: TaskAttachment) -> TaskFileOut:
        return cls(
            id=f.id,
            name=f.filename,
            size=f.size,
            sha256=f.sha256,
            content_type=f.content_type,
            trail_seq=f.trail_seq,
            created_at=f.created_at,
            text_status=f.text_status,  # type: ignore[arg-type]
        )


class PendingExtensionOut(BaseModel):
    new_due_date: dt.date
    reason: str | None
    requested_by_id: uuid.UUID | None
    decider: NameRef | None


class TaskSummaryOut(BaseModel):
    """A task in a list: what a follow-up view needs, derived deadline facts included."""

    id: uuid.UUID
    parent_id: uuid.UUID | None
    title: str
    priority: str
    state: str
    state_label: str
    assigner: NameRef
    lead: PartyOut
    due_date: dt.date
    progress: int
    is_overdue: bool = Field(description="Còn mở và đã quá hạn ít nhất một ngày làm việc.")
    days_late: int = Field(description="Số ngày làm việc quá hạn (0 nếu đúng hạn).")
    days_left: int | None = Field(description="Số ngày làm việc còn lại đến hạn.")
    done_late: bool | None = Field(description="Đã hoàn thành nhưng sau hạn (khi đã xong).")
    pending_extension: bool
    created_at: dt.datetime

    @classmethod
    def of(cls, view: TaskView) -> TaskSummaryOut:
        t = view.task
        return cls(**_summary(view, t))


def _summary(view: TaskView, t: Task) -> dict[str, Any]:
    return {
        "id": t.id,
        "parent_id": t.parent_id,
        "title": t.title,
        "priority": t.priority,
        "state": t.state,
        "state_label": TaskState(t.state).label,
        "assigner": NameRef(id=t.assigner.id, name=t.assigner.full_name),
        "lead": PartyOut(unit=_unit(t.lead_unit), user=_user(t.lead_user)),
        "due_date": t.due_date,
        "progress": t.progress,
        "is_overdue": view.status.is_overdue,
        "days_late": view.status.days_late,
        "days_left": view.status.days_left,
        "done_late": view.status.done_late,
        "pending_extension": t.extension_due_date is not None,
        "created_at": t.created_at,
    }


class TaskOut(TaskSummaryOut):
    """One task (API.md §5), with what the caller may do now."""

    organization_id: uuid.UUID
    document_id: uuid.UUID | None = Field(
        description="Văn bản gốc của nhiệm vụ; null khi người đọc không được xem văn bản đó."
    )
    description: str
    cooperating: list[PartyOut]
    original_due_date: dt.date
    children_progress: int | None = Field(description="Tiến độ bình quân của các việc con.")
    extension: PendingExtensionOut | None
    started_at: dt.datetime | None
    submitted_on: dt.date | None
    completed_at: dt.datetime | None
    cancelled_at: dt.datetime | None
    files: list[TaskFileOut]
    subtasks: list[TaskSummaryOut]
    allowed_actions: list[str]

    @classmethod
    def of(cls, view: TaskView) -> TaskOut:
        t = view.task
        ext = None
        if t.extension_due_date is not None:
            ext = PendingExtensionOut(
                new_due_date=t.extension_due_date,
                reason=t.extension_reason,
                requested_by_id=t.extension_requested_by_id,
                decider=(
                    NameRef(id=view.extension_decider.id, name=view.extension_decider.name)
                    if view.extension_decider
                    else None
                ),
            )
        return cls(
            **_summary(view, t),
            organization_id=t.organization_id,
            document_id=view.document_id,
            description=t.description,
            cooperating=[PartyOut(unit=_unit(c.unit), user=_user(c.user)) for c in t.cooperators],
            original_due_date=t.original_due_date,
            children_progress=view.children_progress,
            extension=ext,
            started_at=t.started_at,
            submitted_on=t.submitted_on,
            completed_at=t.completed_at,
            cancelled_at=t.cancelled_at,
            files=[TaskFileOut.of(f) for f in t.attachments],
            subtasks=[TaskSummaryOut.of(c) for c in view.children],
            allowed_actions=[a.value for a in view.allowed_actions],
        )


class TaskPage(BaseModel):
    items: list[TaskSummaryOut]
    next_cursor: str | None


class TaskTrailOut(BaseModel):
    seq: int
    actor: NameRef | None
    unit: NameRef | None
    on_behalf_of: NameRef | None
    competence: str | None
    action: str
    from_state: str | None
    to_state: str
    comment: str | None
    details: dict[str, Any]
    files: list[TaskFileOut]
    at: dt.datetime

    @classmethod
    def of(cls, step: TrailStep) -> TaskTrailOut:
        e = step.entry
        return cls(
            seq=e.seq,
            actor=NameRef(id=e.actor_id, name=e.actor_name) if e.actor_id else None,
            unit=NameRef(id=e.unit_id, name=e.unit_name or "") if e.unit_id else None,
            on_behalf_of=(
                NameRef(id=e.on_behalf_of_id, name=e.on_behalf_of_name or "")
                if e.on_behalf_of_id
                else None
            ),
            competence=e.competence,
            action=e.action,
            from_state=e.from_state,
            to_state=e.to_state,
            comment=e.comment,
            details=e.details,
            files=[TaskFileOut.of(f) for f in step.files],
            at=e.at,
        )


class TaskTrailList(BaseModel):
    items: list[TaskTrailOut]


class ProcessingRowOut(BaseModel):
    group: NameRef | None
    received: int = Field(description="Được giao trong kỳ.")
    done_on_time: int = Field(description="Hoàn thành trong kỳ, đúng hạn.")
    done_late: int = Field(description="Hoàn thành trong kỳ, quá hạn.")
    open: int = Field(description="Chưa hoàn thành cuối kỳ, còn hạn.")
    overdue: int = Field(description="Chưa hoàn thành cuối kỳ, đã quá hạn.")

    @classmethod
    def of(cls, row: ProcessingRow) -> ProcessingRowOut:
        return cls(
            group=NameRef(id=row.id, name=row.name) if row.id else None,
            received=row.received,
            done_on_time=row.done_on_time,
            done_late=row.done_late,
            open=row.open,
            overdue=row.overdue,
        )


class ProcessingReportOut(BaseModel):
    """API.md §6: received, done on time, done late, open, overdue, per unit or person."""

    model_config = {"populate_by_name": True}

    date_from: dt.date = Field(alias="from")
    date_to: dt.date = Field(alias="to")
    as_of: dt.date = Field(description="Ngày tính tình trạng còn hạn / quá hạn.")
    group_by: str
    items: list[ProcessingRowOut]
    total: ProcessingRowOut

    @classmethod
    def of(cls, report: ProcessingReport) -> ProcessingReportOut:
        return cls.model_validate(
            {
                "from": report.date_from,
                "to": report.date_to,
                "as_of": report.as_of,
                "group_by": report.group_by.value,
                "items": [ProcessingRowOut.of(r) for r in report.rows],
                "total": ProcessingRowOut.of(report.total),
            }
        )


class NotificationOut(BaseModel):
    id: uuid.UUID
    kind: str
    title: str
    body: str
    link: str | None
    created_at: dt.datetime
    read_at: dt.datetime | None

    @classmethod
    def of(cls, n: Notification) -> NotificationOut:
        return cls(
            id=n.id,
            kind=n.kind,
            title=n.title,
            body=n.body,
            link=n.link,
            created_at=n.created_at,
            read_at=n.read_at,
        )


class NotificationPage(BaseModel):
    items: list[NotificationOut]
    next_cursor: str | None


class UnreadCountOut(BaseModel):
    unread: int = Field(description="Số thông báo chưa đọc (tối đa 100).")


class MarkedOut(BaseModel):
    marked: int
