"""State machines of documents (API.md §3): states, actions, and the allowed moves as a table.

The edXML status code a state sends back to an external sender (DOMAIN.md §7) is kept beside
the incoming states.
"""

from __future__ import annotations

from enum import StrEnum

from docflow.errors import TransitionNotAllowed


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
    # Only while a recall request waits (Document.recall_request); an arrived copy is recalled
    # without asking.
    **{(s, A.ACCEPT_RECALL): S.RECALLED for s in HANDLED_STATES},
    **{(s, A.REFUSE_RECALL): s for s in HANDLED_STATES},
}

OPEN_STATES = frozenset({S.ARRIVED, S.REGISTERED, S.SUBMITTED, S.ASSIGNED, S.IN_PROGRESS})
CLOSED_STATES = frozenset({S.DONE, S.REJECTED, S.RECALLED})


def next_incoming_state(state: IncomingState, action: IncomingAction) -> IncomingState:
    try:
        return INCOMING_TRANSITIONS[(state, action)]
    except KeyError:
        raise TransitionNotAllowed(
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


URGENCY_RANK = {"normal": 0, "urgent": 1, "very_urgent": 2, "flash": 3, "flash_timed": 4}
URGENCY_LABELS = {
    "normal": "Thường",
    "urgent": "Khẩn",
    "very_urgent": "Thượng khẩn",
    "flash": "Hỏa tốc",
    "flash_timed": "Hỏa tốc hẹn giờ",
}
SOURCES = {
    "paper": "Bản giấy",
    "email": "Thư điện tử",
    "internal": "Nội bộ",
    "axis": "Trục liên thông",
}


# ---------------------------------------------------------------- outgoing (API.md §3)


class OutgoingState(StrEnum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    CHANGES_REQUESTED = "changes_requested"
    APPROVED = "approved"
    SIGNED = "signed"
    ISSUED = "issued"
    DISPATCHED = "dispatched"
    RECALLED = "recalled"

    @property
    def label(self) -> str:
        return OUTGOING_LABELS[self]


OUTGOING_LABELS = {
    OutgoingState.DRAFT: "Dự thảo",
    OutgoingState.IN_REVIEW: "Đang trình duyệt",
    OutgoingState.CHANGES_REQUESTED: "Cần chỉnh sửa",
    OutgoingState.APPROVED: "Đã duyệt, chờ ký",
    OutgoingState.SIGNED: "Đã ký, chờ cấp số",
    OutgoingState.ISSUED: "Đã ban hành",
    OutgoingState.DISPATCHED: "Đã phát hành",
    OutgoingState.RECALLED: "Đã thu hồi",
}


class OutgoingAction(StrEnum):
    SUBMIT_FOR_REVIEW = "submit_for_review"
    REQUEST_CHANGES = "request_changes"
    APPROVE = "approve"
    SIGN = "sign"
    ISSUE = "issue"
    DISPATCH = "dispatch"
    RECALL = "recall"
    COMMENT = "comment"

    @property
    def label(self) -> str:
        return OUTGOING_ACTION_LABELS[self]


OUTGOING_ACTION_LABELS = {
    OutgoingAction.SUBMIT_FOR_REVIEW: "Trình duyệt",
    OutgoingAction.REQUEST_CHANGES: "Yêu cầu chỉnh sửa",
    OutgoingAction.APPROVE: "Duyệt",
    OutgoingAction.SIGN: "Ký số",
    OutgoingAction.ISSUE: "Cấp số và ký phát hành",
    OutgoingAction.DISPATCH: "Phát hành",
    OutgoingAction.RECALL: "Thu hồi",
    OutgoingAction.COMMENT: "Góp ý",
}

OS, OA = OutgoingState, OutgoingAction
OUTGOING_TRANSITIONS: dict[tuple[OutgoingState, OutgoingAction], OutgoingState] = {
    (OS.DRAFT, OA.SUBMIT_FOR_REVIEW): OS.IN_REVIEW,
    (OS.CHANGES_REQUESTED, OA.SUBMIT_FOR_REVIEW): OS.IN_REVIEW,
    (OS.IN_REVIEW, OA.SUBMIT_FOR_REVIEW): OS.IN_REVIEW,
    (OS.IN_REVIEW, OA.REQUEST_CHANGES): OS.CHANGES_REQUESTED,
    (OS.IN_REVIEW, OA.APPROVE): OS.APPROVED,
    (OS.IN_REVIEW, OA.SIGN): OS.SIGNED,
    (OS.APPROVED, OA.SIGN): OS.SIGNED,
    (OS.SIGNED, OA.ISSUE): OS.ISSUED,
    (OS.ISSUED, OA.DISPATCH): OS.DISPATCHED,
    (OS.DISPATCHED, OA.RECALL): OS.RECALLED,
    **{
        (s, OA.COMMENT): s
        for s in (OS.DRAFT, OS.IN_REVIEW, OS.CHANGES_REQUESTED, OS.APPROVED, OS.SIGNED)
    },
}

# The draft may still change (new versions) in these states.
EDITABLE_STATES = frozenset({OS.DRAFT, OS.CHANGES_REQUESTED, OS.IN_REVIEW})
OUTGOING_OPEN_STATES = frozenset(
    {OS.DRAFT, OS.IN_REVIEW, OS.CHANGES_REQUESTED, OS.APPROVED, OS.SIGNED}
)
OUTGOING_CLOSED_STATES = frozenset({OS.ISSUED, OS.DISPATCHED, OS.RECALLED})


def next_outgoing_state(state: OutgoingState, action: OutgoingAction) -> OutgoingState:
    try:
        return OUTGOING_TRANSITIONS[(state, action)]
    except KeyError:
        raise TransitionNotAllowed(
            f"Không thể «{action.label}» khi văn bản đang ở trạng thái «{state.label}».",
            details={"state": state.value, "action": action.value},
        ) from None


def state_label(direction: str, state: str) -> str:
    """Vietnamese name of a state of either direction (the raw value if unknown)."""
    try:
        if direction == "outgoing":
            return OUTGOING_LABELS[OutgoingState(state)]
        return INCOMING_LABELS[IncomingState(state)]
    except ValueError:
        return state


# Deliveries (DOMAIN.md §7): what each status code means, in the sender's deliveries view.
STATUS_LABELS = {
    "01": "Đã đến",
    "02": "Từ chối tiếp nhận",
    "03": "Đã tiếp nhận (vào sổ)",
    "04": "Đã phân công xử lý",
    "05": "Đang xử lý",
    "06": "Hoàn thành",
    "13": "Đã yêu cầu thu hồi",
    "15": "Đồng ý thu hồi",
    "16": "Từ chối thu hồi",
}


class DeliveryState(StrEnum):
    PLANNED = "planned"  # a recipient of a draft, not dispatched yet
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"  # recalled before it was delivered

    @property
    def label(self) -> str:
        return {
            "planned": "Dự kiến gửi",
            "queued": "Đang chờ gửi",
            "sent": "Đã gửi",
            "failed": "Gửi lỗi",
            "cancelled": "Đã hủy",
        }[self.value]


COMPETENCES = {
    "": "Ký trực tiếp",
    "TM.": "TM. (thay mặt)",
    "KT.": "KT. (ký thay)",
    "TL.": "TL. (thừa lệnh)",
    "TUQ.": "TUQ. (thừa ủy quyền)",
    "Q.": "Q. (quyền)",
}
