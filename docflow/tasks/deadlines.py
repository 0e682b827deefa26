"""Deadlines in working days: overdue and days late, derived and never stored.

A deadline is the end of its due date. A task is late by the number of working days after the
due date up to today (or up to the day its completion was submitted): ``days_late`` counts the
working days in (due_date, day]. Overdue means at least one working day late, so a task due on
a Friday is not overdue on Saturday, and one due before Tết is not overdue during Tết.
Equivalently: overdue ⇔ ``due_date < last_working_day(today)``, which is what lists and
statistics put in SQL (one cut-off date for every row).

The working-day arithmetic itself (``days_late``, ``last_working_day``, ``load_window``…) is
the kernel's, :mod:`docflow.workdays`: feedback answers, reports and the phone's counters count
the same days.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from docflow.workdays import (  # the working-day arithmetic, shared by every capability
    WorkCalendar,
    days_late,
    days_left,
    last_working_day,
    load_window,
    working_days_in,
)

__all__ = [
    "DeadlineStatus",
    "days_late",
    "days_left",
    "deadline_status",
    "last_working_day",
    "load_window",
    "working_days_in",
]


@dataclass(frozen=True)
class DeadlineStatus:
    """Where a task stands against its deadline.

    Attributes:
        is_overdue: still open and at least one working day past the deadline.
        days_late: working days past the deadline, as of today (open) or of the day the accepted
            completion was submitted (done); 0 when on time.
        days_left: working days from today to the deadline, for open tasks not yet late.
        done_late: finished, but after the deadline (None while open or when cancelled).
    """

    is_overdue: bool
    days_late: int
    days_left: int | None
    done_late: bool | None


def deadline_status(
    cal: WorkCalendar,
    *,
    due: dt.date,
    today: dt.date,
    is_open: bool,
    finished_on: dt.date | None,
) -> DeadlineStatus:
    """The derived deadline facts of one item (a task, or an incoming document's assignment)."""
    if is_open:
        late = days_late(cal, due, today)
        return DeadlineStatus(late > 0, late, None if late else days_left(cal, today, due), None)
    if finished_on is None:  # cancelled: no deadline any more
        return DeadlineStatus(False, 0, None, None)
    late = days_late(cal, due, finished_on)
    return DeadlineStatus(False, late, None, late > 0)
