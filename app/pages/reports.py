"""Pages of reports up the tree (Vietnamese, phone-friendly): the leader's roll-up dashboard
with drill-down, the report box (to fill / sent), one request to fill in and submit, and the
gathering page of a form. Views parse, call one service, render."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for

from app.auth import actor_required, page_auth
from app.pages import bp
from app.pages.task_forms import chart_rows
from app.runtime import make_uow
from docflow import DomainError, ValidationError
from docflow.reports import (
    ApproveReport,
    CorrectReport,
    FillReport,
    FromResults,
    ReportBox,
    StatsScope,
    SubmitReport,
    approve_report,
    correct_report,
    fill_report,
    form_results,
    get_report_request,
    list_report_forms,
    list_report_requests,
    processing_rollup,
    results_xlsx,
    signed_pdf,
    submit_report,
)
from docflow.reports.states import PERIOD_LABELS, STATE_LABELS
from docflow.workdays import local_date
from storage import content_disposition

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _uuid(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


@bp.get("/thong-ke")
@page_auth
def rollup_page() -> Any:
    """The leader's dashboard: the organisation and everything below it, drill-down by row."""
    actor = actor_required()
    today = local_date(make_uow().now())
    try:
        start = dt.date.fromisoformat(request.args.get("from") or today.replace(day=1).isoformat())
        end = dt.date.fromisoformat(request.args.get("to") or today.isoformat())
    except ValueError:
        start, end = today.replace(day=1), today
    group_by = request.args.get("group_by", "organization")
    if group_by not in ("organization", "unit", "user"):
        group_by = "organization"
    org_id = _uuid(request.args.get("organization_id"))
    # By unit or person the centre has thousands of rows: 50 a page (the total covers all).
    paged = group_by != "organization"
    cursor = request.args.get("cursor") if paged else None
    try:
        report = processing_rollup(
            make_uow(), actor, date_from=start, date_to=end, group_by=group_by,
            organization_id=org_id, scope=StatsScope.SUBTREE,
            limit=PAGE_ROWS if paged else None, cursor=cursor,
        )  # fmt: skip
    except ValidationError:
        if not cursor:
            raise
        return redirect(url_for("pages.rollup_page", **_args_without_cursor()))
    first_url = url_for("pages.rollup_page", **_args_without_cursor()) if cursor else None
    next_url = (
        url_for("pages.rollup_page", **_args_without_cursor(), cursor=report.next_cursor)
        if report.next_cursor
        else None
    )
    forms = list_report_forms(make_uow(), actor)
    return render_template(
        "reports/rollup.html",
        report=report,
        chart=chart_rows(report),
        start=start,
        end=end,
        group_by=group_by,
        forms=forms,
        PERIOD_LABELS=PERIOD_LABELS,
        first_url=first_url,
        next_url=next_url,
    )


PAGE_ROWS = 50


def _args_without_cursor() -> dict[str, Any]:
    return {k: v for k, v in request.args.items() if k != "cursor"}


@bp.get("/bao-cao")
@page_auth
def report_box() -> Any:
    actor = actor_required()
    box = ReportBox.SENT if request.args.get("box") == "sent" else ReportBox.TO_FILL
    page = list_report_requests(make_uow(), actor, box=box, cursor=request.args.get("cursor"))
    return render_template(
        "reports/box.html", page=page, box=box, ReportBox=ReportBox, STATE_LABELS=STATE_LABELS
    )


def _number_or_raw(raw: str) -> Any:
    try:
        number = float(raw.replace(",", "."))
    except ValueError:
        return raw  # refused by the service with the field named
    return int(number) if number.is_integer() else number


def _values_from_form(view: Any) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for f in view.form_fields:
        if f["type"] == "gathered":
            continue
        if f["type"] == "table":
            table: dict[str, dict[str, Any]] = {}
            for row in f["rows"]:
                cells: dict[str, Any] = {}
                for col in f["columns"]:
                    raw = (
                        request.form.get(f"v_{f['key']}__{row['key']}__{col['key']}") or ""
                    ).strip()
                    if raw:
                        cells[col["key"]] = raw if col["type"] == "text" else _number_or_raw(raw)
                table[row["key"]] = cells
            values[f["key"]] = table
            continue
        raw = (request.form.get(f"v_{f['key']}") or "").strip()
        if raw == "":
            continue
        values[f["key"]] = raw if f["type"] == "text" else _number_or_raw(raw)
    return values


DONE = {
    "fill": "Đã lưu báo cáo; trình lãnh đạo ký duyệt.",
    "approve": "Đã ký duyệt báo cáo.",
    "submit": "Đã gửi báo cáo.",
    "correct": "Đã mở đính chính: điền lại, ký duyệt lại rồi gửi.",
}


@bp.route("/bao-cao/yeu-cau/<uuid:request_id>", methods=["GET", "POST"])
@page_auth
def report_request_page(request_id: uuid.UUID) -> Any:
    actor = actor_required()
    view = get_report_request(make_uow(), actor, request_id)
    errors: dict[str, str] = {}
    if request.method == "POST":
        action = request.form.get("action", "fill")
        try:
            if action == "approve":
                approve_report(make_uow(), actor, request_id, ApproveReport())
            elif action == "submit":
                submit_report(make_uow(), actor, request_id, SubmitReport())
            elif action == "correct":
                reason = (request.form.get("reason") or "").strip() or "Đính chính số liệu"
                correct_report(make_uow(), actor, request_id, CorrectReport(comment=reason[:2000]))
            else:
                action = "fill"
                source = _uuid(request.form.get("from_form"))
                typed = _values_from_form(view)
                fill_report(
                    make_uow(),
                    actor,
                    request_id,
                    FillReport(
                        values=typed,
                        from_results=FromResults(form_id=source) if source else None,
                    ),
                )
        except DomainError as exc:
            if exc.kind != "invalid":
                raise
            if action == "fill":  # shown again as typed, the refused field marked
                view = dataclasses.replace(view, values={**view.values, **typed})
            errors = {
                k.removeprefix("values."): v for k, v in exc.details.get("fields", {}).items()
            }
            flash(exc.message, "danger")
        else:
            flash(DONE[action], "success")
            return redirect(url_for("pages.report_request_page", request_id=request_id))
    own_forms = (
        list_report_forms(make_uow(), actor)
        if "fill" in view.allowed_actions and any(f["type"] == "gathered" for f in view.form_fields)
        else []
    )
    return render_template(
        "reports/request.html",
        view=view,
        errors=errors,
        own_forms=own_forms,
        STATE_LABELS=STATE_LABELS,
    )


@bp.get("/bao-cao/yeu-cau/<uuid:request_id>/bao-cao.pdf")
@page_auth
def report_request_pdf_page(request_id: uuid.UUID) -> Response:
    raw = request.args.get("version")
    version = int(raw) if raw and raw.isdigit() and 0 < int(raw) <= 10_000 else None
    data, name = signed_pdf(make_uow(), actor_required(), request_id, version=version)
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = content_disposition(name)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/bao-cao/mau/<uuid:form_id>")
@page_auth
def report_results_page(form_id: uuid.UUID) -> Any:
    results = form_results(
        make_uow(), actor_required(), form_id, period=request.args.get("period") or None
    )
    return render_template("reports/results.html", results=results, STATE_LABELS=STATE_LABELS)


@bp.get("/bao-cao/mau/<uuid:form_id>/tong-hop.xlsx")
@page_auth
def report_results_xlsx(form_id: uuid.UUID) -> Response:
    results = form_results(
        make_uow(), actor_required(), form_id, period=request.args.get("period") or None
    )
    response = Response(results_xlsx(results), mimetype=XLSX)
    response.headers["Content-Disposition"] = content_disposition(
        f"tong-hop-bao-cao-{results.period}.xlsx"
    )
    return response
