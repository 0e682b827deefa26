"""Bringing an old system's documents in: checked row by row, written in batches, resumable.

``import_documents(uow, actor, items)`` takes any iterable of
:class:`~docflow.imports.commands.ImportItem` (the rows of a manifest read by
:mod:`docflow.imports.manifest`, or edXML packages read by the app with interop's parser) and
reports an :class:`~docflow.imports.commands.ItemOutcome` for each, through ``on_outcome``, as
it goes. Nothing is held but the current batch: memory stays flat whatever the size.

- **Numbers kept.** An imported document keeps the register number of the old system (no
  number is allocated); in the same transaction the register's counter moves past the largest
  imported number (``last_number = max(last_number, n)``), so the next document registered by
  hand gets the number after it. A number already used in the register is refused.
- **Dates and final state kept**, as the manifest gives them; the file rows, a trail step
  ``import`` and its audit entry (``document_import``, by the operator) say it was imported; a
  :class:`~docflow.models.DocumentImport` row says from what (source file and row).
- **Idempotent and resumable.** An item's identity is its organisation's register and number
  (``register:<register id>:<number>``: organisation, register, year, number) or the edXML
  DocumentId. An identity already imported is skipped, so a second run changes nothing and a run
  killed at any point continues where it stopped. (The same identity on another row of the same
  manifest is a duplicate, refused.)
- **Per-item refusals** (Vietnamese reasons: unknown register, number taken, file missing or
  refused by the upload checks, bad dates, unknown handler…) never stop the other items.
- **No orphan object.** Files are stored before the rows that reference them, outside the
  write transaction (no lock held while bytes travel). Every file of an item is checked first
  (:func:`docflow.uploads.check_uploads`), so an item refused for one of its files stores none of
  them. What a killed run stored for its unfinished batch is referenced again when the rerun
  imports the same items (storage is content-addressed: the same bytes, the same key); only if
  those items are never imported again (the export changed, the run is abandoned) do the objects
  stay unreferenced, and then the sweeper (:mod:`docflow.objects`) removes them after its grace
  period, as for any failed upload.
- **A batch that fails on an unexpected database error** (a conflict with a concurrent
  registration) is rolled back and its items written one by one, so only the conflicting item
  is refused.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, tuple_, update
from sqlalchemy.exc import IntegrityError

from docflow import audit
from docflow.actors import Actor
from docflow.documents import access
from docflow.documents.states import URGENCY_RANK
from docflow.documents.text import search_text
from docflow.enums import Direction, Secrecy, Urgency
from docflow.ids import new_id
from docflow.imports import policy
from docflow.imports.commands import FileSource, ImportItem, ItemOutcome
from docflow.incoming.states import AssignmentState, IncomingState
from docflow.models import (
    Assignment,
    Document,
    DocumentFile,
    DocumentImport,
    DocumentType,
    Organization,
    Register,
    TrailEntry,
    Unit,
    User,
)
from docflow.search import TextStatus, queue_new_files_extraction
from docflow.statistics import statistics_changed
from docflow.uow import UnitOfWork
from docflow.uploads import FileRefusedError, StoredUpload, Upload, check_uploads, store_uploads
from docflow.workdays import VN_TZ

BATCH_SIZE = 100
STORE_THREADS = 8
SOURCE = "import"  # Document.source of an imported document
_CACHE_LIMIT = 20_000

# The assignment state an imported incoming document's handler has, by the document's state.
_ASSIGNMENT_OF_STATE = {
    IncomingState.ASSIGNED.value: AssignmentState.PENDING.value,
    IncomingState.IN_PROGRESS.value: AssignmentState.IN_PROGRESS.value,
    IncomingState.DONE.value: AssignmentState.DONE.value,
}


@dataclass
class _Doc:
    """An item that passed the checks: the values of its document."""

    item: ImportItem
    identity: str
    organization_id: uuid.UUID
    direction: Direction
    register: Register | None
    number: int | None
    state: str
    doc_type: str
    subject: str
    notation: str | None
    issuer: str | None
    issued_date: dt.date | None
    received_date: dt.date | None
    due_date: dt.date | None
    urgency: Urgency
    secrecy: Secrecy
    handler: User | None
    stored: list[StoredUpload] = field(default_factory=list)


@dataclass
class _Lookups:
    """What the checks read from the database, kept across batches (small: registers, types,
    organisations, handlers; handlers are forgotten past a bound)."""

    actor: Actor
    orgs: dict[str, Organization | None] = field(default_factory=dict)
    registers: dict[tuple[uuid.UUID, str, int, str], Register | None] = field(default_factory=dict)
    users: dict[tuple[uuid.UUID, str], User | None] = field(default_factory=dict)
    doc_types: set[str] | None = None


@dataclass
class DocumentImportResult:
    counts: dict[str, int]


def import_documents(
    uow: UnitOfWork,
    actor: Actor,
    items: Iterable[ImportItem],
    *,
    dry_run: bool = False,
    batch_size: int = BATCH_SIZE,
    on_outcome: Callable[[ItemOutcome], None] | None = None,
) -> DocumentImportResult:
    """Import ``items`` (see the module's docstring); with ``dry_run`` check everything (files
    included) and write nothing."""
    policy.ensure_can_import_documents(actor)
    look = _Lookups(actor)
    counts = {"imported": 0, "skipped": 0, "refused": 0}

    def emit(outcome: ItemOutcome) -> None:
        counts[outcome.status] += 1
        if on_outcome is not None:
            on_outcome(outcome)

    batch: list[ImportItem] = []
    with ThreadPoolExecutor(STORE_THREADS, thread_name_prefix="import-store") as pool:
        for item in items:
            batch.append(item)
            if len(batch) >= batch_size:
                _run_batch(uow, look, batch, dry_run, emit, pool)
                batch = []
        if batch:
            _run_batch(uow, look, batch, dry_run, emit, pool)
    return DocumentImportResult(counts)


# ---------------------------------------------------------------------- one batch


def _run_batch(
    uow: UnitOfWork,
    look: _Lookups,
    batch: Sequence[ImportItem],
    dry_run: bool,
    emit_in_order: Callable[[ItemOutcome], None],
    pool: ThreadPoolExecutor,
) -> None:
    # The outcomes are reported in the order of the items (the report follows the manifest).
    done: list[ItemOutcome] = []
    try:
        _batch(uow, look, batch, dry_run, done.append, pool)
    finally:
        position = {id(item): i for i, item in enumerate(batch)}
        for outcome in sorted(done, key=lambda o: position.get(id(o.item), len(batch))):
            emit_in_order(outcome)


def _batch(
    uow: UnitOfWork,
    look: _Lookups,
    batch: Sequence[ImportItem],
    dry_run: bool,
    emit: Callable[[ItemOutcome], None],
    pool: ThreadPoolExecutor,
) -> None:
    with uow:
        checked = [_check(uow, look, item) for item in batch]
        docs = _against_database(uow, checked, emit)
    # The files travel to the store in parallel (the store's latency, not the CPU, is the
    # limit), before and outside the write transaction.
    reasons = list(pool.map(lambda d: _store_files(uow, d, dry_run), docs))
    ready: list[_Doc] = []
    for doc, reason in zip(docs, reasons, strict=True):
        if reason:
            emit(_refused(doc.item, [reason], doc))
        elif dry_run:
            emit(
                ItemOutcome(
                    doc.item, "imported", ("Chạy thử: hợp lệ, chưa ghi.",), None, *_where(doc)
                )
            )
        else:
            ready.append(doc)
    if not ready:
        return
    try:
        with uow:
            written = _write(uow, look.actor, ready)
            _move_counters(uow, ready)
            uow.commit()
    except IntegrityError:
        # A concurrent registration took a number (or another run imported an item) between
        # the checks and the write: the batch rolled back; write its items one by one.
        for doc in ready:
            emit(_write_alone(uow, look, doc))
        return
    for doc, document_id in zip(ready, written, strict=True):
        emit(ItemOutcome(doc.item, "imported", (), str(document_id), *_where(doc)))


def _where(doc: _Doc) -> tuple[str, int | None]:
    return (doc.register.name if doc.register else "", doc.number)


def _refused(item: ImportItem, reasons: Sequence[str], doc: _Doc | None = None) -> ItemOutcome:
    where = _where(doc) if doc else ("", None)
    return ItemOutcome(item, "refused", tuple(reasons), None, *where)


def _write_alone(uow: UnitOfWork, look: _Lookups, doc: _Doc) -> ItemOutcome:
    try:
        with uow:
            found = _imported(uow, [doc])
            if (doc.organization_id, doc.identity) in found:
                return ItemOutcome(doc.item, "skipped", ("Đã nhập trước đây.",), None, *_where(doc))
            document_id = _write(uow, look.actor, [doc])[0]
            _move_counters(uow, [doc])
            uow.commit()
    except IntegrityError:
        return _refused(doc.item, [_taken_message(doc)], doc)
    return ItemOutcome(doc.item, "imported", (), str(document_id), *_where(doc))


def _taken_message(doc: _Doc) -> str:
    name = doc.register.name if doc.register else ""
    return (
        f"Số {doc.number} đã có trong sổ «{name}» năm {doc.register.year if doc.register else ''}."
    )


# ---------------------------------------------------------------------- checks


def _check(uow: UnitOfWork, look: _Lookups, item: ImportItem) -> _Doc | ItemOutcome:
    """The values of one item, or its refusal with every reason found."""
    s = uow.session
    reasons = list(item.problems)
    direction = policy.parse_direction(item.get("direction"))
    if direction is None:
        reasons.append(
            f"Cột «Văn bản đến/đi»: «{item.get('direction')}» không hợp lệ (incoming/đến hoặc outgoing/đi)."
        )
    org = _organization(uow, look, item.get("organization_code"))
    if org is None:
        reasons.append(f"Không có tổ chức mã «{item.get('organization_code')}».")
    elif not policy.in_subtree(look.actor, org.path):
        reasons.append(f"Tổ chức {org.code} ngoài phạm vi bạn quản lý.")
        org = None
    year_text = item.get("year")
    year = policy.parse_positive_int(year_text) if year_text else None
    if year_text and (year is None or not 1945 <= year <= 2200):
        reasons.append(f"Cột «Năm»: «{year_text}» không phải một năm.")
        year = None
    number = None
    register: Register | None = None
    if item.get("number") or item.identity is None:
        number = policy.parse_positive_int(item.get("number"))
        if number is None:
            reasons.append(f"Cột «Số»: «{item.get('number')}» không phải số thứ tự dương.")
    dates: dict[str, dt.date | None] = {}
    for key, label in (
        ("issued_date", "Ngày văn bản"),
        ("received_date", "Ngày đến/ban hành"),
        ("due_date", "Hạn xử lý"),
    ):
        text = item.get(key)
        dates[key] = policy.parse_date(text) if text else None
        if text and dates[key] is None:
            reasons.append(f"Cột «{label}»: «{text}» không phải ngày (dd/mm/yyyy hoặc yyyy-mm-dd).")
    issued, received = dates["issued_date"], dates["received_date"]
    if issued and received and received < issued:
        reasons.append("Ngày đến/ban hành trước ngày của văn bản.")
    if issued and issued > uow.now().astimezone(VN_TZ).date():
        reasons.append("Ngày văn bản ở tương lai.")
    known = received or issued
    if year is None and not year_text and known is not None:
        year = known.year
    if org is not None and direction is not None and (item.get("register") or number):
        if not item.get("register"):
            reasons.append("Cột «Sổ văn bản» trống.")
        elif year is None:
            reasons.append("Cần cột «Năm» (hay một ngày) để biết sổ của năm nào.")
        else:
            register = _register(uow, look, org.id, direction, year, item.get("register"))
            if register is None:
                reasons.append(
                    f"Không có sổ «{item.get('register')}» ({direction.label.lower()}) năm {year} "
                    f"của {org.code}."
                )
    state = policy.parse_state(direction, item.get("state")) if direction else None
    if direction is not None and state is None:
        reasons.append(f"Cột «Trạng thái»: «{item.get('state')}» không dùng được cho văn bản nhập.")
    urgency = policy.parse_urgency(item.get("urgency"))
    if urgency is None:
        reasons.append(f"Cột «Độ khẩn»: «{item.get('urgency')}» không có.")
    secrecy = policy.parse_secrecy(item.get("secrecy"))
    if secrecy is None:
        reasons.append(f"Cột «Độ mật»: «{item.get('secrecy')}» không có.")
    subject = item.get("subject")
    if not subject:
        reasons.append("Cột «Trích yếu» trống.")
    doc_type = (item.get("type") or "CV").strip()
    if look.doc_types is None:
        look.doc_types = set(s.scalars(select(DocumentType.code)))
    if doc_type not in look.doc_types:
        upper = doc_type.upper()
        if upper in look.doc_types:
            doc_type = upper
        elif item.identity is not None:  # a package's type we do not know: a công văn
            doc_type = "CV"
        else:
            reasons.append(f"Cột «Loại văn bản»: «{doc_type}» không có trong danh mục.")
    for key, label, limit in (
        ("notation", "Số, ký hiệu", 255),
        ("issuer", "Cơ quan ban hành", 500),
    ):
        if len(item.get(key)) > limit:
            reasons.append(f"Cột «{label}» dài quá {limit} ký tự.")
    handler: User | None = None
    if item.get("handler") and org is not None:
        handler = _user(uow, look, org.id, item.get("handler"))
        if handler is None:
            reasons.append(f"Không có người xử lý «{item.get('handler')}» trong {org.code}.")
    for f in item.files:
        if not f.exists:
            reasons.append(f"Không thấy tệp «{f.name}» trong thư mục.")
    if secrecy not in (None, Secrecy.NONE) and item.files and not uow.config.secret_network:
        reasons.append(
            "Văn bản mật chỉ được nhập dạng thông tin, không tải nội dung lên hệ thống này."
        )
    if reasons or org is None or direction is None or state is None:
        return _refused(item, reasons)
    assert urgency is not None and secrecy is not None
    identity = item.identity or f"register:{register.id if register else ''}:{number}"
    return _Doc(
        item=item,
        identity=identity,
        organization_id=org.id,
        direction=direction,
        register=register,
        number=number if register else None,
        state=state,
        doc_type=doc_type,
        subject=subject,
        notation=item.get("notation") or None,
        issuer=item.get("issuer") or None,
        issued_date=issued,
        received_date=received,
        due_date=dates["due_date"],
        urgency=urgency,
        secrecy=secrecy,
        handler=handler,
    )


def _bounded(cache: dict[Any, Any]) -> None:
    if len(cache) > _CACHE_LIMIT:
        cache.clear()


def _organization(uow: UnitOfWork, look: _Lookups, code: str) -> Organization | None:
    code = code.strip()
    if code not in look.orgs:
        _bounded(look.orgs)
        look.orgs[code] = uow.session.scalars(
            select(Organization).where(
                Organization.code == code if code else Organization.id == look.actor.organization_id
            )
        ).first()
    return look.orgs[code]


def _register(
    uow: UnitOfWork,
    look: _Lookups,
    org_id: uuid.UUID,
    direction: Direction,
    year: int,
    name: str,
) -> Register | None:
    key = (org_id, direction.value, year, " ".join(name.split()).lower())
    if key not in look.registers:
        _bounded(look.registers)
        candidates = uow.session.scalars(
            select(Register).where(
                Register.organization_id == org_id,
                Register.direction == direction.value,
                Register.year == year,
            )
        ).all()
        look.registers[key] = next(
            (r for r in candidates if " ".join(r.name.split()).lower() == key[3]), None
        )
    return look.registers[key]


def _user(uow: UnitOfWork, look: _Lookups, org_id: uuid.UUID, username: str) -> User | None:
    key = (org_id, username.strip().lower())
    if key not in look.users:
        _bounded(look.users)
        look.users[key] = uow.session.scalars(
            select(User).where(User.organization_id == org_id, User.username == key[1])
        ).first()
    return look.users[key]


def _imported(uow: UnitOfWork, docs: Sequence[_Doc]) -> dict[tuple[uuid.UUID, str], DocumentImport]:
    pairs = {(d.organization_id, d.identity) for d in docs}
    if not pairs:
        return {}
    rows = uow.session.scalars(
        select(DocumentImport).where(
            tuple_(DocumentImport.organization_id, DocumentImport.identity).in_(list(pairs))
        )
    )
    return {(r.organization_id, r.identity): r for r in rows}


def _against_database(
    uow: UnitOfWork, checked: Sequence[_Doc | ItemOutcome], emit: Callable[[ItemOutcome], None]
) -> list[_Doc]:
    """Skip what is already imported; refuse a number already in its register, or used twice."""
    docs = [c for c in checked if isinstance(c, _Doc)]
    imported = _imported(uow, docs)
    numbered = [(d.register.id, d.number) for d in docs if d.register is not None and d.number]
    taken: set[tuple[uuid.UUID, int]] = set()
    if numbered:
        taken = {
            (r, n)
            for r, n in uow.session.execute(
                select(Document.register_id, Document.register_number).where(
                    tuple_(Document.register_id, Document.register_number).in_(numbered)
                )
            )
            if r is not None and n is not None
        }
    seen: dict[str, ImportItem] = {}
    out: list[_Doc] = []
    for c in checked:
        if isinstance(c, ItemOutcome):
            emit(c)
            continue
        earlier = imported.get((c.organization_id, c.identity))
        if earlier is not None:
            if earlier.source == c.item.source and earlier.source_row not in (None, c.item.row):
                emit(
                    _refused(
                        c.item,
                        [f"Trùng với dòng {earlier.source_row} (đã nhập): {_taken_message(c)}"],
                        c,
                    )
                )
            else:
                emit(ItemOutcome(c.item, "skipped", ("Đã nhập trước đây.",), None, *_where(c)))
            continue
        if c.identity in seen:
            other = seen[c.identity]
            emit(_refused(c.item, [f"Trùng với dòng {other.row}: {_taken_message(c)}"], c))
            continue
        if c.register is not None and (c.register.id, c.number) in taken:
            emit(_refused(c.item, [_taken_message(c)], c))
            continue
        seen[c.identity] = c.item
        out.append(c)
    return out


def _uploads(files: Sequence[FileSource]) -> list[Upload]:
    return [
        Upload(f.open(), f.name, None, "main" if i == 0 else "attachment")
        for i, f in enumerate(files)
    ]


def _close(uploads: Sequence[Upload]) -> None:
    for u in uploads:
        u.stream.close()


def _store_files(uow: UnitOfWork, doc: _Doc, dry_run: bool) -> str | None:
    """Check every file, then store them (nothing stored when one is refused); the reason of a
    refusal, or None."""
    files = doc.item.files
    if not files:
        return None
    try:
        # Every file but the first is checked before any is stored: the first one's own check
        # happens as it is stored, and a refusal there stores nothing.
        to_check = files if dry_run else files[1:]
        if to_check:
            uploads = _uploads(to_check)
            try:
                check_uploads(uow, uploads)
            finally:
                _close(uploads)
        if dry_run:
            return None
        uploads = _uploads(files)
        try:
            doc.stored = store_uploads(uow, uploads)
        finally:
            _close(uploads)
    except FileRefusedError as exc:
        return f"Tệp bị từ chối: {exc.message}"
    except OSError as exc:
        return f"Không đọc được tệp: {exc.strerror or exc}"
    return None


# ---------------------------------------------------------------------- writing


def _at(day: dt.date | None) -> dt.datetime | None:
    return dt.datetime.combine(day, dt.time(8, 0), tzinfo=VN_TZ) if day else None


def _write(uow: UnitOfWork, actor: Actor, docs: Sequence[_Doc]) -> list[uuid.UUID]:
    """The rows of ``docs``, added to the session in one go (one flush at commit): each
    document, its files, its handler's assignment, its origin, its trail step ``import`` and
    the audit entry of that step (``document_import``, one chain lock per organisation)."""
    s = uow.session
    now = uow.now()
    unit = s.get(Unit, actor.unit_id) if actor.unit_id else None
    audits: dict[uuid.UUID, list[tuple[str, object, dict[str, Any]]]] = {}
    ids: list[uuid.UUID] = []
    to_read: list[tuple[uuid.UUID, list[DocumentFile]]] = []
    for d in docs:
        when = _at(d.received_date) or _at(d.issued_date) or now
        incoming = d.direction is Direction.INCOMING
        doc = Document(
            id=new_id(),
            organization_id=d.organization_id,
            direction=d.direction.value,
            state=d.state,
            register_id=d.register.id if d.register else None,
            register_number=d.number,
            notation=d.notation,
            doc_type=d.doc_type,
            subject=d.subject,
            issuer_name=d.issuer,
            issued_date=d.issued_date,
            received_at=when if incoming else None,
            registered_at=when if d.register else None,
            issued_at=None if incoming else when,
            listed_at=when,
            urgency=d.urgency.value,
            urgency_rank=URGENCY_RANK[d.urgency.value],
            secrecy=d.secrecy.value,
            secrecy_rank=d.secrecy.rank,
            due_date=d.due_date,
            source=SOURCE,
            search_text=search_text(d.notation, d.subject, d.issuer),
            created_by_id=(d.handler.id if d.handler and not incoming else actor.user_id),
            drafting_unit_id=(d.handler.unit_id if d.handler and not incoming else None),
            created_at=now,
            updated_at=now,
        )
        s.add(doc)
        ids.append(doc.id)
        files = [
            DocumentFile(
                document_id=doc.id,
                kind=item.upload.kind,
                version=1,
                name=item.checked.filename,
                size=item.checked.ref.size,
                sha256=item.checked.ref.sha256,
                content_type=item.checked.ref.content_type,
                object_key=item.checked.ref.key,
                created_by_id=actor.user_id,
                created_at=now,
                text_status=TextStatus.NONE.value,
            )
            for item in d.stored
        ]
        s.add_all(files)
        if incoming and d.handler is not None and d.state in _ASSIGNMENT_OF_STATE:
            statistics_changed(uow, d.organization_id)
            done = d.state == IncomingState.DONE.value
            s.add(
                Assignment(
                    document_id=doc.id,
                    role="lead",
                    unit_id=d.handler.unit_id,
                    user_id=d.handler.id,
                    due_date=d.due_date,
                    state=_ASSIGNMENT_OF_STATE[d.state],
                    assigned_by_id=actor.user_id,
                    assigned_at=when,
                    completed_at=when if done else None,
                    finished_on=(d.received_date or d.issued_date) if done else None,
                )
            )
        s.add(
            DocumentImport(
                organization_id=d.organization_id,
                identity=d.identity,
                document_id=doc.id,
                source=d.item.source[:500],
                source_row=d.item.row,
                imported_by_id=actor.user_id,
                imported_at=now,
            )
        )
        details = {
            "register_number": d.number,
            "source": {"file": d.item.source, "row": d.item.row, "identity": d.identity},
        }
        # The first step of the document's trail (seq 1: the document is new), as
        # docflow.documents.trail writes it, and its audit entry below.
        s.add(
            TrailEntry(
                document_id=doc.id,
                seq=1,
                action="import",
                from_state=None,
                to_state=d.state,
                actor_id=actor.user_id,
                actor_name=actor.full_name,
                unit_id=unit.id if unit else None,
                unit_name=unit.name if unit else None,
                details=details,
                at=now,
            )
        )
        audits.setdefault(d.organization_id, []).append(
            (
                "document",
                doc.id,
                {"from": None, "to": d.state, **access.audit_details(doc, details)},
            )
        )
        if files:
            to_read.append((doc.id, files))
    queue_new_files_extraction(uow, to_read, priority=9)
    for org_id in sorted(audits):
        audit.record_many(
            uow, "document_import", actor=actor, organization_id=org_id, objects=audits[org_id]
        )
    return ids


def _move_counters(uow: UnitOfWork, docs: Sequence[_Doc]) -> None:
    """Each register's next number moves past the largest number imported into it (in register
    order, as every writer of a counter locks it, so concurrent imports cannot deadlock)."""
    top: dict[uuid.UUID, int] = {}
    for d in docs:
        if d.register is not None and d.number:
            top[d.register.id] = max(top.get(d.register.id, 0), d.number)
    for register_id in sorted(top):
        uow.session.execute(
            update(Register)
            .where(Register.id == register_id, Register.last_number < top[register_id])
            .values(last_number=top[register_id])
        )
