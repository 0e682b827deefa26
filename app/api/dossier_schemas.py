"""Response bodies of dossiers and file plans (API.md §7; also the OpenAPI schemas)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from pydantic import BaseModel

from docflow.dossiers import DossierSummary, DossierView, EventView, FiledResult, ItemView
from docflow.dossiers.fileplan import PlanView


class DossierFileOut(BaseModel):
    id: uuid.UUID
    name: str
    kind: str
    version: int
    size: int
    sha256: str
    content_type: str


class DossierDocumentOut(BaseModel):
    """One entry of a dossier, in order: a document (``kind`` document) or a task."""

    position: int
    kind: str
    document_id: uuid.UUID | None
    task_id: uuid.UUID | None
    direction: str | None
    notation: str | None
    doc_type: str | None
    subject: str
    issuer: str | None
    date: dt.date | None
    secrecy: str
    page_count: int | None
    filed_at: dt.datetime
    files: list[DossierFileOut]

    @classmethod
    def of(cls, i: ItemView) -> DossierDocumentOut:
        return cls(
            position=i.position,
            kind=i.kind,
            document_id=i.document_id,
            task_id=i.task_id,
            direction=i.direction,
            notation=i.notation,
            doc_type=i.doc_type,
            subject=i.subject,
            issuer=i.issuer,
            date=i.date,
            secrecy=i.secrecy,
            page_count=i.page_count,
            filed_at=i.filed_at,
            files=[
                DossierFileOut(
                    id=f.id,
                    name=f.name,
                    kind=f.kind,
                    version=f.version,
                    size=f.size,
                    sha256=f.sha256,
                    content_type=f.content_type,
                )
                for f in i.files
            ],
        )


class RefusalOut(BaseModel):
    code: str
    message: str


class FiledResultOut(BaseModel):
    document_id: uuid.UUID
    ok: bool
    error: RefusalOut | None = None

    @classmethod
    def of(cls, r: FiledResult) -> FiledResultOut:
        err = RefusalOut(code=r.error.code, message=r.error.message) if r.error else None
        return cls(document_id=r.document_id, ok=r.ok, error=err)


class DossierOut(BaseModel):
    """A dossier. ``retention_years`` null = permanent (vĩnh viễn); ``retention_until`` is the
    last day it must be kept (null while open, and for permanent ones)."""

    id: uuid.UUID
    organization_id: uuid.UUID
    year: int
    code: str
    title: str
    state: str
    retention_years: int | None
    secrecy: str
    unit: dict[str, str] | None
    keeper: dict[str, str]
    planned: bool
    plan_item_id: uuid.UUID | None
    note: str | None
    start_date: dt.date | None
    end_date: dt.date | None
    page_count: int | None
    document_count: int
    created_at: dt.datetime
    closed_at: dt.datetime | None
    transferred_at: dt.datetime | None
    archived_at: dt.datetime | None
    retention_until: dt.date | None
    table_of_contents: list[str]
    documents: list[DossierDocumentOut]
    allowed_actions: list[str]
    results: list[FiledResultOut] | None = None

    @classmethod
    def of(cls, v: DossierView, results: list[FiledResult] | None = None) -> DossierOut:
        return cls(
            id=v.id,
            organization_id=v.organization_id,
            year=v.year,
            code=v.code,
            title=v.title,
            state=v.state.value,
            retention_years=v.retention_years,
            secrecy=v.secrecy,
            unit={"id": str(v.unit_id), "name": v.unit_name or ""} if v.unit_id else None,
            keeper={"id": str(v.keeper_id), "name": v.keeper_name},
            planned=v.planned,
            plan_item_id=v.plan_item_id,
            note=v.note,
            start_date=v.start_date,
            end_date=v.end_date,
            page_count=v.page_total,
            document_count=v.document_count,
            created_at=v.created_at,
            closed_at=v.closed_at,
            transferred_at=v.transferred_at,
            archived_at=v.archived_at,
            retention_until=v.retention_until,
            table_of_contents=(["docx"] if v.has_toc else []) + (["pdf"] if v.has_toc_pdf else []),
            documents=[DossierDocumentOut.of(i) for i in v.items],
            allowed_actions=[a.value for a in v.allowed_actions],
            results=[FiledResultOut.of(r) for r in results] if results is not None else None,
        )


class DossierSummaryOut(BaseModel):
    id: uuid.UUID
    year: int
    code: str
    title: str
    state: str
    retention_years: int | None
    unit_name: str | None
    keeper_name: str
    planned: bool
    secrecy: str
    end_date: dt.date | None
    transfer_due: dt.date | None

    @classmethod
    def of(cls, s: DossierSummary) -> DossierSummaryOut:
        return cls(
            id=s.id,
            year=s.year,
            code=s.code,
            title=s.title,
            state=s.state.value,
            retention_years=s.retention_years,
            unit_name=s.unit_name,
            keeper_name=s.keeper_name,
            planned=s.planned,
            secrecy=s.secrecy,
            end_date=s.end_date,
            transfer_due=s.transfer_due,
        )


class DossierPage(BaseModel):
    items: list[DossierSummaryOut]
    next_cursor: str | None


class DossierList(BaseModel):
    items: list[DossierSummaryOut]


class DossierEventOut(BaseModel):
    seq: int
    at: dt.datetime
    action: str
    label: str
    from_state: str | None
    to_state: str
    actor: str
    comment: str | None

    @classmethod
    def of(cls, e: EventView) -> DossierEventOut:
        return cls(
            seq=e.seq,
            at=e.at,
            action=e.action,
            label=e.label,
            from_state=e.from_state,
            to_state=e.to_state,
            actor=e.actor_name,
            comment=e.comment,
        )


class DossierEventList(BaseModel):
    items: list[DossierEventOut]


class PlanItemOut(BaseModel):
    id: uuid.UUID
    code: str
    title: str
    retention_years: int | None
    unit: dict[str, str] | None
    keeper: dict[str, str] | None
    note: str | None
    approved: bool
    dossier_id: uuid.UUID | None


class PlanHeadingOut(BaseModel):
    id: uuid.UUID
    code: str
    title: str
    unit_id: uuid.UUID | None
    items: list[PlanItemOut]


class FilePlanOut(BaseModel):
    """A file plan (danh mục hồ sơ); ``pending_changes`` counts items added after approval
    that wait for the head's approval."""

    id: uuid.UUID
    organization_id: uuid.UUID
    year: int
    state: str
    approved_at: dt.datetime | None
    approved_by: str | None
    pending_changes: int
    headings: list[PlanHeadingOut]
    allowed_actions: list[str]

    @classmethod
    def of(cls, p: PlanView) -> FilePlanOut:
        return cls(
            id=p.id,
            organization_id=p.organization_id,
            year=p.year,
            state=p.state,
            approved_at=p.approved_at,
            approved_by=p.approved_by,
            pending_changes=p.pending_changes,
            headings=[
                PlanHeadingOut(
                    id=h.id,
                    code=h.code,
                    title=h.title,
                    unit_id=h.unit_id,
                    items=[
                        PlanItemOut(
                            id=i.id,
                            code=i.code,
                            title=i.title,
                            retention_years=i.retention_years,
                            unit={"id": str(i.unit_id), "name": i.unit_name or ""}
                            if i.unit_id
                            else None,
                            keeper={"id": str(i.keeper_id), "name": i.keeper_name or ""}
                            if i.keeper_id
                            else None,
                            note=i.note,
                            approved=i.approved,
                            dossier_id=i.dossier_id,
                        )
                        for i in h.items
                    ],
                )
                for h in p.headings
            ],
            allowed_actions=list(p.allowed_actions),
        )


class FilePlanSummaryOut(BaseModel):
    id: uuid.UUID
    year: int
    state: str


class FilePlanList(BaseModel):
    items: list[FilePlanSummaryOut]


class DisposalOut(BaseModel):
    """A disposal (tiêu hủy): ``record`` is the disposal record once approved (each dossier,
    each document, each destroyed file's name, size and SHA-256)."""

    id: uuid.UUID
    state: str
    reason: str
    dossier_ids: list[uuid.UUID]
    proposed_at: dt.datetime
    decided_at: dt.datetime | None
    decision_comment: str | None
    record: dict[str, Any] | None

    @classmethod
    def of(cls, v: Any) -> DisposalOut:
        return cls(
            id=v.id,
            state=v.state,
            reason=v.reason,
            dossier_ids=[uuid.UUID(i) for i in v.dossier_ids],
            proposed_at=v.proposed_at,
            decided_at=v.decided_at,
            decision_comment=v.decision_comment,
            record=v.record,
        )


class DisposalList(BaseModel):
    items: list[DisposalOut]
