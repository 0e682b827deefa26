"""Working-day arithmetic: weekends, Tết, swapped working Saturdays, and its invariants."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from docflow.models import Holiday
from docflow.reference import HOLIDAYS_2026
from docflow.workdays import WorkCalendar, local_date

D = dt.date
CAL_2026 = WorkCalendar.from_rows(Holiday(day=d, name=n, kind=k.value) for d, n, k in HOLIDAYS_2026)


def test_friday_plus_one_is_monday() -> None:
    assert WorkCalendar().add_working_days(D(2026, 11, 20), 1) == D(2026, 11, 23)


def test_weekend_start_counts_from_next_working_day() -> None:
    cal = WorkCalendar()
    assert cal.add_working_days(D(2026, 11, 21), 1) == D(2026, 11, 23)  # Saturday + 1
    assert cal.add_working_days(D(2026, 11, 22), 0) == D(2026, 11, 23)  # Sunday rolls forward


def test_tet_2026_is_skipped() -> None:
    # Friday 13 Feb + 1 working day: the week of 16-20 Feb is Tết, so Monday 23 Feb.
    assert CAL_2026.add_working_days(D(2026, 2, 13), 1) == D(2026, 2, 23)
    assert CAL_2026.working_days_between(D(2026, 2, 13), D(2026, 2, 23)) == 1


def test_hung_kings_and_reunification_days() -> None:
    # Fri 24 Apr: Mon 27 (substitute day off), Tue 28, Wed 29, Thu 30 (holiday), Fri 1 May (holiday).
    assert CAL_2026.add_working_days(D(2026, 4, 24), 3) == D(2026, 5, 4)


def test_swapped_saturday_counts_as_working_day() -> None:
    cal = WorkCalendar(holidays=frozenset({D(2026, 1, 2)}), workdays=frozenset({D(2026, 1, 10)}))
    assert cal.is_working_day(D(2026, 1, 10))
    assert not cal.is_working_day(D(2026, 1, 2))
    # Thu 8 Jan + 2 → Fri 9, Sat 10 (worked).
    assert cal.add_working_days(D(2026, 1, 8), 2) == D(2026, 1, 10)


def test_between_is_antisymmetric_and_zero_on_same_day() -> None:
    assert CAL_2026.working_days_between(D(2026, 3, 2), D(2026, 3, 2)) == 0
    assert CAL_2026.working_days_between(D(2026, 3, 9), D(2026, 3, 2)) == -5


def test_local_date_uses_vietnam_time() -> None:
    # 17:30 UTC on 22 Nov is 00:30 on 23 Nov in Hà Nội.
    assert local_date(dt.datetime(2026, 11, 22, 17, 30, tzinfo=dt.UTC)) == D(2026, 11, 23)


dates = st.dates(min_value=D(2025, 1, 1), max_value=D(2027, 12, 31))


@given(start=dates, n=st.integers(min_value=1, max_value=400))
def test_add_then_count_round_trips(start: dt.date, n: int) -> None:
    due = CAL_2026.add_working_days(start, n)
    assert CAL_2026.is_working_day(due)
    assert CAL_2026.working_days_between(start, due) == n
    assert CAL_2026.working_days_between(start, due - dt.timedelta(days=1)) == n - 1


@given(
    start=dates, a=st.integers(min_value=0, max_value=50), b=st.integers(min_value=0, max_value=50)
)
def test_adding_is_monotonic(start: dt.date, a: int, b: int) -> None:
    lo, hi = sorted((a, b))
    assert CAL_2026.add_working_days(start, lo) <= CAL_2026.add_working_days(start, hi)


@given(
    st.dates(min_value=D(2025, 6, 1), max_value=D(2027, 6, 1)),
    st.dates(min_value=D(2025, 6, 1), max_value=D(2027, 6, 1)),
)
def test_counting_equals_walking_the_days(a: dt.date, b: dt.date) -> None:
    """The count by arithmetic (weekdays, then the calendar's exceptions) equals walking the
    days one by one, both ways round, over Tết, swapped Saturdays and ordinary weeks."""
    lo, hi = min(a, b), max(a, b)
    walked = sum(
        1
        for i in range(1, (hi - lo).days + 1)
        if CAL_2026.is_working_day(lo + dt.timedelta(days=i))
    )
    assert CAL_2026.working_days_between(lo, hi) == walked
    assert CAL_2026.working_days_between(hi, lo) == -walked
