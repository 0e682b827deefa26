"""Deadlines in working days: overdue and days late, derived and never stored.

A deadline is the end of its due date. A task is late by the number of working days after the
due date up to today (or up to the day its completion was submitted): ``days_late`` counts the
working days in (due_date, day]. Overdue means at least one working day late, so a task due on
a Friday is not overdue on Saturday, and one due before Tết is not overdue during Tết.
Equivalently: overdue ⇔ ``due_date < last_working_day(today)``, which is what lists and
statistics put in SQL (one cut-off date for every row).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from docflow.workdays import WorkCalendar, load_calendar

# Enough to step back over the longest run of days off (Tết) and forward to a deadline.
PAD = dt.timedelta(days=45)


def last_working_day(cal: WorkCalendar, day: dt.date) -> dt.date:
    """The latest working day on or before ``day``."""
    while not cal.is_working_day(day):
        day -= dt.timedelta(days=1)
    return day


def _weekdays_through(day: dt.date) -> int:
    """Monday-Friday days from 1 January of year 1 (a Monday) through ``day``."""
    n = day.toordinal()
    return (n // 7) * 5 + min(n % 7, 5)


def working_days_in(cal: WorkCalendar, start: dt.date, end: dt.date) -> int:
    """Working days in (start, end], in time independent of the span: weekdays by arithmetic,
    then the calendar's exceptions inside the span. Equal to ``cal.working_days_between`` for
    start <= end (a list of a thousand tasks a year late would otherwise walk 300,000 days)."""
    if end <= start:
        return 0
    count = _weekdays_through(end) - _weekdays_through(start)
    count -= sum(
        1 for h in cal.holidays if start < h <= end and h.weekday() < 5 and h not in cal.workdays
    )
    count += sum(1 for w in cal.workdays if start < w <= end and w.weekday() >= 5)
    return count


def days_late(cal: WorkCalendar, due: dt.date, day: dt.date) -> int:
    """Working days in (due, day]: 0 when ``day`` is on or before the deadline."""
    return working_days_in(cal, due, day)


def days_left(cal: WorkCalendar, today: dt.date, due: dt.date) -> int:
    """Working days in (today, due]: 0 on the due date (or the last working day before it)."""
    return working_days_in(cal, today, due)


def load_window(session: Session, start: dt.date, end: dt.date) -> WorkCalendar:
    """The calendar around ``start``…``end``, padded so that stepping back or forth stays in it."""
    return load_calendar(session, start - PAD, end + PAD)


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
