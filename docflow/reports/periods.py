"""The periods of a report form and their deadlines (pure date arithmetic).

- ``monthly``: the calendar month (``2026-11``); the deadline is day ``deadline_day`` of that
  month (the seeds' "before the 25th of every month"), the month's last day when it has fewer
  days or none is given.
- ``weekly``: the ISO week (``2026-W48``); the deadline is ISO weekday ``deadline_day`` (1 =
  Monday … 7 = Sunday) of that week, Friday by default.
- ``quarterly``: ``2026-Q4``; the deadline is day ``deadline_day`` of the quarter's last month.
- ``once``: one period ``once`` from the form's creation to its given deadline.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

from docflow.reports.states import Period


@dataclass(frozen=True)
class PeriodSpan:
    key: str
    start: dt.date
    end: dt.date
    deadline: dt.date


def _day_of_month(year: int, month: int, day: int | None) -> dt.date:
    last = calendar.monthrange(year, month)[1]
    return dt.date(year, month, min(day or last, last))


def period_of(
    period: Period, day: dt.date, *, deadline_day: int | None, once_deadline: dt.date | None = None
) -> PeriodSpan:
    """The period of ``period`` that contains ``day``."""
    if period is Period.MONTHLY:
        start = day.replace(day=1)
        end = _day_of_month(day.year, day.month, None)
        return PeriodSpan(
            f"{day:%Y-%m}", start, end, _day_of_month(day.year, day.month, deadline_day)
        )
    if period is Period.WEEKLY:
        year, week, weekday = day.isocalendar()
        start = day - dt.timedelta(days=weekday - 1)
        end = start + dt.timedelta(days=6)
        deadline = start + dt.timedelta(days=(deadline_day or 5) - 1)
        return PeriodSpan(f"{year}-W{week:02d}", start, end, deadline)
    if period is Period.QUARTERLY:
        q = (day.month - 1) // 3 + 1
        start = dt.date(day.year, 3 * q - 2, 1)
        end = _day_of_month(day.year, 3 * q, None)
        return PeriodSpan(
            f"{day.year}-Q{q}", start, end, _day_of_month(day.year, 3 * q, deadline_day)
        )
    assert once_deadline is not None
    return PeriodSpan("once", min(day, once_deadline), once_deadline, once_deadline)


def parse_period_key(period: Period, key: str) -> dt.date | None:
    """A day inside the period named ``key`` (None when ``key`` is not one of ``period``)."""
    try:
        if period is Period.MONTHLY and len(key) == 7:
            return dt.datetime.strptime(key, "%Y-%m").date()
        if period is Period.WEEKLY and len(key) == 8 and key[4:6] == "-W":
            return dt.date.fromisocalendar(int(key[:4]), int(key[6:]), 1)
        if period is Period.QUARTERLY and len(key) == 7 and key[4:6] == "-Q":
            q = int(key[6])
            if 1 <= q <= 4:
                return dt.date(int(key[:4]), 3 * q - 2, 1)
        if period is Period.ONCE and key == "once":
            return dt.date.min
    except ValueError:
        return None
    return None


__all__ = ["PeriodSpan", "parse_period_key", "period_of"]
