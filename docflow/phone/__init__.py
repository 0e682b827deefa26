"""What a phone needs to refresh cheaply (API.md §7): the badge counts (``GET /me/counters``),
the change feed (``GET /changes``) and the validators that answer a list or a document 304
without reading it."""

from docflow.changes import ChangeKind, ChangeType, Position
from docflow.phone.feed import (
    ChangeItem,
    FeedPage,
    changes_since,
    document_validator,
    list_validator,
    record_cached_read,
)
from docflow.phone.queries import COUNT_CAP, Counters, counters

__all__ = [
    "COUNT_CAP",
    "ChangeItem",
    "ChangeKind",
    "ChangeType",
    "Counters",
    "FeedPage",
    "Position",
    "changes_since",
    "counters",
    "document_validator",
    "list_validator",
    "record_cached_read",
]
