"""Use cases of dossiers: open, file (one, a task, many), take out, and the moves of API.md §7
(close, reopen, transfer, accept, return).

Each is one transaction. The refusal order is the API's: not visible (404) → not permitted
(403) → not in this state (409) → parameters invalid (422); a refusal raises before anything
is written, so bad input changes nothing.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from docflow import audit, engine
from docflow.actors import Actor
from docflow.documents import access
from docflow.dossiers import policy, toc
from docflow.dossiers.commands import DossierActionCommand, FileInto, OpenDossier
from docflow.dossiers.queries import (
    DossierView,
    build_view,
    ensure_visible,
    ensure_whole_record,
    facts,
    load_dossier,
)
from docflow.dossiers.states import DossierAction, DossierState, next_state
from docflow.errors import (
    ConflictError,
    DomainError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from docflow.models import (
    Document,
    Dossier,
    DossierEvent,
    DossierItem,
    FilePlan,
    FilePlanItem,
    Task,
    Unit,
)
from docflow.tasks import can_view as task_visible
from docflow.uow import UnitOfWork
from docflow.uploads import store_bytes
from docflow.workdays import local_date


class DossierFixityError(ConflictError):
    """A file of a transferred dossier no longer matches its recorded checksum (or is
    missing): the archive cannot accept it."""

    code = "fixity_failed"
    message = "Kiểm tra toàn vẹn không đạt: có tệp bị thiếu hoặc sai mã băm."


def _event(
    uow: UnitOfWork,
    d: Dossier,
    action: DossierAction,
    actor: Actor,
    *,
    from_state: str | None,
    comment: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """One step of the dossier's trail and its audit entry (the caller holds the row lock)."""
    d.event_seq += 1
    uow.session.add(
        DossierEvent(
            dossier_id=d.id,
            seq=d.event_seq,
            at=uow.now(),
            action=action.value,
            from_state=from_state,
            to_state=d.state,
            actor_id=actor.user_id,
            actor_name=actor.full_name,
            comment=comment or None,
            details=details or {},
        )
    )
    # The audit log (read by admins whatever their clearance) gets no free text of a secret
    # dossier.
    plain = d.secrecy_rank == 0
    audit.record(
        uow,
        f"dossier_{action.value}",
        actor=actor,
        organization_id=d.organization_id,
        object_type="dossier",
        object_id=d.id,
        details={
            "seq": d.event_seq,
            "from": from_state,
            "to": d.state,
            **({"comment": comment} if comment and plain else {}),
            **(details or {}),
        },
    )


def _forbidden(action: DossierAction) -> PermissionDeniedError:
    return PermissionDeniedError(
        f"Bạn không có quyền «{action.label.lower()}» với hồ sơ này.",
        code="dossier_action_forbidden",
        details={"action": action.value},
    )


def _decision(actor: Actor, d: Dossier, action: DossierAction) -> engine.Decision:
    """The policy's answer for ``action`` on ``d`` (the actor's own roles: dossier powers are
    not delegated)."""
    return engine.ALLOWED if policy.may(actor, facts(d), action) else engine.REFUSED


def open_dossier(uow: UnitOfWork, actor: Actor, cmd: OpenDossier) -> DossierView:
    """Mở hồ sơ: from the year's file plan, or unplanned (then added to the plan, if there is
    one, as a change waiting for the head's approval)."""
    with uow:
        s = uow.session
        if cmd.organization_id != actor.organization_id:
            # Another organisation: as if it did not exist.
            raise NotFoundError("Không tìm thấy cơ quan.", code="organization_not_found")
        if not policy.may_open(actor, cmd.organization_id, cmd.unit_id):
            raise PermissionDeniedError(
                "Bạn không có quyền mở hồ sơ cho đơn vị này.", code="dossier_open_forbidden"
            )
        item: FilePlanItem | None = None
        if cmd.plan_item_id is not None:
            item = s.get(FilePlanItem, cmd.plan_item_id)
            plan = s.get(FilePlan, item.plan_id) if item else None
            if item is None or plan is None or plan.organization_id != actor.organization_id:
                raise ValidationError.field(
                    "plan_item_id", "Không tìm thấy hồ sơ này trong danh mục hồ sơ."
                )
            if plan.year != cmd.year:
                raise ValidationError.field(
                    "plan_item_id", "Danh mục hồ sơ được chọn không thuộc năm này."
                )
            if not item.approved:
                # Added after the plan was approved, it waits for the head: opening from it
                # would make the dossier "planned" without the head's approval.
                raise ConflictError(
                    "Hồ sơ này trong danh mục đang chờ lãnh đạo phê duyệt. Mở hồ sơ ngoài danh "
                    "mục (cùng số, ký hiệu) hoặc chờ phê duyệt.",
                    code="plan_item_not_approved",
                )
            taken = s.scalar(select(Dossier.id).where(Dossier.plan_item_id == item.id).limit(1))
            if taken is not None:
                raise ConflictError(
                    "Hồ sơ này trong danh mục đã được mở.",
                    code="plan_item_taken",
                    details={"dossier_id": str(taken)},
                )
        code = cmd.code or (item.code if item else None)
        title = cmd.title or (item.title if item else None)
        assert code is not None and title is not None
        if item is None:
            retention = cmd.retention_years
        else:
            # The plan the head approved says how long it is kept (DOMAIN.md §10): another
            # period is a change of the plan, for the head, not of one dossier.
            retention = item.retention_years
            if (
                "retention_years" in cmd.model_fields_set
                and cmd.retention_years != item.retention_years
            ):
                planned = (
                    "vĩnh viễn" if item.retention_years is None else f"{item.retention_years} năm"
                )
                raise ValidationError.field(
                    "retention_years",
                    f"Danh mục hồ sơ đã duyệt thời hạn bảo quản {planned}; muốn đổi, hãy sửa "
                    "danh mục và chờ lãnh đạo phê duyệt.",
                )
        unit_id = cmd.unit_id or (item.unit_id if item else None) or actor.unit_id
        if unit_id is not None:
            unit = s.get(Unit, unit_id)
            if unit is None or unit.organization_id != actor.organization_id:
                raise ValidationError.field("unit_id", "Đơn vị không thuộc cơ quan của bạn.")
            if not policy.may_open(actor, cmd.organization_id, unit_id):
                raise PermissionDeniedError(
                    "Bạn không có quyền mở hồ sơ cho đơn vị này.", code="dossier_open_forbidden"
                )
        if cmd.secrecy.rank > actor.clearance.rank:
            raise ValidationError.field(
                "secrecy", "Không mở được hồ sơ có độ mật cao hơn mức bạn được tiếp cận."
            )
        duplicate = s.scalar(
            select(Dossier.id).where(
                Dossier.organization_id == actor.organization_id,
                Dossier.year == cmd.year,
                Dossier.code == code,
            )
        )
        if duplicate is not None:
            raise ConflictError(
                "Đã có hồ sơ cùng số và ký hiệu trong năm này.",
                code="dossier_code_taken",
                details={"fields": {"code": "Trùng số và ký hiệu hồ sơ."}},
            )
        now = uow.now()
        d = Dossier(
            organization_id=actor.organization_id,
            year=cmd.year,
            code=code,
            title=title,
            unit_id=unit_id,
            # The person the plan names keeps it (người lập hồ sơ), else who opens it.
            keeper_id=(item.keeper_id if item else None) or actor.user_id,
            retention_years=retention,
            secrecy=cmd.secrecy.value,
            secrecy_rank=cmd.secrecy.rank,
            plan_item_id=item.id if item else None,
            note=cmd.note,
            state=DossierState.OPEN.value,
            created_at=now,
            updated_at=now,
        )
        s.add(d)
        s.flush()
        if item is None:
            _add_unplanned_to_plan(uow, actor, d)
        _event(
            uow,
            d,
            DossierAction.OPEN,
            actor,
            from_state=None,
            details={"planned": item is not None, "code": code},
        )
        s.flush()
        s.refresh(d)
        view = build_view(uow, actor, d)
        uow.commit()
        return view


def _add_unplanned_to_plan(uow: UnitOfWork, actor: Actor, d: Dossier) -> None:
    """An unplanned dossier joins the year's plan (when there is one) under a heading of its
    unit (or «Hồ sơ phát sinh»), flagged for the head's approval. A secret one does not: the
    plan is read by everyone who keeps dossiers, whatever their clearance."""
    s = uow.session
    if d.secrecy_rank > 0:
        return
    plan = s.scalars(
        select(FilePlan).where(
            FilePlan.organization_id == d.organization_id, FilePlan.year == d.year
        )
    ).one_or_none()
    if plan is None:
        return
    if s.scalar(
        select(FilePlanItem.id).where(FilePlanItem.plan_id == plan.id, FilePlanItem.code == d.code)
    ):
        return
    heading = next((h for h in plan.headings if h.unit_id and h.unit_id == d.unit_id), None)
    if heading is None:
        heading = next((h for h in plan.headings if h.code == "PS"), None)
    if heading is None:
        from docflow.models import FilePlanHeading

        heading = FilePlanHeading(
            plan_id=plan.id, position=len(plan.headings), code="PS", title="Hồ sơ phát sinh"
        )
        s.add(heading)
        s.flush()
    position = s.scalar(
        select(func.coalesce(func.max(FilePlanItem.position), -1) + 1).where(
            FilePlanItem.heading_id == heading.id
        )
    )
    item = FilePlanItem(
        plan_id=plan.id,
        heading_id=heading.id,
        position=position or 0,
        code=d.code,
        title=d.title,
        unit_id=d.unit_id,
        keeper_id=d.keeper_id,
        retention_years=d.retention_years,
        note="Hồ sơ phát sinh ngoài danh mục",
        approved=plan.state != "approved",
    )
    s.add(item)
    s.flush()
    audit.record(
        uow,
        "file_plan_item_added",
        actor=actor,
        organization_id=plan.organization_id,
        object_type="file_plan",
        object_id=plan.id,
        details={"code": d.code, "unplanned": True},
    )


@dataclass(frozen=True)
class FiledResult:
    document_id: uuid.UUID
    ok: bool
    error: DomainError | None = None


def _check_document(uow: UnitOfWork, actor: Actor, d: Dossier, document_id: uuid.UUID) -> Document:
    """The document may go into ``d``: the filer sees it, it is not above the dossier's
    secrecy, it is not in the dossier yet (422, 422, 409)."""
    s = uow.session
    doc = access.find_visible(s, actor, document_id)
    if doc is None:
        # Invisible reads exactly like missing.
        raise ValidationError.field(
            "document_id", "Không tìm thấy văn bản.", code="document_not_found"
        )
    if doc.secrecy_rank > d.secrecy_rank:
        raise ValidationError.field(
            "document_id",
            "Văn bản có độ mật cao hơn hồ sơ: hãy đưa vào một hồ sơ mật tương ứng.",
            code="secrecy_above_dossier",
        )
    already = s.scalar(
        select(DossierItem.id).where(
            DossierItem.dossier_id == d.id, DossierItem.document_id == doc.id
        )
    )
    if already is not None:
        raise ConflictError("Văn bản đã có trong hồ sơ này.", code="already_filed")
    return doc


def _next_position(uow: UnitOfWork, d: Dossier) -> int:
    return (
        int(
            uow.session.scalar(
                select(func.coalesce(func.max(DossierItem.position), 0)).where(
                    DossierItem.dossier_id == d.id
                )
            )
            or 0
        )
        + 1
    )


def _locked_for(
    uow: UnitOfWork, actor: Actor, dossier_id: uuid.UUID, action: DossierAction
) -> Dossier:
    """Load and lock, then 404 → 403 → 409 (the action engine's order)."""
    s = uow.session
    d = ensure_visible(actor, load_dossier(s, dossier_id, lock=True))
    engine.check(
        _decision(actor, d, action),
        DossierState(d.state),
        lambda state: next_state(state, action),
        forbidden=lambda: _forbidden(action),
    )
    return d


def file_into(
    uow: UnitOfWork, actor: Actor, dossier_id: uuid.UUID, cmd: FileInto
) -> tuple[DossierView, list[FiledResult]]:
    """Đưa vào hồ sơ: one document, one task, or many documents (each decided separately:
    the results say which went in and why the others did not)."""
    with uow:
        s = uow.session
        d = _locked_for(uow, actor, dossier_id, DossierAction.FILE)
        results: list[FiledResult] = []
        position = _next_position(uow, d)
        now = uow.now()
        if cmd.task_id is not None:
            task = s.get(Task, cmd.task_id)
            if task is None or not task_visible(actor, task):
                raise ValidationError.field(
                    "task_id", "Không tìm thấy nhiệm vụ.", code="task_not_found"
                )
            if task.document_id is not None:
                source = s.get(Document, task.document_id)
                if source is not None and source.secrecy_rank > d.secrecy_rank:
                    raise ValidationError.field(
                        "task_id",
                        "Nhiệm vụ xuất phát từ văn bản có độ mật cao hơn hồ sơ.",
                        code="secrecy_above_dossier",
                    )
            if s.scalar(
                select(DossierItem.id).where(
                    DossierItem.dossier_id == d.id, DossierItem.task_id == task.id
                )
            ):
                raise ConflictError("Nhiệm vụ đã có trong hồ sơ này.", code="already_filed")
            s.add(
                DossierItem(
                    dossier_id=d.id,
                    position=position,
                    task_id=task.id,
                    filed_by_id=actor.user_id,
                    filed_at=now,
                )
            )
            _event(
                uow,
                d,
                DossierAction.FILE,
                actor,
                from_state=d.state,
                details={"task_id": str(task.id)},
            )
        elif cmd.document_id is not None:
            doc = _check_document(uow, actor, d, cmd.document_id)
            s.add(
                DossierItem(
                    dossier_id=d.id,
                    position=position,
                    document_id=doc.id,
                    filed_by_id=actor.user_id,
                    filed_at=now,
                )
            )
            results.append(FiledResult(doc.id, True))
            _event(
                uow, d, DossierAction.FILE, actor, from_state=d.state,
                details={"document_ids": [str(doc.id)]},
            )  # fmt: skip
        else:
            results = _file_many(
                uow, actor, d, list(dict.fromkeys(cmd.document_ids or [])), position
            )
        d.updated_at = now
        s.flush()
        s.refresh(d)
        view = build_view(uow, actor, d)
        uow.commit()
        return view, results


def _file_many(
    uow: UnitOfWork, actor: Actor, d: Dossier, ids: list[uuid.UUID], position: int
) -> list[FiledResult]:
    """Bulk filing: the same checks as one document's (:func:`_check_document`), asked of
    the database once for the whole list (visibility and clearance through
    :func:`access.visible_clause`), each document decided separately."""
    s = uow.session
    visible = dict(
        s.execute(
            select(Document.id, Document.secrecy_rank).where(
                Document.id.in_(ids), access.visible_clause(actor)
            )
        ).all()
    )
    inside = set(
        s.scalars(
            select(DossierItem.document_id).where(
                DossierItem.dossier_id == d.id, DossierItem.document_id.in_(ids)
            )
        )
    )
    results: list[FiledResult] = []
    filed: list[str] = []
    now = uow.now()
    for document_id in ids:
        error: DomainError | None = None
        if document_id not in visible:
            error = ValidationError.field(
                "document_id", "Không tìm thấy văn bản.", code="document_not_found"
            )
        elif visible[document_id] > d.secrecy_rank:
            error = ValidationError.field(
                "document_id",
                "Văn bản có độ mật cao hơn hồ sơ: hãy đưa vào một hồ sơ mật tương ứng.",
                code="secrecy_above_dossier",
            )
        elif document_id in inside:
            error = ConflictError("Văn bản đã có trong hồ sơ này.", code="already_filed")
        if error is not None:
            results.append(FiledResult(document_id, False, error))
            continue
        s.add(
            DossierItem(
                dossier_id=d.id,
                position=position,
                document_id=document_id,
                filed_by_id=actor.user_id,
                filed_at=now,
            )
        )
        position += 1
        filed.append(str(document_id))
        results.append(FiledResult(document_id, True))
    if filed:
        # One trail step for the batch; the audit names every document.
        _event(
            uow, d, DossierAction.FILE, actor, from_state=d.state, details={"document_ids": filed}
        )
    return results


def unfile(
    uow: UnitOfWork, actor: Actor, dossier_id: uuid.UUID, document_id: uuid.UUID
) -> DossierView:
    """Take a document out of an open dossier (a closed one refuses: 409)."""
    with uow:
        s = uow.session
        d = _locked_for(uow, actor, dossier_id, DossierAction.UNFILE)
        row = s.scalars(
            select(DossierItem).where(
                DossierItem.dossier_id == d.id, DossierItem.document_id == document_id
            )
        ).one_or_none()
        if row is None or access.find_visible(s, actor, document_id) is None:
            raise NotFoundError("Văn bản không có trong hồ sơ.", code="item_not_found")
        s.delete(row)
        _event(
            uow,
            d,
            DossierAction.UNFILE,
            actor,
            from_state=d.state,
            details={"document_id": str(document_id)},
        )
        d.updated_at = uow.now()
        s.flush()
        s.refresh(d)
        view = build_view(uow, actor, d)
        uow.commit()
        return view


def _pdf_pages(uow: UnitOfWork, key: str) -> int | None:
    """Pages of a stored PDF (read through a spool: memory stays flat), None if unreadable."""
    from pypdf import PdfReader

    if uow.store is None:
        return None
    try:
        with tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024) as spool:
            with uow.store.open(key) as reader:
                shutil.copyfileobj(reader, spool, 1024 * 1024)
            spool.seek(0)
            return len(PdfReader(spool).pages)
    except Exception:
        return None


def _page_count(uow: UnitOfWork, doc: Document) -> int | None:
    if doc.page_count:
        return doc.page_count
    pdfs = [f for f in doc.files if f.content_type == "application/pdf"]
    if not pdfs:
        return None
    # The latest main or signed PDF stands for the document.
    main = [f for f in pdfs if f.kind in ("main", "signed")] or pdfs
    return _pdf_pages(uow, main[-1].object_key)


def _close(uow: UnitOfWork, actor: Actor, d: Dossier) -> dict[str, Any]:
    """Kết thúc hồ sơ: fix the page counts, the dates and the counts; make the table of
    contents (DOCX, and PDF when a converter is configured)."""
    s = uow.session
    if not d.items:
        raise ConflictError("Hồ sơ chưa có văn bản nào: chưa kết thúc được.", code="dossier_empty")
    docs = {
        x.id: x
        for x in s.scalars(
            select(Document).where(
                Document.id.in_([i.document_id for i in d.items if i.document_id])
            )
        )
    }
    dates: list[dt.date] = []
    for it in d.items:
        if it.document_id is not None and (doc := docs.get(it.document_id)) is not None:
            it.page_count = _page_count(uow, doc)
            day = doc.issued_date or (local_date(doc.received_at) if doc.received_at else None)
            if day is not None:
                dates.append(day)
        elif it.task_id is not None and (task := s.get(Task, it.task_id)) is not None:
            dates.append(local_date(task.completed_at) if task.completed_at else task.due_date)
    today = local_date(uow.now())
    d.start_date = min(dates) if dates else today
    d.end_date = max(dates) if dates else today
    d.page_total = sum(i.page_count or 0 for i in d.items)
    d.document_count = len(d.items)
    d.closed_at = uow.now()
    s.flush()
    view = build_view(uow, None, d)
    if uow.store is not None:
        docx = toc.table_of_contents_docx(view)
        d.toc_docx_key = store_bytes(
            uow, docx, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        ).key
        if uow.converter is not None:
            try:
                pdf = uow.converter.to_pdf(docx, "muc-luc-van-ban.docx")
            except DomainError:
                pdf = None
            if pdf:
                d.toc_pdf_key = store_bytes(uow, pdf, "application/pdf").key
    return {
        "documents": d.document_count,
        "pages": d.page_total,
        "start_date": d.start_date.isoformat(),
        "end_date": d.end_date.isoformat(),
    }


def _check_fixity(uow: UnitOfWork, d: Dossier) -> None:
    """Every file of the dossier is in the store with the recorded SHA-256 (read through)."""
    from docflow.dossiers.queries import item_views

    store = uow.store
    if store is None:
        raise DossierFixityError("Không có kho lưu trữ tệp để kiểm tra.")
    bad: list[dict[str, str]] = []
    for item in item_views(uow.session, None, d):
        for f in item.files:
            try:
                with store.open(f.object_key, verify=True) as reader:
                    for _ in reader.iter_chunks():
                        pass
            except Exception as exc:  # missing, corrupted, unreadable: all the same refusal
                bad.append({"file_id": str(f.id), "name": f.name, "problem": type(exc).__name__})
    if bad:
        raise DossierFixityError(details={"files": bad})


def act_on_dossier(
    uow: UnitOfWork, actor: Actor, dossier_id: uuid.UUID, cmd: DossierActionCommand
) -> DossierView:
    """One action of API.md §7 on the dossier; returns the dossier after it."""
    action = DossierAction(cmd.action)
    with uow:
        s = uow.session
        d = ensure_visible(actor, load_dossier(s, dossier_id, lock=True))  # 404
        now = uow.now()

        def hold_state() -> None:
            if action is DossierAction.HOLD and d.legal_hold is not None:
                raise ConflictError("Hồ sơ đang được giữ lại.", code="already_held")
            if action is DossierAction.RELEASE and d.legal_hold is None:
                raise ConflictError("Hồ sơ không bị giữ lại.", code="not_held")

        def parse() -> str | None:
            comment = (cmd.comment or "").strip() or None
            if (
                action in (DossierAction.REOPEN, DossierAction.RETURN, DossierAction.HOLD)
                and not comment
            ):
                raise ValidationError.field("comment", "Cần ghi rõ lý do.", code="reason_required")
            return comment

        def effect(comment: str | None) -> engine.Effect:
            details: dict[str, Any] = {}
            if action is DossierAction.CLOSE:
                details = _close(uow, actor, d)
            elif action is DossierAction.REOPEN:
                d.closed_at = None
                d.toc_docx_key = d.toc_pdf_key = None
            elif action is DossierAction.TRANSFER:
                d.transferred_at = now
            elif action is DossierAction.ACCEPT:
                _check_fixity(uow, d)
                d.archived_at = now
                details = {"fixity": "ok"}
            elif action is DossierAction.RETURN:
                d.transferred_at = None
            elif action is DossierAction.HOLD:
                d.legal_hold = comment
            elif action is DossierAction.RELEASE:
                d.legal_hold = None
            return engine.Effect(comment, details)

        def set_state(after: DossierState) -> None:
            d.state, d.updated_at = after.value, now

        def record(move: engine.Move[DossierState], done: engine.Effect) -> None:
            _event(
                uow,
                d,
                action,
                actor,
                from_state=move.before.value,
                comment=done.comment,
                details=done.details,
            )

        engine.perform(  # 403 → 409 → 422, then the effect, the state and the trail
            _decision(actor, d, action),
            DossierState(d.state),
            lambda state: next_state(state, action),
            forbidden=lambda: _forbidden(action),
            preconditions=(hold_state,),
            parse=parse,
            effect=effect,
            set_state=set_state,
            record=record,
        )
        s.flush()
        s.refresh(d)
        view = build_view(uow, actor, d)
        uow.commit()
        return view


def open_toc(
    uow: UnitOfWork, actor: Actor, dossier_id: uuid.UUID, fmt: str
) -> tuple[str, str, Any]:
    """The table of contents made at closing: (filename, content type, reader)."""
    with uow:
        d = ensure_visible(actor, load_dossier(uow.session, dossier_id))
        ensure_whole_record(uow.session, actor, d)
        key = d.toc_pdf_key if fmt == "pdf" else d.toc_docx_key
        if key is None or uow.store is None:
            raise NotFoundError("Hồ sơ chưa có mục lục văn bản.", code="toc_not_found")
        audit.record_read(uow, actor, "dossier_toc_read", object_type="dossier", object_id=d.id)
        uow.commit()
        ctype = (
            "application/pdf"
            if fmt == "pdf"
            else "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        )
        return f"muc-luc-van-ban-{_slug(d.code)}.{fmt}", ctype, uow.store.open(key)


def _slug(text: str) -> str:
    from docflow.dossiers.package import safe_name

    return safe_name(text)


__all__ = [
    "DossierFixityError",
    "FiledResult",
    "act_on_dossier",
    "file_into",
    "open_dossier",
    "open_toc",
    "unfile",
]
