"""Overdue and days late in working days, around weekends, Tết and swapped days (pure: no
database). The calendar is the 2026 one of docflow.reference plus a swapped Saturday."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from docflow.models import Holiday
from docflow.reference import HOLIDAYS_2026
from docflow.reports.processing import _grace_runs
from docflow.tasks.deadlines import (
    days_late,
    days_left,
    deadline_status,
    last_working_day,
    working_days_in,
)
from docflow.tasks.reminders import reminder_kind
from docflow.workdays import WorkCalendar

D = dt.date
CAL = WorkCalendar.from_rows(Holiday(day=d, name=n, kind=k.value) for d, n, k in HOLIDAYS_2026)
# A year with a swap: Friday 2 January off, Saturday 10 January worked.
SWAP = WorkCalendar(holidays=frozenset({D(2026, 1, 2)}), workdays=frozenset({D(2026, 1, 10)}))


def test_not_overdue_on_the_weekend_after_a_friday_deadline() -> None:
    fri = D(2026, 11, 27)
    for day, late in [(fri, 0), (D(2026, 11, 28), 0), (D(2026, 11, 29), 0), (D(2026, 11, 30), 1)]:
        s = deadline_status(CAL, due=fri, today=day, is_open=True, finished_on=None)
        assert (s.is_overdue, s.days_late) == (late > 0, late), day


def test_tet_does_not_count_as_late() -> None:
    # Due Friday 13 Feb 2026; Tết is Mon 16 - Fri 20 Feb: first late working day is Mon 23.
    due = D(2026, 2, 13)
    assert days_late(CAL, due, D(2026, 2, 20)) == 0
    assert days_late(CAL, due, D(2026, 2, 23)) == 1
    assert days_late(CAL, due, D(2026, 2, 27)) == 5
    assert last_working_day(CAL, D(2026, 2, 22)) == due


def test_hung_kings_and_labour_day_week() -> None:
    # Due Fri 24 Apr; Mon 27 off, Tue 28 and Wed 29 worked, Thu 30 and Fri 1 May off.
    due = D(2026, 4, 24)
    assert days_late(CAL, due, D(2026, 5, 3)) == 2
    assert days_left(CAL, D(2026, 4, 24), D(2026, 5, 4)) == 3


def test_a_swapped_saturday_is_a_working_day_for_deadlines() -> None:
    due = D(2026, 1, 9)  # Friday
    assert days_late(SWAP, due, D(2026, 1, 10)) == 1  # the Saturday is worked: late already
    assert last_working_day(SWAP, D(2026, 1, 11)) == D(2026, 1, 10)
    # Thursday 1 Jan (holiday in the reference, not here) … the Friday 2 Jan swap day is off.
    assert days_left(SWAP, D(2026, 1, 1), D(2026, 1, 5)) == 1


def test_done_late_is_judged_on_the_day_completion_was_submitted() -> None:
    due = D(2026, 11, 27)  # Friday
    on_sat = deadline_status(
        CAL, due=due, today=D(2026, 12, 9), is_open=False, finished_on=D(2026, 11, 28)
    )
    on_mon = deadline_status(
        CAL, due=due, today=D(2026, 12, 9), is_open=False, finished_on=D(2026, 11, 30)
    )
    assert (on_sat.done_late, on_sat.days_late) == (False, 0)
    assert (on_mon.done_late, on_mon.days_late) == (True, 1)
    cancelled = deadline_status(CAL, due=due, today=D(2026, 12, 9), is_open=False, finished_on=None)
    assert (cancelled.is_overdue, cancelled.done_late) == (False, None)


@pytest.mark.parametrize(
    ("today", "due", "kind"),
    [
        (D(2026, 11, 23), D(2026, 11, 26), None),  # Mon, due Thu: 3 working days left
        (D(2026, 11, 24), D(2026, 11, 26), "due_soon"),  # 2 left
        (D(2026, 11, 25), D(2026, 11, 26), "due_soon"),  # 1 left
        (D(2026, 11, 26), D(2026, 11, 26), "due_today"),
        (D(2026, 11, 27), D(2026, 11, 29), "due_today"),  # due Sunday: Friday is the last day
        (D(2026, 11, 27), D(2026, 11, 26), "overdue"),
        (D(2026, 11, 26), D(2026, 12, 1), None),  # Thu → Tue: Fri, Mon, Tue = 3 left
        (D(2026, 2, 12), D(2026, 2, 23), "due_soon"),  # Thu before Tết → Mon after: 2 left
        (D(2026, 2, 11), D(2026, 2, 23), None),  # 3 left (Thu, Fri, Mon)
    ],
)
def test_reminder_kind_counts_working_days(today: dt.date, due: dt.date, kind: str | None) -> None:
    assert reminder_kind(CAL, today, due, 2) == kind


def test_grace_runs_cover_weekends_and_tet() -> None:
    # Starting inside Tết still gives the whole run (an item due before it is excused).
    assert _grace_runs(CAL, D(2026, 2, 18), D(2026, 2, 19)) == [(D(2026, 2, 13), D(2026, 2, 22))]
    runs = _grace_runs(CAL, D(2026, 2, 8), D(2026, 2, 24))
    # Weekend 14-15 and Tết 16-20 and weekend 21-22 merge into one run: 14 … 22.
    assert (D(2026, 2, 13), D(2026, 2, 22)) in runs
    assert (
        D(2026, 2, 6),
        D(2026, 2, 8),
    ) in runs  # the weekend before, though entered on its Sunday


@given(
    due=st.dates(D(2026, 1, 1), D(2026, 12, 31)),
    offset=st.integers(0, 60),
)
def test_overdue_iff_due_before_the_last_working_day(due: dt.date, offset: int) -> None:
    """What SQL uses (one cut-off date) agrees with the definition (days late ≥ 1)."""
    today = due + dt.timedelta(days=offset)
    assert (days_late(CAL, due, today) > 0) == (due < last_working_day(CAL, today))


@given(
    due=st.dates(D(2026, 1, 1), D(2026, 12, 20)),
    offset=st.integers(0, 30),
)
def test_grace_runs_agree_with_days_late(due: dt.date, offset: int) -> None:
    """The statistics' "late" (SQL, via runs of days off) agrees with days_late > 0."""
    finished = due + dt.timedelta(days=offset)
    runs = _grace_runs(CAL, finished - dt.timedelta(days=2), finished)
    excused = any(a <= due and finished <= b for a, b in runs)
    assert (finished > due and not excused) == (days_late(CAL, due, finished) > 0)


@given(
    start=st.dates(D(2025, 6, 1), D(2027, 6, 30)),
    span=st.integers(-10, 800),
    swaps=st.sets(st.dates(D(2025, 6, 1), D(2027, 6, 30)), max_size=6),
)
def test_counting_by_arithmetic_equals_walking_the_days(
    start: dt.date, span: int, swaps: set[dt.date]
) -> None:
    """The fast count agrees with the calendar's day-by-day walk, swapped days included."""
    cal = WorkCalendar(
        holidays=CAL.holidays | {d for d in swaps if d.day % 2},
        workdays=frozenset(d for d in swaps if not d.day % 2),
    )
    end = start + dt.timedelta(days=span)
    assert working_days_in(cal, start, end) == max(0, cal.working_days_between(start, end))
