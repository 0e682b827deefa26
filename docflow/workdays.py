"""Working days (ngày làm việc): Monday-Friday minus holidays, plus weekend days worked.

The calendar is data (table ``holidays``) that admins maintain per year. Dates here are local
dates in Asia/Ho_Chi_Minh; times are stored in UTC and converted with :func:`local_date`.
Deadlines count working days in (due, day] (:func:`days_late`); overdue means at least one
working day late, i.e. ``due < last_working_day(today)`` (see :mod:`docflow.tasks.deadlines`).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session

from docflow.db import rows
from docflow.enums import HolidayKind
from docflow.models import Holiday

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def local_date(moment: dt.datetime) -> dt.date:
    """The date in Vietnam at ``moment`` (an aware datetime)."""
    return moment.astimezone(VN_TZ).date()


def local_time(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(VN_TZ)


#: The days a filter can name: an earlier "from" is from the start, a later "to" to the end
#: (a date's first and last days overflow once turned into UTC, or one day on).
FIRST_DAY, LAST_DAY = dt.date(1900, 1, 1), dt.date(9000, 1, 1)


def start_of_day(day: dt.date, *, later: int = 0) -> dt.datetime:
    """The UTC instant of midnight in Vietnam at the start of ``day`` (``later`` days on), the
    day held within :data:`FIRST_DAY`–:data:`LAST_DAY`: every "from … to …" filter and period
    bound (lists, the audit log, reports, statistics) turns its days into instants here."""
    day = min(max(day, FIRST_DAY), LAST_DAY) + dt.timedelta(days=later)
    return dt.datetime.combine(day, dt.time(), VN_TZ).astimezone(dt.UTC)


@dataclass(frozen=True)
class WorkCalendar:
    """Holidays (weekdays off) and swapped working days (weekend days worked)."""

    holidays: frozenset[dt.date] = field(default_factory=frozenset)
    workdays: frozenset[dt.date] = field(default_factory=frozenset)

    @classmethod
    def from_rows(cls, rows: Iterable[Any]) -> WorkCalendar:
        """From rows with a ``day`` and a ``kind`` (``Holiday`` objects or selected rows)."""
        rows = list(rows)
        return cls(
            holidays=frozenset(r.day for r in rows if r.kind == HolidayKind.HOLIDAY),
            workdays=frozenset(r.day for r in rows if r.kind == HolidayKind.WORKDAY),
        )

    def is_working_day(self, day: dt.date) -> bool:
        if day in self.workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays

    def add_working_days(self, start: dt.date, n: int) -> dt.date:
        """The n-th working day after ``start`` (start itself not counted); n=0 gives start
        moved forward to a working day."""
        if n < 0:
            raise ValueError("n must be >= 0")
        day = start
        if n == 0:
            while not self.is_working_day(day):
                day += dt.timedelta(days=1)
            return day
        while n > 0:
            day += dt.timedelta(days=1)
            if self.is_working_day(day):
                n -= 1
        return day

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days in (start, end]; negative when end is before start."""
        if end < start:
            return -self.working_days_between(end, start)
        # Not a walk over the days: a list of documents a year overdue asked this of each.
        return working_days_in(self, start, end)


def due_after(session: Session, start: dt.date, working_days: int) -> dt.date:
    """The deadline ``working_days`` working days after ``start`` (start not counted), with
    the calendar rows loaded for just the stretch it can fall in."""
    # Even around Tết at least one day in three is a working day, so this horizon holds it.
    horizon = start + dt.timedelta(days=working_days * 3 + 60)
    return load_calendar(session, start, horizon).add_working_days(start, working_days)


@functools.cache
def _calendar_rows() -> Select[dt.date, str]:
    # Built once, rows not objects: every box, document and action reads the calendar for its
    # deadline marks (issue 19).
    return select(Holiday.day, Holiday.kind).where(
        Holiday.day >= bindparam("calendar_from"), Holiday.day <= bindparam("calendar_to")
    )


def load_calendar(session: Session, start: dt.date, end: dt.date) -> WorkCalendar:
    """Load the calendar rows between two dates (inclusive): on the session's connection, past
    the ORM's layer (:func:`docflow.db.rows`; every answer with deadline marks reads it), after
    writing what the session holds, as the ORM's autoflush did."""
    session.flush()
    return WorkCalendar.from_rows(
        rows(session, _calendar_rows(), {"calendar_from": start, "calendar_to": end})
    )


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
