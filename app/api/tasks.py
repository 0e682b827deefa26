"""Tasks (API.md §5): assign, split, follow up, move through the flow; files of a task.

``POST /tasks`` and ``POST /tasks/{id}/actions`` take JSON; they also take multipart
(``meta``: the same JSON, ``files``: attachments) when files go with them.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from flask import Response, request, stream_with_context
from pydantic import BaseModel, ConfigDict

from app.api import bp
from app.api.spec import parse_body, parse_query, registry
from app.api.task_schemas import TaskOut, TaskPage, TaskSummaryOut, TaskTrailList, TaskTrailOut
from app.auth import actor_required, api_auth
from app.errors import ApiError
from app.runtime import make_uow
from docflow.tasks import (
    Box,
    CreateSubtask,
    CreateTask,
    TaskActionRequest,
    TaskState,
    Upload,
    act_on_task,
    create_subtask,
    create_task,
    get_task,
    list_tasks,
    open_attachment,
    task_trail,
)
from storage import content_disposition

WRITE_ERRORS = (403, 404, 409, 413, 415, 422)


def _json_or_multipart() -> tuple[dict[str, Any], list[Upload]]:
    """The body as a dict, and the uploaded files (multipart only)."""
    if not request.mimetype.startswith("multipart/"):
        if not request.is_json:
            raise ApiError(400, "malformed_json", "Nội dung phải là JSON hoặc multipart/form-data.")
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            raise ApiError(400, "malformed_json", "JSON phải là một đối tượng.")
        return data, []
    raw: str | None = request.form.get("meta")
    if raw is None and "meta" in request.files:
        raw = request.files["meta"].read().decode("utf-8", errors="replace")
    if raw is None:
        raise ApiError(400, "missing_meta", "Thiếu phần «meta» (JSON) trong yêu cầu multipart.")
    try:
        meta = json.loads(raw)
    except ValueError as exc:
        raise ApiError(400, "malformed_json", "Phần «meta» không phải JSON hợp lệ.") from exc
    if not isinstance(meta, dict):
        raise ApiError(400, "malformed_json", "Phần «meta» phải là một đối tượng JSON.")
    files = [
        Upload(stream=f.stream, filename=f.filename or "tep", content_type=f.mimetype)
        for f in request.files.getlist("files")
    ]
    return meta, files


def _task(task_id: uuid.UUID) -> dict[str, Any]:
    return TaskOut.of(get_task(make_uow(), actor_required(), task_id)).model_dump(mode="json")


@registry.operation(
    bp,
    "/tasks",
    "POST",
    summary="Giao nhiệm vụ (JSON; hoặc multipart: meta + files)",
    tag="tasks",
    body=CreateTask,
    response=TaskOut,
    status=201,
    errors=WRITE_ERRORS,
)
@api_auth
def tasks_create() -> object:
    data, files = _json_or_multipart()
    view = create_task(make_uow(), actor_required(), CreateTask.model_validate(data), files)
    return TaskOut.of(view).model_dump(mode="json"), 201


class TaskQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    box: Box = Box.MINE
    state: TaskState | None = None
    open: bool = False
    overdue: bool = False
    limit: int | None = None
    cursor: str | None = None


@registry.operation(
    bp,
    "/tasks",
    "GET",
    summary="Danh sách nhiệm vụ: của tôi, tôi giao, của đơn vị, cả cơ quan (lãnh đạo)",
    tag="tasks",
    query=TaskQuery,
    response=TaskPage,
    errors=(403, 422),
)
@api_auth
def tasks_list() -> object:
    q = parse_query(TaskQuery)
    page = list_tasks(
        make_uow(),
        actor_required(),
        box=q.box,
        state=q.state,
        open_only=q.open,
        overdue=q.overdue,
        limit=q.limit,
        cursor=q.cursor,
    )
    return TaskPage(
        items=[TaskSummaryOut.of(v) for v in page.items], next_cursor=page.next_cursor
    ).model_dump(mode="json")


@registry.operation(
    bp,
    "/tasks/<uuid:task_id>",
    "GET",
    summary="Một nhiệm vụ",
    tag="tasks",
    response=TaskOut,
    errors=(404,),
)
@api_auth
def tasks_get(task_id: uuid.UUID) -> object:
    return _task(task_id)


@registry.operation(
    bp,
    "/tasks/<uuid:task_id>/trail",
    "GET",
    summary="Quá trình xử lý nhiệm vụ (cũ trước)",
    tag="tasks",
    response=TaskTrailList,
    errors=(404,),
)
@api_auth
def tasks_trail(task_id: uuid.UUID) -> object:
    steps = task_trail(make_uow(), actor_required(), task_id)
    return TaskTrailList(items=[TaskTrailOut.of(s) for s in steps]).model_dump(mode="json")


@registry.operation(
    bp,
    "/tasks/<uuid:task_id>/actions",
    "POST",
    summary="Thao tác trên nhiệm vụ (JSON; hoặc multipart: meta + files)",
    tag="tasks",
    body=TaskActionRequest,
    response=TaskOut,
    errors=WRITE_ERRORS,
)
@api_auth
def tasks_action(task_id: uuid.UUID) -> object:
    data, files = _json_or_multipart()
    cmd = TaskActionRequest.model_validate(data).root
    view = act_on_task(make_uow(), actor_required(), task_id, cmd, files)
    return TaskOut.of(view).model_dump(mode="json")


@registry.operation(
    bp,
    "/tasks/<uuid:task_id>/subtasks",
    "POST",
    summary="Giao việc con cho người trong đơn vị (lãnh đạo đơn vị)",
    tag="tasks",
    body=CreateSubtask,
    response=TaskOut,
    status=201,
    errors=WRITE_ERRORS,
)
@api_auth
def tasks_subtask(task_id: uuid.UUID) -> object:
    view = create_subtask(make_uow(), actor_required(), task_id, parse_body(CreateSubtask))
    return TaskOut.of(view).model_dump(mode="json"), 201


@registry.operation(
    bp,
    "/tasks/<uuid:task_id>/files/<uuid:file_id>/content",
    "GET",
    summary="Nội dung tệp đính kèm của nhiệm vụ",
    tag="tasks",
    errors=(404,),
    produces="application/octet-stream",
)
@api_auth
def tasks_file_content(task_id: uuid.UUID, file_id: uuid.UUID) -> Response:
    row, reader = open_attachment(make_uow(), actor_required(), task_id, file_id)

    def chunks() -> Any:
        with reader:
            yield from reader.iter_chunks()

    response = Response(stream_with_context(chunks()), mimetype=row.content_type)
    response.headers["Content-Length"] = str(row.size)
    response.headers["Content-Disposition"] = content_disposition(row.filename)
    response.headers["ETag"] = f'"{row.sha256}"'
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response
