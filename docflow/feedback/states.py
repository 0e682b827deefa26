"""The feedback state machine (API.md §7): states, actions and the allowed moves as one table.

``received`` → ``accepted`` → ``in_progress`` → ``answered`` → ``closed``; also ``rejected``
(out of scope, spam discarded) and ``forwarded`` (to another organisation of the tree, or to a
body outside it). Quarantine is not a state: a suspected item stays ``received`` with a
``quarantine_reason`` until a person releases or discards it. Overdue is derived from the
deadline, never stored.
"""

from __future__ import annotations

from enum import StrEnum

from docflow.transitions import next_in


class FeedbackState(StrEnum):
    RECEIVED = "received"
    ACCEPTED = "accepted"
    IN_PROGRESS = "in_progress"
    ANSWERED = "answered"
    CLOSED = "closed"
    REJECTED = "rejected"
    FORWARDED = "forwarded"

    @property
    def label(self) -> str:
        return STATE_LABELS[self]

    @property
    def is_open(self) -> bool:
        return self in OPEN_STATES


STATE_LABELS = {
    FeedbackState.RECEIVED: "Đã nhận",
    FeedbackState.ACCEPTED: "Đã tiếp nhận",
    FeedbackState.IN_PROGRESS: "Đang xử lý",
    FeedbackState.ANSWERED: "Đã trả lời",
    FeedbackState.CLOSED: "Đã kết thúc",
    FeedbackState.REJECTED: "Không tiếp nhận",
    FeedbackState.FORWARDED: "Đã chuyển cơ quan có thẩm quyền",
}

OPEN_STATES = frozenset(
    {
        FeedbackState.RECEIVED,
        FeedbackState.ACCEPTED,
        FeedbackState.IN_PROGRESS,
        FeedbackState.FORWARDED,
    }
)
# Answered in time or not is measured on these.
FINISHED_STATES = frozenset({FeedbackState.ANSWERED, FeedbackState.CLOSED})


class Complexity(StrEnum):
    SIMPLE = "simple"
    COMPLEX = "complex"

    @property
    def working_days(self) -> int:
        """Days to answer, counted in working days from receipt (seed 003: 7, complex 20)."""
        return 7 if self is Complexity.SIMPLE else 20

    @property
    def label(self) -> str:
        return "Đơn giản (7 ngày làm việc)" if self is Complexity.SIMPLE else "Phức tạp (20 ngày)"


class FeedbackAction(StrEnum):
    RECEIVE = "receive"  # the submission (or a paper letter registered); in the trail only
    ACCEPT = "accept"
    REJECT = "reject"
    CLASSIFY = "classify"
    ASSIGN = "assign"
    FORWARD = "forward"
    ANSWER = "answer"
    CLOSE = "close"
    REQUEST_EXTENSION = "request_extension"
    RELEASE = "release"  # out of quarantine
    DISCARD = "discard"  # quarantined spam thrown away (→ rejected, details erased)
    RECEIVE_FORWARDED = "receive_forwarded"  # a copy arrived from another organisation
    ANSWERED_BY_RECEIVER = "answered_by_receiver"  # the body it was forwarded to answered

    @property
    def label(self) -> str:
        return ACTION_LABELS[self]


ACTION_LABELS = {
    FeedbackAction.RECEIVE: "Nhận phản ánh",
    FeedbackAction.ACCEPT: "Tiếp nhận",
    FeedbackAction.REJECT: "Không tiếp nhận",
    FeedbackAction.CLASSIFY: "Phân loại",
    FeedbackAction.ASSIGN: "Giao xử lý",
    FeedbackAction.FORWARD: "Chuyển cơ quan có thẩm quyền",
    FeedbackAction.ANSWER: "Trả lời người phản ánh",
    FeedbackAction.CLOSE: "Kết thúc",
    FeedbackAction.REQUEST_EXTENSION: "Gia hạn",
    FeedbackAction.RELEASE: "Đưa ra khỏi khu cách ly",
    FeedbackAction.DISCARD: "Hủy (thư rác)",
    FeedbackAction.RECEIVE_FORWARDED: "Nhận từ cơ quan khác chuyển đến",
    FeedbackAction.ANSWERED_BY_RECEIVER: "Cơ quan được chuyển đã trả lời",
}

# The actions a person may ask for through the API (the others are written by the system).
REQUESTABLE = frozenset(
    {
        FeedbackAction.ACCEPT,
        FeedbackAction.REJECT,
        FeedbackAction.CLASSIFY,
        FeedbackAction.ASSIGN,
        FeedbackAction.FORWARD,
        FeedbackAction.ANSWER,
        FeedbackAction.CLOSE,
        FeedbackAction.REQUEST_EXTENSION,
        FeedbackAction.RELEASE,
        FeedbackAction.DISCARD,
    }
)

S, A = FeedbackState, FeedbackAction
TRANSITIONS: dict[tuple[FeedbackState, FeedbackAction], FeedbackState] = {
    (S.RECEIVED, A.ACCEPT): S.ACCEPTED,
    (S.RECEIVED, A.CLASSIFY): S.ACCEPTED,  # classifying accepts
    (S.RECEIVED, A.REJECT): S.REJECTED,
    (S.RECEIVED, A.FORWARD): S.FORWARDED,
    (S.RECEIVED, A.RELEASE): S.RECEIVED,
    (S.RECEIVED, A.DISCARD): S.REJECTED,
    (S.ACCEPTED, A.CLASSIFY): S.ACCEPTED,
    (S.ACCEPTED, A.ASSIGN): S.IN_PROGRESS,
    (S.ACCEPTED, A.FORWARD): S.FORWARDED,
    (S.ACCEPTED, A.ANSWER): S.ANSWERED,
    (S.ACCEPTED, A.REJECT): S.REJECTED,
    (S.ACCEPTED, A.REQUEST_EXTENSION): S.ACCEPTED,
    (S.IN_PROGRESS, A.CLASSIFY): S.IN_PROGRESS,
    (S.IN_PROGRESS, A.ASSIGN): S.IN_PROGRESS,
    (S.IN_PROGRESS, A.FORWARD): S.FORWARDED,
    (S.IN_PROGRESS, A.ANSWER): S.ANSWERED,
    (S.IN_PROGRESS, A.REQUEST_EXTENSION): S.IN_PROGRESS,
    # Forwarded: the Front follows up; the answer the competent body gave is relayed.
    (S.FORWARDED, A.ANSWER): S.ANSWERED,
    (S.FORWARDED, A.ANSWERED_BY_RECEIVER): S.ANSWERED,
    (S.FORWARDED, A.REQUEST_EXTENSION): S.FORWARDED,
    (S.FORWARDED, A.CLOSE): S.CLOSED,
    (S.ANSWERED, A.CLOSE): S.CLOSED,
}
del S, A


def next_state(state: FeedbackState, action: FeedbackAction) -> FeedbackState:
    """The state after ``action``; :class:`TransitionNotAllowedError` when the table has no such move."""
    return next_in(TRANSITIONS, state, action, subject="phản ánh")


def allowed_in(state: FeedbackState) -> frozenset[FeedbackAction]:
    return frozenset(a for (s, a) in TRANSITIONS if s is state and a in REQUESTABLE)
