"""Who may do what with the text of documents (plain values; no database)."""

from __future__ import annotations

from collections.abc import Collection

# Kinds of files whose text is read. A searchable PDF made from a scan has the scan's text.
READ_KINDS = frozenset({"main", "attachment", "draft", "signed"})
READABLE_TYPES = frozenset(
    {
        "application/pdf",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "text/plain",
        "image/jpeg",
        "image/png",
        "image/tiff",
    }
)
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/tiff"})


def should_read(kind: str, content_type: str, derived: bool) -> bool:
    """Whether a file's text is read at all (derived files carry their original's text)."""
    return not derived and kind in READ_KINDS and content_type in READABLE_TYPES


def may_read_text(can_see_document: bool) -> bool:
    """The text of a file is as visible as its document: nobody else may read it (even the
    words of a secret document are hidden from a reader without the clearance)."""
    return can_see_document


def may_reindex(roles: Collection[str], *, same_organization: bool) -> bool:
    """Re-indexing is an operator's or an organisation admin's chore."""
    return "admin" in roles and same_organization
