"""Files attached to a task or to a progress report, through the one checked path of
:mod:`docflow.uploads` (the deployment's size limit, type sniffing, content addressing; read
back checked against their hash).

Objects are stored before the rows that reference them; if the transaction then fails, the
objects are orphans that the sweeper removes later (never a row without its object).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from docflow.actors import Actor
from docflow.models import Task, TaskAttachment
from docflow.search import queue_task_text_extraction
from docflow.tasks.queries import get_attachment
from docflow.uow import UnitOfWork
from docflow.uploads import Upload, open_object, store_uploads
from storage import ObjectReader


def attach(
    uow: UnitOfWork, actor: Actor, task: Task, seq: int, uploads: Sequence[Upload]
) -> list[TaskAttachment]:
    """Check, store and record ``uploads`` against trail step ``seq`` of ``task``."""
    if not uploads:
        return []
    rows = []
    for stored in store_uploads(uow, uploads):
        checked = stored.checked
        row = TaskAttachment(
            task_id=task.id,
            trail_seq=seq,
            filename=checked.filename,
            content_type=checked.ref.content_type,
            size=checked.ref.size,
            sha256=checked.ref.sha256,
            object_key=checked.ref.key,
            uploaded_by_id=actor.user_id,
            created_at=uow.now(),
        )
        uow.session.add(row)
        rows.append(row)
    # Their text is read in the background (docflow.search), for the task list's search.
    queue_task_text_extraction(uow, task.id)
    return rows


def open_attachment(
    uow: UnitOfWork, actor: Actor, task_id: uuid.UUID, file_id: uuid.UUID
) -> tuple[TaskAttachment, ObjectReader]:
    """A file of a task the actor can see, and a reader of its bytes checked against their hash
    as they are read (404 otherwise)."""
    row = get_attachment(uow, actor, task_id, file_id)
    return row, open_object(uow, row.object_key)
