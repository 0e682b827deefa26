"""Who sees which document, and who may act on it.

Clerks and leaders see every document of their organisation; others see the incoming documents
assigned to them or to their unit, and the outgoing ones they drafted, were asked to review or
are to sign (a unit head also sees the drafts of the unit); secrecy above the actor's clearance
hides a document; nobody sees another organisation's documents. Invisible documents are reported as missing (404).
The same rule exists twice on purpose: as a SQL condition for lists (boxes, search) and as a
Python check for one loaded document; tests hold the two to the same matrix. The SQL side is
written as reasons (:class:`Reason`: why a document is visible, why it waits for someone): one
condition joins them with OR (search, duplicate checks), and a box reads each as its own index
range (:func:`docflow.documents.queries.box_ranges`).

This module is the one place that says what a reader may see of a document. Every read path
goes through it: one document (:func:`ensure_visible`), lists, search and duplicate checks
(:func:`visible_clause`), a reference to another document given as a parameter (a reply, a
task's source document: :func:`find_visible`, so that an invisible one answers exactly like a
missing one), and organisation-wide listings that a role may read whole but whose rows above the
reader's clearance are masked (a register: :func:`cleared_for`, :data:`SECRET_MASK`).
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Select,
    and_,
    bindparam,
    exists,
    inspect,
    or_,
    select,
    union,
    union_all,
)
from sqlalchemy.orm import QueryableAttribute, Session, defaultload, lazyload, raiseload
from sqlalchemy.orm.attributes import set_committed_value

from docflow.actors import Actor
from docflow.documents.views import AnyDocument, DocumentView, read_views
from docflow.enums import Role, Secrecy
from docflow.errors import NotFoundError
from docflow.models import Assignment, Document, DocumentFile, Review, TrailEntry, User

OFFICE_ROLES = (Role.CLERK, Role.LEADER)
#: A document read either way (:data:`docflow.documents.views.AnyDocument`), kept as it came.
D = TypeVar("D", Document, DocumentView)
# What a reader without the clearance reads in place of a secret document's subject.
SECRET_MASK = "[Văn bản mật]"

_NAME_ONLY = (lazyload(User.role_rows), lazyload(User.organization), lazyload(User.unit))
#: How documents are read for an answer (a box, a search, one document, an action's lock):
#: the people named on them (submitted to, assigned) come as name and id, without the
#: organisation, unit and roles that ``User`` otherwise brings along, which no answer shows and
#: which made up half of a box page's loading; nor the document's organisation, which no answer
#: shows either (a tenth of a box page's reading; loaded on use, inside a unit of work). The
#: files, assignments and review chains are read by :func:`_read` beside the documents, not by
#: the relationships' own loaders (issue 19). Raised on if not given, rather than seen empty.
_READ_OPTIONS = (
    lazyload(Document.organization),
    defaultload(Document.submitted_to).options(*_NAME_ONLY),
    raiseload(Document.files),
    raiseload(Document.assignments),
    raiseload(Document.reviews),
)


# The statements of the frequent reads, built once (issue 19): every action, document read,
# box page and search page runs one.
@functools.cache
def _one_document(lock: bool) -> Select[Document]:
    stmt = select(Document).where(Document.id == bindparam("document_id"))
    if lock:
        stmt = stmt.with_for_update(of=Document)
    return stmt.options(*_READ_OPTIONS)


@functools.cache
def _beside() -> tuple[tuple[str, Select[Any]], ...]:
    """What :func:`_read` reads beside the documents, per relationship: one statement each
    for all the documents read, in the relationship's order, built once (the relationships' own
    ``selectin`` loaders build their statement and its cache key on every load)."""
    ids: Any = bindparam("document_ids", expanding=True)
    return (
        (
            "files",
            select(DocumentFile)
            .where(DocumentFile.document_id.in_(ids))
            .order_by(DocumentFile.created_at, DocumentFile.id),
        ),
        (
            "assignments",
            select(Assignment)
            .where(Assignment.document_id.in_(ids))
            .order_by(Assignment.assigned_at, Assignment.id)
            .options(defaultload(Assignment.user).options(*_NAME_ONLY)),
        ),
        (
            "reviews",
            select(Review)
            .where(Review.document_id.in_(ids))
            .order_by(Review.requested_at, Review.id),
        ),
    )


def read_listed(session: Session, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, DocumentView]:
    """The documents ``ids`` (a page of a list) as an answer shows them, by id, read as rows
    (:func:`docflow.documents.views.read_views`); visibility is the caller's (the ids come
    from a statement that applied it)."""
    return read_views(session, ids)


def read_document(
    session: Session, document_id: uuid.UUID, *, lock: bool = False
) -> Document | None:
    """One document as an answer shows it (:func:`_read`; None if there is none), its row
    locked for the transaction with ``lock`` (not the joined rows: concurrent actions on one
    document queue up); visibility is the caller's to check."""
    found = _read(session, _one_document(lock), {"document_id": document_id})
    return found[0] if found else None


def _read(session: Session, stmt: Select[Any], params: dict[str, Any]) -> list[Document]:
    """The documents of ``stmt`` (a ``select(Document)`` with the answer's options) as an answer
    shows them: with their files, assignments and the people on them by name, and the review
    chains of the outgoing ones. Each of those is one statement for all the documents (none for
    the review chains when no document is outgoing), and only for the documents whose list
    this session has not loaded yet (an action's unit may have). The one reader of documents
    for an answer through the ORM (:func:`read_document`; lists and reads that change nothing
    read rows: :mod:`docflow.documents.views`)."""
    docs = list(session.scalars(stmt, params).unique())
    for name, beside in _beside():
        wanted = [
            d
            for d in docs
            if name in inspect(d).unloaded and (name != "reviews" or d.direction == "outgoing")
        ]
        found: dict[uuid.UUID, list[Any]] = {}
        if wanted:
            for row in session.scalars(beside, {"document_ids": [d.id for d in wanted]}):
                found.setdefault(row.document_id, []).append(row)
        for doc in docs:
            if name in inspect(doc).unloaded:
                set_committed_value(doc, name, found.get(doc.id, []))
    return docs


def sees_whole_organisation(actor: Actor) -> bool:
    return any(actor.has_role(r) for r in OFFICE_ROLES)


def clearance_clause(actor: Actor) -> ColumnElement[bool]:
    """SQL condition: documents whose secrecy is within ``actor``'s clearance."""
    return Document.secrecy_rank <= actor.clearance.rank


def cleared_for(actor: Actor, doc: AnyDocument) -> bool:
    """Whether ``doc``'s secrecy is within ``actor``'s clearance (the Python twin)."""
    return doc.secrecy_rank <= actor.clearance.rank


def user_cleared_for(user: User, secrecy_rank: int) -> bool:
    """Whether a person (not the actor: someone a document is being handed to) has the
    clearance for a document of ``secrecy_rank``; handing a document to someone who could not
    open it is refused rather than left to fail later."""
    return secrecy_rank <= user.clearance_level.rank


def users_cleared_for(secrecy_rank: int) -> ColumnElement[bool]:
    """SQL condition: people cleared for a document of ``secrecy_rank`` (the twin of
    :func:`user_cleared_for`, to choose whom to tell about it)."""
    return User.clearance.in_([c.value for c in Secrecy if c.rank >= secrecy_rank])


@dataclass(frozen=True)
class Reason:
    """One reason a document is in a reader's list: a condition on the document row, or (when
    ``on_assignment``) on one of its assignments; ``direction`` and ``states`` (the document's
    states, None for any) say which part of the organisation's documents it can be in, so a
    box can read it as index ranges of one direction and one state each (see
    :func:`docflow.documents.queries.list_documents`)."""

    on_assignment: bool
    conditions: tuple[ColumnElement[bool], ...]
    direction: str | None = None
    states: tuple[str, ...] | None = None

    def where(self) -> list[ColumnElement[bool]]:
        """The reason's conditions as written for :func:`waiting_documents` (on ``assignments``
        when ``on_assignment``, else on ``documents``)."""
        return [*self.conditions, *self._on_row()]

    def _on_row(self) -> list[ColumnElement[bool]]:
        """The reason's direction and states, on the document row."""
        out: list[ColumnElement[bool]] = []
        if self.direction is not None:
            out.append(Document.direction == self.direction)
        if self.states is not None:
            if len(self.states) == 1:
                out.append(Document.state == self.states[0])
            else:
                out.append(_states(Document.state, self.states))
        return out

    def on_document(self) -> list[ColumnElement[bool]]:
        """The reason's own conditions on the document row, without its direction and states
        (an assignment's become one ``EXISTS``)."""
        if not self.on_assignment:
            return list(self.conditions)
        return [
            exists(
                select(Assignment.id).where(Assignment.document_id == Document.id, *self.conditions)
            )
        ]

    def ids(self) -> Select[Any]:
        """The ids of the documents this reason holds for, of any organisation and secrecy
        (the caller adds those): read from the index of the reason's own column (a person's
        or a unit's assignments, a drafter, a signer, …), never by walking documents."""
        if not self.on_assignment:
            return select(Document.id).where(*self.where())
        stmt = select(Assignment.document_id).where(*self.conditions)
        on_row = self._on_row()
        if on_row:
            stmt = stmt.join(Document, Document.id == Assignment.document_id).where(*on_row)
        return stmt

    def clause(self) -> ColumnElement[bool]:
        """The whole reason as one condition on the document row."""
        extra: list[ColumnElement[bool]] = []
        if self.direction is not None:
            extra.append(Document.direction == self.direction)
        if self.states is not None:
            extra.append(Document.state.in_(self.states))
        return and_(*extra, *self.on_document())


#: Every direction a document has (a box without a direction reads one range per direction).
DIRECTIONS = ("incoming", "outgoing")


def visibility_reasons(actor: Actor) -> list[Reason]:
    """Why a document of ``actor``'s organisation within their clearance is visible to them,
    one :class:`Reason` each: for clerks and leaders one reason without conditions (the whole
    organisation); for others the incoming documents assigned to them or their unit and the
    outgoing ones they drafted, were asked to review or are to sign (a unit head: also the
    unit's drafts). :func:`visible_clause` is the organisation, the clearance and any of these."""
    if sees_whole_organisation(actor):
        return [Reason(False, ())]
    me = actor.user_id
    reasons = [Reason(True, (Assignment.user_id == me,))]
    if actor.unit_id is not None:
        reasons.append(Reason(True, (Assignment.unit_id == actor.unit_id,)))
    people: list[ColumnElement[bool]] = [
        Document.created_by_id == me,
        Document.signer_user_id == me,
        Document.submitted_to_id == me,
        exists(
            select(Review.id).where(Review.document_id == Document.id, Review.reviewer_id == me)
        ),
    ]
    if actor.unit_id is not None and actor.has_role(Role.UNIT_HEAD):
        people.append(Document.drafting_unit_id == actor.unit_id)
    reasons.extend(Reason(False, (p,), "outgoing") for p in people)
    return reasons


def visible_ids(actor: Actor) -> CompoundSelect[Any] | None:
    """The ids of the documents ``actor`` is involved in (each of :func:`visibility_reasons`
    from its own index), without the organisation and clearance; None for those who see the
    whole organisation. A superset of what they may see, small for most people: a search
    starts from it instead of checking every match of the organisation (issue 19)."""
    if sees_whole_organisation(actor):
        return None
    return union_all(*(r.ids() for r in visibility_reasons(actor)))


def visible_base(actor: Actor) -> list[ColumnElement[bool]]:
    """What every visible document shares: ``actor``'s organisation and clearance."""
    return [Document.organization_id == actor.organization_id, clearance_clause(actor)]


def visible_clause(actor: Actor) -> ColumnElement[bool]:
    """SQL condition: documents ``actor`` may see (:func:`visible_base` and any of
    :func:`visibility_reasons`)."""
    base = and_(*visible_base(actor))
    if sees_whole_organisation(actor):
        return base
    return and_(base, or_(*(r.clause() for r in visibility_reasons(actor))))


def is_involved(actor: Actor, doc: AnyDocument) -> bool:
    if doc.direction == "outgoing":
        me = actor.user_id
        return (
            me in (doc.created_by_id, doc.signer_user_id, doc.submitted_to_id)
            or any(r.reviewer_id == me for r in doc.reviews)
            or (
                actor.unit_id is not None
                and actor.has_role(Role.UNIT_HEAD)
                and doc.drafting_unit_id == actor.unit_id
            )
        )
    return any(
        a.user_id == actor.user_id or (actor.unit_id is not None and a.unit_id == actor.unit_id)
        for a in doc.assignments
    )


def can_see(actor: Actor, doc: AnyDocument) -> bool:
    if doc.organization_id != actor.organization_id:
        return False
    if not cleared_for(actor, doc):
        return False
    return sees_whole_organisation(actor) or is_involved(actor, doc)


def ensure_visible(actor: Actor, doc: D | None) -> D:
    if doc is None or not can_see(actor, doc):
        raise NotFoundError("Không tìm thấy văn bản.", code="document_not_found")
    return doc


def find_visible(session: Session, actor: Actor, document_id: uuid.UUID | None) -> Document | None:
    """The document ``document_id`` if ``actor`` may see it, else None: a reference given as a
    parameter (a reply, a task's source document) to a document the actor cannot see is
    answered exactly like a reference to one that does not exist."""
    if document_id is None:
        return None
    doc = session.get(Document, document_id)
    return doc if doc is not None and can_see(actor, doc) else None


# Trail details written in free text: file names, reasons, a sender's notation. The audit log,
# which an organisation's admin reads whatever their clearance, copies them only for documents
# without secrecy; the trail itself (behind this module's rule) keeps them.
FREE_TEXT_KEYS = frozenset({"file", "files", "reason", "request_reason", "notation"})


def audit_details(doc: Document, details: dict[str, Any]) -> dict[str, Any]:
    """What the audit log may copy of a trail entry's ``details`` for ``doc``."""
    if doc.secrecy_rank <= 0:
        return details
    return {k: v for k, v in details.items() if k not in FREE_TEXT_KEYS}


# Trail details that point at another document (the reply given when completing).
LINK_KEYS = ("reply_document_id",)


def hidden_links(session: Session, actor: Actor, entries: Sequence[TrailEntry]) -> set[str]:
    """The documents named in ``entries``' details (:data:`LINK_KEYS`) that ``actor`` may not
    see: a trail shows a link only to a reader who could follow it."""
    refs: set[uuid.UUID] = set()
    for e in entries:
        for key in LINK_KEYS:
            value = e.details.get(key)
            if isinstance(value, str):
                try:
                    refs.add(uuid.UUID(value))
                except ValueError:
                    continue
    if not refs:
        return set()
    seen = set(
        session.scalars(select(Document.id).where(Document.id.in_(refs), visible_clause(actor)))
    )
    return {str(r) for r in refs - seen}


def _states(column: QueryableAttribute[str], values: Iterable[str]) -> ColumnElement[bool]:
    """``column IN (…)`` with the constants written into the SQL, not bound: a prepared
    statement's generic plan can then still use the partial indexes whose predicate names them
    (migration ``0026_counters``)."""
    return column.in_(bindparam(None, list(values), expanding=True, literal_execute=True))


def incoming_waiting_reasons(actor: Actor) -> list[Reason]:
    """Why an incoming document waits for ``actor`` ("chờ xử lý"), one :class:`Reason` each:
    the clerk's documents to register, the leader's submissions, the open assignments of the
    actor and (a unit head) of their unit. Each is itself a reason to see the document (an
    office role, or an assignment to the actor or their unit): with the organisation and the
    clearance, a reason needs no other visibility condition."""
    from docflow.incoming.states import AssignmentRole, AssignmentState, IncomingState

    reasons: list[Reason] = []
    if actor.has_role(Role.CLERK):
        arrived = (IncomingState.ARRIVED.value, IncomingState.REGISTERED.value)
        reasons.append(
            Reason(False, (Document.organization_id == actor.organization_id,), "incoming", arrived)
        )
    if actor.has_role(Role.LEADER):
        reasons.append(
            Reason(
                False,
                (Document.submitted_to_id.in_(presenter_ids(actor)),),
                states=(IncomingState.SUBMITTED.value,),
            )
        )
    open_states = [AssignmentState.PENDING.value, AssignmentState.IN_PROGRESS.value]
    working = [AssignmentRole.LEAD.value, AssignmentRole.COOPERATING.value]
    reasons.append(
        Reason(
            True,
            (
                Assignment.user_id == actor.user_id,
                _states(Assignment.state, open_states),
                _states(Assignment.role, working),
            ),
        )
    )
    if actor.unit_id is not None and actor.has_role(Role.UNIT_HEAD):
        reasons.append(
            Reason(
                True,
                (
                    Assignment.unit_id == actor.unit_id,
                    Assignment.user_id.is_(None),
                    _states(Assignment.state, open_states),
                    _states(Assignment.role, working),
                ),
            )
        )
    return reasons


def outgoing_waiting_reasons(actor: Actor) -> list[Reason]:
    """Why an outgoing document waits for ``actor``, one :class:`Reason` each: drafts to write
    or fix, drafts to review, documents to sign, and for clerks documents to number, issue and
    dispatch (each a reason to see the document, as above)."""
    from docflow.outgoing.states import OutgoingState as S

    out = "outgoing"
    reasons = [
        Reason(
            False,
            (Document.created_by_id == actor.user_id,),
            out,
            (S.DRAFT.value, S.CHANGES_REQUESTED.value),
        ),
        Reason(False, (Document.submitted_to_id == actor.user_id,), out, (S.IN_REVIEW.value,)),
        Reason(False, (Document.signer_user_id == actor.user_id,), out, (S.APPROVED.value,)),
    ]
    if actor.has_role(Role.CLERK):
        reasons.append(
            Reason(
                False,
                (Document.organization_id == actor.organization_id,),
                out,
                (S.SIGNED.value, S.ISSUED.value),
            )
        )
    return reasons


def _incoming_waiting(actor: Actor) -> list[tuple[bool, list[ColumnElement[bool]]]]:
    """Why an incoming document waits for ``actor``, one entry per reason: (through an open
    assignment — the conditions are on ``assignments`` — or not, the conditions)."""
    return [(r.on_assignment, r.where()) for r in incoming_waiting_reasons(actor)]


def _outgoing_waiting(actor: Actor) -> list[list[ColumnElement[bool]]]:
    """Why an outgoing document waits for ``actor``, one list of conditions per reason."""
    return [r.where() for r in outgoing_waiting_reasons(actor)]


def waiting_for_clause(actor: Actor) -> ColumnElement[bool]:
    """SQL condition: incoming documents waiting for ``actor`` to act ("chờ xử lý").

    Each reason to wait (the clerk's registrations, the leader's submissions, open assignments)
    is its own index-friendly select of ids; the box is their union, so it stays a few small
    index lookups however many closed documents the organisation holds.
    """
    branches: list[Select[Any]] = []
    for on_assignment, conditions in _incoming_waiting(actor):
        column = Assignment.document_id if on_assignment else Document.id
        branches.append(select(column).where(*conditions))
    return Document.id.in_(union_all(*branches).scalar_subquery())


def presenter_ids(actor: Actor) -> list[uuid.UUID]:
    """The leaders on whose behalf ``actor`` may answer a submission (self and delegators)."""
    return [actor.user_id] + [d.delegator_id for d in actor.delegated if d.role is Role.LEADER]


def outgoing_waiting_clause(actor: Actor) -> ColumnElement[bool]:
    """SQL condition: outgoing documents waiting for ``actor``: drafts to write or fix, drafts
    to review, documents to sign, and for clerks documents to number, issue and dispatch."""
    branches = [select(Document.id).where(*c) for c in _outgoing_waiting(actor)]
    return Document.id.in_(union_all(*branches).scalar_subquery())


def waiting_documents(
    actor: Actor, *, cap: int, due_before: dt.date | None = None
) -> CompoundSelect[uuid.UUID, dt.date | None]:
    """(id, due_date) of documents waiting for ``actor`` that they may see — the rows of the
    ``inbox`` box of both directions (``visible_clause`` and the two waiting clauses above) —
    enough of them to count up to ``cap``: at most ``cap`` per reason, once each (UNION), only
    those due before ``due_before`` if given. ``min(cap, rows)`` is exactly ``min(cap, the
    box's total)``: below the cap no reason was cut short; at the cap, a reason that was cut
    alone gives ``cap`` rows.

    Each reason is its own select with the organisation and clearance on the document row, a
    range of one index (``0026_counters``), stopped after ``cap`` rows: the count costs at most
    ``cap`` rows per reason, whatever the organisation holds. ``visible_clause``'s involvement
    part is not repeated: every reason is itself an involvement (an assignment to the actor or
    their unit, a draft they wrote, review or sign) or belongs to an office role, which sees
    the whole organisation.
    """
    seen = [Document.organization_id == actor.organization_id, clearance_clause(actor)]
    if due_before is not None:
        seen.append(Document.due_date < due_before)
    incoming = Document.direction == "incoming"
    branches: list[Select[uuid.UUID, dt.date | None]] = []
    for on_assignment, conditions in _incoming_waiting(actor):
        stmt = select(Document.id, Document.due_date)
        if on_assignment:
            stmt = stmt.join(Assignment, Assignment.document_id == Document.id)
        branches.append(stmt.where(*conditions, *seen, incoming))
    for conditions in _outgoing_waiting(actor):
        branches.append(select(Document.id, Document.due_date).where(*conditions, *seen))
    # Each reason stopped after ``cap`` rows; a subquery, since SQLite takes no LIMIT inside
    # a compound select.
    capped = [b.limit(cap).subquery() for b in branches]
    return union(*(select(c.c.id, c.c.due_date) for c in capped))
