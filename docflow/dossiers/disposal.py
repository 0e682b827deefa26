"""Retention and disposal (tiêu hủy): what has reached the end of its retention is listed for
review; the archivist proposes a disposal, the head approves or rejects it; an approved one
removes the dossiers' files and keeps the metadata and the disposal record.

Permanent dossiers (``retention_years`` null) and dossiers under a legal hold are never
disposed of (409 ``permanent_dossier`` / ``legal_hold``), checked when proposing and again when
approving. A document also filed in a dossier that is not being disposed of keeps its files.
Removing a file is removing its row: the object itself goes with the sweeper once no row of any
organisation references it (a recipient's copy shares the sender's objects), as every
deletion in DHTN does (see :mod:`docflow.objects`).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select

from docflow import audit
from docflow.actors import Actor
from docflow.dossiers import policy
from docflow.dossiers.commands import DisposalActionCommand, ProposeDisposal
from docflow.dossiers.queries import (
    DossierSummary,
    ensure_visible,
    load_dossier,
    retention_until,
    transfer_due,
    visible_clause,
)
from docflow.dossiers.services import _event
from docflow.dossiers.states import DossierAction, DossierState
from docflow.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    TransitionNotAllowedError,
    ValidationError,
)
from docflow.models import (
    Disposal,
    Document,
    DocumentFile,
    Dossier,
    DossierItem,
    DraftVersion,
    FileText,
)
from docflow.search import refresh_index
from docflow.uow import UnitOfWork
from docflow.workdays import local_date


@dataclass(frozen=True)
class DisposalView:
    id: uuid.UUID
    state: str
    reason: str
    dossier_ids: list[str]
    proposed_at: dt.datetime
    decided_at: dt.datetime | None
    decision_comment: str | None
    record: dict[str, Any] | None


def _view(x: Disposal) -> DisposalView:
    return DisposalView(
        x.id,
        x.state,
        x.reason,
        list(x.dossier_ids),
        x.proposed_at,
        x.decided_at,
        x.decision_comment,
        x.record,
    )


def due_for_review(uow: UnitOfWork, actor: Actor) -> list[DossierSummary]:
    """Archived dossiers (visible to the actor) whose retention has ended, not held."""
    with uow:
        today = local_date(uow.now())
        rows = uow.session.scalars(
            select(Dossier)
            .where(
                visible_clause(actor),
                Dossier.state == DossierState.ARCHIVED.value,
                Dossier.retention_years.is_not(None),
                Dossier.legal_hold.is_(None),
            )
            .order_by(Dossier.end_date, Dossier.code)
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
            if (until := retention_until(d)) is not None and until < today
        ]


def _disposable(d: Dossier, today: dt.date) -> None:
    """409 unless ``d`` may be destroyed now."""
    if d.state != DossierState.ARCHIVED.value:
        raise TransitionNotAllowedError(
            f"Hồ sơ {d.code} chưa vào Lưu trữ cơ quan.",
            code="dossier_state",
            details={"dossier_id": str(d.id)},
        )
    if d.retention_years is None:
        raise ConflictError(
            f"Hồ sơ {d.code} bảo quản vĩnh viễn: không bao giờ được tiêu hủy.",
            code="permanent_dossier",
            details={"dossier_id": str(d.id)},
        )
    if d.legal_hold is not None:
        raise ConflictError(
            f"Hồ sơ {d.code} đang được giữ lại: không được tiêu hủy.",
            code="legal_hold",
            details={"dossier_id": str(d.id)},
        )
    until = retention_until(d)
    if until is None or until >= today:
        raise ConflictError(
            f"Hồ sơ {d.code} chưa hết thời hạn bảo quản.",
            code="retention_not_reached",
            details={"dossier_id": str(d.id), "until": until.isoformat() if until else None},
        )


def propose_disposal(uow: UnitOfWork, actor: Actor, cmd: ProposeDisposal) -> DisposalView:
    with uow:
        s = uow.session
        if not policy.may_propose_disposal(actor, actor.organization_id):
            raise PermissionDeniedError(
                "Chỉ lưu trữ viên đề xuất tiêu hủy.", code="disposal_forbidden"
            )
        today = local_date(uow.now())
        ids = list(dict.fromkeys(cmd.dossier_ids))
        for n, dossier_id in enumerate(ids):
            d = load_dossier(s, dossier_id, lock=True)
            if d is None or not policy.can_view(actor, _facts(d)):
                raise ValidationError.field(f"dossier_ids.{n}", "Không tìm thấy hồ sơ.")
            _disposable(d, today)
        x = Disposal(
            organization_id=actor.organization_id,
            state="proposed",
            reason=cmd.reason,
            dossier_ids=[str(i) for i in ids],
            proposed_by_id=actor.user_id,
            proposed_at=uow.now(),
        )
        s.add(x)
        s.flush()
        audit.record(
            uow,
            "disposal_proposed",
            actor=actor,
            object_type="disposal",
            object_id=x.id,
            details={"dossiers": x.dossier_ids},
        )
        view = _view(x)
        uow.commit()
        return view


def _facts(d: Dossier) -> policy.DossierFacts:
    from docflow.dossiers.queries import facts

    return facts(d)


def _load(uow: UnitOfWork, actor: Actor, disposal_id: uuid.UUID, *, lock: bool = False) -> Disposal:
    stmt = select(Disposal).where(Disposal.id == disposal_id)
    if lock:
        stmt = stmt.with_for_update()
    x = uow.session.scalars(stmt).one_or_none()
    if (
        x is None
        or x.organization_id != actor.organization_id
        or not (
            policy.may_propose_disposal(actor, x.organization_id)
            or policy.may_decide_disposal(actor, x.organization_id)
        )
        or not _readable(uow, actor, [x])
    ):
        raise NotFoundError("Không tìm thấy đề xuất tiêu hủy.", code="disposal_not_found")
    return x


def _readable(uow: UnitOfWork, actor: Actor, disposals: Sequence[Disposal]) -> list[Disposal]:
    """The disposals whose every dossier ``actor`` may see (one read for all). A proposal, and
    after the decision its record, names each dossier's code and title and each document's
    files: a reader not cleared for one of them (a secret dossier, a clearance lowered since)
    is told the disposal does not exist, as the dossier itself answers them."""
    named = {uuid.UUID(raw) for x in disposals for raw in x.dossier_ids}
    seen: set[uuid.UUID] = set()
    if named:
        seen = set(
            uow.session.scalars(
                select(Dossier.id).where(Dossier.id.in_(named), visible_clause(actor))
            )
        )
    return [x for x in disposals if all(uuid.UUID(raw) in seen for raw in x.dossier_ids)]


def get_disposal(uow: UnitOfWork, actor: Actor, disposal_id: uuid.UUID) -> DisposalView:
    with uow:
        return _view(_load(uow, actor, disposal_id))


def list_disposals(uow: UnitOfWork, actor: Actor) -> list[DisposalView]:
    with uow:
        if not (
            policy.may_propose_disposal(actor, actor.organization_id)
            or policy.may_decide_disposal(actor, actor.organization_id)
        ):
            return []
        rows = uow.session.scalars(
            select(Disposal)
            .where(Disposal.organization_id == actor.organization_id)
            .order_by(Disposal.proposed_at.desc())
            .limit(200)
        )
        return [_view(x) for x in _readable(uow, actor, list(rows))]


def decide_disposal(
    uow: UnitOfWork, actor: Actor, disposal_id: uuid.UUID, cmd: DisposalActionCommand
) -> DisposalView:
    """The head's decision. Approving re-checks every dossier (a hold may have come since),
    then removes the files and writes the disposal record; rejecting changes nothing else."""
    with uow:
        s = uow.session
        x = _load(uow, actor, disposal_id, lock=True)
        if not policy.may_decide_disposal(actor, x.organization_id):
            raise PermissionDeniedError(
                "Chỉ lãnh đạo cơ quan quyết định tiêu hủy.", code="disposal_forbidden"
            )
        if x.state != "proposed":
            raise TransitionNotAllowedError(
                "Đề xuất này đã được quyết định.", code="disposal_state"
            )
        now = uow.now()
        x.decided_by_id = actor.user_id
        x.decided_at = now
        x.decision_comment = cmd.comment
        if cmd.action == "reject":
            x.state = "rejected"
            audit.record(
                uow, "disposal_rejected", actor=actor, object_type="disposal", object_id=x.id
            )
            view = _view(x)
            uow.commit()
            return view
        today = local_date(now)
        dossiers = []
        for raw in x.dossier_ids:
            d = ensure_visible(actor, load_dossier(s, uuid.UUID(raw), lock=True))
            _disposable(d, today)
            dossiers.append(d)
        disposing = {d.id for d in dossiers}
        record: dict[str, Any] = {"decided_at": now.isoformat(), "dossiers": []}
        for d in dossiers:
            entry: dict[str, Any] = {
                "id": str(d.id),
                "code": d.code,
                "title": d.title,
                "year": d.year,
                "retention_years": d.retention_years,
                "documents": [],
            }
            for item in d.items:
                if item.document_id is None:
                    continue
                elsewhere = s.scalar(
                    select(DossierItem.dossier_id)
                    .join(Dossier, Dossier.id == DossierItem.dossier_id)
                    .where(
                        DossierItem.document_id == item.document_id,
                        Dossier.id.not_in(disposing),
                        Dossier.state != DossierState.DISPOSED.value,
                    )
                    .limit(1)
                )
                files = list(
                    s.scalars(
                        select(DocumentFile).where(DocumentFile.document_id == item.document_id)
                    )
                )
                entry["documents"].append(
                    {
                        "document_id": str(item.document_id),
                        "kept_for_dossier": str(elsewhere) if elsewhere else None,
                        "files": [
                            {"name": f.name, "size": f.size, "sha256": f.sha256, "kind": f.kind}
                            for f in files
                        ],
                    }
                )
                if elsewhere is None and files:
                    file_ids = [f.id for f in files]
                    s.execute(
                        delete(DraftVersion).where(
                            (DraftVersion.source_file_id.in_(file_ids))
                            | (DraftVersion.pdf_file_id.in_(file_ids))
                        )
                    )
                    # the extracted text goes with the files, and the search row forgets it
                    s.execute(delete(FileText).where(FileText.file_id.in_(file_ids)))
                    s.execute(delete(DocumentFile).where(DocumentFile.id.in_(file_ids)))
                    document = s.get(Document, item.document_id)
                    if document is not None:
                        refresh_index(uow, document)
            record["dossiers"].append(entry)
            before = d.state
            d.state = DossierState.DISPOSED.value
            d.disposed_at = now
            d.updated_at = now
            _event(
                uow,
                d,
                DossierAction.DISPOSE,
                actor,
                from_state=before,
                comment=cmd.comment,
                details={"disposal_id": str(x.id)},
            )
        x.state = "approved"
        x.record = record
        audit.record(
            uow,
            "disposal_approved",
            actor=actor,
            object_type="disposal",
            object_id=x.id,
            details={"dossiers": x.dossier_ids},
        )
        view = _view(x)
        uow.commit()
        return view


DISPOSAL_PENDING = "proposed"  # waiting for the head's decision
DISPOSAL_STATE_LABELS = {
    "proposed": "Chờ lãnh đạo phê duyệt",
    "approved": "Đã tiêu hủy",
    "rejected": "Không phê duyệt",
}


def dossier_labels(uow: UnitOfWork, actor: Actor, disposals: list[DisposalView]) -> dict[str, str]:
    """``code · title`` of the dossiers named in the proposals, those the reader may see (the
    disposal page); a disposed dossier keeps its metadata, so its label stays."""
    ids = {uuid.UUID(raw) for x in disposals for raw in x.dossier_ids}
    if not ids:
        return {}
    with uow:
        rows = uow.session.scalars(
            select(Dossier).where(Dossier.id.in_(ids), visible_clause(actor))
        )
        return {str(d.id): f"{d.code} · {d.title}" for d in rows}
