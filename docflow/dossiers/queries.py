"""What dossier lists and pages read: the reader's view of a dossier (only what they may see),
the lists, the trail, what is due for transfer and for disposal review."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from docflow.actors import Actor
from docflow.documents import access
from docflow.dossiers import policy
from docflow.dossiers.states import DossierAction, DossierState
from docflow.enums import Role, Secrecy
from docflow.errors import NotFoundError, PermissionDeniedError
from docflow.models import (
    Document,
    DocumentFile,
    Dossier,
    DossierEvent,
    DossierItem,
    Organization,
    Task,
)
from docflow.pagination import Page, clamp_limit, decode_cursor, encode_cursor
from docflow.tasks import can_view as task_visible
from docflow.uow import UnitOfWork
from docflow.workdays import local_date


def load_dossier(s: Session, dossier_id: uuid.UUID, *, lock: bool = False) -> Dossier | None:
    stmt = select(Dossier).where(Dossier.id == dossier_id).execution_options(populate_existing=True)
    if lock:
        stmt = stmt.with_for_update(of=Dossier)
    return s.scalars(stmt).unique().one_or_none()


def facts(d: Dossier) -> policy.DossierFacts:
    return policy.DossierFacts(
        organization_id=d.organization_id,
        unit_id=d.unit_id,
        keeper_id=d.keeper_id,
        secrecy_rank=d.secrecy_rank,
        state=DossierState(d.state),
        held=d.legal_hold is not None,
    )


def ensure_visible(actor: Actor, d: Dossier | None) -> Dossier:
    """The dossier, or 404 (also when it exists but the actor may not see it)."""
    if d is None or not policy.can_view(actor, facts(d)):
        raise NotFoundError("Không tìm thấy hồ sơ.", code="dossier_not_found")
    return d


def visible_clause(actor: Actor) -> ColumnElement[bool]:
    """SQL twin of :func:`policy.can_view` for lists."""
    base = and_(
        Dossier.organization_id == actor.organization_id,
        Dossier.secrecy_rank <= actor.clearance.rank,
    )
    if any(actor.has_role(r) for r in (*policy.OFFICE, Role.ARCHIVIST)):
        return base
    mine: list[ColumnElement[bool]] = [Dossier.keeper_id == actor.user_id]
    if actor.unit_id is not None:
        mine.append(Dossier.unit_id == actor.unit_id)
    return and_(base, or_(*mine))


@dataclass(frozen=True)
class FileRef:
    id: uuid.UUID
    name: str
    kind: str
    version: int
    size: int
    sha256: str
    content_type: str
    object_key: str


@dataclass(frozen=True)
class ItemView:
    """One entry of the dossier, in order: a document (with its files) or a task."""

    position: int
    kind: str  # document | task
    document_id: uuid.UUID | None
    task_id: uuid.UUID | None
    direction: str | None
    notation: str | None
    doc_type: str | None
    subject: str
    issuer: str | None
    date: dt.date | None
    secrecy: str
    page_count: int | None
    filed_at: dt.datetime
    files: tuple[FileRef, ...] = ()


@dataclass(frozen=True)
class DossierView:
    id: uuid.UUID
    organization_id: uuid.UUID
    organization_code: str
    organization_name: str
    year: int
    code: str
    title: str
    state: DossierState
    retention_years: int | None
    secrecy: str
    unit_id: uuid.UUID | None
    unit_name: str | None
    keeper_id: uuid.UUID
    keeper_name: str
    planned: bool
    plan_item_id: uuid.UUID | None
    note: str | None
    start_date: dt.date | None
    end_date: dt.date | None
    page_total: int | None
    document_count: int
    created_at: dt.datetime
    closed_at: dt.datetime | None
    transferred_at: dt.datetime | None
    archived_at: dt.datetime | None
    retention_until: dt.date | None
    legal_hold: str | None
    has_toc: bool
    has_toc_pdf: bool
    allowed_actions: tuple[DossierAction, ...]
    items: tuple[ItemView, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class EventView:
    seq: int
    at: dt.datetime
    action: str
    label: str
    from_state: str | None
    to_state: str
    actor_name: str
    comment: str | None


def retention_until(d: Dossier) -> dt.date | None:
    """The last day the dossier must be kept: 31 December of (the year its work ended +
    retention); None for permanent ones and for dossiers not yet closed."""
    if d.retention_years is None or d.end_date is None:
        return None
    return dt.date(d.end_date.year + d.retention_years, 12, 31)


def transfer_due(d: Dossier) -> dt.date | None:
    """The last day to hand a closed dossier to the archive: one year after the end of its
    work (Decree 30, Art. 31; exceptions are the head's decision)."""
    if d.end_date is None:
        return None
    try:
        return d.end_date.replace(year=d.end_date.year + 1)
    except ValueError:  # 29 February
        return d.end_date.replace(year=d.end_date.year + 1, day=28)


def _files_of(doc: Document) -> tuple[FileRef, ...]:
    return tuple(
        FileRef(f.id, f.name, f.kind, f.version, f.size, f.sha256, f.content_type, f.object_key)
        for f in doc.files
    )


#: The states in which a dossier is in the archive's hands (Decree 30: the archive checks
#: every file and holds the whole record).
IN_CUSTODY = frozenset(
    {DossierState.TRANSFERRED.value, DossierState.ARCHIVED.value, DossierState.DISPOSED.value}
)


def sees_every_item(actor: Actor, d: Dossier) -> bool:
    """Whether every entry filed in ``d`` is shown to ``actor`` (within their clearance): the
    office, who see the whole organisation's documents, and the archivist once the dossier is
    in the archive's hands. Anyone else who may see the dossier sees the filed documents and
    tasks they may see themselves (:func:`item_views`)."""
    return access.sees_whole_organisation(actor) or (
        actor.has_role(Role.ARCHIVIST) and d.state in IN_CUSTODY
    )


def item_views(s: Session, actor: Actor | None, d: Dossier) -> list[ItemView]:
    """The dossier's entries the reader may see, in order (``actor`` None: all of them, for
    the record itself). Filing does not route a document: a reader of the dossier who may not
    see a filed document or task (routed to another unit, say) is not shown it, unless they
    see every item (:func:`sees_every_item`). The dossier's own secrecy already bounds what is
    filed; a document above the reader's clearance is left out all the same. What is left out
    leaves no row and no count, so that its presence cannot be read from the dossier."""
    doc_ids = [i.document_id for i in d.items if i.document_id is not None]
    task_ids = [i.task_id for i in d.items if i.task_id is not None]
    whole = actor is None or sees_every_item(actor, d)
    seen = [] if whole or actor is None else [access.visible_clause(actor)]
    docs = (
        {x.id: x for x in s.scalars(select(Document).where(Document.id.in_(doc_ids), *seen))}
        if doc_ids
        else {}
    )
    tasks = (
        {t.id: t for t in s.scalars(select(Task).where(Task.id.in_(task_ids)))} if task_ids else {}
    )
    limit = actor.clearance.rank if actor is not None else Secrecy.TOP_SECRET.rank
    out: list[ItemView] = []
    for it in d.items:
        if it.document_id is not None:
            doc = docs.get(it.document_id)
            if doc is None or doc.secrecy_rank > limit:
                continue
            out.append(
                ItemView(
                    position=it.position,
                    kind="document",
                    document_id=doc.id,
                    task_id=None,
                    direction=doc.direction,
                    notation=doc.notation,
                    doc_type=doc.doc_type,
                    subject=doc.subject,
                    issuer=doc.issuer_name,
                    date=doc.issued_date,
                    secrecy=doc.secrecy,
                    page_count=it.page_count if it.page_count is not None else doc.page_count,
                    filed_at=it.filed_at,
                    files=_files_of(doc),
                )
            )
        elif it.task_id is not None:
            task = tasks.get(it.task_id)
            if task is None or not (whole or (actor is not None and task_visible(actor, task))):
                continue
            out.append(
                ItemView(
                    position=it.position,
                    kind="task",
                    document_id=None,
                    task_id=task.id,
                    direction=None,
                    notation=None,
                    doc_type=None,
                    subject=task.title,
                    issuer=None,
                    date=local_date(task.completed_at) if task.completed_at else task.due_date,
                    secrecy="none",
                    page_count=it.page_count,
                    filed_at=it.filed_at,
                    files=tuple(
                        FileRef(
                            a.id,
                            a.filename,
                            "attachment",
                            1,
                            a.size,
                            a.sha256,
                            a.content_type,
                            a.object_key,
                        )
                        for a in task.attachments
                    ),
                )
            )
    return out


def shown_all(d: Dossier, shown: Sequence[ItemView]) -> bool:
    """Whether ``shown`` (:func:`item_views` for a reader) is every entry of ``d`` (each entry
    names a document or a task, which cannot be deleted while filed)."""
    return len(shown) == len(d.items)


def ensure_whole_record(s: Session, actor: Actor, d: Dossier) -> None:
    """The dossier's record made for the archive (its package, its table of contents) lists
    every entry: refused (403) to a reader not shown them all (:func:`item_views`)."""
    if shown_all(d, item_views(s, actor, d)):
        return
    raise PermissionDeniedError(
        "Hồ sơ có văn bản bạn không được xem: gói nộp lưu và mục lục văn bản chỉ cấp cho "
        "văn thư, lãnh đạo và lưu trữ cơ quan.",
        code="dossier_record_restricted",
    )


def build_view(uow: UnitOfWork, actor: Actor | None, d: Dossier) -> DossierView:
    """The reader's view of ``d``, inside the caller's transaction (``actor`` None: the whole
    dossier, for the package and the table of contents, which are behind the dossier's
    clearance)."""
    s = uow.session
    items = item_views(s, actor, d)
    pages = [i.page_count for i in items if i.page_count is not None]
    org = s.get(Organization, d.organization_id)
    assert org is not None
    # A reader not shown every entry gets the figures of what they are shown: the dossier's
    # own (its page total, its first and last dates, made at closing from every entry) would
    # tell of the entries left out; nor is the table of contents, which lists them, offered.
    whole = shown_all(d, items)
    dates = [i.date for i in items if i.date is not None]
    start, end = (
        (d.start_date, d.end_date)
        if whole
        else (min(dates, default=None), max(dates, default=None))
    )
    if whole:
        page_total = sum(pages) if d.state != DossierState.OPEN and pages else d.page_total
    else:
        page_total = sum(pages) if pages else None
    retention = retention_until(d) if whole else None
    return DossierView(
        id=d.id,
        organization_id=d.organization_id,
        organization_code=org.code,
        organization_name=org.name,
        year=d.year,
        code=d.code,
        title=d.title,
        state=DossierState(d.state),
        retention_years=d.retention_years,
        secrecy=d.secrecy,
        unit_id=d.unit_id,
        unit_name=d.unit.name if d.unit else None,
        keeper_id=d.keeper_id,
        keeper_name=d.keeper.full_name,
        planned=d.plan_item_id is not None,
        plan_item_id=d.plan_item_id,
        note=d.note,
        start_date=start,
        end_date=end,
        page_total=page_total,
        document_count=len(items),
        created_at=d.created_at,
        closed_at=d.closed_at,
        transferred_at=d.transferred_at,
        archived_at=d.archived_at,
        retention_until=retention,
        legal_hold=d.legal_hold,
        has_toc=whole and d.toc_docx_key is not None,
        has_toc_pdf=whole and d.toc_pdf_key is not None,
        allowed_actions=tuple(policy.allowed_actions(actor, facts(d))) if actor else (),
        items=tuple(items),
    )


def get_dossier(uow: UnitOfWork, actor: Actor, dossier_id: uuid.UUID) -> DossierView:
    with uow:
        d = ensure_visible(actor, load_dossier(uow.session, dossier_id))
        return build_view(uow, actor, d)


@dataclass(frozen=True)
class DossierSummary:
    id: uuid.UUID
    year: int
    code: str
    title: str
    state: DossierState
    retention_years: int | None
    unit_name: str | None
    keeper_name: str
    planned: bool
    secrecy: str
    end_date: dt.date | None
    transfer_due: dt.date | None


def list_dossiers(
    uow: UnitOfWork,
    actor: Actor,
    *,
    year: int | None = None,
    state: DossierState | None = None,
    unit_id: uuid.UUID | None = None,
    mine: bool = False,
    q: str | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> Page[DossierSummary]:
    """The dossiers the actor may see, by year (newest first) and code; ``q`` searches codes
    and titles (case-insensitive): how the archivist finds holdings."""
    n = clamp_limit(limit)
    after = decode_cursor(cursor)
    with uow:
        stmt = select(Dossier).where(visible_clause(actor))
        if year is not None:
            stmt = stmt.where(Dossier.year == year)
        if state is not None:
            stmt = stmt.where(Dossier.state == state.value)
        if unit_id is not None:
            stmt = stmt.where(Dossier.unit_id == unit_id)
        if mine:
            stmt = stmt.where(Dossier.keeper_id == actor.user_id)
        if q and q.strip():
            needle = q.strip().lower()[:200]
            stmt = stmt.where(
                or_(
                    func.lower(Dossier.title).contains(needle, autoescape=True),
                    func.lower(Dossier.code).contains(needle, autoescape=True),
                )
            )
        if after is not None:
            try:
                y, code, ident = int(after[0]), after[1], uuid.UUID(after[2])
            except (ValueError, IndexError):
                from docflow.errors import ValidationError

                raise ValidationError.field("cursor", "Con trỏ phân trang không hợp lệ.") from None
            stmt = stmt.where(
                or_(
                    Dossier.year < y,
                    and_(Dossier.year == y, Dossier.code > code),
                    and_(Dossier.year == y, Dossier.code == code, Dossier.id > ident),
                )
            )
        rows = list(
            uow.session.scalars(
                stmt.order_by(Dossier.year.desc(), Dossier.code, Dossier.id).limit(n + 1)
            )
        )
        more = len(rows) > n
        rows = rows[:n]
        items = [
            DossierSummary(
                id=d.id,
                year=d.year,
                code=d.code,
                title=d.title,
                state=DossierState(d.state),
                retention_years=d.retention_years,
                unit_name=d.unit.name if d.unit else None,
                keeper_name=d.keeper.full_name,
                planned=d.plan_item_id is not None,
                secrecy=d.secrecy,
                end_date=d.end_date,
                transfer_due=transfer_due(d),
            )
            for d in rows
        ]
        nxt = encode_cursor([rows[-1].year, rows[-1].code, rows[-1].id]) if more else None
        return Page(items, nxt)


def dossier_events(uow: UnitOfWork, actor: Actor, dossier_id: uuid.UUID) -> list[EventView]:
    from docflow.dossiers.states import ACTION_LABELS

    with uow:
        d = ensure_visible(actor, load_dossier(uow.session, dossier_id))
        rows = list(
            uow.session.scalars(
                select(DossierEvent)
                .where(DossierEvent.dossier_id == d.id)
                .order_by(DossierEvent.seq)
            )
        )
        if not shown_all(d, item_views(uow.session, actor, d)):
            rows = _shown_events(uow.session, actor, rows)
        return [
            EventView(
                e.seq,
                e.at,
                e.action,
                ACTION_LABELS.get(DossierAction(e.action), e.action),
                e.from_state,
                e.to_state,
                e.actor_name,
                e.comment,
            )
            for e in rows
        ]


def _named(e: DossierEvent) -> tuple[list[uuid.UUID], uuid.UUID | None]:
    """The documents and the task a trail step (filing, taking out) names."""
    details = e.details or {}
    docs = [*details.get("document_ids", []), *filter(None, [details.get("document_id")])]
    task = details.get("task_id")
    return [uuid.UUID(x) for x in docs], uuid.UUID(task) if task else None


def _shown_events(s: Session, actor: Actor, events: list[DossierEvent]) -> list[DossierEvent]:
    """The trail without the steps that filed or took out only what ``actor`` is not shown
    (:func:`item_views`): such a step would tell that a hidden entry exists, and when."""
    named = {x for e in events for x in _named(e)[0]}
    seen = (
        set(
            s.scalars(
                select(Document.id).where(Document.id.in_(named), access.visible_clause(actor))
            )
        )
        if named
        else set()
    )

    def shown(e: DossierEvent) -> bool:
        docs, task_id = _named(e)
        if not docs and task_id is None:
            return True  # a step of the dossier itself
        if any(x in seen for x in docs):
            return True
        task = s.get(Task, task_id) if task_id is not None else None
        return task is not None and task_visible(actor, task)

    return [e for e in events if shown(e)]


def dossiers_of_document(
    uow: UnitOfWork, actor: Actor, document_id: uuid.UUID
) -> list[DossierSummary]:
    """The dossiers (visible to the actor) a visible document is filed in: the document page
    shows them beside «Đưa vào hồ sơ»."""
    with uow:
        s = uow.session
        if access.find_visible(s, actor, document_id) is None:
            raise NotFoundError("Không tìm thấy văn bản.", code="document_not_found")
        rows = s.scalars(
            select(Dossier)
            .join(DossierItem, DossierItem.dossier_id == Dossier.id)
            .where(DossierItem.document_id == document_id, visible_clause(actor))
            .order_by(Dossier.year.desc(), Dossier.code)
        )
        return [
            DossierSummary(
                d.id,
                d.year,
                d.code,
                d.title,
                DossierState(d.state),
                d.retention_years,
                d.unit.name if d.unit else None,
                d.keeper.full_name,
                d.plan_item_id is not None,
                d.secrecy,
                d.end_date,
                transfer_due(d),
            )
            for d in rows
        ]


def open_dossiers_for(uow: UnitOfWork, actor: Actor) -> list[DossierSummary]:
    """The open dossiers the actor may file into (the «Đưa vào hồ sơ» choices)."""
    with uow:
        rows = uow.session.scalars(
            select(Dossier)
            .where(visible_clause(actor), Dossier.state == DossierState.OPEN.value)
            .order_by(Dossier.year.desc(), Dossier.code)
            .limit(200)
        )
        return [
            DossierSummary(
                d.id,
                d.year,
                d.code,
                d.title,
                DossierState(d.state),
                d.retention_years,
                d.unit.name if d.unit else None,
                d.keeper.full_name,
                d.plan_item_id is not None,
                d.secrecy,
                d.end_date,
                None,
            )
            for d in rows
            if policy.may_work_on(actor, facts(d))
        ]


def document_files(s: Session, document_ids: Sequence[uuid.UUID]) -> list[DocumentFile]:
    if not document_ids:
        return []
    return list(s.scalars(select(DocumentFile).where(DocumentFile.document_id.in_(document_ids))))


@dataclass(frozen=True)
class Candidate:
    id: uuid.UUID
    direction: str
    notation: str | None
    subject: str
    date: dt.date | None
    state: str


def filing_candidates(
    uow: UnitOfWork, actor: Actor, dossier_id: uuid.UUID, *, q: str | None = None, limit: int = 50
) -> list[Candidate]:
    """Documents the actor could file into the dossier (bulk filing from a list): visible to
    them, not above the dossier's secrecy, not in it yet; newest first, optionally searched."""
    from docflow.documents.text import fold

    with uow:
        s = uow.session
        d = ensure_visible(actor, load_dossier(s, dossier_id))
        inside = select(DossierItem.document_id).where(
            DossierItem.dossier_id == d.id, DossierItem.document_id.is_not(None)
        )
        stmt = select(Document).where(
            access.visible_clause(actor),
            Document.secrecy_rank <= d.secrecy_rank,
            Document.id.not_in(inside),
        )
        if q:
            stmt = stmt.where(Document.search_text.contains(fold(q), autoescape=True))
        rows = s.scalars(stmt.order_by(Document.listed_at.desc(), Document.id).limit(limit))
        return [
            Candidate(
                x.id,
                x.direction,
                x.notation,
                x.subject,
                x.issued_date or (local_date(x.received_at) if x.received_at else None),
                x.state,
            )
            for x in rows
        ]


def transfer_list(
    uow: UnitOfWork, actor: Actor, year: int, unit_id: uuid.UUID | None
) -> tuple[str, bytes]:
    """Mục lục hồ sơ nộp lưu + biên bản giao nhận of the year's transferred and archived
    dossiers the actor may see (of one unit, or all)."""
    from docflow.dossiers.toc import transfer_list_docx
    from docflow.models import Unit

    with uow:
        s = uow.session
        stmt = select(Dossier).where(
            visible_clause(actor),
            Dossier.year == year,
            Dossier.state.in_([DossierState.TRANSFERRED.value, DossierState.ARCHIVED.value]),
        )
        unit_name = None
        if unit_id is not None:
            unit = s.get(Unit, unit_id)
            if unit is None or unit.organization_id != actor.organization_id:
                from docflow.errors import ValidationError

                raise ValidationError.field("unit_id", "Đơn vị không thuộc cơ quan của bạn.")
            unit_name = unit.name
            stmt = stmt.where(Dossier.unit_id == unit_id)
        rows = [
            build_view(uow, actor, d) for d in s.scalars(stmt.order_by(Dossier.code, Dossier.id))
        ]
        org = s.get(Organization, actor.organization_id)
        data = transfer_list_docx(
            org.name if org else "", unit_name, year, rows, local_date(uow.now())
        )
        return f"muc-luc-ho-so-nop-luu-{year}.docx", data


@dataclass(frozen=True)
class Suggestion:
    """An open dossier proposed for filing, best first, with why (shown to the user)."""

    dossier: DossierSummary
    reason: str  # related | unit_year | mine
    reason_label: str


SUGGESTION_LABELS = {
    "related": "Có văn bản, nhiệm vụ liên quan",
    "mine": "Hồ sơ do đồng chí lập năm nay",
    "unit_year": "Hồ sơ của đơn vị năm nay",
}


def _summary(d: Dossier) -> DossierSummary:
    return DossierSummary(
        d.id,
        d.year,
        d.code,
        d.title,
        DossierState(d.state),
        d.retention_years,
        d.unit.name if d.unit else None,
        d.keeper.full_name,
        d.plan_item_id is not None,
        d.secrecy,
        d.end_date,
        None,
    )


def suggested_dossiers(
    uow: UnitOfWork,
    actor: Actor,
    document_id: uuid.UUID | None = None,
    *,
    task_id: uuid.UUID | None = None,
    limit: int = 5,
) -> list[Suggestion]:
    """Where a document (or a task's result) just completed most likely belongs, best first:
    the open dossiers holding a related document or task (the one it answers or that answers
    it, the task's source document, the parent task and the subtasks, the tasks of the same
    document), then the reader's own dossiers of the year, then their unit's. Only open
    dossiers the reader may file into, not those already holding it, none above the item's
    secrecy bound (a dossier below the document's secrecy refuses it). An invisible document or
    task is 404, as a missing one."""
    with uow:
        s = uow.session
        doc_ids: set[uuid.UUID] = set()
        task_ids: set[uuid.UUID] = set()
        filed: ColumnElement[bool]
        min_rank = 0
        if task_id is not None:
            task = s.get(Task, task_id)
            if task is None or not task_visible(actor, task):
                raise NotFoundError("Không tìm thấy nhiệm vụ.", code="task_not_found")
            if task.document_id is not None:
                doc_ids.add(task.document_id)
            if task.parent_id is not None:
                task_ids.add(task.parent_id)
            source = s.get(Document, task.document_id) if task.document_id else None
            min_rank = source.secrecy_rank if source is not None else 0
            related_tasks = select(Task.id).where(
                Task.organization_id == actor.organization_id,
                Task.id != task.id,
                or_(
                    Task.parent_id == task.id,
                    and_(Task.document_id.is_not(None), Task.document_id == task.document_id),
                ),
            )
            task_ids.update(s.scalars(related_tasks))
            filed = DossierItem.task_id == task.id
        elif document_id is not None:
            doc = access.find_visible(s, actor, document_id)
            if doc is None:
                raise NotFoundError("Không tìm thấy văn bản.", code="document_not_found")
            min_rank = doc.secrecy_rank
            for ref in (doc.in_reply_to_id, doc.reply_document_id):
                if ref is not None:
                    doc_ids.add(ref)
            doc_ids.update(
                s.scalars(
                    select(Document.id).where(
                        Document.organization_id == actor.organization_id,
                        or_(
                            Document.reply_document_id == doc.id,
                            Document.in_reply_to_id == doc.id,
                        ),
                    )
                )
            )
            task_ids.update(
                s.scalars(
                    select(Task.id).where(
                        Task.organization_id == actor.organization_id, Task.document_id == doc.id
                    )
                )
            )
            filed = DossierItem.document_id == doc.id
        else:
            raise ValueError("document_id or task_id")
        already = select(DossierItem.dossier_id).where(filed)
        candidates = [
            d
            for d in s.scalars(
                select(Dossier)
                .where(
                    visible_clause(actor),
                    Dossier.state == DossierState.OPEN.value,
                    Dossier.secrecy_rank >= min_rank,
                    Dossier.id.not_in(already),
                )
                .order_by(Dossier.year.desc(), Dossier.code)
                .limit(500)
            )
            if policy.may_work_on(actor, facts(d))
        ]
        related: set[uuid.UUID] = set()
        links: list[ColumnElement[bool]] = []
        if doc_ids:
            links.append(DossierItem.document_id.in_(doc_ids))
        if task_ids:
            links.append(DossierItem.task_id.in_(task_ids))
        if links and candidates:
            related = set(
                s.scalars(
                    select(DossierItem.dossier_id).where(
                        DossierItem.dossier_id.in_([d.id for d in candidates]), or_(*links)
                    )
                )
            )
        year = local_date(uow.now()).year
        out: list[tuple[int, Suggestion]] = []
        for d in candidates:
            if d.id in related:
                rank, reason = 0, "related"
            elif d.year == year and d.keeper_id == actor.user_id:
                rank, reason = 1, "mine"
            elif d.year == year and actor.unit_id is not None and d.unit_id == actor.unit_id:
                rank, reason = 2, "unit_year"
            else:
                continue
            out.append((rank, Suggestion(_summary(d), reason, SUGGESTION_LABELS[reason])))
        out.sort(key=lambda x: x[0])  # stable: year desc, code within a rank
        return [sug for _, sug in out[:limit]]


def dossiers_of_task(uow: UnitOfWork, actor: Actor, task_id: uuid.UUID) -> list[DossierSummary]:
    """The dossiers (visible to the actor) a visible task is filed in (the task page)."""
    with uow:
        s = uow.session
        task = s.get(Task, task_id)
        if task is None or not task_visible(actor, task):
            raise NotFoundError("Không tìm thấy nhiệm vụ.", code="task_not_found")
        rows = s.scalars(
            select(Dossier)
            .join(DossierItem, DossierItem.dossier_id == Dossier.id)
            .where(DossierItem.task_id == task_id, visible_clause(actor))
            .order_by(Dossier.year.desc(), Dossier.code)
        )
        return [_summary(d) for d in rows]
