"""The audit log as evidence: keyed hash chains, reads logged cheaply, signed daily checkpoints.

**Chains.** Each entry's hash covers its fields and the previous entry's hash in the same chain,
so changing, removing or reordering an entry breaks every hash after it. Chains are per
organisation: appends in different organisations never wait for each other. Each organisation
has two: its changes (``<org id>``) and its reads (``<org id>/reads``). Events with no
organisation go to ``system`` and ``system/reads``.

**Changes, off the write path.** Appending a change's entry to its chain inside the
transaction that makes the change would hold the chain head's row lock until that transaction
commits, so every write of one organisation (a registration with a 1 MB upload, a signature)
would wait for the previous one to finish. Instead :func:`record` is one plain ``INSERT`` into
``audit_entries`` with the entry's ``seq``, ``prev_hash`` and ``hash`` left empty (no lock, no
read of another row), committed — or rolled back — with the change itself; two transactions
writing in the same organisation never wait for each other on the audit log.
:func:`chain_pending` then appends the unchained entries to their chains in batches, one head
lock per chain per batch: in the order they became visible (an entry committed before a
chaining run is chained before one committed after it), and by id (UUIDv7: time of writing,
to the millisecond) within a run. The entry is hashed with the key of the process that chains
it (the worker's).

**The window.** Between its commit and the next chaining run (the periodic job every 30 s,
and before the admin's log page, its export, a checkpoint or ``dhtn audit verify``), an entry
is recorded but not yet covered by any hash: someone with write access to the database could
delete or alter it unnoticed in that window, as for reads (below). Once chained, it is covered
like any other; a change rolled back leaves no entry. :func:`verify` reports how many entries are still waiting
(``pending_changes``, ``pending_reads``); the log page and its export show chained entries only,
after chaining what is waiting for that organisation.

**Reads.** Opening a document, downloading or previewing a file, exports, printing, searches
that return secret items, refused attempts and public verifications are logged too. Appending
each read to a chain at once would take the chain head's row lock on every document open and
serialise all readers of an organisation on one row. Instead a read is one plain ``INSERT``
into ``audit_pending_reads`` (no lock, no read of another row) committed with the read, and
:func:`chain_pending` (a periodic job every 30 s, and before the admin's log page, a checkpoint
or a verification) moves pending reads into the organisation's reads chain in batches: one head
lock per batch, not per read. The cost is a window of up to a job period in which a read entry
is recorded but not yet chained; that window is what an attacker with database access could
delete unnoticed. Refusals and reads do not touch the changes chain.

**Anchored.** :func:`write_checkpoints` writes, for each organisation, a small JSON statement
of the head (chain, seq, hash) of each of its chains, with an HMAC under the audit key and a
detached CMS signature by the organisation's seal certificate (with an RFC 3161 timestamp
when a TSA is configured), to the object store under ``audit-checkpoints/<org id>/`` —
outside the database. :func:`verify` recomputes every chain and checks that each stored
checkpoint is authentic and that the entry at its seq still has the hash it recorded, so
removing the last entries, rewriting old ones, or replacing the whole chain is detected even by
someone who also holds the key but not the seal.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import io
import json
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, cast

from sqlalchemy import ColumnElement, Table, delete, func, insert, select, text, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from docflow.actors import Actor, DelegatedRole, require_role
from docflow.db import rows
from docflow.enums import Role
from docflow.errors import ValidationError
from docflow.ids import new_id
from docflow.models import AuditChainHead, AuditEntry, AuditPendingRead, Organization, User
from docflow.pagination import Page, clamp_limit, decode_cursor, encode_cursor
from docflow.uow import UnitOfWork

GENESIS = "0" * 64
SYSTEM_CHAIN = "system"
READS_SUFFIX = "/reads"
CHECKPOINT_PREFIX = "audit-checkpoints/"
CHECKPOINT_FORMAT = "dhtn-audit-checkpoint/1"
UNKEYED, KEYED = 1, 2

# Vietnamese names of the events, for the admin's page and its export (unknown ones show raw).
EVENT_LABELS: dict[str, str] = {
    "document.read": "Mở văn bản",
    "document.trail_read": "Xem quá trình xử lý",
    "document.file_read": "Tải / xem tệp văn bản",
    "document.file_preview": "Xem trước trang tệp",
    "document.slip_printed": "In phiếu giải quyết",
    "documents.searched": "Tìm kiếm có kết quả mật",
    "register.exported": "Xuất sổ văn bản",
    "report.processing_read": "Xem / xuất thống kê xử lý",
    "tasks.exported": "Xuất danh sách nhiệm vụ",
    "task.read": "Mở nhiệm vụ",
    "task.file_read": "Tải tệp nhiệm vụ",
    "access.refused": "Truy cập bị từ chối",
    "verification": "Kiểm tra chữ ký (công khai)",
    "signing_session.created": "Mở phiên ký số",
    "signing_session.completed": "Hoàn tất phiên ký số",
    "audit.exported": "Xuất nhật ký",
    "audit.sealed": "Niêm phong chuỗi bằng khóa",
    "login": "Đăng nhập",
    "login_failed": "Đăng nhập sai",
    "login_locked": "Khóa đăng nhập",
    "logout": "Đăng xuất",
    "logout_everywhere": "Đăng xuất mọi nơi",
    "password_changed": "Đổi mật khẩu",
    "password_reset": "Đặt lại mật khẩu",
    "password_reset_requested": "Đề nghị đặt lại mật khẩu",
    "login_throttled": "Chặn đăng nhập tạm thời",
    "privilege_requested": "Đề nghị nâng quyền",
    "privilege_approved": "Duyệt nâng quyền",
    "privilege_rejected": "Từ chối nâng quyền",
    "user_created": "Tạo tài khoản",
    "directory_imported": "Nhập danh mục từ tệp",
    "account_activated": "Kích hoạt tài khoản",
    "activation_emailed": "Gửi thư kích hoạt tài khoản",
    "user_updated": "Sửa tài khoản",
    "organization_created": "Tạo tổ chức",
    "organization_updated": "Sửa tổ chức",
    "unit_created": "Tạo đơn vị",
    "unit_updated": "Sửa đơn vị",
    "register_created": "Tạo sổ văn bản",
    "delegation_created": "Ủy quyền",
    "delegation_revoked": "Thu hồi ủy quyền",
    "holiday_set": "Đặt ngày nghỉ",
    "holiday_deleted": "Xóa ngày nghỉ",
    "demo_seeded": "Tạo dữ liệu mẫu",
}


# --- hashing ----------------------------------------------------------------------------------


def _body(entry: AuditEntry) -> dict[str, Any]:
    return {
        "chain": entry.chain,
        "seq": entry.seq,
        "at": entry.at.isoformat(timespec="microseconds"),
        "event": entry.event,
        "actor_id": str(entry.actor_id) if entry.actor_id else None,
        "actor_name": entry.actor_name,
        "on_behalf_of_id": str(entry.on_behalf_of_id) if entry.on_behalf_of_id else None,
        "on_behalf_of_name": entry.on_behalf_of_name,
        "organization_id": str(entry.organization_id) if entry.organization_id else None,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "ip": entry.ip,
        "details": entry.details,
        "prev_hash": entry.prev_hash,
    }


def _dumps(body: dict[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_hash(entry: AuditEntry, key: bytes | None = None) -> str:
    """The entry's hash: plain SHA-256 for version 1, HMAC-SHA256 under ``key`` for version 2."""
    if (entry.version or UNKEYED) == UNKEYED:
        return hashlib.sha256(_dumps(_body(entry))).hexdigest()
    if key is None:
        raise ValueError("a keyed audit entry needs the audit key")
    body = _body(entry) | {"version": entry.version}
    return hmac.new(key, _dumps(body), hashlib.sha256).hexdigest()


def key_id(key: bytes) -> str:
    """A short public name of the key (which key made a checkpoint), not the key."""
    return hashlib.sha256(b"dhtn-audit-key-id:" + key).hexdigest()[:16]


def _mac(key: bytes, data: bytes) -> str:
    return hmac.new(key, data, hashlib.sha256).hexdigest()


# --- appending --------------------------------------------------------------------------------


def _lock_head(session: Session, chain: str) -> AuditChainHead:
    dialect = session.get_bind().dialect.name
    values = {"chain": chain, "seq": 0, "hash": GENESIS}
    if dialect == "postgresql":
        session.execute(postgresql.insert(AuditChainHead).values(values).on_conflict_do_nothing())
    else:
        session.execute(sqlite.insert(AuditChainHead).values(values).on_conflict_do_nothing())
    head = session.scalars(
        select(AuditChainHead)
        .where(AuditChainHead.chain == chain)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    return head


def _append(session: Session, head: AuditChainHead, entry: AuditEntry, key: bytes | None) -> None:
    entry.chain = head.chain
    entry.seq = head.seq + 1
    entry.version = KEYED if key is not None else UNKEYED
    entry.prev_hash = head.hash
    entry.hash = entry_hash(entry, key)
    head.seq = entry.seq
    head.hash = entry.hash
    session.add(entry)


def record(
    uow: UnitOfWork,
    event: str,
    *,
    actor: Actor | None = None,
    acting_as: DelegatedRole | None = None,
    organization_id: uuid.UUID | None = None,
    object_type: str | None = None,
    object_id: object = None,
    details: dict[str, Any] | None = None,
    actor_name: str | None = None,
) -> uuid.UUID:
    """Record a change inside the caller's transaction: one plain INSERT of an unchained entry
    (no lock); :func:`chain_pending` appends it to the organisation's chain after the commit.

    The INSERT runs now, on the session's connection (a statement built once), not at the
    next flush as an object of the ORM's unit of work (issue 19: every action records one; a
    flush of such a row alone costs 320–390 µs of CPU, the INSERT 116–147 µs). Nothing refers
    to an entry (no foreign key), so it may be written before the rows it speaks of; a rollback
    takes it back with them. Returns the entry's id."""
    org_id = organization_id or (actor.organization_id if actor else None)
    values = _change_entry(
        uow,
        event,
        actor=actor,
        acting_as=acting_as,
        organization_id=org_id,
        object_type=object_type,
        object_id=object_id,
        details=details or {},
        actor_name=actor_name,
    )
    rows(uow.session, _CHANGE_ENTRY, values)
    entry_id: uuid.UUID = values["id"]
    return entry_id


def record_many(
    uow: UnitOfWork,
    event: str,
    *,
    actor: Actor,
    organization_id: uuid.UUID,
    objects: Sequence[tuple[str, object, dict[str, Any]]],
) -> None:
    """Record one unchained entry per ``(object_type, object_id, details)`` in the
    organisation's changes chain: what :func:`record` does one by one, in one statement
    (bulk imports)."""
    if not objects:
        return
    rows(
        uow.session,
        _CHANGE_ENTRY,
        [
            _change_entry(
                uow,
                event,
                actor=actor,
                organization_id=organization_id,
                object_type=object_type,
                object_id=object_id,
                details=details,
            )
            for object_type, object_id, details in objects
        ],
    )


#: The INSERT of :func:`record` and :func:`record_many` (the columns not given take their
#: defaults: unchained, version 1).
_CHANGE_ENTRY = insert(cast(Table, AuditEntry.__table__))


def _change_entry(
    uow: UnitOfWork,
    event: str,
    *,
    actor: Actor | None,
    organization_id: uuid.UUID | None,
    object_type: str | None,
    object_id: object,
    details: dict[str, Any],
    acting_as: DelegatedRole | None = None,
    actor_name: str | None = None,
) -> dict[str, Any]:
    """The values of one unchained change entry, in the organisation's chain."""
    return {
        "id": new_id(),
        "chain": str(organization_id) if organization_id else SYSTEM_CHAIN,
        "at": uow.now(),
        "event": event,
        "actor_id": actor.user_id if actor else None,
        "actor_name": actor.full_name if actor else actor_name,
        "on_behalf_of_id": acting_as.delegator_id if acting_as else None,
        "on_behalf_of_name": acting_as.delegator_name if acting_as else None,
        "organization_id": organization_id,
        "object_type": object_type,
        "object_id": str(object_id) if object_id is not None else None,
        "ip": uow.context.get("ip"),
        "details": details,
    }


def reads_chain(organization_id: uuid.UUID | None) -> str:
    return f"{organization_id or SYSTEM_CHAIN}{READS_SUFFIX}"


_OBJECT_TYPES = {
    "documents": "document",
    "document_files": "file",
    "tasks": "task",
    "task_files": "file",
    "registers": "register",
}


def record_read(
    uow: UnitOfWork,
    actor: Actor | None,
    event: str,
    obj: Any = None,
    *,
    object_type: str | None = None,
    object_id: object = None,
    organization_id: uuid.UUID | None = None,
    **details: Any,
) -> None:
    """Log a read: one INSERT into the pending reads, committed with the caller's unit of work.

    ``obj`` is the row read (a document, a file, a task, a register): its type and id are taken
    from it, and a document's secrecy is noted. No subject or content is ever copied into the
    log: the organisation's admin reads it and may not be cleared for what was read. Called
    inside the service's ``with uow``; the outermost service's unit commits it.
    """
    if not uow.config.audit_reads:
        return
    if obj is not None:
        object_type = object_type or _OBJECT_TYPES.get(getattr(obj, "__tablename__", ""))
        object_id = getattr(obj, "id", object_id)
        secrecy = getattr(obj, "secrecy", None)
        if isinstance(secrecy, str) and secrecy != "none":
            details.setdefault("secrecy", secrecy)
    org_id = organization_id or (actor.organization_id if actor else None)
    _add_pending(
        uow,
        chain=reads_chain(org_id),
        at=uow.now(),
        event=event,
        actor_id=actor.user_id if actor else None,
        actor_name=actor.full_name if actor else None,
        organization_id=org_id,
        object_type=object_type,
        object_id=str(object_id) if object_id is not None else None,
        ip=uow.context.get("ip"),
        details=_jsonable(details),
    )


#: The pending read's INSERT, built once: a plain statement on the session's connection, not an
#: object for the ORM to flush (issue 19: every document read and search logs one; see
#: :func:`record` for the two costs). Nothing refers to the row, and the chainer reads it back by
#: id.
_PENDING_READ = insert(cast(Table, AuditPendingRead.__table__))


def _add_pending(uow: UnitOfWork, **values: Any) -> None:
    """Write the row with the reading service's transaction: read services do not commit, so
    the outermost one's unit is committed here; inside a writing service the row goes with that
    service's own commit, and inside a read request's unit (``read_scope``) with that unit's
    commit at the end of the request."""
    if uow.depth == 0:
        with uow:
            _relaxed_commit(uow)
            rows(uow.session, _PENDING_READ, values)
            uow.commit()
        return
    if uow.depth == 1 or uow.read_scope:
        _relaxed_commit(uow)
    rows(uow.session, _PENDING_READ, values)
    uow.commit()  # a no-op when nested: the outermost service commits


def _relaxed_commit(uow: UnitOfWork) -> None:
    """A read's transaction writes nothing but its log row: on PostgreSQL let its commit return
    before the WAL reaches the disk (``synchronous_commit = off``, this transaction only). A
    crash of the database server can then lose the reads of the last fraction of a second
    (wal_writer_delay, 200 ms by default), never corrupt anything; a read no longer waits for a
    disk flush it did not need before it was logged."""
    if uow.session.get_bind().dialect.name == "postgresql":
        uow.session.execute(text("SET LOCAL synchronous_commit = off"))


def _jsonable(details: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(details, default=str, ensure_ascii=False))  # type: ignore[no-any-return]


def record_search(uow: UnitOfWork, actor: Actor, text: str | None, found: Iterable[Any]) -> None:
    """Log a search only when it returned items above "none" secrecy (by someone cleared)."""
    secret = [d for d in found if getattr(d, "secrecy_rank", 0) > 0]
    if not secret or not uow.config.audit_reads:
        return
    record_read(
        uow,
        actor,
        "documents.searched",
        object_type="document",
        # The words that found secret documents are words of their subjects: the admin who reads
        # the log may hold no clearance, so only a keyed hash (equal searches stay recognisable).
        q_hash=_mac(uow.config.audit_key or b"dhtn-unkeyed", b"q:" + text.encode())[:32]
        if text
        else None,
        secret_ids=[str(d.id) for d in secret[:50]],
        secret_count=len(secret),
    )


def record_refusal(
    uow: UnitOfWork,
    actor: Actor,
    *,
    status: int,
    code: str,
    object_type: str | None,
    object_id: str | None,
    method: str,
    path: str,
) -> None:
    """Log a refused attempt (404 on something not visible, 403 not permitted) with the object
    asked for. Runs in its own transaction: the refused service's was rolled back."""
    record_read(
        uow,
        actor,
        "access.refused",
        object_type=object_type,
        object_id=object_id,
        status=status,
        code=code,
        method=method,
        path=path[:300],
    )


def client_hash(uow: UnitOfWork, address: str | None) -> str | None:
    """A keyed hash of a client address: the same client is recognisable, its address is not."""
    if not address:
        return None
    key = uow.config.audit_key or b"dhtn-unkeyed"
    return _mac(key, b"client:" + address.encode())[:32]


def record_verification(uow: UnitOfWork, data: bytes, summary: str) -> None:
    """Log a public verification: the client's address hash, the file's SHA-256, the result."""
    if not uow.config.audit_reads:
        return
    client = client_hash(uow, uow.context.get("ip"))
    _add_pending(
        uow,
        chain=reads_chain(None),
        at=uow.now(),
        event="verification",
        actor_name="công khai",
        object_type="file",
        object_id=hashlib.sha256(data).hexdigest(),
        details={"client": client, "summary": summary, "size": len(data)},
    )


def chain_pending(
    uow: UnitOfWork, *, organization_id: uuid.UUID | None = None, limit: int = 5000
) -> int:
    """Append what is waiting to its chains, in one transaction: unchained change entries
    (numbered and hashed in place) and pending reads (moved into the reads chains), oldest
    first, at most ``limit`` of each. Returns how many were chained.

    Rows are claimed with ``SKIP LOCKED`` so two chainers never chain the same one; chain heads
    are locked in name order so two chainers cannot deadlock. Writers take no lock the chainer
    takes: they only insert.
    """
    key = uow.config.audit_key
    with uow:
        session = uow.session
        skip_locked = session.get_bind().dialect.name == "postgresql"
        changes = select(AuditEntry).where(AuditEntry.seq.is_(None))
        reads = select(AuditPendingRead)
        if organization_id is not None:
            changes = changes.where(AuditEntry.organization_id == organization_id)
            reads = reads.where(AuditPendingRead.organization_id == organization_id)
        changes = changes.order_by(AuditEntry.id).limit(limit)
        reads = reads.order_by(AuditPendingRead.id).limit(limit)
        if skip_locked:
            changes = changes.with_for_update(skip_locked=True)
            reads = reads.with_for_update(skip_locked=True)
        unchained = list(session.scalars(changes))
        rows = list(session.scalars(reads))
        if not rows and not unchained:
            return 0
        by_chain: dict[str, list[AuditEntry]] = {}
        for entry in unchained:
            by_chain.setdefault(entry.chain, []).append(entry)
        for row in rows:
            by_chain.setdefault(row.chain, []).append(
                AuditEntry(
                    at=row.at,
                    event=row.event,
                    actor_id=row.actor_id,
                    actor_name=row.actor_name,
                    on_behalf_of_id=row.on_behalf_of_id,
                    on_behalf_of_name=row.on_behalf_of_name,
                    organization_id=row.organization_id,
                    object_type=row.object_type,
                    object_id=row.object_id,
                    ip=row.ip,
                    details=row.details,
                )
            )
        for chain in sorted(by_chain):
            head = _lock_head(session, chain)
            for entry in by_chain[chain]:
                _append(session, head, entry, key)
        if rows:
            session.execute(
                delete(AuditPendingRead).where(AuditPendingRead.id.in_([r.id for r in rows]))
            )
        uow.commit()
        return len(rows) + len(unchained)


def chain_all_pending(uow: UnitOfWork, *, batch: int = 5000) -> int:
    """Chain every unchained change and pending read (the periodic job)."""
    total = 0
    while True:
        done = chain_pending(uow, limit=batch)
        total += done
        if done < batch:  # neither kind filled a batch (or both are done)
            return total


# --- reading the log (the organisation's admin) ----------------------------------------------


@dataclass(frozen=True)
class AuditQuery:
    """Filters of the admin's log page and ``GET /api/v1/audit``."""

    actor_id: uuid.UUID | None = None
    object_id: str | None = None
    event: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    limit: int | None = None
    cursor: str | None = None


def _conditions(actor: Actor, q: AuditQuery) -> list[ColumnElement[bool]]:
    from docflow.workdays import start_of_day

    where: list[ColumnElement[bool]] = [AuditEntry.organization_id == actor.organization_id]
    if q.actor_id is not None:
        where.append(AuditEntry.actor_id == q.actor_id)
    if q.object_id:
        where.append(AuditEntry.object_id == q.object_id.strip())
    if q.event:
        where.append(AuditEntry.event == q.event)
    if q.date_from is not None:
        where.append(AuditEntry.at >= start_of_day(q.date_from))
    if q.date_to is not None:
        where.append(AuditEntry.at < start_of_day(q.date_to, later=1))
    if q.date_from and q.date_to and q.date_from > q.date_to:
        raise ValidationError.field("to", "Ngày cuối phải sau ngày đầu.")
    return where


def list_entries(uow: UnitOfWork, actor: Actor, q: AuditQuery) -> Page[AuditEntry]:
    """The admin's own organisation's log (both chains), newest first, keyset-paginated."""
    require_role(actor, Role.ADMIN)
    limit = clamp_limit(q.limit)
    stmt = select(AuditEntry).where(*_conditions(actor, q), AuditEntry.seq.is_not(None))
    after = decode_cursor(q.cursor)
    if after:
        try:
            key = (dt.datetime.fromisoformat(after[0]), uuid.UUID(after[1]))
        except (ValueError, IndexError) as exc:
            raise ValidationError.field("cursor", "Con trỏ phân trang không hợp lệ.") from exc
        stmt = stmt.where(tuple_(AuditEntry.at, AuditEntry.id) < key)
    stmt = stmt.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit + 1)
    # Changes and reads logged in the last seconds are shown too: chain this organisation's
    # waiting ones first (what arrives after that shows on the next page load).
    chain_pending(uow, organization_id=actor.organization_id)
    with uow:
        rows = list(uow.session.scalars(stmt))
    more = len(rows) > limit
    rows = rows[:limit]
    cursor = encode_cursor([rows[-1].at.isoformat(), rows[-1].id]) if more else None
    return Page(rows, cursor)


def people(uow: UnitOfWork, actor: Actor) -> list[tuple[uuid.UUID, str]]:
    """The organisation's people, for the page's person filter."""
    require_role(actor, Role.ADMIN)
    with uow:
        return [
            (u.id, u.full_name)
            for u in uow.session.scalars(
                select(User)
                .where(User.organization_id == actor.organization_id)
                .order_by(User.full_name)
            )
        ]


EXPORT_LIMIT = 20000
EXPORT_COLUMNS = [
    "Thời gian",
    "Sự kiện",
    "Mã sự kiện",
    "Người thực hiện",
    "Thay mặt",
    "Đối tượng",
    "Mã đối tượng",
    "Địa chỉ IP",
    "Chi tiết",
    "Chuỗi",
    "Số thứ tự",
    "Mã băm",
]


def export_xlsx(uow: UnitOfWork, actor: Actor, q: AuditQuery) -> bytes:
    """The filtered log as XLSX (at most EXPORT_LIMIT rows); every cell is written as text, so
    nothing a person typed can become a formula. The export is itself logged."""
    # the one cell writer of every export (text is text), and its streamed workbook
    from docflow.spreadsheets import row, streamed_workbook
    from docflow.workdays import local_time

    with streamed_workbook() as wb:
        ws = wb.create_sheet(title="Nhật ký")

        def text_row(values: Sequence[str]) -> list[Any]:
            return row(ws, values)

        ws.append(text_row(EXPORT_COLUMNS))
        written, cursor = 0, None
        while written < EXPORT_LIMIT:
            page = list_entries(uow, actor, AuditQuery(**(_replace(q, limit=200, cursor=cursor))))
            for e in page.items:
                t = local_time(e.at)
                ws.append(
                    text_row(
                        [
                            f"{t:%Y-%m-%d %H:%M:%S}",
                            EVENT_LABELS.get(e.event, e.event),
                            e.event,
                            e.actor_name or "",
                            e.on_behalf_of_name or "",
                            e.object_type or "",
                            e.object_id or "",
                            e.ip or "",
                            json.dumps(e.details, ensure_ascii=False, sort_keys=True),
                            e.chain,
                            str(e.seq) if e.seq is not None else "",
                            e.hash or "",
                        ]
                    )
                )
                written += 1
            cursor = page.next_cursor
            if cursor is None:
                break
        out = io.BytesIO()
        wb.save(out)
    record_read(uow, actor, "audit.exported", object_type="audit", rows=written)
    return out.getvalue()


def _replace(q: AuditQuery, **changes: Any) -> dict[str, Any]:
    return {**q.__dict__, **changes}


# --- checkpoints ------------------------------------------------------------------------------


class CheckpointStore(Protocol):
    """Where checkpoints live (outside the database): small files under a name."""

    def write(self, name: str, data: bytes) -> None: ...

    def read(self, name: str) -> bytes | None: ...

    def names(self, prefix: str) -> Iterator[str]: ...


class BackendCheckpoints:
    """Checkpoints as named files in the object store's back-end (S3 or the file system),
    under :data:`CHECKPOINT_PREFIX`, beside (never among) the content-addressed objects, so the
    orphan sweeper does not see them."""

    def __init__(self, store: Any) -> None:
        self.backend = store.backend

    def write(self, name: str, data: bytes) -> None:
        self.backend.write_small(name, data)

    def read(self, name: str) -> bytes | None:
        try:
            with self.backend.open_range(name) as blob:
                return bytes(blob.read())
        except Exception as exc:
            if type(exc).__name__ == "ObjectNotFoundError":
                return None
            raise

    def names(self, prefix: str) -> Iterator[str]:
        for blob in self.backend.list(prefix):
            yield str(blob.name)


def _chain_org(chain: str) -> str:
    return chain.removesuffix(READS_SUFFIX)


def seal_unkeyed_chains(uow: UnitOfWork) -> int:
    """Append a keyed ``audit.sealed`` entry to every chain whose head is still unkeyed, so
    its older plain-hash entries are covered by the key from now on."""
    key = uow.config.audit_key
    if key is None:
        return 0
    with uow:
        session = uow.session
        tails = session.execute(
            select(AuditChainHead.chain, AuditEntry.version).join(
                AuditEntry,
                (AuditEntry.chain == AuditChainHead.chain) & (AuditEntry.seq == AuditChainHead.seq),
            )
        ).all()
        sealed = 0
        for chain, version in sorted(tails):
            if version != UNKEYED:
                continue
            head = _lock_head(session, chain)
            org = _chain_org(chain)
            entry = AuditEntry(
                at=uow.now(),
                event="audit.sealed",
                actor_name="hệ thống",
                organization_id=None if org == SYSTEM_CHAIN else uuid.UUID(org),
                details={"key_id": key_id(key), "sealed_seq": head.seq},
            )
            _append(session, head, entry, key)
            sealed += 1
        uow.commit()
        return sealed


def write_checkpoints(uow: UnitOfWork, checkpoints: CheckpointStore) -> list[str]:
    """Chain pending reads, seal unkeyed chains, then write one signed checkpoint per
    organisation (and one for the system chains). Returns the names written."""
    chain_all_pending(uow)
    seal_unkeyed_chains(uow)
    key = uow.config.audit_key
    with uow:
        heads = list(uow.session.scalars(select(AuditChainHead).order_by(AuditChainHead.chain)))
        codes = {str(o.id): o.code for o in uow.session.scalars(select(Organization))}
        now = uow.now()
    groups: dict[str, list[AuditChainHead]] = {}
    for head in heads:
        if head.seq > 0:
            groups.setdefault(_chain_org(head.chain), []).append(head)
    written = []
    stamp = now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H%M%S.%fZ")
    for org, chain_heads in sorted(groups.items()):
        body: dict[str, Any] = {
            "format": CHECKPOINT_FORMAT,
            "organization_id": None if org == SYSTEM_CHAIN else org,
            "organization_code": codes.get(org),
            "at": now.isoformat(),
            "key_id": key_id(key) if key else None,
            "chains": [{"chain": h.chain, "seq": h.seq, "hash": h.hash} for h in chain_heads],
        }
        if key is not None:
            body["mac"] = _mac(key, _dumps(body))
        data = json.dumps(body, ensure_ascii=False, indent=1, sort_keys=True).encode()
        name = f"{CHECKPOINT_PREFIX}{org}/{stamp}.json"
        signature = _seal(uow, codes.get(org), data)
        checkpoints.write(name, data)
        if signature is not None:
            checkpoints.write(name + ".p7s", signature)
        written.append(name)
    return written


def _seal(uow: UnitOfWork, org_code: str | None, data: bytes) -> bytes | None:
    """The organisation's seal over ``data`` (detached CMS, timestamped when a TSA is
    configured), or None when the server holds no seal key for it."""
    if org_code is None or uow.signing is None:
        return None
    from docflow.documents.ports import SignerUnavailableError
    from signing import SigningError
    from signing.cms import sign_detached

    try:
        signer = uow.signing.organization_signer(org_code)
    except SignerUnavailableError:
        return None
    options = uow.signing.options()
    try:
        timestamper = options.require_timestamper()
    except SigningError:
        timestamper = None
    return sign_detached(data, signer, timestamper=timestamper)


# --- verifying --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainProblem:
    """One break in a chain: where, and what is wrong there."""

    chain: str
    seq: int
    problem: str


@dataclass(frozen=True)
class AuditReport:
    """Result of :func:`verify`: entries and chains checked, checkpoints checked (and how many
    of them carry a seal signature), problems found."""

    entries: int
    chains: int
    problems: list[ChainProblem] = field(default_factory=list)
    checkpoints: int = 0
    signed_checkpoints: int = 0
    pending_reads: int = 0
    pending_changes: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(
    session: Session,
    *,
    key: bytes | None = None,
    checkpoints: CheckpointStore | None = None,
    trust: Any = None,
    batch: int = 5000,
) -> AuditReport:
    """Recompute every chain; report gaps, broken links, altered entries, stale heads, plain
    entries where keyed ones are due, and every stored checkpoint that is not authentic or no
    longer matches the database."""
    problems: list[ChainProblem] = []
    heads = {h.chain: h for h in session.scalars(select(AuditChainHead))}
    count = 0
    for chain in sorted(heads):
        prev_hash, prev_seq, last_version = GENESIS, 0, 0
        keyed_seen = False
        while True:
            rows = session.scalars(
                select(AuditEntry)
                .where(AuditEntry.chain == chain, AuditEntry.seq > prev_seq)
                .order_by(AuditEntry.seq)
                .limit(batch)
            ).all()
            if not rows:
                break
            for entry in rows:
                count += 1
                problems.extend(_check_entry(entry, prev_hash, prev_seq, key, keyed_seen))
                keyed_seen = keyed_seen or entry.version != UNKEYED
                prev_hash, prev_seq = entry.hash or "", entry.seq or 0
                last_version = entry.version
        head = heads[chain]
        if head.seq != prev_seq or head.hash != prev_hash:
            problems.append(ChainProblem(chain, head.seq, "head does not match last entry"))
        if key is not None and last_version == UNKEYED:
            problems.append(
                ChainProblem(
                    chain, prev_seq, "chain ends in unkeyed entries (not sealed by the key)"
                )
            )
    orphan_chains = session.scalars(
        select(AuditEntry.chain)
        .where(AuditEntry.chain.not_in(list(heads)), AuditEntry.seq.is_not(None))
        .distinct()
    ).all()
    for chain in orphan_chains:
        problems.append(ChainProblem(chain, 0, "entries without a chain head"))
    checked = signed = 0
    if checkpoints is not None:
        checked, signed = _verify_checkpoints(session, checkpoints, key, trust, problems)
    pending = session.scalar(select(func.count()).select_from(AuditPendingRead)) or 0
    unchained = (
        session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.seq.is_(None)))
        or 0
    )
    return AuditReport(
        entries=count,
        chains=len(heads),
        problems=problems,
        checkpoints=checked,
        signed_checkpoints=signed,
        pending_reads=pending,
        pending_changes=unchained,
    )


def _check_entry(
    entry: AuditEntry, prev_hash: str, prev_seq: int, key: bytes | None, keyed_seen: bool
) -> list[ChainProblem]:
    out = []
    chain = entry.chain
    seq = entry.seq or 0  # the reader asks for seq > prev_seq: never an unchained entry
    if seq != prev_seq + 1:
        out.append(ChainProblem(chain, seq, f"missing seq {prev_seq + 1}"))
    if entry.prev_hash != prev_hash:
        out.append(ChainProblem(chain, seq, "broken link to previous"))
    if entry.version == UNKEYED:
        if keyed_seen:
            out.append(ChainProblem(chain, seq, "unkeyed entry after keyed ones"))
        if entry_hash(entry) != entry.hash:
            out.append(ChainProblem(chain, seq, "entry altered"))
    elif entry.version == KEYED:
        if key is None:
            out.append(ChainProblem(chain, seq, "keyed entry: no audit key to check it"))
        elif not hmac.compare_digest(entry_hash(entry, key), entry.hash or ""):
            out.append(ChainProblem(chain, seq, "entry altered"))
    else:
        out.append(ChainProblem(chain, seq, f"unknown entry version {entry.version}"))
    return out


def _verify_checkpoints(
    session: Session,
    store: CheckpointStore,
    key: bytes | None,
    trust: Any,
    problems: list[ChainProblem],
) -> tuple[int, int]:
    from signing.cms import verify_detached

    checked = signed = 0
    for name in sorted(store.names(CHECKPOINT_PREFIX)):
        if not name.endswith(".json"):
            continue
        checked += 1
        data = store.read(name) or b""
        where = name.removeprefix(CHECKPOINT_PREFIX)
        try:
            body = json.loads(data)
            chains = [(str(c["chain"]), int(c["seq"]), str(c["hash"])) for c in body["chains"]]
        except (ValueError, KeyError, TypeError):
            problems.append(ChainProblem(where, 0, "checkpoint unreadable"))
            continue
        mac = body.pop("mac", None)
        if key is not None and body.get("key_id") == key_id(key):
            if not isinstance(mac, str) or not hmac.compare_digest(mac, _mac(key, _dumps(body))):
                problems.append(ChainProblem(where, 0, "checkpoint MAC does not verify"))
        elif key is not None:
            problems.append(ChainProblem(where, 0, "checkpoint made with another audit key"))
        sig = store.read(name + ".p7s")
        if sig is not None:
            signed += 1
            result = verify_detached(data, sig, trust)
            if not (result.intact and result.valid):
                problems.append(ChainProblem(where, 0, "checkpoint signature invalid"))
            elif trust is not None and not result.trusted:
                problems.append(ChainProblem(where, 0, "checkpoint signature not trusted"))
        for chain, seq, recorded in chains:
            stored = session.scalars(
                select(AuditEntry.hash).where(AuditEntry.chain == chain, AuditEntry.seq == seq)
            ).one_or_none()
            if stored is None:
                problems.append(ChainProblem(chain, seq, f"entry of checkpoint {where} is missing"))
            elif stored != recorded:
                problems.append(ChainProblem(chain, seq, f"entry differs from checkpoint {where}"))
    return checked, signed
