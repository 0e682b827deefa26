"""The file plan (danh mục hồ sơ) of an organisation for a year: drafted by the office,
approved by the head, editable during the year (every change in the audit log; items added
after approval wait for the head's approval), copied from last year's as a start, and
exchanged as XLSX in the printed form:

========================  ==============================  ==============  ==============  =======
Số và ký hiệu hồ sơ       Tên đề mục và tiêu đề hồ sơ     Thời hạn        Đơn vị / người   Ghi chú
                                                          bảo quản        lập hồ sơ
========================  ==============================  ==============  ==============  =======
I                         Ban Thường trực (a heading)
01.BTT                    Hồ sơ hội nghị …                Vĩnh viễn       BTT
========================  ==============================  ==============  ==============  =======

A row with an empty retention cell is a heading; any other row is a dossier of the heading
above it. Retention is ``Vĩnh viễn`` or a number of years (``5``, ``5 năm``).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import uuid
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font
from sqlalchemy import select

from docflow import audit, spreadsheets
from docflow.actors import Actor
from docflow.dossiers import policy
from docflow.dossiers.commands import (
    AddHeading,
    AddPlanItem,
    CreateFilePlan,
    FilePlanActionCommand,
)
from docflow.dossiers.toc import retention_label
from docflow.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    TransitionNotAllowedError,
    ValidationError,
)
from docflow.models import (
    Dossier,
    FilePlan,
    FilePlanHeading,
    FilePlanItem,
    Organization,
    Unit,
    User,
)
from docflow.uow import UnitOfWork
from docflow.uploads import Upload, open_object, store_uploads
from storage import FileType, UploadLimits

COLUMNS = (
    "Số và ký hiệu hồ sơ",
    "Tên đề mục và tiêu đề hồ sơ",
    "Thời hạn bảo quản",
    "Đơn vị / người lập hồ sơ",
    "Ghi chú",
)
IMPORT_LIMITS = UploadLimits(
    max_size=5 * 1024 * 1024,
    allowed_types=frozenset({FileType.XLSX}),
    max_uncompressed_size=50 * 1024 * 1024,
)
MAX_ROWS = 5000


@dataclass(frozen=True)
class PlanItemView:
    id: uuid.UUID
    code: str
    title: str
    retention_years: int | None
    unit_id: uuid.UUID | None
    unit_name: str | None
    keeper_id: uuid.UUID | None
    keeper_name: str | None
    note: str | None
    approved: bool
    dossier_id: uuid.UUID | None


@dataclass(frozen=True)
class PlanHeadingView:
    id: uuid.UUID
    code: str
    title: str
    unit_id: uuid.UUID | None
    items: tuple[PlanItemView, ...]


@dataclass(frozen=True)
class PlanView:
    id: uuid.UUID
    organization_id: uuid.UUID
    organization_name: str
    year: int
    state: str
    approved_at: dt.datetime | None
    approved_by: str | None
    pending_changes: int
    headings: tuple[PlanHeadingView, ...]
    allowed_actions: tuple[str, ...]
    may_edit: bool


def _plan_view(uow: UnitOfWork, actor: Actor, plan: FilePlan) -> PlanView:
    s = uow.session
    opened = dict(
        s.execute(
            select(Dossier.plan_item_id, Dossier.id).where(
                Dossier.organization_id == plan.organization_id,
                Dossier.year == plan.year,
                Dossier.plan_item_id.is_not(None),
                Dossier.secrecy_rank <= actor.clearance.rank,
            )
        ).all()
    )
    org = s.get(Organization, plan.organization_id)
    approver = s.get(User, plan.approved_by_id) if plan.approved_by_id else None
    headings = tuple(
        PlanHeadingView(
            h.id,
            h.code,
            h.title,
            h.unit_id,
            tuple(
                PlanItemView(
                    i.id,
                    i.code,
                    i.title,
                    i.retention_years,
                    i.unit_id,
                    i.unit.name if i.unit else None,
                    i.keeper_id,
                    i.keeper.full_name if i.keeper else None,
                    i.note,
                    i.approved,
                    opened.get(i.id),
                )
                for i in h.items
            ),
        )
        for h in plan.headings
    )
    pending = sum(1 for h in headings for i in h.items if not i.approved)
    actions: list[str] = []
    if policy.may_approve_plan(actor, plan.organization_id) and (plan.state == "draft" or pending):
        actions.append("approve")
    return PlanView(
        plan.id,
        plan.organization_id,
        org.name if org else "",
        plan.year,
        plan.state,
        plan.approved_at,
        approver.full_name if approver else None,
        pending,
        headings,
        tuple(actions),
        policy.may_edit_plan(actor, plan.organization_id),
    )


def _load(uow: UnitOfWork, actor: Actor, plan_id: uuid.UUID, *, lock: bool = False) -> FilePlan:
    stmt = select(FilePlan).where(FilePlan.id == plan_id).execution_options(populate_existing=True)
    if lock:
        stmt = stmt.with_for_update(of=FilePlan)
    plan = uow.session.scalars(stmt).one_or_none()
    if plan is None or not policy.may_read_plan(actor, plan.organization_id):
        raise NotFoundError("Không tìm thấy danh mục hồ sơ.", code="file_plan_not_found")
    return plan


def _require_edit(actor: Actor, plan: FilePlan) -> None:
    if not policy.may_edit_plan(actor, plan.organization_id):
        raise PermissionDeniedError(
            "Chỉ văn phòng (văn thư) và lãnh đạo sửa danh mục hồ sơ.", code="file_plan_forbidden"
        )


def _audit(uow: UnitOfWork, actor: Actor, plan: FilePlan, event: str, **details: Any) -> None:
    plan.updated_at = uow.now()
    audit.record(
        uow,
        event,
        actor=actor,
        organization_id=plan.organization_id,
        object_type="file_plan",
        object_id=plan.id,
        details={"year": plan.year, **details},
    )


def _unit_of(uow: UnitOfWork, actor: Actor, unit_id: uuid.UUID | None, field: str) -> None:
    if unit_id is None:
        return
    unit = uow.session.get(Unit, unit_id)
    if unit is None or unit.organization_id != actor.organization_id:
        raise ValidationError.field(field, "Đơn vị không thuộc cơ quan của bạn.")


def create_plan(uow: UnitOfWork, actor: Actor, cmd: CreateFilePlan) -> PlanView:
    """A new draft plan for the year; with ``copy_from_year``, a copy of that year's headings
    and dossiers (codes, titles, units, keepers, retention, notes) as a start."""
    with uow:
        s = uow.session
        if cmd.organization_id != actor.organization_id:
            raise NotFoundError("Không tìm thấy cơ quan.", code="organization_not_found")
        if not policy.may_edit_plan(actor, cmd.organization_id):
            raise PermissionDeniedError(
                "Chỉ văn phòng (văn thư) và lãnh đạo lập danh mục hồ sơ.",
                code="file_plan_forbidden",
            )
        exists = s.scalar(
            select(FilePlan.id).where(
                FilePlan.organization_id == cmd.organization_id, FilePlan.year == cmd.year
            )
        )
        if exists is not None:
            raise ConflictError(
                "Năm này đã có danh mục hồ sơ.",
                code="file_plan_exists",
                details={"file_plan_id": str(exists)},
            )
        source: FilePlan | None = None
        if cmd.copy_from_year is not None:
            source = s.scalars(
                select(FilePlan).where(
                    FilePlan.organization_id == cmd.organization_id,
                    FilePlan.year == cmd.copy_from_year,
                )
            ).one_or_none()
            if source is None:
                raise ValidationError.field(
                    "copy_from_year", "Năm được chọn chưa có danh mục hồ sơ để sao chép."
                )
        now = uow.now()
        plan = FilePlan(
            organization_id=cmd.organization_id,
            year=cmd.year,
            state="draft",
            created_by_id=actor.user_id,
            created_at=now,
            updated_at=now,
        )
        s.add(plan)
        s.flush()
        if source is not None:
            for h in source.headings:
                heading = FilePlanHeading(
                    plan_id=plan.id, position=h.position, code=h.code, title=h.title,
                    unit_id=h.unit_id,
                )  # fmt: skip
                s.add(heading)
                s.flush()
                for i in h.items:
                    s.add(
                        FilePlanItem(
                            plan_id=plan.id,
                            heading_id=heading.id,
                            position=i.position,
                            code=i.code,
                            title=i.title,
                            unit_id=i.unit_id,
                            keeper_id=i.keeper_id,
                            retention_years=i.retention_years,
                            note=i.note,
                            approved=True,
                        )
                    )
        _audit(
            uow, actor, plan, "file_plan_created",
            **({"copied_from": cmd.copy_from_year} if source else {}),
        )  # fmt: skip
        s.flush()
        s.refresh(plan)
        view = _plan_view(uow, actor, plan)
        uow.commit()
        return view


def add_heading(uow: UnitOfWork, actor: Actor, plan_id: uuid.UUID, cmd: AddHeading) -> PlanView:
    with uow:
        s = uow.session
        plan = _load(uow, actor, plan_id, lock=True)
        _require_edit(actor, plan)
        _unit_of(uow, actor, cmd.unit_id, "unit_id")
        s.add(
            FilePlanHeading(
                plan_id=plan.id,
                position=len(plan.headings),
                code=cmd.code,
                title=cmd.title,
                unit_id=cmd.unit_id,
            )
        )
        _audit(uow, actor, plan, "file_plan_heading_added", code=cmd.code)
        s.flush()
        s.refresh(plan)
        view = _plan_view(uow, actor, plan)
        uow.commit()
        return view


def add_item(uow: UnitOfWork, actor: Actor, plan_id: uuid.UUID, cmd: AddPlanItem) -> PlanView:
    """A dossier added to the plan; after approval it waits for the head's approval."""
    with uow:
        s = uow.session
        plan = _load(uow, actor, plan_id, lock=True)
        _require_edit(actor, plan)
        heading = next((h for h in plan.headings if h.id == cmd.heading_id), None)
        if heading is None:
            raise ValidationError.field("heading_id", "Đề mục không thuộc danh mục này.")
        _unit_of(uow, actor, cmd.unit_id, "unit_id")
        if cmd.keeper_id is not None:
            keeper = s.get(User, cmd.keeper_id)
            if keeper is None or keeper.organization_id != actor.organization_id:
                raise ValidationError.field("keeper_id", "Người lập hồ sơ không thuộc cơ quan.")
        if s.scalar(
            select(FilePlanItem.id).where(
                FilePlanItem.plan_id == plan.id, FilePlanItem.code == cmd.code
            )
        ):
            raise ConflictError(
                "Danh mục đã có hồ sơ cùng số và ký hiệu.",
                code="plan_code_taken",
                details={"fields": {"code": "Trùng số và ký hiệu hồ sơ."}},
            )
        s.add(
            FilePlanItem(
                plan_id=plan.id,
                heading_id=heading.id,
                position=len(heading.items),
                code=cmd.code,
                title=cmd.title,
                unit_id=cmd.unit_id,
                keeper_id=cmd.keeper_id,
                retention_years=cmd.retention_years,
                note=cmd.note,
                approved=plan.state != "approved",
            )
        )
        _audit(uow, actor, plan, "file_plan_item_added", code=cmd.code)
        s.flush()
        s.refresh(plan)
        view = _plan_view(uow, actor, plan)
        uow.commit()
        return view


def act_on_plan(
    uow: UnitOfWork, actor: Actor, plan_id: uuid.UUID, cmd: FilePlanActionCommand
) -> PlanView:
    """``approve``: the head approves the draft plan, or the changes made since approval."""
    with uow:
        s = uow.session
        plan = _load(uow, actor, plan_id, lock=True)
        if not policy.may_approve_plan(actor, plan.organization_id):
            raise PermissionDeniedError(
                "Chỉ lãnh đạo cơ quan phê duyệt danh mục hồ sơ.", code="file_plan_forbidden"
            )
        pending = [i for h in plan.headings for i in h.items if not i.approved]
        if plan.state == "approved" and not pending:
            raise TransitionNotAllowedError(
                "Danh mục đã được phê duyệt, không có thay đổi nào chờ duyệt.",
                code="file_plan_state",
            )
        for i in pending:
            i.approved = True
        first = plan.state != "approved"
        plan.state = "approved"
        plan.approved_by_id = actor.user_id
        plan.approved_at = uow.now()
        _audit(
            uow, actor, plan, "file_plan_approved", changes=len(pending), first=first,
            **({"comment": cmd.comment} if cmd.comment else {}),
        )  # fmt: skip
        s.flush()
        s.refresh(plan)
        view = _plan_view(uow, actor, plan)
        uow.commit()
        return view


def get_plan(uow: UnitOfWork, actor: Actor, plan_id: uuid.UUID) -> PlanView:
    with uow:
        return _plan_view(uow, actor, _load(uow, actor, plan_id))


def plan_for_year(uow: UnitOfWork, actor: Actor, year: int) -> PlanView | None:
    with uow:
        plan = uow.session.scalars(
            select(FilePlan).where(
                FilePlan.organization_id == actor.organization_id, FilePlan.year == year
            )
        ).one_or_none()
        if plan is None or not policy.may_read_plan(actor, plan.organization_id):
            return None
        return _plan_view(uow, actor, plan)


def list_plans(uow: UnitOfWork, actor: Actor) -> list[tuple[uuid.UUID, int, str]]:
    with uow:
        if not policy.may_read_plan(actor, actor.organization_id):
            return []
        return [
            (p.id, p.year, p.state)
            for p in uow.session.scalars(
                select(FilePlan)
                .where(FilePlan.organization_id == actor.organization_id)
                .order_by(FilePlan.year.desc())
            )
        ]


# ------------------------------------------------------------------ XLSX


def export_xlsx(uow: UnitOfWork, actor: Actor, plan_id: uuid.UUID) -> tuple[str, bytes]:
    """The plan in its printed form (cells written through the spreadsheet-injection guard)."""
    view = get_plan(uow, actor, plan_id)
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = f"DMHS {view.year}"
    spreadsheets.put(ws, 1, 1, view.organization_name.upper()).font = Font(bold=True)
    title = spreadsheets.put(ws, 2, 1, f"DANH MỤC HỒ SƠ NĂM {view.year}")
    title.font = Font(bold=True, size=14)
    title.alignment = Alignment(horizontal="center")
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=len(COLUMNS))
    header = 4
    for col, name in enumerate(COLUMNS, start=1):
        cell = spreadsheets.put(ws, header, col, name)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
    row = header + 1
    for h in view.headings:
        spreadsheets.put(ws, row, 1, h.code).font = Font(bold=True)
        spreadsheets.put(ws, row, 2, h.title).font = Font(bold=True)
        row += 1
        for i in h.items:
            keeper = " / ".join(x for x in (i.unit_name, i.keeper_name) if x)
            values = (i.code, i.title, retention_label(i.retention_years), keeper, i.note or "")
            for col, value in enumerate(values, start=1):
                spreadsheets.put(ws, row, col, value).alignment = Alignment(wrap_text=True)
            row += 1
    for letter, width in zip("ABCDE", (18, 60, 14, 28, 24), strict=True):
        ws.column_dimensions[letter].width = width
    out = io.BytesIO()
    wb.save(out)
    return f"danh-muc-ho-so-{view.year}.xlsx", out.getvalue()


_YEARS = re.compile(r"^\s*(\d{1,3})\s*(năm)?\s*$", re.IGNORECASE)


def _retention(text: str) -> int | None:
    """``Vĩnh viễn`` → None (permanent); ``5`` / ``5 năm`` → 5; anything else raises."""
    folded = text.strip().lower()
    if folded in ("vĩnh viễn", "vinh vien", "vv"):
        return None
    m = _YEARS.match(folded)
    if not m or not 1 <= int(m.group(1)) <= 100:
        raise ValueError("Thời hạn bảo quản phải là «Vĩnh viễn» hoặc số năm (1–100).")
    return int(m.group(1))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    text = str(value).strip()
    # Formulas are read as text (read without evaluation); control characters are dropped.
    return "".join(c for c in text if c >= " " or c == "\t")


@dataclass(frozen=True)
class _Row:
    line: int
    code: str
    title: str
    retention: str
    keeper: str
    note: str


def _rows(data: bytes) -> list[_Row]:
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as exc:
        raise ValidationError.field("file", "Không đọc được tệp XLSX.") from exc
    ws = wb.worksheets[0] if wb.worksheets else None
    if ws is None:
        raise ValidationError.field("file", "Tệp XLSX không có trang tính nào.")
    out: list[_Row] = []
    started = False
    for n, values in enumerate(ws.iter_rows(values_only=True), start=1):
        if n > MAX_ROWS:
            raise ValidationError.field("file", f"Tệp có quá {MAX_ROWS} dòng.")
        cells = [_cell(v) for v in (list(values) + [None] * 5)[:5]]
        if not started:
            started = cells[0].lower().startswith("số và ký hiệu")
            continue
        if not any(cells):
            continue
        out.append(_Row(n, *cells))
    wb.close()
    if not started:
        raise ValidationError.field(
            "file", "Không tìm thấy dòng tiêu đề «Số và ký hiệu hồ sơ» (mẫu danh mục hồ sơ)."
        )
    return out


def import_xlsx(
    uow: UnitOfWork,
    actor: Actor,
    plan_id: uuid.UUID,
    stream: Any,
    filename: str | None,
    content_type: str | None,
) -> PlanView:
    """Replace a draft plan's headings and dossiers with those of an XLSX in the printed form.
    All or nothing: every wrong row is listed (422 ``details.rows``) and nothing is written.
    The file goes through the upload checks (size, type sniffing, zip bomb) first."""
    with uow:
        s = uow.session
        plan = _load(uow, actor, plan_id, lock=True)
        _require_edit(actor, plan)
        if plan.state != "draft":
            raise TransitionNotAllowedError(
                "Danh mục đã phê duyệt: thêm từng hồ sơ thay vì nhập lại cả danh mục.",
                code="file_plan_state",
            )
        item_ids = [i.id for h in plan.headings for i in h.items]
        if item_ids and s.scalar(
            select(Dossier.id).where(Dossier.plan_item_id.in_(item_ids)).limit(1)
        ):
            raise ConflictError(
                "Đã có hồ sơ được mở theo danh mục này: không nhập lại được.",
                code="file_plan_in_use",
            )
        if stream is None:
            raise ValidationError.field("file", "Thiếu tệp XLSX (trường «file»).")
        # The checked path of every upload (size, type sniffing, zip bomb), with the
        # workbook's own limits.
        upload = Upload(stream, filename or "tệp", content_type)
        (stored,) = store_uploads(uow, [upload], IMPORT_LIMITS)
        with open_object(uow, stored.checked.ref.key) as reader:
            data = reader.read()
        rows = _rows(data)
        units = {
            key.lower(): u.id
            for u in s.scalars(select(Unit).where(Unit.organization_id == actor.organization_id))
            for key in (u.abbreviation, u.name)
        }
        errors: dict[str, str] = {}
        headings: list[tuple[_Row, list[tuple[_Row, int | None, uuid.UUID | None]]]] = []
        codes: set[str] = set()
        for r in rows:
            if not r.retention:
                if not r.title:
                    errors[str(r.line)] = "Đề mục thiếu tên."
                    continue
                headings.append((r, []))
                continue
            if not headings:
                errors[str(r.line)] = "Hồ sơ đứng trước mọi đề mục."
                continue
            if not r.code or len(r.code) > 64:
                errors[str(r.line)] = "Thiếu (hoặc quá dài) số và ký hiệu hồ sơ."
                continue
            if len(r.title) < 3 or len(r.title) > 500:
                errors[str(r.line)] = "Tiêu đề hồ sơ phải từ 3 đến 500 ký tự."
                continue
            if r.code in codes:
                errors[str(r.line)] = f"Trùng số và ký hiệu hồ sơ «{r.code}»."
                continue
            try:
                retention = _retention(r.retention)
            except ValueError as exc:
                errors[str(r.line)] = str(exc)
                continue
            unit_id = None
            if r.keeper:
                unit_key = r.keeper.split("/")[0].strip().lower()
                unit_id = units.get(unit_key)
                if unit_id is None:
                    errors[str(r.line)] = f"Không có đơn vị «{r.keeper.split('/')[0].strip()}»."
                    continue
            codes.add(r.code)
            headings[-1][1].append((r, retention, unit_id))
        if errors:
            raise ValidationError(
                "Tệp danh mục có dòng sai; chưa nhập gì.",
                code="file_plan_rows_invalid",
                details={"rows": errors},
            )
        for h in list(plan.headings):
            s.delete(h)
        s.flush()
        for pos, (hr, items) in enumerate(headings):
            heading = FilePlanHeading(
                plan_id=plan.id,
                position=pos,
                code=hr.code[:32] or str(pos + 1),
                title=hr.title[:500],
                unit_id=units.get(hr.title.lower()),
            )
            s.add(heading)
            s.flush()
            for ipos, (r, retention, unit_id) in enumerate(items):
                s.add(
                    FilePlanItem(
                        plan_id=plan.id,
                        heading_id=heading.id,
                        position=ipos,
                        code=r.code,
                        title=r.title,
                        unit_id=unit_id,
                        retention_years=retention,
                        note=r.note[:4000] or None,
                        approved=True,
                    )
                )
        _audit(
            uow, actor, plan, "file_plan_imported",
            headings=len(headings), items=sum(len(i) for _, i in headings),
        )  # fmt: skip
        s.flush()
        s.expire(plan)
        plan = _load(uow, actor, plan_id)
        view = _plan_view(uow, actor, plan)
        uow.commit()
        return view
