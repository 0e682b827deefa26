"""Task pages: the follow-up lists, assigning, one task with its moves, the statistics.

Each view parses the form into the same docflow commands the API uses, calls one service and
renders; a refusal re-renders the page with the Vietnamese message (422/409/403).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pydantic
from flask import Response, flash, redirect, render_template, request, url_for

from app.auth import actor_required, page_auth
from app.errors import STATUS_OF_KIND, pydantic_fields
from app.pages import bp
from app.pages.dossiers import filing_context
from app.pages.forms import domain_errors
from app.pages.task_forms import (
    ACTION_FIELDS,
    action_payload,
    chart_rows,
    create_payload,
    party_options,
    split_payload,
)
from app.runtime import make_uow
from app.uploads import uploads
from docflow import DomainError, directory
from docflow.reports import GroupBy, processing_report, processing_xlsx
from docflow.reports import tasks_export as tasks_xlsx_logged
from docflow.search import task_text_notes
from docflow.tasks import (
    Box,
    CreateSubtask,
    CreateTask,
    Priority,
    TaskAction,
    TaskActionRequest,
    TaskState,
    act_on_task,
    assigns_in_own_unit_only,
    create_subtask,
    create_task,
    get_task,
    list_tasks,
    may_assign,
    open_attachment,
    sees_every_task,
    task_trail,
)
from docflow.workdays import local_date, local_time
from storage import content_disposition

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BOX_LABELS = {
    Box.MINE: "Của tôi",
    Box.ASSIGNED_BY_ME: "Tôi giao",
    Box.UNIT: "Của đơn vị",
    Box.ALL: "Toàn cơ quan",
}


@bp.app_template_filter("task_time")
def task_time(value: dt.datetime | None) -> str:
    """ "14:05 ngày 23/11/2026" in Hà Nội time."""
    if value is None:
        return ""
    t = local_time(value)
    month = f"{t.month:02d}" if t.month < 3 else str(t.month)
    return f"{t:%H:%M} {t.day:02d}/{month}/{t.year}"


@bp.app_template_filter("task_day")
def task_day(value: str | None) -> str:
    """An ISO date kept in the trail's details, written as "13/12/2026"."""
    try:
        day = dt.date.fromisoformat(value or "")
    except ValueError:
        return value or ""
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return f"{day.day:02d}/{month}/{day.year}"


def _boxes() -> list[Box]:
    actor = actor_required()
    boxes = [Box.MINE, Box.ASSIGNED_BY_ME]
    if actor.unit_id is not None:
        boxes.append(Box.UNIT)
    if sees_every_task(actor):
        boxes.append(Box.ALL)
    return boxes


def _filters() -> tuple[Box, TaskState | None, bool]:
    boxes = _boxes()
    default = Box.ALL if Box.ALL in boxes else Box.MINE
    try:
        box = Box(request.args.get("box") or default)
        state = TaskState(request.args["state"]) if request.args.get("state") else None
    except ValueError:
        box, state = default, None
    return box, state, request.args.get("overdue") == "1"


@bp.get("/tasks")
@page_auth
def tasks_list() -> Any:
    actor = actor_required()
    boxes = _boxes()
    box, state, overdue = _filters()
    page = list_tasks(
        make_uow(), actor, box=box, state=state, overdue=overdue,
        open_only=request.args.get("open") == "1", cursor=request.args.get("cursor"), limit=30,
    )  # fmt: skip
    return render_template(
        "tasks/list.html",
        page=page,
        box=box,
        boxes=[(b, BOX_LABELS[b]) for b in boxes],
        state=state,
        states=list(TaskState),
        overdue=overdue,
        can_assign=may_assign(actor),
        Priority=Priority,
        TaskState=TaskState,
    )


EXPORT_LIMIT = 5000


@bp.get("/tasks.xlsx")
@page_auth
def tasks_export() -> Response:
    """The list as filtered on screen, as an Excel sheet (at most EXPORT_LIMIT rows)."""
    box, state, overdue = _filters()
    views: list[Any] = []
    cursor = None
    while len(views) < EXPORT_LIMIT:
        page = list_tasks(
            make_uow(), actor_required(), box=box, state=state, overdue=overdue,
            cursor=cursor, limit=200,
        )  # fmt: skip
        views.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    title = f"Nhiệm vụ — {BOX_LABELS[box].lower()}" + (" — quá hạn" if overdue else "")
    response = Response(
        tasks_xlsx_logged(make_uow(), actor_required(), title, views[:EXPORT_LIMIT]), mimetype=XLSX
    )
    response.headers["Content-Disposition"] = content_disposition(f"nhiem-vu-{box.value}.xlsx")
    return response


def _org_people() -> tuple[list[Any], list[Any]]:
    actor = actor_required()
    uow = make_uow()
    units = directory.list_units(uow, actor, actor.organization_id)
    people = directory.list_users(uow, actor, actor.organization_id)
    if assigns_in_own_unit_only(actor):
        units = [u for u in units if u.id == actor.unit_id]
        people = [p for p in people if p.unit_id == actor.unit_id]
    return units, people


@bp.route("/tasks/new", methods=["GET", "POST"])
@page_auth
def task_new() -> Any:
    actor = actor_required()
    units, people = _org_people()
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            cmd = CreateTask.model_validate(create_payload(request.form))
            view = create_task(make_uow(), actor, cmd, uploads())
        except pydantic.ValidationError as exc:
            errors = pydantic_fields(exc)
        except DomainError as exc:
            errors = domain_errors(exc)
        else:
            flash("Đã giao nhiệm vụ.", "success")
            return redirect(url_for("pages.task_detail", task_id=view.id))
    return render_template(
        "tasks/new.html",
        form=request.form,
        errors=errors,
        lead_options=party_options(units, people),
        priorities=[(p.value, p.label) for p in Priority],
        document_id=request.args.get("document_id", ""),
        today=local_date(make_uow().now()),
    ), 422 if errors else 200


def _detail(
    task_id: uuid.UUID,
    errors: dict[str, str] | None = None,
    failed: str = "",
    status: int = 422,
) -> Any:
    actor = actor_required()
    view = get_task(make_uow(), actor, task_id)
    steps = task_trail(make_uow(), actor, task_id)
    unit_people: list[Any] = []
    if TaskAction.SPLIT in view.allowed_actions:
        unit_people = [
            p for p in directory.list_users(make_uow(), actor, actor.organization_id)
            if p.unit_id == view.task.lead_unit_id
        ]  # fmt: skip
    return render_template(
        "tasks/detail.html",
        view=view,
        task=view.task,
        steps=steps,
        errors=errors or {},
        failed=failed,
        form=request.form if errors else {},
        unit_people=unit_people,
        TaskState=TaskState,
        TaskAction=TaskAction,
        Priority=Priority,
        action_labels={a.value: a.label for a in TaskAction},
        text_notes=task_text_notes(make_uow(), view.task),
        today=local_date(make_uow().now()),
        **filing_context(
            actor,
            task_id=task_id,
            completed=view.task.state in (TaskState.DONE, TaskState.AWAITING_APPROVAL),
        ),
    ), (status if errors else 200)


@bp.get("/tasks/<uuid:task_id>")
@page_auth
def task_detail(task_id: uuid.UUID) -> Any:
    return _detail(task_id)


@bp.post("/tasks/<uuid:task_id>/act")
@page_auth
def task_act(task_id: uuid.UUID) -> Any:
    action = request.form.get("action", "")
    if action not in ACTION_FIELDS:
        return _detail(task_id, {"__all__": "Thao tác không hợp lệ."})
    try:
        cmd = TaskActionRequest.model_validate(action_payload(action, request.form)).root
        act_on_task(make_uow(), actor_required(), task_id, cmd, uploads())
    except pydantic.ValidationError as exc:
        # The union's tag leads each location ("report_progress.percent"): the form has "percent".
        fields = {k.removeprefix(f"{action}."): v for k, v in pydantic_fields(exc).items()}
        return _detail(task_id, fields, failed=action)
    except DomainError as exc:
        if exc.kind == "not_found":
            raise
        return _detail(task_id, domain_errors(exc), action, STATUS_OF_KIND.get(exc.kind, 422))
    flash(f"Đã ghi nhận: {TaskAction(action).label.lower()}.", "success")
    return redirect(url_for("pages.task_detail", task_id=task_id))


@bp.post("/tasks/<uuid:task_id>/subtasks")
@page_auth
def task_split(task_id: uuid.UUID) -> Any:
    try:
        cmd = CreateSubtask.model_validate(split_payload(request.form))
        view = create_subtask(make_uow(), actor_required(), task_id, cmd)
    except pydantic.ValidationError as exc:
        return _detail(task_id, pydantic_fields(exc), failed="split")
    except DomainError as exc:
        if exc.kind == "not_found":
            raise
        return _detail(task_id, domain_errors(exc), "split", STATUS_OF_KIND.get(exc.kind, 422))
    flash("Đã giao việc con.", "success")
    return redirect(url_for("pages.task_detail", task_id=view.id))


@bp.get("/tasks/<uuid:task_id>/files/<uuid:file_id>")
@page_auth
def task_file(task_id: uuid.UUID, file_id: uuid.UUID) -> Response:
    row, reader = open_attachment(make_uow(), actor_required(), task_id, file_id)
    with reader:
        data = reader.read()
    response = Response(data, mimetype=row.content_type)
    response.headers["Content-Disposition"] = content_disposition(row.filename)
    return response


def _period() -> tuple[dt.date, dt.date, GroupBy]:
    today = local_date(make_uow().now())
    first = today.replace(day=1)
    try:
        start = dt.date.fromisoformat(request.args.get("from") or first.isoformat())
        end = dt.date.fromisoformat(request.args.get("to") or today.isoformat())
        group_by = GroupBy(request.args.get("group_by") or GroupBy.UNIT)
    except ValueError:
        start, end, group_by = first, today, GroupBy.UNIT
    return start, end, group_by


@bp.get("/tasks/stats")
@page_auth
def task_stats() -> Any:
    actor = actor_required()
    start, end, group_by = _period()
    if not may_assign(actor):
        group_by = GroupBy.USER
    report = processing_report(make_uow(), actor, date_from=start, date_to=end, group_by=group_by)
    return render_template(
        "tasks/stats.html",
        report=report,
        chart=chart_rows(report),
        start=start,
        end=end,
        group_by=group_by,
        GroupBy=GroupBy,
        can_group_by_unit=may_assign(actor),
    )


@bp.get("/tasks/stats.xlsx")
@page_auth
def task_stats_xlsx() -> Response:
    start, end, group_by = _period()
    report = processing_report(
        make_uow(), actor_required(), date_from=start, date_to=end, group_by=group_by
    )
    response = Response(processing_xlsx(report), mimetype=XLSX)
    name = f"thong-ke-nhiem-vu-{start:%Y%m%d}-{end:%Y%m%d}.xlsx"
    response.headers["Content-Disposition"] = content_disposition(name)
    return response
