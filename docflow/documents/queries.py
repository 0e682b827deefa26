"""Reading documents: one document, the boxes and search, the trail, file contents."""

from __future__ import annotations

import datetime as dt
import functools
import io
import uuid
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, bindparam, event, or_, select, tuple_, union
from sqlalchemy.orm import Session

from docflow import audit
from docflow.actors import Actor
from docflow.db import rows
from docflow.documents import access, shapes
from docflow.documents.files import open_file
from docflow.documents.text import fold
from docflow.documents.views import AnyDocument, DocumentView, read_view
from docflow.errors import NotFoundError, ValidationError
from docflow.models import Assignment, Document, DocumentFile, DocumentType, Review, TrailEntry
from docflow.outbox import Handlers
from docflow.pagination import Page, clamp_limit, decode_cursor, encode_cursor
from docflow.search import search_documents
from docflow.uow import UnitOfWork
from docflow.workdays import WorkCalendar, load_calendar, local_date, start_of_day

#: Outbox topic: verify the signatures of a document's PDFs (queued when files arrive).
TOPIC_VERIFY_SIGNATURES = "documents.verify_signatures"

Box = Literal["inbox", "processing", "done", "all"]
# The states of each direction are read inside the functions: the capabilities import this
# module, so it must not import their packages while it loads.


def state_label(direction: str, state: str) -> str:
    """Vietnamese name of a state of either direction (the raw value if unknown)."""
    from docflow.incoming.states import INCOMING_LABELS, IncomingState
    from docflow.outgoing.states import OUTGOING_LABELS, OutgoingState

    try:
        if direction == "outgoing":
            return OUTGOING_LABELS[OutgoingState(state)]
        return INCOMING_LABELS[IncomingState(state)]
    except ValueError:
        return state


@dataclass(frozen=True)
class DocumentQuery:
    """Filters of a document list (API.md §3 ``GET /documents``)."""

    direction: str | None = None
    box: Box = "all"
    state: str | None = None
    q: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    doc_type: str | None = None
    issuer: str | None = None
    limit: int | None = None
    cursor: str | None = None


def lock_document(
    uow: UnitOfWork, actor: Actor, document_id: uuid.UUID, direction: str
) -> Document:
    """The document of ``direction``, row-locked for this transaction (not the joined rows:
    concurrent actions on one document queue up); 404 if missing or invisible to the actor."""
    found = access.read_document(uow.session, document_id, lock=True)
    if found is None or found.direction != direction:
        raise NotFoundError("Không tìm thấy văn bản.", code="document_not_found")
    return access.ensure_visible(actor, found)


#: The document's people and things (loaded with it under the lock): each many-to-one with the
#: column naming it, each collection with the class of its rows.
_NAMED = (("register", "register_id"), ("submitted_to", "submitted_to_id"))
_HELD = (("files", DocumentFile), ("assignments", Assignment), ("reviews", Review))
#: Session.info key: the rows of :data:`_HELD` this session wrote, by collection.
_ADDED = "dhtn_added_beside"


@event.listens_for(Session, "before_flush")
def _note_rows_beside(session: Session, _context: Any, _instances: Any) -> None:
    # The identity map holds written rows weakly: a row nobody keeps is gone by the time
    # settle() looks, so the rows are noted as they are written.
    for obj in session.new:
        for name, kind in _HELD:
            if isinstance(obj, kind):
                session.info.setdefault(_ADDED, []).append((name, obj))


@event.listens_for(Session, "after_commit")
def _forget_rows_beside(session: Session) -> None:
    # Noted for the transaction that wrote them: a long unit that commits as it goes (a bulk
    # import) does not keep them all.
    session.info.pop(_ADDED, None)


def settle(uow: UnitOfWork, doc: Document) -> None:
    """Bring what was loaded with a locked document up to what the action wrote, before it
    commits, so the row can be the action's answer without reading it again (issue 19): an
    action may set a column that names a row (``register_id``) rather than the relationship,
    or add a row (a file, an assignment, a review), beside the document or to its list (where
    it stands last, not in the list's order). Only those parts are read again, in the
    action's transaction; an action that did neither (start, complete, submit) reads nothing.
    (A change made by a bulk statement is not seen here: ``check_action_answers`` in the
    tests holds every answer to a fresh read.)"""
    s = uow.session
    s.flush()
    stale = []
    for name, column in _NAMED:
        named, loaded = getattr(doc, column), getattr(doc, name)
        if (loaded.id if loaded is not None else None) != named:
            stale.append(name)
    # A row added beside the list is missing from it, and one appended to it stands last,
    # not in the list's order: either way the list is read again.
    added = {name for name, row in s.info.get(_ADDED, ()) if row.document_id == doc.id}
    stale += [name for name, _kind in _HELD if name in added]
    if stale:
        s.refresh(doc, stale)


def document_types(uow: UnitOfWork) -> list[DocumentType]:
    """The active document types (tên loại), for forms and filters."""
    with uow:
        return list(
            uow.session.scalars(
                select(DocumentType)
                .where(DocumentType.active.is_(True))
                .order_by(DocumentType.name)
            )
        )


def _direction(actor: Actor) -> Select[str]:
    return select(Document.direction).where(
        Document.id == bindparam("document_id"), access.visible_clause(actor)
    )


def direction_of(uow: UnitOfWork, actor: Actor, document_id: uuid.UUID) -> str:
    """The direction of a document ``actor`` may see (404 otherwise), from its row alone: an
    action needs it to choose its transition table, and the action reads the document itself.
    The statement is kept per reader shape (:mod:`docflow.documents.shapes`)."""
    kept = shapes.for_reader(_direction, actor)
    assert kept is not None
    stmt, params = kept
    with uow:  # the action's first read: nothing is pending yet (db.rows)
        found = rows(uow.session, stmt, {**params, "document_id": document_id}).scalar()
    if found is None:
        raise NotFoundError("Không tìm thấy văn bản.", code="document_not_found")
    return str(found)


def get_document(
    uow: UnitOfWork, actor: Actor, document_id: uuid.UUID, *, opened: bool = True
) -> Document:
    """A document ``actor`` may see (404 otherwise). ``opened``: the person opens it, which
    the audit log records as a read; the document sent back as the answer to their own
    action (registering, an action) is not a read of it (the action itself is recorded)."""
    with uow:
        return _opened(uow, actor, access.read_document(uow.session, document_id), opened)


def get_document_view(
    uow: UnitOfWork, actor: Actor, document_id: uuid.UUID, *, opened: bool = True
) -> DocumentView:
    """:func:`get_document` for an answer that changes nothing (the API's read of a document,
    the answer to an action read afresh): read as rows (:mod:`docflow.documents.views`).
    Should the unit hold changes not yet written (a read inside an action's unit), they are
    written first, as the ORM's read would (rows are read past the ORM)."""
    with uow:
        uow.session.flush()  # nothing to do, and nothing done, when the unit holds no change
        return _opened(uow, actor, read_view(uow.session, document_id), opened)


def _opened(uow: UnitOfWork, actor: Actor, doc: access.D | None, opened: bool) -> access.D:
    """``doc`` if ``actor`` may see it (404 otherwise), its read logged when ``opened``."""
    seen = access.ensure_visible(actor, doc)
    if opened:
        audit.record_read(uow, actor, "document.read", seen)
    return seen


def _box_states(query: DocumentQuery) -> tuple[str, ...] | None:
    """The document states of the box (None: any)."""
    from docflow.incoming.states import CLOSED_STATES, PROCESSING_STATES
    from docflow.outgoing.states import OUTGOING_CLOSED_STATES, OUTGOING_OPEN_STATES

    outgoing = query.direction == "outgoing"
    if query.box == "processing":
        return tuple(
            sorted(s.value for s in (OUTGOING_OPEN_STATES if outgoing else PROCESSING_STATES))
        )
    if query.box == "done":
        return tuple(
            sorted(s.value for s in (OUTGOING_CLOSED_STATES if outgoing else CLOSED_STATES))
        )
    return None


def _filters(query: DocumentQuery) -> list[ColumnElement[bool]]:
    """The list's filters other than direction, box and state."""
    out: list[ColumnElement[bool]] = []
    if query.doc_type:
        out.append(Document.doc_type == query.doc_type)
    if query.issuer:
        out.append(
            or_(
                Document.issuer_code == query.issuer.strip(),
                Document.search_text.contains(fold(query.issuer), autoescape=True),
            )
        )
    if query.date_from:
        out.append(Document.listed_at >= start_of_day(query.date_from))
    if query.date_to:
        out.append(Document.listed_at < start_of_day(query.date_to, later=1))
    return out


def _filtered(actor: Actor, query: DocumentQuery) -> Select[Any]:
    """The documents of a list as one condition (full-text search ranks within it)."""
    stmt = select(Document).where(access.visible_clause(actor))
    if query.direction:
        stmt = stmt.where(Document.direction == query.direction)
    if query.box == "inbox":
        if query.direction == "outgoing":
            stmt = stmt.where(access.outgoing_waiting_clause(actor))
        else:
            stmt = stmt.where(Document.direction == "incoming", access.waiting_for_clause(actor))
    states = _box_states(query)
    if states is not None:
        stmt = stmt.where(Document.state.in_(states))
    if query.state:
        stmt = stmt.where(Document.state == query.state)
    return stmt.where(*_filters(query))


def _box_reasons(actor: Actor, query: DocumentQuery) -> list[access.Reason]:
    """Why a document is in the box, one reason each (the documents of the box are those of
    the actor's organisation and clearance for any of them)."""
    if query.box != "inbox":
        return access.visibility_reasons(actor)
    if query.direction == "outgoing":
        return access.outgoing_waiting_reasons(actor)
    return [
        r if r.direction else replace(r, direction="incoming")
        for r in access.incoming_waiting_reasons(actor)
    ]


def _narrow(*choices: Sequence[str] | None) -> list[str] | None:
    """The values every given choice allows (None when none is given), in order."""
    out: list[str] | None = None
    for choice in choices:
        if choice is not None:
            out = [v for v in (choice if out is None else out) if v in choice]
    return out


def box_ranges(
    actor: Actor,
    query: DocumentQuery,
    *,
    limit: int,
    after: tuple[int, dt.datetime, uuid.UUID] | None,
) -> list[Select[int, dt.datetime, uuid.UUID]]:
    """The box as index ranges in its order: one select per reason, direction and state, each
    the first ``limit`` keys (urgency, listed, id) after the cursor. The box's first ``limit``
    keys are the first ``limit`` of all of them together.

    A reason on the document row is a range of ``ix_documents_org_listed`` (a direction) or
    ``ix_documents_box`` (a direction and a state), read backwards and stopped after ``limit``
    rows; a reason through an assignment (a person's, a unit's) is an ``EXISTS``, which the
    planner answers either along the same range (many such documents) or from the assignments'
    index and a sort of only those documents (few)."""
    states = _box_states(query)
    ranges: list[Select[int, dt.datetime, uuid.UUID]] = []
    base = access.visible_base(actor)
    filters = _filters(query)
    if after is not None:
        # ``key < after`` written as ``key <= after AND key <> after``: the same rows, but
        # PostgreSQL estimates a row comparison by its first column alone, and ``urgency <
        # 0`` (most documents are not urgent) looks empty, which turns the page after the
        # first into a sequential scan; ``<=`` keeps the estimate and the index range.
        key = tuple_(Document.urgency_rank, Document.listed_at, Document.id)
        filters += [key <= after, key != after]
    for reason in _box_reasons(actor, query):
        directions = _narrow(
            access.DIRECTIONS,
            [query.direction] if query.direction else None,
            [reason.direction] if reason.direction else None,
        )
        wanted = _narrow(states, reason.states, [query.state] if query.state else None)
        for direction in directions or ():
            for state in wanted if wanted is not None else [None]:
                where = [*base, Document.direction == direction]
                if state is not None:
                    where.append(Document.state == state)
                ranges.append(
                    select(Document.urgency_rank, Document.listed_at, Document.id)
                    .where(*where, *reason.on_document(), *filters)
                    .order_by(*BOX_ORDER)
                    .limit(limit)
                )
    return ranges


#: A box's order: urgent first, then newest (the id breaks ties; the keyset cursor follows it).
BOX_ORDER = (Document.urgency_rank.desc(), Document.listed_at.desc(), Document.id.desc())


def _box_page(
    ranges: Sequence[Select[int, dt.datetime, uuid.UUID]], limit: int
) -> Select[int, dt.datetime, uuid.UUID] | None:
    """The statement of the first ``limit`` keys (urgency, listed, id) of the ranges together,
    in the box's order, each document once (None: the box has no reason at all)."""
    if not ranges:
        return None
    if len(ranges) == 1:
        return ranges[0]
    # Each range a subquery: SQLite takes no LIMIT inside a compound select.
    parts = [r.subquery() for r in ranges]
    merged = union(*(select(p.c.urgency_rank, p.c.listed_at, p.c.id) for p in parts)).subquery()
    return (
        select(merged.c.urgency_rank, merged.c.listed_at, merged.c.id)
        .order_by(merged.c.urgency_rank.desc(), merged.c.listed_at.desc(), merged.c.id.desc())
        .limit(limit)
    )


def _first_page(
    actor: Actor, query: DocumentQuery, limit: int
) -> Select[int, dt.datetime, uuid.UUID] | None:
    """The first page's statement of a box, kept per reader shape by
    :func:`docflow.documents.shapes.for_reader` (issue 19): building the union of ranges and
    its cache key cost about as much CPU as the rest of the request. Pages after the first (a
    cursor) are built each time."""
    return _box_page(box_ranges(actor, query, limit=limit, after=None), limit)


@functools.cache
def _states() -> frozenset[str]:
    """Every state a document can be in, of either direction."""
    from docflow.incoming.states import IncomingState
    from docflow.outgoing.states import OutgoingState

    return frozenset(s.value for s in (*IncomingState, *OutgoingState))


def _unbounded(query: DocumentQuery) -> bool:
    """Whether the query names values without bound (an issuer, dates, a state no document can
    be in): its statements are built for the request, not kept (:func:`_kept`)."""
    unknown_state = query.state is not None and query.state not in _states()
    return bool(query.issuer or query.date_from or query.date_to or unknown_state)


def _kept(
    build: Callable[..., shapes.S | None], actor: Actor, query: DocumentQuery, *args: Hashable
) -> tuple[shapes.S, dict[str, Any]] | None:
    """``build(actor, query, *args)`` kept per reader shape and query
    (:func:`docflow.documents.shapes.for_reader`), unless the query names values without bound
    (:func:`_unbounded`), each of which would take a place among the statements a process keeps
    (and push out those every reader of a shape shares). Such a list is built for the request."""
    if _unbounded(query):
        stmt = build(actor, query, *args)
        return None if stmt is None else (stmt, {})
    return shapes.for_reader(build, actor, query, *args)


def list_documents(uow: UnitOfWork, actor: Actor, query: DocumentQuery) -> Page[DocumentView]:
    """A box: urgent first, then newest; keyset pages, no counting.

    The page's ids come from :func:`box_ranges` (each reason a document is in the box is its
    own index range, stopped after a page; the ranges merged and cut to a page), then the
    documents are read by id: the cost is a few pages of index entries per reason, however
    many documents the box holds. Full-text search (``q``) ranks within :func:`_filtered`."""
    limit = clamp_limit(query.limit)
    if query.q:
        # Full text (docflow.search): ranked, with snippets; the box's filters and the
        # visibility rule are already in the statement.
        # The box's conditions kept per reader shape and filters, and the search's statement
        # per shape and box for a query of words alone (the words are its parameters). A
        # search filtered by document type builds its own statement for the request: the type
        # is free text of the API, and each new one would otherwise take three of the places a
        # process keeps (the box's conditions, the search's two tries), not one.
        box_query = replace(query, q=None, cursor=None, limit=None)
        base = _kept(_filtered, actor, box_query)
        assert base is not None
        found = search_documents(
            uow,
            actor,
            base[0],
            query.q,
            limit=limit,
            cursor=query.cursor,
            params=base[1],
            box=None if _unbounded(box_query) or box_query.doc_type else (_filtered, box_query),
        )
        audit.record_search(uow, actor, query.q, found.items)
        return found
    after = decode_cursor(query.cursor)
    key = None
    if after:
        try:
            key = (int(after[0]), dt.datetime.fromisoformat(after[1]), uuid.UUID(after[2]))
        except (ValueError, IndexError) as exc:
            raise ValidationError.field("cursor", "Con trỏ phân trang không hợp lệ.") from exc
    page: tuple[Select[int, dt.datetime, uuid.UUID], dict[str, Any]] | None
    if key is None:
        page = _kept(_first_page, actor, replace(query, limit=None), limit + 1)
    else:
        built = _box_page(box_ranges(actor, query, limit=limit + 1, after=key), limit + 1)
        page = None if built is None else (built, {})
    with uow:
        keys = [(u, at, i) for u, at, i in rows(uow.session, *page)] if page else []
        more = len(keys) > limit
        keys = keys[:limit]
        ids = [k[2] for k in keys]
        by_id = access.read_listed(uow.session, ids)
    # A document deleted between the two statements is left out of the page (none are deleted
    # today); the cursor is the key the page was cut at.
    listed = [by_id[i] for i in ids if i in by_id]
    audit.record_search(uow, actor, query.q or query.issuer, listed)
    cursor = None
    if more:
        urgency, listed_at, last_id = keys[-1]
        cursor = encode_cursor([urgency, listed_at.isoformat(), last_id])
    return Page(listed, cursor)


def get_trail(uow: UnitOfWork, actor: Actor, document_id: uuid.UUID) -> list[TrailEntry]:
    with uow:
        doc = access.ensure_visible(actor, uow.session.get(Document, document_id))
        audit.record_read(uow, actor, "document.trail_read", doc)
        entries = list(
            uow.session.scalars(
                select(TrailEntry)
                .where(TrailEntry.document_id == document_id)
                .order_by(TrailEntry.seq)
            )
        )
        hidden = access.hidden_links(uow.session, actor, entries)
        for e in entries:
            links = {k: None for k in access.LINK_KEYS if e.details.get(k) in hidden}
            if links:
                uow.session.expunge(e)  # the reader's copy; the trail itself is never changed
                e.details = {**e.details, **links}
        return entries


def get_file(
    uow: UnitOfWork,
    actor: Actor,
    document_id: uuid.UUID,
    file_id: uuid.UUID,
    *,
    purpose: Literal["read", "preview"] = "read",
) -> DocumentFile:
    """A file of a visible document; ``purpose`` names the read in the audit log."""
    with uow:
        doc = access.ensure_visible(actor, uow.session.get(Document, document_id))
        row = next((f for f in doc.files if f.id == file_id), None)
        if row is None:
            raise NotFoundError("Không tìm thấy tệp.", code="file_not_found")
        audit.record_read(
            uow,
            actor,
            f"document.file_{purpose}",
            row,
            document_id=str(doc.id),
            secrecy=doc.secrecy,
        )
        return row


def open_document_file(uow: UnitOfWork, row: DocumentFile) -> Any:
    return open_file(uow, row)


@dataclass(frozen=True)
class Deadline:
    """How a due date stands today, in working days (never stored)."""

    due_date: dt.date
    days_left: int  # negative when late
    overdue: bool
    due_soon: bool


def deadlines(
    uow: UnitOfWork, docs: Sequence[AnyDocument], *, soon: int = 2
) -> dict[uuid.UUID, Deadline]:
    """Due-soon and overdue marks for open documents with a deadline."""
    from docflow.incoming.states import CLOSED_STATES

    # An outgoing document's due date is the recipients' deadline, not the sender's.
    dated = [
        d
        for d in docs
        if d.due_date
        and d.direction == "incoming"
        and d.state not in {s.value for s in CLOSED_STATES}
    ]
    if not dated:
        return {}
    today = local_date(uow.now())
    dues = [d.due_date for d in dated if d.due_date]
    with uow:
        cal: WorkCalendar = load_calendar(uow.session, min([today, *dues]), max([today, *dues]))
    out = {}
    for d in dated:
        assert d.due_date is not None
        left = cal.working_days_between(today, d.due_date)
        out[d.id] = Deadline(d.due_date, left, left < 0, 0 <= left <= soon)
    return out


def verify_document_signatures(uow: UnitOfWork, payload: dict[str, Any]) -> None:
    """Outbox handler: verify the signatures of a document's PDFs and record the results."""
    if uow.verifier is None:
        return
    with uow:
        doc = uow.session.get(Document, uuid.UUID(payload["document_id"]))
        if doc is None:
            return
        for f in doc.files:
            if f.content_type != "application/pdf" or f.verification is not None:
                continue
            with open_file(uow, f) as reader:
                data = io.BytesIO()
                for chunk in reader.iter_chunks():
                    data.write(chunk)
            f.verification = uow.verifier(data.getvalue()).to_dict()
        doc.verification = {
            "summary": overall_summary([f.verification for f in doc.files if f.verification]),
            "checked_at": uow.now().isoformat(),
        }
        uow.commit()


def overall_summary(reports: Sequence[dict[str, Any]]) -> str:
    """One word for a document: any invalid signature makes it invalid; unsigned files are
    neutral; all-valid is valid; anything else is indeterminate."""
    signed = [r["summary"] for r in reports if r.get("signatures")]
    if not signed:
        return "unsigned"
    if "invalid" in signed:
        return "invalid"
    return "valid" if all(s == "valid" for s in signed) else "indeterminate"


# ---------------------------------------------------------------- replies between systems


@dataclass(frozen=True)
class DocumentLinks:
    """A document's links to others, only those the reader may see: an arrived document's
    link to our outgoing document it answers (edXML ResponseFor) and an outgoing document's
    replies; the earlier document this one replaces or corrects, and those that replace or
    correct it (``Document.replaces_id``, docflow.outgoing.replacements; drafts included, for
    whoever sees them)."""

    in_reply_to: Document | None = None
    replies: tuple[Document, ...] = ()
    replaces: Document | None = None
    replaced_by: tuple[Document, ...] = ()


def document_links(
    uow: UnitOfWork, actor: Actor, docs: Sequence[AnyDocument]
) -> dict[uuid.UUID, DocumentLinks]:
    """The links of ``docs`` (two queries at most whatever their number, none for documents
    that can have none), visibility applied."""
    if not docs:
        return {}
    targets = {d.in_reply_to_id for d in docs if d.in_reply_to_id is not None}
    targets |= {d.replaces_id for d in docs if d.replaces_id is not None}
    outgoing = [d.id for d in docs if d.direction == "outgoing"]
    named = [d.id for d in docs if d.has_replacements]
    asked = set(outgoing)
    with uow:
        s = uow.session
        seen = access.visible_clause(actor)
        linked = {
            d.id: d
            for d in (
                s.scalars(select(Document).where(Document.id.in_(targets), seen)) if targets else []
            )
        }
        # Replies to the outgoing ones, and what replaces or corrects those some document names
        # (Document.has_replacements): one statement, none when neither can exist.
        later = [
            *([Document.in_reply_to_id.in_(outgoing)] if outgoing else []),
            *([Document.replaces_id.in_(named)] if named else []),
        ]
        replies: dict[uuid.UUID, list[Document]] = {}
        replaced_by: dict[uuid.UUID, list[Document]] = {}
        for other in (
            s.scalars(
                select(Document)
                .where(or_(*later), seen)
                .order_by(Document.received_at, Document.created_at, Document.id)
            )
            if later
            else []
        ):
            if other.in_reply_to_id is not None and other.in_reply_to_id in asked:
                replies.setdefault(other.in_reply_to_id, []).append(other)
            if other.replaces_id is not None:
                replaced_by.setdefault(other.replaces_id, []).append(other)
    out = {}
    for d in docs:
        links = DocumentLinks(
            linked.get(d.in_reply_to_id) if d.in_reply_to_id else None,
            tuple(replies.get(d.id, ())),
            linked.get(d.replaces_id) if d.replaces_id else None,
            tuple(replaced_by.get(d.id, ())),
        )
        if links != DocumentLinks():
            out[d.id] = links
    return out


def register_outbox_handlers(handlers: Handlers) -> None:
    handlers.add(TOPIC_VERIFY_SIGNATURES, verify_document_signatures)
