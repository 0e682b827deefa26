"""Documents as the lists and reads show them, read as rows rather than as ORM objects.

A box page, a search page and a document read (``GET /documents/{id}``) read documents only to
answer: nothing changes them, nothing loads more of them. Reading them as ORM objects cost
about twice the CPU of the same three statements read as rows (issue 19: 2.6–3.0 ms against
1.3–1.4 ms for a page of 20 documents with their files and assignments, then every attribute
read through the ORM's descriptors). So they are read as rows into the plain objects of this
module, which carry the columns of their tables under the same names as the ORM's, and the
parts an answer shows (the register's and the people's names, the files, the assignments, the
review chains) under the names of the ORM's relationships. What judges or shows a document
(:func:`docflow.documents.access.can_see`, the policies' ``allowed_actions``, the deadline
marks, the answer's shape) reads either kind alike (:data:`AnyDocument`).

An action still locks and changes the ORM's object, and answers from it
(``app.api.documents.acted_json``); the tests hold that answer to a fresh read, which is read
here: the two readings are held to each other on every action the tests take.

``tests/docflow/test_views.py`` holds every column of the tables to a field here.
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, TypeVar

from sqlalchemy import FromClause, Select, bindparam, select
from sqlalchemy.orm import Session

from docflow.db import rows
from docflow.models import Assignment, Document, DocumentFile, Register, Review, Unit, User


@dataclass(slots=True)
class Named:
    """A register or a unit, by name."""

    id: uuid.UUID
    name: str


@dataclass(slots=True)
class Person:
    """Someone named on a document (submitted to, assigned), by name."""

    id: uuid.UUID
    full_name: str


@dataclass(slots=True)
class FileView:
    id: uuid.UUID
    document_id: uuid.UUID
    kind: str
    version: int
    name: str
    size: int
    sha256: str
    content_type: str
    object_key: str
    verification: dict[str, Any] | None
    created_by_id: uuid.UUID | None
    created_at: dt.datetime
    text_status: str
    derived_from_id: uuid.UUID | None


@dataclass(slots=True)
class AssignmentView:
    id: uuid.UUID
    document_id: uuid.UUID
    role: str
    unit_id: uuid.UUID | None
    user_id: uuid.UUID | None
    parent_id: uuid.UUID | None
    due_date: dt.date | None
    state: str
    assigned_by_id: uuid.UUID
    assigned_at: dt.datetime
    completed_at: dt.datetime | None
    finished_on: dt.date | None
    comment: str | None
    unit: Named | None = None
    user: Person | None = None


@dataclass(slots=True)
class ReviewView:
    id: uuid.UUID
    document_id: uuid.UUID
    reviewer_id: uuid.UUID
    reviewer_name: str
    requested_by_id: uuid.UUID
    requested_at: dt.datetime
    request_comment: str | None
    version_requested: int
    outcome: str
    version_seen: int | None
    response_comment: str | None
    responded_at: dt.datetime | None


@dataclass(slots=True)
class DocumentView:
    """A document's row (but ``search_text``, the folded words the search index reads, which
    no answer shows) with the parts an answer shows."""

    # Its table, as the ORM's class names it: the audit log names what was read by it.
    __tablename__: ClassVar[str] = "documents"

    id: uuid.UUID
    organization_id: uuid.UUID
    direction: str
    state: str
    register_id: uuid.UUID | None
    register_number: int | None
    notation: str | None
    doc_type: str
    subject: str
    issuer_name: str | None
    issuer_code: str | None
    issued_date: dt.date | None
    received_at: dt.datetime | None
    registered_at: dt.datetime | None
    listed_at: dt.datetime
    urgency: str
    urgency_rank: int
    secrecy: str
    secrecy_rank: int
    due_date: dt.date | None
    page_count: int | None
    source: str
    signer_name: str | None
    signer_position: str | None
    signer_competence: str | None
    recipients_text: str | None
    note: str | None
    submitted_to_id: uuid.UUID | None
    signer_user_id: uuid.UUID | None
    drafting_unit_id: uuid.UUID | None
    draft_version: int | None
    issued_at: dt.datetime | None
    issue_place: str | None
    signer_authority: str | None
    reply_document_id: uuid.UUID | None
    in_reply_to_id: uuid.UUID | None
    replaces_id: uuid.UUID | None
    replaces_kind: str | None
    has_replacements: bool
    recall_request: dict[str, Any] | None
    verification: dict[str, Any] | None
    package_signature: dict[str, Any] | None
    created_by_id: uuid.UUID | None
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int
    register: Named | None = None
    submitted_to: Person | None = None
    files: list[FileView] = field(default_factory=list)
    assignments: list[AssignmentView] = field(default_factory=list)
    reviews: list[ReviewView] = field(default_factory=list)


#: A document as an answer reads it: the ORM's (an action's, a page's) or a view.
AnyDocument = Document | DocumentView

#: The fields of the views that are not columns of their table.
PARTS = frozenset({"register", "submitted_to", "files", "assignments", "reviews", "unit", "user"})
#: The columns of ``documents`` no view carries.
LEFT_OUT = frozenset({"search_text"})


def columns_of(view: type) -> list[str]:
    """The fields of ``view`` that are columns of its table, in their order."""
    return [f.name for f in fields(view) if f.name not in PARTS]


def _with_names(table: FromClause, view: type, *names: tuple[FromClause, str, str]) -> Select[Any]:
    """The columns of ``view`` from ``table``, then for each ``(other, key, name)`` the column
    ``name`` of the row of ``other`` that ``table``'s column ``key`` names (None without one)."""
    stmt = select(*(table.c[n] for n in columns_of(view)), *(o.c[n] for o, _k, n in names))
    joined: FromClause = table
    for other, key, _name in names:
        joined = joined.outerjoin(other, other.c.id == table.c[key])
    return stmt.select_from(joined)


@functools.cache
def _statements() -> dict[str, Select[Any]]:
    """The four statements of :func:`read_views`, built once; each takes ``document_ids``."""
    ids: Any = bindparam("document_ids", expanding=True)
    docs = Document.__table__
    files = DocumentFile.__table__
    assignments = Assignment.__table__
    reviews = Review.__table__
    users = User.__table__
    return {
        "documents": _with_names(
            docs,
            DocumentView,
            (Register.__table__, "register_id", "name"),
            (users.alias("submitted"), "submitted_to_id", "full_name"),
        ).where(docs.c.id.in_(ids)),
        "files": _with_names(files, FileView)
        .where(files.c.document_id.in_(ids))
        .order_by(files.c.created_at, files.c.id),
        "assignments": _with_names(
            assignments,
            AssignmentView,
            (Unit.__table__, "unit_id", "name"),
            (users.alias("assigned"), "user_id", "full_name"),
        )
        .where(assignments.c.document_id.in_(ids))
        .order_by(assignments.c.assigned_at, assignments.c.id),
        "reviews": _with_names(reviews, ReviewView)
        .where(reviews.c.document_id.in_(ids))
        .order_by(reviews.c.requested_at, reviews.c.id),
    }


def read_views(session: Session, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, DocumentView]:
    """The documents ``ids`` as an answer shows them, by id: their rows, their files and
    assignments (with the people's and units' names) and the review chains of the outgoing
    ones; one statement each for all of them (none for the review chains when no document is
    outgoing, none at all for no ids). Run on the session's connection past the ORM
    (:func:`docflow.db.rows`): nothing pending is flushed first (a caller inside a unit that
    may hold changes flushes them: :func:`docflow.documents.queries.get_document_view`).
    Visibility is the caller's."""
    if not ids:
        return {}
    stmts = _statements()
    width = len(columns_of(DocumentView))
    found: dict[uuid.UUID, DocumentView] = {}
    for row in rows(session, stmts["documents"], {"document_ids": list(ids)}):
        doc = DocumentView(*row[:width])
        doc.register = _named(Named, doc.register_id, row[width])
        doc.submitted_to = _named(Person, doc.submitted_to_id, row[width + 1])
        found[doc.id] = doc
    if not found:
        return found
    params = {"document_ids": list(found)}
    for row in rows(session, stmts["files"], params):
        found[row.document_id].files.append(FileView(*row))
    width = len(columns_of(AssignmentView))
    for row in rows(session, stmts["assignments"], params):
        a = AssignmentView(*row[:width])
        a.unit = _named(Named, a.unit_id, row[width])
        a.user = _named(Person, a.user_id, row[width + 1])
        found[a.document_id].assignments.append(a)
    outgoing = [d.id for d in found.values() if d.direction == "outgoing"]
    if outgoing:
        for row in rows(session, stmts["reviews"], {"document_ids": outgoing}):
            found[row.document_id].reviews.append(ReviewView(*row))
    return found


N = TypeVar("N", Named, Person)


def _named(kind: type[N], key: uuid.UUID | None, name: str | None) -> N | None:
    """The register, unit or person ``key`` names, by the name read with it (None: none)."""
    return kind(key, name) if key is not None and name is not None else None


def read_view(session: Session, document_id: uuid.UUID) -> DocumentView | None:
    """One document as :func:`read_views` reads it (None if there is none)."""
    return read_views(session, [document_id]).get(document_id)
