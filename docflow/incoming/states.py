"""States of an incoming document and of its assignments (API.md §3): states, actions, and the
allowed moves as a table.

The edXML status code a state sends back to an external sender (DOMAIN.md §7) is kept beside
the states.
"""

from __future__ import annotations

from enum import StrEnum

from docflow.errors import TransitionNotAllowedError


class IncomingState(StrEnum):
    ARRIVED = "arrived"
    REGISTERED = "registered"
    SUBMITTED = "submitted"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    REJECTED = "rejected"
    RECALLED = "recalled"

    @property
    def label(self) -> str:
        return INCOMING_LABELS[self]


INCOMING_LABELS = {
    IncomingState.ARRIVED: "Mới đến",
    IncomingState.REGISTERED: "Đã vào sổ",
    IncomingState.SUBMITTED: "Chờ lãnh đạo cho ý kiến",
    IncomingState.ASSIGNED: "Đã giao xử lý",
    IncomingState.IN_PROGRESS: "Đang xử lý",
    IncomingState.DONE: "Hoàn thành",
    IncomingState.REJECTED: "Đã từ chối",
    IncomingState.RECALLED: "Đã thu hồi",
}

STATUS_CODE = {
    IncomingState.ARRIVED: "01",
    IncomingState.REJECTED: "02",
    IncomingState.REGISTERED: "03",
    IncomingState.ASSIGNED: "04",
    IncomingState.IN_PROGRESS: "05",
    IncomingState.DONE: "06",
    IncomingState.RECALLED: "15",
}


class IncomingAction(StrEnum):
    REGISTER = "register"
    REJECT = "reject"
    SUBMIT = "submit"
    ASSIGN = "assign"
    START = "start"
    COMPLETE = "complete"
    RETURN = "return"
    COMMENT = "comment"
    # A recall from another system of a copy already handled: the clerk decides.
    ACCEPT_RECALL = "accept_recall"
    REFUSE_RECALL = "refuse_recall"

    @property
    def label(self) -> str:
        return ACTION_LABELS[self]


ACTION_LABELS = {
    IncomingAction.REGISTER: "Vào sổ",
    IncomingAction.REJECT: "Từ chối tiếp nhận",
    IncomingAction.SUBMIT: "Trình lãnh đạo",
    IncomingAction.ASSIGN: "Giao xử lý",
    IncomingAction.START: "Bắt đầu xử lý",
    IncomingAction.COMPLETE: "Hoàn thành",
    IncomingAction.RETURN: "Trả lại",
    IncomingAction.COMMENT: "Cho ý kiến",
    IncomingAction.ACCEPT_RECALL: "Đồng ý thu hồi",
    IncomingAction.REFUSE_RECALL: "Từ chối thu hồi",
}

S, A = IncomingState, IncomingAction
HANDLED_STATES = (S.REGISTERED, S.SUBMITTED, S.ASSIGNED, S.IN_PROGRESS, S.DONE)
INCOMING_TRANSITIONS: dict[tuple[IncomingState, IncomingAction], IncomingState] = {
    (S.ARRIVED, A.REGISTER): S.REGISTERED,
    (S.ARRIVED, A.REJECT): S.REJECTED,
    (S.REGISTERED, A.SUBMIT): S.SUBMITTED,
    (S.SUBMITTED, A.ASSIGN): S.ASSIGNED,
    (S.REGISTERED, A.ASSIGN): S.ASSIGNED,
    (S.ASSIGNED, A.ASSIGN): S.ASSIGNED,
    (S.IN_PROGRESS, A.ASSIGN): S.IN_PROGRESS,  # a unit head passing the work on
    (S.ASSIGNED, A.START): S.IN_PROGRESS,
    (S.ASSIGNED, A.COMPLETE): S.DONE,
    (S.IN_PROGRESS, A.COMPLETE): S.DONE,
    (S.SUBMITTED, A.RETURN): S.REGISTERED,
    (S.ASSIGNED, A.RETURN): S.REGISTERED,
    **{(s, A.COMMENT): s for s in S if s not in (S.REJECTED, S.RECALLED)},
    # Only while a recall request waits (Document.recall_request): a handled copy, or one that
    # only arrived beside a handled copy of the same document (interop.inbox._revoke decides
    # the copies together); an arrived copy alone is recalled without asking.
    **{(s, A.ACCEPT_RECALL): S.RECALLED for s in (S.ARRIVED, *HANDLED_STATES)},
    **{(s, A.REFUSE_RECALL): s for s in (S.ARRIVED, *HANDLED_STATES)},
}

OPEN_STATES = frozenset({S.ARRIVED, S.REGISTERED, S.SUBMITTED, S.ASSIGNED, S.IN_PROGRESS})
CLOSED_STATES = frozenset({S.DONE, S.REJECTED, S.RECALLED})
# The "processing" box: presented, assigned, under way.
PROCESSING_STATES = frozenset({S.SUBMITTED, S.ASSIGNED, S.IN_PROGRESS})


def next_incoming_state(state: IncomingState, action: IncomingAction) -> IncomingState:
    try:
        return INCOMING_TRANSITIONS[(state, action)]
    except KeyError:
        raise TransitionNotAllowedError(
            f"Không thể «{action.label}» khi văn bản đang ở trạng thái «{state.label}».",
            details={"state": state.value, "action": action.value},
        ) from None


class AssignmentRole(StrEnum):
    LEAD = "lead"
    COOPERATING = "cooperating"
    INFORMED = "informed"

    @property
    def label(self) -> str:
        return {"lead": "Chủ trì", "cooperating": "Phối hợp", "informed": "Để biết"}[self.value]


class AssignmentState(StrEnum):
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    PASSED_ON = "passed_on"  # a unit head gave the work to a person of the unit
    CANCELLED = "cancelled"


# Where an incoming document came from.
SOURCES = {
    "paper": "Bản giấy",
    "email": "Thư điện tử",
    "internal": "Nội bộ",
    "axis": "Trục liên thông",
}
