"""The text status of a document file and its transition table."""

from __future__ import annotations

from enum import StrEnum


class TextStatus(StrEnum):
    NONE = "none"  # nothing to read (a kind we do not read), or not yet queued
    PENDING = "pending"  # queued: the worker will read it
    DONE = "done"
    FAILED = "failed"  # could not be read (damaged, protected, too large, OCR failed)


class TextAction(StrEnum):
    QUEUE = "queue"
    SUCCEED = "succeed"
    FAIL = "fail"


TRANSITIONS: dict[tuple[TextStatus, TextAction], TextStatus] = {
    (TextStatus.NONE, TextAction.QUEUE): TextStatus.PENDING,
    (TextStatus.FAILED, TextAction.QUEUE): TextStatus.PENDING,
    (TextStatus.DONE, TextAction.QUEUE): TextStatus.PENDING,  # reindex after an upgrade
    (TextStatus.PENDING, TextAction.QUEUE): TextStatus.PENDING,
    (TextStatus.PENDING, TextAction.SUCCEED): TextStatus.DONE,
    (TextStatus.PENDING, TextAction.FAIL): TextStatus.FAILED,
}

# What the document page says for each status (API clients get the code).
LABELS = {
    TextStatus.NONE: "Chưa đọc nội dung",
    TextStatus.PENDING: "Đang nhận dạng chữ…",
    TextStatus.DONE: "Đã đọc nội dung",
    TextStatus.FAILED: "Không đọc được nội dung",
}


def next_status(status: str, action: TextAction) -> TextStatus:
    """The status after ``action``; ``ValueError`` for a move the table does not allow."""
    key = (TextStatus(status), action)
    if key not in TRANSITIONS:
        raise ValueError(f"text status {status} cannot {action}")
    return TRANSITIONS[key]
