"""The badge counts of the I-MTTQ app, each one SQL count over what the lists show.

- ``waiting``: documents waiting for the actor (the ``inbox`` box of both directions: incoming
  documents to register, submit, assign or handle; drafts to review, sign, issue, dispatch).
- ``overdue``: of those, the ones past their deadline, plus the actor's own open tasks
  (``box=mine``) past theirs; late means at least one working day past the deadline, the rule
  of the task lists.
- ``unread``: unread notifications.

Every count goes through the same visibility and clearance rules as the lists. ``waiting`` and
its part of ``overdue`` count :func:`docflow.documents.access.waiting_documents`: one index range
per reason to wait (migration ``0026_counters``), each stopped at :data:`COUNT_CAP` rows, so a
badge costs at most that many rows per reason, not what the organisation holds; the numbers are
exact below the cap and the cap itself means "that many or more".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from docflow import notifications
from docflow.actors import Actor
from docflow.documents import access, shapes
from docflow.tasks import count_overdue
from docflow.uow import UnitOfWork
from docflow.workdays import last_working_day, load_window, local_date

#: The badges count up to this: the phone shows "999+" from it on (``waiting``, ``overdue``;
#: ``unread`` stops at notifications.UNREAD_CAP). Counting further would cost what the boxes
#: hold rather than what a badge shows.
COUNT_CAP = 1000


@dataclass(frozen=True)
class Counters:
    waiting: int
    overdue: int
    unread: int


def _waiting_count(actor: Actor, cap: int, due_before: dt.date | None) -> Select[int]:
    rows = access.waiting_documents(actor, cap=cap, due_before=due_before).subquery()
    return select(func.count()).select_from(rows)


def _count_waiting(s: Session, actor: Actor, due_before: dt.date | None) -> int:
    # Kept per reader shape (docflow.documents.shapes): a union of one range per reason to
    # wait, built once for everyone of the shape rather than for each badge read.
    kept = shapes.for_reader(_waiting_count, actor, COUNT_CAP, due_before)
    assert kept is not None
    return min(COUNT_CAP, int(s.scalar(*kept) or 0))


def counters(uow: UnitOfWork, actor: Actor) -> Counters:
    with uow:
        s = uow.session
        today = local_date(uow.now())
        cutoff = last_working_day(load_window(s, today, today), today)
        waiting = _count_waiting(s, actor, None)
        late = _count_waiting(s, actor, cutoff)
    late_tasks = count_overdue(uow, actor)
    return Counters(
        waiting=waiting,
        overdue=min(COUNT_CAP, late + late_tasks),
        unread=notifications.unread_count(uow, actor),
    )
