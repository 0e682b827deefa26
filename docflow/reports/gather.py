"""Gathering one period of a form: who has submitted, who is late, who has not started, each
organisation's latest submitted values and the totals (numbers: sums; percentages: averages of
those given; fixed-row tables: sums per cell of the number columns).

No reader checks here: :func:`docflow.reports.queries.form_results` (the gathering page) and
:func:`docflow.reports.services.fill_report` (forwarding up) decide who may gather.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from docflow.errors import ValidationError
from docflow.models import ReportForm, ReportRequest, ReportSubmission
from docflow.reports.periods import parse_period_key, period_of
from docflow.reports.processing import fold
from docflow.reports.states import FieldType, Period, RequestState
from docflow.workdays import local_date


@dataclass(frozen=True)
class ResultRow:
    organization_id: uuid.UUID
    organization_name: str
    request_id: uuid.UUID | None
    state: str  # open | late | filled | approved | submitted | returned
    submitted_at: dt.datetime | None
    submitted_late: bool
    values: dict[str, Any]  # the latest submitted version's (kept during a correction)
    version: int = 0
    overdue: bool = False  # not submitted and past the deadline


@dataclass(frozen=True)
class FormResults:
    form: ReportForm
    period: str
    deadline: dt.date
    rows: list[ResultRow]
    totals: dict[str, Any]
    counts: dict[str, int]  # per state, plus "overdue"


def _number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def totals_of(fields: list[dict[str, Any]], rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The totals of the submitted values ``rows`` (one dict per organisation)."""
    totals: dict[str, Any] = {}
    for f in fields:
        key = f["key"]
        given = [r[key] for r in rows if _number(r.get(key))]
        if f["type"] == FieldType.NUMBER:
            totals[key] = sum(given)
        elif f["type"] == FieldType.PERCENT:
            totals[key] = round(sum(given) / len(given), 1) if given else None
        elif f["type"] == FieldType.TABLE:
            table: dict[str, dict[str, Any]] = {}
            for row in f["rows"]:
                cells: dict[str, Any] = {}
                for col in f["columns"]:
                    if col["type"] != "number":
                        continue
                    cells[col["key"]] = sum(
                        v
                        for r in rows
                        if isinstance(r.get(key), dict)
                        and _number(v := (r[key].get(row["key"]) or {}).get(col["key"]))
                    )
                table[row["key"]] = cells
            totals[key] = table
    return totals


def resolve_period(form: ReportForm, period: str | None, today: dt.date) -> str:
    kind = Period(form.period)
    if period is None:
        return period_of(
            kind,
            today if kind is not Period.ONCE else local_date(form.created_at),
            deadline_day=form.deadline_day,
            once_deadline=form.once_deadline,
        ).key
    if parse_period_key(kind, period) is None:
        raise ValidationError.field(
            "period", "Kỳ báo cáo không hợp lệ (vd. 2026-11, 2026-W48, 2026-Q4)."
        )
    return period


def gather(s: Session, form: ReportForm, period: str, today: dt.date) -> FormResults:
    reqs = list(
        s.scalars(
            select(ReportRequest).where(
                ReportRequest.form_id == form.id, ReportRequest.period == period
            )
        )
    )
    latest: dict[uuid.UUID, ReportSubmission] = {}
    if reqs:
        for each in s.scalars(
            select(ReportSubmission)
            .where(ReportSubmission.request_id.in_([r.id for r in reqs]))
            .order_by(ReportSubmission.version)
        ):
            latest[each.request_id] = each
    rows = []
    for r in reqs:
        state = RequestState(r.state)
        if state is RequestState.OPEN and r.deadline < today:
            state = RequestState.LATE
        sub = latest.get(r.id)
        rows.append(
            ResultRow(
                r.organization_id,
                r.organization.name,
                r.id,
                state.value,
                r.submitted_at,
                r.submitted_late,
                dict(sub.values) if sub is not None else {},
                sub.version if sub is not None else 0,
                state is not RequestState.SUBMITTED and r.deadline < today,
            )
        )
    rows.sort(key=lambda r: (fold(r.organization_name), r.organization_name))
    totals = totals_of(form.fields, [r.values for r in rows if r.version])
    counts = {st.value: 0 for st in RequestState}
    counts["overdue"] = 0
    for row in rows:
        counts[row.state] += 1
        counts["overdue"] += int(row.overdue)
    deadline = reqs[0].deadline if reqs else today
    return FormResults(form, period, deadline, rows, totals, counts)


def snapshot(results: FormResults) -> dict[str, Any]:
    """The gathered table as the value of a ``gathered`` field (JSON)."""
    return {
        "form_id": str(results.form.id),
        "title": results.form.title,
        "period": results.period,
        "fields": [
            {k: f[k] for k in ("key", "label", "type", "rows", "columns") if k in f}
            for f in results.form.fields
            if f["type"] != FieldType.GATHERED
        ],
        "rows": [
            {
                "organization": {"id": str(r.organization_id), "name": r.organization_name},
                "state": r.state,
                "version": r.version,
                "values": r.values,
            }
            for r in results.rows
        ],
        "totals": results.totals,
        "counts": results.counts,
    }


__all__ = ["FormResults", "ResultRow", "gather", "resolve_period", "snapshot", "totals_of"]
