"""States of an outgoing document (API.md §3) and of its deliveries (DOMAIN.md §7): states,
actions, and the allowed moves as a table; the signing competences (thẩm quyền ký)."""

from __future__ import annotations

from enum import StrEnum

from docflow.errors import TransitionNotAllowedError


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
        raise TransitionNotAllowedError(
            f"Không thể «{action.label}» khi văn bản đang ở trạng thái «{state.label}».",
            details={"state": state.value, "action": action.value},
        ) from None


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


# A replacing document or a correction (Decree 30 Art. 10(3); docflow.outgoing.replacements).
class ReplacesKind(StrEnum):
    REPLACE = "replace"  # văn bản thay thế: errors of content
    CORRECT = "correct"  # đính chính: errors of form

    @property
    def label(self) -> str:
        return REPLACES_LABELS[self]


REPLACES_LABELS = {ReplacesKind.REPLACE: "Thay thế", ReplacesKind.CORRECT: "Đính chính"}
