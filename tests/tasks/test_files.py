"""Task attachments take the one checked path of every upload (docflow.uploads): the
deployment's size limit (not the library's default), and bytes read back checked against their
hash."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
from typing import Any

import pytest
from sqlalchemy import func, select

from docflow.models import Task, TaskAttachment
from docflow.tasks import CreateTask, create_task, open_attachment
from docflow.uow import DomainConfig
from docflow.uploads import FileRefusedError, Upload
from storage import IntegrityError
from tests.conftest import Demo
from tests.pdfs import make_pdf
from tests.storage.helpers import overwrite_stored, read_stored
from tests.tasks.conftest import Tasks

LIMIT = 4096


def _counts(demo: Demo) -> tuple[int, int]:
    with demo.factory() as s:
        return (
            s.scalar(select(func.count()).select_from(Task)) or 0,
            s.scalar(select(func.count()).select_from(TaskAttachment)) or 0,
        )


def _meta(tasks: Tasks) -> dict[str, Any]:
    return {
        "title": "Kèm tệp lớn",
        "lead": {"user_id": str(tasks.uid("chuyenvien.dcgs"))},
        "due_date": "2026-12-04",
    }


def test_a_task_attachment_over_the_configured_limit_is_413_and_changes_nothing(
    app: Any, client: Any, api: Any, tasks: Tasks, demo: Demo
) -> None:
    from app.runtime import runtime

    runtime(app).config = DomainConfig(max_upload_bytes=LIMIT)
    big = make_pdf(padding=10_000)
    assert LIMIT < len(big) < 100 * 1024 * 1024  # under the library's default limit
    before = _counts(demo)
    r = client.post(
        "/api/v1/tasks",
        data={"meta": json.dumps(_meta(tasks)), "files": [(io.BytesIO(big), "lớn.pdf")]},
        headers=api("lanhdao.tw"),
        content_type="multipart/form-data",
    )
    assert r.status_code == 413, r.json
    assert r.json["error"]["code"] == "file_too_large"
    assert _counts(demo) == before

    # The same limit on a progress report's files; a small file still passes.
    small = make_pdf()
    assert len(small) <= LIMIT
    task = tasks.create(user="chuyenvien.dcgs")
    me = api("chuyenvien.dcgs")
    client.post(f"/api/v1/tasks/{task.id}/actions", json={"action": "start"}, headers=me)
    r = client.post(
        f"/api/v1/tasks/{task.id}/actions",
        data={
            "meta": json.dumps({"action": "report_progress", "percent": 40}),
            "files": [(io.BytesIO(big), "biên bản.pdf")],
        },
        headers=me,
        content_type="multipart/form-data",
    )
    assert r.status_code == 413 and r.json["error"]["code"] == "file_too_large"
    assert tasks.view("chuyenvien.dcgs", task.id).task.progress == 0
    r = client.post(
        f"/api/v1/tasks/{task.id}/actions",
        data={
            "meta": json.dumps({"action": "report_progress", "percent": 40}),
            "files": [(io.BytesIO(small), "biên bản.pdf")],
        },
        headers=me,
        content_type="multipart/form-data",
    )
    assert r.status_code == 200 and len(r.json["files"]) == 1


def test_the_service_obeys_the_configured_limit_whatever_calls_it(demo: Demo, tasks: Tasks) -> None:
    limited = dataclasses.replace(demo, config=DomainConfig(max_upload_bytes=LIMIT))
    cmd = CreateTask.model_validate(
        {**_meta(tasks), "due_date": dt.date(2026, 12, 4)},
    )
    before = _counts(demo)
    with pytest.raises(FileRefusedError) as excinfo:
        create_task(
            limited.uow(),
            demo.actor("lanhdao.tw"),
            cmd,
            [Upload(io.BytesIO(make_pdf(padding=10_000)), "lớn.pdf", "application/pdf")],
        )
    assert excinfo.value.code == "file_too_large" and excinfo.value.http_status == 413
    assert _counts(demo) == before


def test_a_damaged_attachment_is_not_served_as_if_intact(demo: Demo, tasks: Tasks) -> None:
    pdf = make_pdf(title="biên bản giám sát")
    cmd = CreateTask.model_validate({**_meta(tasks), "due_date": dt.date(2026, 12, 4)})
    view = create_task(
        demo.uow(),
        demo.actor("lanhdao.tw"),
        cmd,
        [Upload(io.BytesIO(pdf), "biên bản.pdf", "application/pdf")],
    )
    [file] = view.task.attachments
    actor = demo.actor("chuyenvien.dcgs")
    row, reader = open_attachment(demo.uow(), actor, view.id, file.id)
    with reader:
        assert reader.read() == pdf

    stored = bytearray(read_stored(demo.store, row.object_key))
    stored[len(stored) // 2] ^= 0x04
    overwrite_stored(demo.store, row.object_key, bytes(stored))
    _, reader = open_attachment(demo.uow(), actor, view.id, file.id)
    with pytest.raises(IntegrityError), reader:
        reader.read()
