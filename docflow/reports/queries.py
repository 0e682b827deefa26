"""What the report boxes, the gathering page and the exports read."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, or_, select

from docflow import audit
from docflow.actors import Actor
from docflow.errors import PermissionDeniedError, ValidationError
from docflow.models import Organization, ReportForm, ReportRequest, ReportSubmission
from docflow.pagination import Page, clamp_limit, decode_cursor, encode_cursor
from docflow.reports import policy
from docflow.reports.gather import FormResults, ResultRow, gather, resolve_period
from docflow.reports.prefill import system_figures
from docflow.reports.services import (
    ReportFormNotFoundError,
    effective_state,
    load_request,
)
from docflow.reports.states import (
    TO_FILL_STATES,
    ReportBox,
    RequestAction,
    RequestState,
    next_state,
)
from docflow.uow import UnitOfWork
from docflow.workdays import local_date


@dataclass(frozen=True)
class RequestView:
    id: uuid.UUID
    form_id: uuid.UUID
    form_title: str
    form_fields: list[dict[str, Any]]
    requested_by: str
    organization_id: uuid.UUID
    organization_name: str
    period: str
    period_start: dt.date
    period_end: dt.date
    deadline: dt.date
    state: RequestState
    version: int
    submitted_at: dt.datetime | None
    submitted_late: bool
    values: dict[str, Any]
    prefilled: dict[str, Any] = field(default_factory=dict)
    versions: list[dict[str, Any]] = field(default_factory=list)
    allowed_actions: list[str] = field(default_factory=list)
    approved_at: dt.datetime | None = None
    approved_by: str | None = None
    signed_pdf: bool = False
    overdue: bool = False


def _view(req: ReportRequest, today: dt.date, actor: Actor | None = None) -> RequestView:
    state = effective_state(req, today)
    actions: list[str] = []
    if actor is not None:
        own = req.organization_id == actor.organization_id
        requester = req.form.organization_id == actor.organization_id
        for action in (
            RequestAction.FILL,
            RequestAction.APPROVE,
            RequestAction.SUBMIT,
            RequestAction.CORRECT,
            RequestAction.RETURN,
        ):
            if next_state(state, action) is not None and policy.may_act(
                action, actor.effective_roles, own=own, requester=requester
            ):
                actions.append(action.value)
    return RequestView(
        req.id,
        req.form_id,
        req.form.title,
        req.form.fields,
        req.form.organization.name,
        req.organization_id,
        req.organization.name,
        req.period,
        req.period_start,
        req.period_end,
        req.deadline,
        state,
        req.version,
        req.submitted_at,
        req.submitted_late,
        dict(req.values),
        dict(req.prefilled),
        allowed_actions=actions,
        approved_at=req.approved_at,
        approved_by=req.approved_by.full_name if req.approved_by else None,
        signed_pdf=req.pdf_key is not None,
        overdue=state is not RequestState.SUBMITTED and req.deadline < today,
    )


def list_report_requests(
    uow: UnitOfWork,
    actor: Actor,
    *,
    box: ReportBox,
    limit: int | None = None,
    cursor: str | None = None,
) -> Page[RequestView]:
    """``to_fill``: the organisation's requests still to submit (open, late, returned), soonest
    deadline first; ``sent``: those it has submitted, latest first."""
    n = clamp_limit(limit)
    after = decode_cursor(cursor)
    with uow:
        s = uow.session
        today = local_date(uow.now())
        R = ReportRequest
        stmt = select(R).where(R.organization_id == actor.organization_id)
        if box is ReportBox.TO_FILL:
            stmt = stmt.where(R.state.in_([st.value for st in TO_FILL_STATES]))
            order = (R.deadline.asc(), R.id.asc())
            if after:
                try:
                    d, i = dt.date.fromisoformat(after[0]), uuid.UUID(after[1])
                except (ValueError, IndexError):
                    raise ValidationError.field(
                        "cursor", "Con trỏ phân trang không hợp lệ."
                    ) from None
                stmt = stmt.where(or_(R.deadline > d, and_(R.deadline == d, R.id > i)))
        else:
            stmt = stmt.where(R.state == RequestState.SUBMITTED.value)
            order = (R.deadline.desc(), R.id.desc())
            if after:
                try:
                    d, i = dt.date.fromisoformat(after[0]), uuid.UUID(after[1])
                except (ValueError, IndexError):
                    raise ValidationError.field(
                        "cursor", "Con trỏ phân trang không hợp lệ."
                    ) from None
                stmt = stmt.where(or_(R.deadline < d, and_(R.deadline == d, R.id < i)))
        rows = list(s.scalars(stmt.order_by(*order).limit(n + 1)))
        more = len(rows) > n
        rows = rows[:n]
        items = [_view(r, today, actor) for r in rows]
        nxt = encode_cursor([rows[-1].deadline.isoformat(), rows[-1].id]) if more else None
        return Page(items, nxt)


def get_report_request(uow: UnitOfWork, actor: Actor, request_id: uuid.UUID) -> RequestView:
    """One request with the figures the system would fill in now and every submitted version."""
    with uow:
        s = uow.session
        req = load_request(uow, actor, request_id)
        today = local_date(uow.now())
        view = _view(req, today, actor)
        if view.state in TO_FILL_STATES and req.organization_id == actor.organization_id:
            figures = system_figures(
                uow, req.organization_id, req.period_start, min(req.period_end, today)
            )
            prefilled = {
                f["key"]: figures.get(f["source"]) for f in req.form.fields if f.get("source")
            }
        else:
            prefilled = dict(req.prefilled)
        versions = [
            {
                "version": v.version,
                "submitted_at": v.submitted_at,
                "values": v.values,
                "comment": v.comment,
                "signed_pdf": v.pdf_key is not None,
            }
            for v in s.scalars(
                select(ReportSubmission)
                .where(ReportSubmission.request_id == req.id)
                .order_by(ReportSubmission.version.desc())
            )
        ]
        audit.record_read(
            uow, actor, "report_request.read", object_type="report_request", object_id=req.id
        )
        uow.commit()
        return RequestView(**{**view.__dict__, "prefilled": prefilled, "versions": versions})


def list_report_forms(uow: UnitOfWork, actor: Actor) -> list[ReportForm]:
    """The forms the actor's organisation asks for (newest first)."""
    with uow:
        return list(
            uow.session.scalars(
                select(ReportForm)
                .where(ReportForm.organization_id == actor.organization_id)
                .order_by(ReportForm.created_at.desc())
                .limit(200)
            )
        )


def form_results(
    uow: UnitOfWork, actor: Actor, form_id: uuid.UUID, *, period: str | None = None
) -> FormResults:
    """Who has submitted, who is late, who has not; the values per organisation (their latest
    submitted version) and the totals over the submitted ones."""
    with uow:
        s = uow.session
        form = s.get(ReportForm, form_id)
        if form is None or not policy.in_subtree(actor.organization_path, form.organization.path):
            raise ReportFormNotFoundError()
        if not policy.may_read_results(
            actor.effective_roles,
            reader_path=actor.organization_path,
            form_org_path=form.organization.path,
        ):
            raise PermissionDeniedError(
                "Bạn không có quyền xem tổng hợp báo cáo này.", code="report_results_forbidden"
            )
        today = local_date(uow.now())
        key = resolve_period(form, period, today)
        results = gather(s, form, key, today)
        audit.record_read(
            uow,
            actor,
            "report_form.results_read",
            object_type="report_form",
            object_id=form.id,
            period=key,
        )
        uow.commit()
        return results


def organization_name(uow: UnitOfWork, organization_id: uuid.UUID) -> str:
    with uow:
        org = uow.session.get(Organization, organization_id)
        return org.name if org else ""


__all__ = [
    "FormResults",
    "RequestView",
    "ResultRow",
    "form_results",
    "get_report_request",
    "list_report_forms",
    "list_report_requests",
]
