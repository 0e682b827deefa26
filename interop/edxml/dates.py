"""Dates and times as edXML writes them, and the variants read from the wild.

Output: dates ``yyyy/MM/dd``; times ``yyyy/MM/dd HH:mm:ss`` in Vietnam time (UTC+7, no daylight
saving), which is what the national SDKs write. Input also takes ``yyyy-MM-dd``, ``dd/MM/yyyy``,
ISO 8601 with or without an offset, and a time where a date is expected (the date part is kept).
A time without an offset is Vietnam time.
"""

from __future__ import annotations

import datetime as dt
import re

VN_TZ = dt.timezone(dt.timedelta(hours=7), "ICT")

_DATE_FORMATS = ("%Y/%m/%d", "%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%Y%m%d")
_TIME_FORMATS = (
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%Y-%m-%d %H:%M:%S",
)
_LEADING_DATE = re.compile(r"^\s*(\d{4}[/-]\d{1,2}[/-]\d{1,2}|\d{1,2}[/-]\d{1,2}[/-]\d{4})")


def format_date(value: dt.date) -> str:
    return f"{value.year:04d}/{value.month:02d}/{value.day:02d}"


def format_time(value: dt.datetime) -> str:
    """Vietnam wall-clock time to the second; ``value`` must be aware."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("naive datetime: edXML times are written from aware datetimes")
    local = value.astimezone(VN_TZ)
    return f"{format_date(local.date())} {local:%H:%M:%S}"


def parse_date(raw: str) -> dt.date | None:
    """The date in ``raw`` (a date or a time); ``None`` when it is not one."""
    value = raw.strip()
    if not value:
        return None
    for pattern in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(value, pattern).date()
        except ValueError:
            continue
    moment = parse_time(value)
    if moment is not None:
        return moment.astimezone(VN_TZ).date() if moment.utcoffset() else moment.date()
    match = _LEADING_DATE.match(value)
    if match and match.group(1) != value:
        return parse_date(match.group(1))
    return None


def parse_time(raw: str) -> dt.datetime | None:
    """An aware datetime (Vietnam time when ``raw`` has no offset); ``None`` when unreadable."""
    value = raw.strip()
    if not value:
        return None
    for pattern in _TIME_FORMATS:
        try:
            return dt.datetime.strptime(value, pattern).replace(tzinfo=VN_TZ)
        except ValueError:
            continue
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=VN_TZ)
    try:  # "0001-01-01T00:00:00+08:00" is a moment of year 0 in Vietnam time: not one to keep
        moment.astimezone(dt.UTC).astimezone(VN_TZ)
    except OverflowError:
        return None
    return moment
