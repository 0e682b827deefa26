"""Reading documents: one document, the boxes and search, the trail, file contents."""

from __future__ import annotations

import datetime as dt
import io
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Select, or_, select, tuple_

from docflow import audit
from docflow.actors import Actor
from docflow.documents import access
from docflow.documents.files import open_file
from docflow.documents.text import fold
from docflow.errors import NotFoundError, ValidationError
from docflow.models import Document, DocumentFile, DocumentType, TrailEntry
from docflow.outbox import Handlers
from docflow.pagination import Page, clamp_limit, decode_cursor, encode_cursor
from docflow.search import search_documents
from docflow.uow import UnitOfWork
from docflow.workdays import WorkCalendar, load_calendar, local_date

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
    doc = uow.session.scalars(
        select(Document).where(Document.id == document_id).with_for_update(of=Document)
    ).first()
    if doc is None or doc.direction != direction:
        raise NotFoundError("Không tìm thấy văn bản.", code="document_not_found")
    return access.ensure_visible(actor, doc)


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


def get_document(uow: UnitOfWork, actor: Actor, document_id: uuid.UUID) -> Document:
    with uow:
        doc = access.ensure_visible(actor, uow.session.get(Document, document_id))
        audit.record_read(uow, actor, "document.read", doc)
        return doc


def _filtered(actor: Actor, query: DocumentQuery) -> Select[Any]:
    stmt = select(Document).where(access.visible_clause(actor))
    if query.direction:
        stmt = stmt.where(Document.direction == query.direction)
    from docflow.incoming.states import CLOSED_STATES, PROCESSING_STATES
    from docflow.outgoing.states import OUTGOING_CLOSED_STATES, OUTGOING_OPEN_STATES

    outgoing = query.direction == "outgoing"
    if query.box == "inbox":
        if outgoing:
            stmt = stmt.where(access.outgoing_waiting_clause(actor))
        else:
            stmt = stmt.where(Document.direction == "incoming", access.waiting_for_clause(actor))
    elif query.box == "processing":
        states = [s.value for s in (OUTGOING_OPEN_STATES if outgoing else PROCESSING_STATES)]
        stmt = stmt.where(Document.state.in_(states))
    elif query.box == "done":
        closed = OUTGOING_CLOSED_STATES if outgoing else CLOSED_STATES
        stmt = stmt.where(Document.state.in_([s.value for s in closed]))
    if query.state:
        stmt = stmt.where(Document.state == query.state)
    if query.doc_type:
        stmt = stmt.where(Document.doc_type == query.doc_type)
    if query.issuer:
        stmt = stmt.where(
            or_(
                Document.issuer_code == query.issuer.strip(),
                Document.search_text.contains(fold(query.issuer), autoescape=True),
            )
        )
    if query.date_from:
        stmt = stmt.where(Document.listed_at >= _start_of(query.date_from))
    if query.date_to:
        stmt = stmt.where(Document.listed_at < _start_of(query.date_to + dt.timedelta(days=1)))
    return stmt


def _start_of(day: dt.date) -> dt.datetime:
    from docflow.workdays import VN_TZ

    return dt.datetime.combine(day, dt.time(), tzinfo=VN_TZ).astimezone(dt.UTC)


def list_documents(uow: UnitOfWork, actor: Actor, query: DocumentQuery) -> Page[Document]:
    """A box: urgent first, then newest; keyset pages, no counting."""
    limit = clamp_limit(query.limit)
    stmt = _filtered(actor, query)
    if query.q:
        # Full text (docflow.search): ranked, with snippets; the box's filters and the
        # visibility rule are already in ``stmt``.
        found = search_documents(uow, actor, stmt, query.q, limit=limit, cursor=query.cursor)
        audit.record_search(uow, actor, query.q, found.items)
        return found
    after = decode_cursor(query.cursor)
    if after:
        try:
            key = (int(after[0]), dt.datetime.fromisoformat(after[1]), uuid.UUID(after[2]))
        except (ValueError, IndexError) as exc:
            raise ValidationError.field("cursor", "Con trỏ phân trang không hợp lệ.") from exc
        stmt = stmt.where(tuple_(Document.urgency_rank, Document.listed_at, Document.id) < key)
    stmt = stmt.order_by(
        Document.urgency_rank.desc(), Document.listed_at.desc(), Document.id.desc()
    )
    with uow:
        rows: list[Document] = list(uow.session.scalars(stmt.limit(limit + 1)).unique())
    more = len(rows) > limit
    rows = rows[:limit]
    audit.record_search(uow, actor, query.q or query.issuer, rows)
    cursor = None
    if more:
        last = rows[-1]
        cursor = encode_cursor([last.urgency_rank, last.listed_at.isoformat(), last.id])
    return Page(rows, cursor)


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
    uow: UnitOfWork, docs: Sequence[Document], *, soon: int = 2
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
class ReplyLinks:
    """An arrived document's link to our outgoing document it answers (edXML ResponseFor), and
    an outgoing document's replies; only the documents the reader may see."""

    in_reply_to: Document | None = None
    replies: tuple[Document, ...] = ()


def reply_links(
    uow: UnitOfWork, actor: Actor, docs: Sequence[Document]
) -> dict[uuid.UUID, ReplyLinks]:
    """The reply links of ``docs`` (two queries whatever their number), visibility applied."""
    targets = {d.in_reply_to_id for d in docs if d.in_reply_to_id is not None}
    outgoing = [d.id for d in docs if d.direction == "outgoing"]
    if not targets and not outgoing:
        return {}
    with uow:
        s = uow.session
        seen = access.visible_clause(actor)
        answered = {
            d.id: d
            for d in (
                s.scalars(select(Document).where(Document.id.in_(targets), seen)) if targets else []
            )
        }
        replies: dict[uuid.UUID, list[Document]] = {}
        if outgoing:
            for reply in s.scalars(
                select(Document)
                .where(Document.in_reply_to_id.in_(outgoing), seen)
                .order_by(Document.received_at, Document.id)
            ):
                assert reply.in_reply_to_id is not None
                replies.setdefault(reply.in_reply_to_id, []).append(reply)
    out = {}
    for d in docs:
        links = ReplyLinks(
            answered.get(d.in_reply_to_id) if d.in_reply_to_id else None,
            tuple(replies.get(d.id, ())),
        )
        if links.in_reply_to is not None or links.replies:
            out[d.id] = links
    return out


def register_outbox_handlers(handlers: Handlers) -> None:
    handlers.add(TOPIC_VERIFY_SIGNATURES, verify_document_signatures)
