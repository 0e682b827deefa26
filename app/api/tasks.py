"""Tasks (API.md §5): assign, split, follow up, move through the flow; files of a task.

``POST /tasks`` and ``POST /tasks/{id}/actions`` take JSON; they also take multipart
(``meta``: the same JSON, ``files``: attachments) when files go with them.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import Response
from pydantic import BaseModel, ConfigDict, Field

from app.api import bp
from app.api.phone import box_etag
from app.api.spec import (
    STORED_FILE_TYPES,
    Cursor,
    Limit,
    parse_body,
    parse_query,
    registry,
    validate_input,
)
from app.api.task_schemas import TaskOut, TaskPage, TaskSummaryOut, TaskTrailList, TaskTrailOut
from app.auth import actor_required, api_auth
from app.runtime import make_uow
from app.uploads import json_or_multipart, stored_file
from docflow.tasks import (
    Box,
    CreateSubtask,
    CreateTask,
    TaskActionRequest,
    TaskState,
    act_on_task,
    create_subtask,
    create_task,
    get_task,
    list_tasks,
    open_attachment,
    task_trail,
)

WRITE_ERRORS = (403, 404, 409, 413, 415, 422)


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
    creates="task_id",
    rules=(
        "Người/đơn vị chủ trì và phối hợp thuộc cơ quan mình; `document_id` (nếu có) là văn bản mình xem được; hạn không trước hôm nay.",
    ),
)
@api_auth
def tasks_create() -> object:
    data, files = json_or_multipart()
    view = create_task(make_uow(), actor_required(), validate_input(CreateTask, data), files)
    return TaskOut.of(view).model_dump(mode="json"), 201


class TaskQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    box: Box = Box.MINE
    state: TaskState | None = None
    open: bool = False
    overdue: bool = False
    # Words of the title, the description or the text of the task's files (accents and case
    # ignored in the files' text; "phrases", -excluded words), within the box.
    q: str | None = Field(default=None, min_length=2, max_length=200)
    limit: Limit = None
    cursor: Cursor = None


@registry.operation(
    bp,
    "/tasks",
    "GET",
    summary="Danh sách nhiệm vụ: của tôi, tôi giao, của đơn vị, cả cơ quan (lãnh đạo)",
    tag="tasks",
    query=TaskQuery,
    response=TaskPage,
    errors=(403, 422),
    conditional=box_etag,
    lists="task_id",
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
        q=q.q,
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
    rules=("Tham số theo thao tác (ví dụ `new_due_date` sau hạn hiện tại).",),
)
@api_auth
def tasks_action(task_id: uuid.UUID) -> object:
    data, files = json_or_multipart()
    cmd = validate_input(TaskActionRequest, data).root
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
    creates="task_id",
    rules=("Người chủ trì thuộc đơn vị của nhiệm vụ; hạn không sau hạn của nhiệm vụ.",),
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
    produces=STORED_FILE_TYPES,
)
@api_auth
def tasks_file_content(task_id: uuid.UUID, file_id: uuid.UUID) -> Response:
    row, reader = open_attachment(make_uow(), actor_required(), task_id, file_id)
    return stored_file(
        reader, content_type=row.content_type, size=row.size, name=row.filename, sha256=row.sha256
    )
