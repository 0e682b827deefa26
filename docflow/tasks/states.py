"""The task state machine (API.md §5): states, actions and the allowed moves as one table.

Overdue is not a state: it is derived from the deadline (see :mod:`docflow.tasks.deadlines`).
Some actions leave the state where it is (a progress report, an extension request); they are in
the table all the same, so that "may this happen now?" has one answer.
"""

from __future__ import annotations

from enum import StrEnum

from docflow.transitions import next_in


class TaskState(StrEnum):
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    AWAITING_APPROVAL = "awaiting_approval"
    DONE = "done"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return STATE_LABELS[self]

    @property
    def is_open(self) -> bool:
        return self in OPEN_STATES


STATE_LABELS = {
    TaskState.ASSIGNED: "Mới giao",
    TaskState.IN_PROGRESS: "Đang thực hiện",
    TaskState.AWAITING_APPROVAL: "Chờ duyệt kết quả",
    TaskState.DONE: "Hoàn thành",
    TaskState.CANCELLED: "Đã hủy",
}

OPEN_STATES = frozenset({TaskState.ASSIGNED, TaskState.IN_PROGRESS, TaskState.AWAITING_APPROVAL})


class TaskAction(StrEnum):
    ASSIGN = "assign"  # the creation; in the trail only
    START = "start"
    REPORT_PROGRESS = "report_progress"
    REQUEST_EXTENSION = "request_extension"
    DECIDE_EXTENSION = "decide_extension"
    SUBMIT_COMPLETION = "submit_completion"
    APPROVE_COMPLETION = "approve_completion"
    REJECT_COMPLETION = "reject_completion"
    CANCEL = "cancel"
    SPLIT = "split"  # a unit head hands part of the task to people of the unit
    EXTENDED = "extended"  # the deadline moved because a sub-task's extension was granted

    @property
    def label(self) -> str:
        return ACTION_LABELS[self]


ACTION_LABELS = {
    TaskAction.ASSIGN: "Giao nhiệm vụ",
    TaskAction.START: "Bắt đầu thực hiện",
    TaskAction.REPORT_PROGRESS: "Báo cáo tiến độ",
    TaskAction.REQUEST_EXTENSION: "Xin gia hạn",
    TaskAction.DECIDE_EXTENSION: "Quyết định gia hạn",
    TaskAction.SUBMIT_COMPLETION: "Báo cáo hoàn thành",
    TaskAction.APPROVE_COMPLETION: "Duyệt hoàn thành",
    TaskAction.REJECT_COMPLETION: "Trả lại, chưa đạt",
    TaskAction.CANCEL: "Hủy nhiệm vụ",
    TaskAction.SPLIT: "Giao việc con",
    TaskAction.EXTENDED: "Lùi hạn theo việc con",
}


class Priority(StrEnum):
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"

    @property
    def label(self) -> str:
        return {"normal": "Bình thường", "high": "Quan trọng", "urgent": "Khẩn"}[self.value]


S, A = TaskState, TaskAction
TRANSITIONS: dict[tuple[TaskState, TaskAction], TaskState] = {
    (S.ASSIGNED, A.START): S.IN_PROGRESS,
    (S.ASSIGNED, A.REQUEST_EXTENSION): S.ASSIGNED,
    (S.ASSIGNED, A.DECIDE_EXTENSION): S.ASSIGNED,
    (S.ASSIGNED, A.SPLIT): S.IN_PROGRESS,
    (S.ASSIGNED, A.SUBMIT_COMPLETION): S.AWAITING_APPROVAL,
    (S.ASSIGNED, A.CANCEL): S.CANCELLED,
    (S.ASSIGNED, A.EXTENDED): S.ASSIGNED,
    (S.IN_PROGRESS, A.REPORT_PROGRESS): S.IN_PROGRESS,
    (S.IN_PROGRESS, A.REQUEST_EXTENSION): S.IN_PROGRESS,
    (S.IN_PROGRESS, A.DECIDE_EXTENSION): S.IN_PROGRESS,
    (S.IN_PROGRESS, A.SPLIT): S.IN_PROGRESS,
    (S.IN_PROGRESS, A.SUBMIT_COMPLETION): S.AWAITING_APPROVAL,
    (S.IN_PROGRESS, A.CANCEL): S.CANCELLED,
    (S.IN_PROGRESS, A.EXTENDED): S.IN_PROGRESS,
    (S.AWAITING_APPROVAL, A.APPROVE_COMPLETION): S.DONE,
    (S.AWAITING_APPROVAL, A.REJECT_COMPLETION): S.IN_PROGRESS,
    (S.AWAITING_APPROVAL, A.CANCEL): S.CANCELLED,
    (S.AWAITING_APPROVAL, A.EXTENDED): S.AWAITING_APPROVAL,
}
del S, A


def next_state(state: TaskState, action: TaskAction) -> TaskState:
    """The state after ``action``; :class:`TransitionNotAllowedError` when the table has no such move."""
    return next_in(TRANSITIONS, state, action, subject="nhiệm vụ")


def allowed_in(state: TaskState) -> frozenset[TaskAction]:
    return frozenset(a for (s, a) in TRANSITIONS if s is state)
