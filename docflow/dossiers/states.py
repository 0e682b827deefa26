"""The dossier state machine (API.md §7): ``open`` → ``closed`` → ``transferred`` →
``archived``, back to ``closed`` when the archive returns a transfer, back to ``open`` when the
head reopens a closed dossier. Filing is in the table too (it leaves the state where it is), so
that "may this happen now?" has one answer."""

from __future__ import annotations

from enum import StrEnum

from docflow.transitions import next_in


class DossierState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    TRANSFERRED = "transferred"
    ARCHIVED = "archived"
    DISPOSED = "disposed"  # tiêu hủy: the files are gone, the metadata and the record stay

    @property
    def label(self) -> str:
        return STATE_LABELS[self]


STATE_LABELS = {
    DossierState.OPEN: "Đang lập",
    DossierState.CLOSED: "Đã kết thúc",
    DossierState.TRANSFERRED: "Đã nộp lưu, chờ tiếp nhận",
    DossierState.ARCHIVED: "Đã vào Lưu trữ cơ quan",
    DossierState.DISPOSED: "Đã tiêu hủy",
}


class DossierAction(StrEnum):
    OPEN = "open"  # the creation; in the trail only
    FILE = "file"  # a document or a task put into the dossier
    UNFILE = "unfile"  # taken out again while the dossier is open
    CLOSE = "close"
    REOPEN = "reopen"
    TRANSFER = "transfer"
    ACCEPT = "accept"
    RETURN = "return"
    HOLD = "hold"  # a legal hold: never disposed while it stands
    RELEASE = "release"
    DISPOSE = "dispose"  # by an approved disposal only

    @property
    def label(self) -> str:
        return ACTION_LABELS[self]


ACTION_LABELS = {
    DossierAction.OPEN: "Mở hồ sơ",
    DossierAction.FILE: "Đưa văn bản vào hồ sơ",
    DossierAction.UNFILE: "Rút văn bản khỏi hồ sơ",
    DossierAction.CLOSE: "Kết thúc hồ sơ",
    DossierAction.REOPEN: "Mở lại hồ sơ",
    DossierAction.TRANSFER: "Nộp lưu",
    DossierAction.ACCEPT: "Tiếp nhận vào Lưu trữ",
    DossierAction.RETURN: "Trả lại hồ sơ",
    DossierAction.HOLD: "Giữ lại (không được tiêu hủy)",
    DossierAction.RELEASE: "Bỏ giữ lại",
    DossierAction.DISPOSE: "Tiêu hủy",
}

#: The actions of ``POST /dossiers/{id}/actions`` (the others have their own endpoints).
PUBLIC_ACTIONS = (
    DossierAction.CLOSE,
    DossierAction.REOPEN,
    DossierAction.TRANSFER,
    DossierAction.ACCEPT,
    DossierAction.RETURN,
    DossierAction.HOLD,
    DossierAction.RELEASE,
)

S, A = DossierState, DossierAction
TRANSITIONS: dict[tuple[DossierState, DossierAction], DossierState] = {
    (S.OPEN, A.FILE): S.OPEN,
    (S.OPEN, A.UNFILE): S.OPEN,
    (S.OPEN, A.CLOSE): S.CLOSED,
    (S.CLOSED, A.REOPEN): S.OPEN,
    (S.CLOSED, A.TRANSFER): S.TRANSFERRED,
    (S.TRANSFERRED, A.ACCEPT): S.ARCHIVED,
    (S.TRANSFERRED, A.RETURN): S.CLOSED,
    (S.CLOSED, A.HOLD): S.CLOSED,
    (S.TRANSFERRED, A.HOLD): S.TRANSFERRED,
    (S.ARCHIVED, A.HOLD): S.ARCHIVED,
    (S.CLOSED, A.RELEASE): S.CLOSED,
    (S.TRANSFERRED, A.RELEASE): S.TRANSFERRED,
    (S.ARCHIVED, A.RELEASE): S.ARCHIVED,
    (S.ARCHIVED, A.DISPOSE): S.DISPOSED,
}
del S, A


def next_state(state: DossierState, action: DossierAction) -> DossierState:
    """The state after ``action``; :class:`TransitionNotAllowedError` (409) when the table has no
    such move (e.g. filing into a closed dossier)."""
    return next_in(TRANSITIONS, state, action, subject="hồ sơ", code="dossier_state")


def allowed_in(state: DossierState) -> frozenset[DossierAction]:
    return frozenset(a for (s, a) in TRANSITIONS if s is state)
