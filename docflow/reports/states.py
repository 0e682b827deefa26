"""States of a report request (báo cáo định kỳ) and what moves it.

A specialist (or the clerk, a unit head, the leader) of the reporting organisation fills it in
(``fill``: → ``filled``; figures the system knows are pre-filled); a leader of that organisation
approves it by signing its PDF (``approve``: ``filled`` → ``approved``); the clerk (or the
leader) submits the signed report (``submit``: ``approved`` → ``submitted``, a new version).
Filling again after the approval drops the signature (``approved`` → ``filled``). ``open`` →
``late`` when the deadline passes unfilled (the periodic job; a late submission stays marked
``submitted_late``). After submission, a correction — asked by the requesting level
(``return``: → ``returned``) or started by the organisation itself (``correct``: → ``filled``) —
goes through approval and submission again and makes a new version; every submitted version
and its signed PDF are kept.
"""

from __future__ import annotations

from enum import StrEnum


class RequestState(StrEnum):
    OPEN = "open"
    LATE = "late"
    FILLED = "filled"
    APPROVED = "approved"
    SUBMITTED = "submitted"
    RETURNED = "returned"


class RequestAction(StrEnum):
    FILL = "fill"
    APPROVE = "approve"
    SUBMIT = "submit"
    CORRECT = "correct"
    MARK_LATE = "mark_late"
    RETURN = "return"


class Period(StrEnum):
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    ONCE = "once"


class FieldType(StrEnum):
    NUMBER = "number"
    PERCENT = "percent"
    TEXT = "text"
    TABLE = "table"  # rows fixed by the form, columns numbers or text
    GATHERED = "gathered"  # the gathered table of one of the organisation's own forms


class ReportBox(StrEnum):
    TO_FILL = "to_fill"
    SENT = "sent"


class StatsScope(StrEnum):
    SELF = "self"
    SUBTREE = "subtree"


_S, _A = RequestState, RequestAction
TRANSITIONS: dict[tuple[RequestState, RequestAction], RequestState] = {
    **{(st, _A.FILL): _S.FILLED for st in (_S.OPEN, _S.LATE, _S.RETURNED, _S.FILLED, _S.APPROVED)},
    (_S.FILLED, _A.APPROVE): _S.APPROVED,
    (_S.APPROVED, _A.SUBMIT): _S.SUBMITTED,
    (_S.SUBMITTED, _A.CORRECT): _S.FILLED,
    (_S.OPEN, _A.MARK_LATE): _S.LATE,
    (_S.SUBMITTED, _A.RETURN): _S.RETURNED,
}

# What people read (Vietnamese).
STATE_LABELS: dict[str, str] = {
    RequestState.OPEN.value: "Chưa gửi",
    RequestState.LATE.value: "Quá hạn",
    RequestState.FILLED.value: "Đã điền, chờ ký duyệt",
    RequestState.APPROVED.value: "Đã ký duyệt, chờ gửi",
    RequestState.SUBMITTED.value: "Đã gửi",
    RequestState.RETURNED.value: "Bị trả lại",
}
PERIOD_LABELS: dict[str, str] = {
    Period.WEEKLY.value: "Hằng tuần",
    Period.MONTHLY.value: "Hằng tháng",
    Period.QUARTERLY.value: "Hằng quý",
    Period.ONCE.value: "Một lần",
}

TO_FILL_STATES = frozenset(
    {
        RequestState.OPEN,
        RequestState.LATE,
        RequestState.RETURNED,
        RequestState.FILLED,
        RequestState.APPROVED,
    }
)


def next_state(state: RequestState, action: RequestAction) -> RequestState | None:
    """The state after ``action``, or None when it is not allowed in ``state``."""
    return TRANSITIONS.get((state, action))


__all__ = [
    "PERIOD_LABELS",
    "STATE_LABELS",
    "TO_FILL_STATES",
    "TRANSITIONS",
    "FieldType",
    "Period",
    "ReportBox",
    "RequestAction",
    "RequestState",
    "StatsScope",
    "next_state",
]
