"""Dossiers and file plans (API.md §7): open, list, file documents, close, reopen, transfer,
accept, return; the BagIt package; the table of contents; the file plan and its XLSX form."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any, Literal

from flask import Response, request, stream_with_context
from pydantic import BaseModel, ConfigDict, Field

from app.api import bp
from app.api.dossier_schemas import (
    DisposalList,
    DisposalOut,
    DossierEventList,
    DossierEventOut,
    DossierList,
    DossierOut,
    DossierPage,
    DossierSummaryOut,
    FilePlanList,
    FilePlanOut,
    FilePlanSummaryOut,
)
from app.api.spec import FILE_PART, Cursor, Limit, Year, parse_body, parse_query, registry
from app.auth import actor_required, api_auth
from app.runtime import make_uow
from app.uploads import stored_file
from docflow.dossiers import (
    AddHeading,
    AddPlanItem,
    CreateFilePlan,
    DisposalActionCommand,
    DossierActionCommand,
    DossierState,
    FileInto,
    FilePlanActionCommand,
    OpenDossier,
    ProposeDisposal,
    act_on_dossier,
    build_package,
    disposal,
    dossier_events,
    dossiers_of_document,
    file_into,
    fileplan,
    get_dossier,
    list_dossiers,
    open_dossier,
    open_toc,
    unfile,
)
from docflow.dossiers.queries import transfer_list
from storage import content_disposition

WRITE_ERRORS = (403, 404, 409, 422)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

DOSSIER_RULES = (
    "Trạng thái: open → closed (close) → transferred (transfer) → archived (accept); "
    "transferred → closed (return, kèm lý do); closed → open (reopen: lãnh đạo cơ quan, kèm lý "
    "do trong comment). Hồ sơ có độ mật riêng (secrecy): văn bản mật hơn hồ sơ không đưa vào "
    "được (422 secrecy_above_dossier); người không đủ mức tiếp cận không thấy hồ sơ (404). "
    "Người đưa văn bản vào hồ sơ phải xem được văn bản (văn bản không xem được trả 422 "
    "document_not_found như văn bản không tồn tại). Thứ tự từ chối: 404 → 403 → 409 → 422."
)


UNIT_RULE = "`unit_id` phải là đơn vị của cơ quan người gọi (422, trường `unit_id`)."
OPEN_RULES = (
    "`plan_item_id` phải là hồ sơ trong danh mục hồ sơ năm `year` của cơ quan "
    "(422, trường `plan_item_id`), đã được lãnh đạo phê duyệt (mục thêm sau khi danh mục "
    "được duyệt còn chờ: 409 `plan_item_not_approved`).",
    UNIT_RULE,
    "`secrecy` không cao hơn mức tiếp cận của người gọi (422, trường `secrecy`).",
)
FILE_RULES = (
    "`document_id` / `document_ids` phải là văn bản người gọi xem được (422 "
    "`document_not_found`), không mật hơn hồ sơ (422 `secrecy_above_dossier`); `task_id` phải "
    "là nhiệm vụ người gọi xem được (422 `task_not_found`).",
)
ACTION_RULES = (
    "reopen, return, hold cần lý do trong `comment` (422 `reason_required`, trường `comment`).",
)
PLAN_RULES = (
    UNIT_RULE,
    "`heading_id` phải là đề mục của danh mục này (422, trường `heading_id`); `keeper_id` "
    "phải là người của cơ quan (422, trường `keeper_id`).",
    "`copy_from_year` phải là năm đã có danh mục hồ sơ (422, trường `copy_from_year`).",
)


def _dossier_json(view: Any, results: Any = None) -> dict[str, Any]:
    return DossierOut.of(view, results).model_dump(mode="json")


@registry.operation(
    bp,
    "/dossiers",
    "POST",
    summary="Mở hồ sơ (từ danh mục hồ sơ, hoặc ngoài danh mục)",
    tag="dossiers",
    body=OpenDossier,
    response=DossierOut,
    status=201,
    errors=WRITE_ERRORS,
    creates="dossier_id",
    rules=OPEN_RULES,
    description=(
        "Với plan_item_id: số, ký hiệu, tiêu đề, đơn vị và thời hạn bảo quản lấy từ danh mục "
        "(trừ trường được gửi). Không có plan_item_id: bắt buộc code, title, retention_years "
        "(null = vĩnh viễn); hồ sơ được đánh dấu planned=false và thêm vào danh mục năm đó "
        "(nếu có) chờ lãnh đạo phê duyệt. " + DOSSIER_RULES
    ),
)
@api_auth
def dossiers_create() -> object:
    view = open_dossier(make_uow(), actor_required(), parse_body(OpenDossier))
    return _dossier_json(view), 201


class DossierQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    year: Year = None
    state: DossierState | None = None
    unit_id: uuid.UUID | None = None
    mine: bool = False
    q: str | None = Field(default=None, max_length=200)
    limit: Limit = None
    cursor: Cursor = None


@registry.operation(
    bp,
    "/dossiers",
    "GET",
    summary="Danh sách hồ sơ người dùng được xem (mới nhất trước, theo số ký hiệu)",
    tag="dossiers",
    query=DossierQuery,
    response=DossierPage,
    errors=(422,),
    lists="dossier_id",
)
@api_auth
def dossiers_list() -> object:
    q = parse_query(DossierQuery)
    page = list_dossiers(
        make_uow(),
        actor_required(),
        year=q.year,
        state=q.state,
        unit_id=q.unit_id,
        mine=q.mine,
        q=q.q,
        limit=q.limit,
        cursor=q.cursor,
    )
    return DossierPage(
        items=[DossierSummaryOut.of(s) for s in page.items], next_cursor=page.next_cursor
    ).model_dump(mode="json")


class TransferListQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    year: int = Field(ge=2000, le=2100, description="Năm (2000–2100).")
    unit_id: uuid.UUID | None = None


@registry.operation(
    bp,
    "/dossiers/transfer-list",
    "GET",
    summary="Mục lục hồ sơ nộp lưu và biên bản giao nhận của một năm (DOCX)",
    tag="dossiers",
    query=TransferListQuery,
    errors=(422,),
    rules=(UNIT_RULE,),
    produces=DOCX,
)
@api_auth
def dossiers_transfer_list() -> Response:
    q = parse_query(TransferListQuery)
    name, data = transfer_list(make_uow(), actor_required(), q.year, q.unit_id)
    response = Response(data, mimetype=DOCX)
    response.headers["Content-Disposition"] = content_disposition(name)
    return response


@registry.operation(
    bp,
    "/dossiers/<uuid:dossier_id>",
    "GET",
    summary="Một hồ sơ, với các văn bản theo thứ tự",
    tag="dossiers",
    response=DossierOut,
    errors=(404,),
)
@api_auth
def dossiers_get(dossier_id: uuid.UUID) -> object:
    return _dossier_json(get_dossier(make_uow(), actor_required(), dossier_id))


@registry.operation(
    bp,
    "/dossiers/<uuid:dossier_id>/events",
    "GET",
    summary="Quá trình của hồ sơ (mở, đưa văn bản vào, kết thúc, nộp lưu…), cũ trước",
    tag="dossiers",
    response=DossierEventList,
    errors=(404,),
)
@api_auth
def dossiers_events(dossier_id: uuid.UUID) -> object:
    events = dossier_events(make_uow(), actor_required(), dossier_id)
    return DossierEventList(items=[DossierEventOut.of(e) for e in events]).model_dump(mode="json")


@registry.operation(
    bp,
    "/dossiers/<uuid:dossier_id>/documents",
    "POST",
    summary="Đưa văn bản (hoặc nhiệm vụ, hoặc nhiều văn bản) vào hồ sơ",
    tag="dossiers",
    body=FileInto,
    response=DossierOut,
    errors=WRITE_ERRORS,
    rules=FILE_RULES,
    description=(
        "Một trong: document_id (API.md), task_id, document_ids (tối đa 1000; từng văn bản "
        "được xét riêng, kết quả trong results). Hồ sơ không ở trạng thái open: 409. "
        + DOSSIER_RULES
    ),
)
@api_auth
def dossiers_file(dossier_id: uuid.UUID) -> object:
    cmd = parse_body(FileInto)
    view, results = file_into(make_uow(), actor_required(), dossier_id, cmd)
    return _dossier_json(view, results if cmd.document_ids is not None else None)


@registry.operation(
    bp,
    "/dossiers/<uuid:dossier_id>/documents/<uuid:document_id>",
    "DELETE",
    summary="Rút văn bản khỏi hồ sơ đang lập",
    tag="dossiers",
    response=DossierOut,
    errors=WRITE_ERRORS,
)
@api_auth
def dossiers_unfile(dossier_id: uuid.UUID, document_id: uuid.UUID) -> object:
    return _dossier_json(unfile(make_uow(), actor_required(), dossier_id, document_id))


@registry.operation(
    bp,
    "/dossiers/<uuid:dossier_id>/actions",
    "POST",
    summary="Kết thúc, mở lại, nộp lưu, tiếp nhận, trả lại hồ sơ",
    tag="dossiers",
    body=DossierActionCommand,
    response=DossierOut,
    errors=WRITE_ERRORS,
    rules=ACTION_RULES,
    description=(
        "close: cố định nội dung, ngày và số trang, lập mục lục văn bản (DOCX; PDF khi có bộ "
        "chuyển đổi); hồ sơ rỗng: 409 dossier_empty. accept: lưu trữ viên kiểm tra toàn vẹn "
        "(SHA-256) mọi tệp; sai: 409 fixity_failed. " + DOSSIER_RULES
    ),
)
@api_auth
def dossiers_action(dossier_id: uuid.UUID) -> object:
    cmd = parse_body(DossierActionCommand)
    return _dossier_json(act_on_dossier(make_uow(), actor_required(), dossier_id, cmd))


def _send_file(path: Path, workdir: Path, filename: str, mimetype: str) -> Response:
    size = path.stat().st_size

    def chunks() -> Any:
        try:
            with path.open("rb") as f:
                while block := f.read(1024 * 1024):
                    yield block
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    response = Response(stream_with_context(chunks()), mimetype=mimetype)
    response.headers["Content-Length"] = str(size)
    response.headers["Content-Disposition"] = content_disposition(filename)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@registry.operation(
    bp,
    "/dossiers/<uuid:dossier_id>/package",
    "GET",
    summary="Gói nộp lưu của hồ sơ: túi BagIt (ZIP) với mọi tệp, siêu dữ liệu và mã SHA-256",
    tag="dossiers",
    errors=(403, 404, 409),
    produces="application/zip",
    description=(
        "ZIP chứa bagit.txt, bag-info.txt, manifest-sha256.txt, tagmanifest-sha256.txt, "
        "data/dossier.json (siêu dữ liệu hồ sơ), data/muc-luc-van-ban.docx, "
        "data/documents/NNNN/metadata.json và các tệp của văn bản. Chỉ hồ sơ đã kết thúc "
        "(hồ sơ đang lập: 409 dossier_open). Gói có mọi văn bản của hồ sơ nên chỉ cấp cho "
        "người được xem tất cả: văn thư, lãnh đạo, lưu trữ cơ quan khi hồ sơ đã nộp lưu, "
        "hoặc người mà không văn bản nào của hồ sơ bị ẩn (không thì 403 "
        "dossier_record_restricted). Trong `GET /dossiers/{id}`, mỗi người chỉ thấy các văn "
        "bản, nhiệm vụ đã lập hồ sơ mà chính họ được xem."
    ),
)
@api_auth
def dossiers_package(dossier_id: uuid.UUID) -> Response:
    workdir = Path(tempfile.mkdtemp(prefix="dhtn-bag-"))
    try:
        path, name = build_package(make_uow(), actor_required(), dossier_id, workdir)
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    return _send_file(path, workdir, name, "application/zip")


class TocQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    format: Literal["docx", "pdf"] = "docx"


@registry.operation(
    bp,
    "/dossiers/<uuid:dossier_id>/table-of-contents",
    "GET",
    summary="Mục lục văn bản của hồ sơ đã kết thúc (DOCX hoặc PDF)",
    tag="dossiers",
    query=TocQuery,
    errors=(403, 404, 409, 422),
    produces=(DOCX, "application/pdf"),
    description=(
        "Mục lục liệt kê mọi văn bản của hồ sơ: như gói nộp lưu, chỉ cấp cho người được xem "
        "tất cả (không thì 403 dossier_record_restricted)."
    ),
)
@api_auth
def dossiers_toc(dossier_id: uuid.UUID) -> Response:
    q = parse_query(TocQuery)
    name, ctype, reader = open_toc(make_uow(), actor_required(), dossier_id, q.format)
    return stored_file(reader, content_type=ctype, size=reader.size, name=name)


@registry.operation(
    bp,
    "/documents/<uuid:document_id>/dossiers",
    "GET",
    summary="Các hồ sơ (người dùng được xem) có văn bản này",
    tag="dossiers",
    response=DossierList,
    errors=(404,),
)
@api_auth
def document_dossiers(document_id: uuid.UUID) -> object:
    rows = dossiers_of_document(make_uow(), actor_required(), document_id)
    return DossierList(items=[DossierSummaryOut.of(s) for s in rows]).model_dump(mode="json")


# ------------------------------------------------------------------ file plans


@registry.operation(
    bp,
    "/file-plans",
    "POST",
    summary="Lập danh mục hồ sơ của năm (trống, hoặc sao chép từ năm trước)",
    tag="dossiers",
    body=CreateFilePlan,
    response=FilePlanOut,
    status=201,
    errors=WRITE_ERRORS,
    creates="plan_id",
    rules=PLAN_RULES[2:],
)
@api_auth
def file_plans_create() -> object:
    view = fileplan.create_plan(make_uow(), actor_required(), parse_body(CreateFilePlan))
    return FilePlanOut.of(view).model_dump(mode="json"), 201


@registry.operation(
    bp,
    "/file-plans",
    "GET",
    summary="Các danh mục hồ sơ của cơ quan (mới nhất trước)",
    tag="dossiers",
    response=FilePlanList,
    lists="plan_id",
)
@api_auth
def file_plans_list() -> object:
    rows = fileplan.list_plans(make_uow(), actor_required())
    return FilePlanList(
        items=[FilePlanSummaryOut(id=i, year=y, state=s) for i, y, s in rows]
    ).model_dump(mode="json")


@registry.operation(
    bp,
    "/file-plans/<uuid:plan_id>",
    "GET",
    summary="Một danh mục hồ sơ: đề mục và hồ sơ",
    tag="dossiers",
    response=FilePlanOut,
    errors=(404,),
)
@api_auth
def file_plans_get(plan_id: uuid.UUID) -> object:
    return FilePlanOut.of(fileplan.get_plan(make_uow(), actor_required(), plan_id)).model_dump(
        mode="json"
    )


@registry.operation(
    bp,
    "/file-plans/<uuid:plan_id>/headings",
    "POST",
    summary="Thêm đề mục vào danh mục hồ sơ",
    tag="dossiers",
    body=AddHeading,
    response=FilePlanOut,
    errors=WRITE_ERRORS,
    rules=PLAN_RULES[:1],
)
@api_auth
def file_plans_heading(plan_id: uuid.UUID) -> object:
    view = fileplan.add_heading(make_uow(), actor_required(), plan_id, parse_body(AddHeading))
    return FilePlanOut.of(view).model_dump(mode="json")


@registry.operation(
    bp,
    "/file-plans/<uuid:plan_id>/items",
    "POST",
    summary="Thêm hồ sơ vào danh mục (sau phê duyệt: chờ lãnh đạo duyệt thay đổi)",
    tag="dossiers",
    body=AddPlanItem,
    response=FilePlanOut,
    errors=WRITE_ERRORS,
    rules=PLAN_RULES[:2],
)
@api_auth
def file_plans_item(plan_id: uuid.UUID) -> object:
    view = fileplan.add_item(make_uow(), actor_required(), plan_id, parse_body(AddPlanItem))
    return FilePlanOut.of(view).model_dump(mode="json")


@registry.operation(
    bp,
    "/file-plans/<uuid:plan_id>/actions",
    "POST",
    summary="Phê duyệt danh mục hồ sơ (hoặc các thay đổi sau phê duyệt): lãnh đạo cơ quan",
    tag="dossiers",
    body=FilePlanActionCommand,
    response=FilePlanOut,
    errors=WRITE_ERRORS,
)
@api_auth
def file_plans_action(plan_id: uuid.UUID) -> object:
    cmd = parse_body(FilePlanActionCommand)
    return FilePlanOut.of(
        fileplan.act_on_plan(make_uow(), actor_required(), plan_id, cmd)
    ).model_dump(mode="json")


@registry.operation(
    bp,
    "/file-plans/<uuid:plan_id>/xlsx",
    "GET",
    summary="Danh mục hồ sơ theo mẫu in (XLSX)",
    tag="dossiers",
    errors=(404,),
    produces=XLSX,
)
@api_auth
def file_plans_export(plan_id: uuid.UUID) -> Response:
    name, data = fileplan.export_xlsx(make_uow(), actor_required(), plan_id)
    response = Response(data, mimetype=XLSX)
    response.headers["Content-Disposition"] = content_disposition(name)
    return response


@registry.operation(
    bp,
    "/file-plans/<uuid:plan_id>/xlsx",
    "POST",
    summary="Nhập danh mục hồ sơ dự thảo từ XLSX theo mẫu in (multipart: file)",
    tag="dossiers",
    response=FilePlanOut,
    errors=(403, 404, 409, 413, 415, 422),
    form={"type": "object", "required": ["file"], "properties": {"file": FILE_PART}},
    rules=(
        "`file` phải là bảng tính XLSX đọc được, có trang tính, không quá số dòng cho phép, "
        "mọi dòng hợp lệ (422, trường `file` hoặc `file_plan_rows_invalid`).",
    ),
    description=(
        "Thay toàn bộ đề mục và hồ sơ của danh mục dự thảo. Dòng có cột «Thời hạn bảo quản» "
        "trống là đề mục; thời hạn là «Vĩnh viễn» hoặc số năm. Có dòng sai: 422 "
        "file_plan_rows_invalid, details.rows = {số dòng: lỗi}, không ghi gì."
    ),
)
@api_auth
def file_plans_import(plan_id: uuid.UUID) -> object:
    f = request.files.get("file")
    view = fileplan.import_xlsx(
        make_uow(),
        actor_required(),
        plan_id,
        f.stream if f else None,
        f.filename if f else None,
        f.mimetype if f else None,
    )
    return FilePlanOut.of(view).model_dump(mode="json")


# ------------------------------------------------------------------ disposals

DISPOSAL_RULES = (
    "Lưu trữ viên đề xuất tiêu hủy các hồ sơ đã vào Lưu trữ và đã hết thời hạn bảo quản; "
    "lãnh đạo cơ quan phê duyệt (approve) hoặc từ chối (reject). Hồ sơ vĩnh viễn (409 "
    "permanent_dossier), đang bị giữ lại (409 legal_hold), chưa hết hạn (409 "
    "retention_not_reached) không bao giờ được tiêu hủy; kiểm tra lại khi phê duyệt. Khi phê "
    "duyệt: tệp của văn bản bị xóa (đối tượng lưu trữ được dọn khi không còn bản ghi nào dùng), "
    "siêu dữ liệu và biên bản tiêu hủy (record) được giữ; văn bản còn thuộc hồ sơ khác giữ tệp."
)


@registry.operation(
    bp,
    "/disposals/due",
    "GET",
    summary="Hồ sơ đã hết thời hạn bảo quản, chờ xem xét tiêu hủy",
    tag="dossiers",
    response=DossierList,
)
@api_auth
def disposals_due() -> object:
    rows = disposal.due_for_review(make_uow(), actor_required())
    return DossierList(items=[DossierSummaryOut.of(s) for s in rows]).model_dump(mode="json")


@registry.operation(
    bp,
    "/disposals",
    "POST",
    summary="Đề xuất tiêu hủy hồ sơ (lưu trữ viên)",
    tag="dossiers",
    body=ProposeDisposal,
    response=DisposalOut,
    status=201,
    errors=WRITE_ERRORS,
    creates="disposal_id",
    rules=(
        "`dossier_ids` phải là hồ sơ của cơ quan người gọi xem được (422, trường `dossier_ids.N`).",
    ),
    description=DISPOSAL_RULES,
)
@api_auth
def disposals_create() -> object:
    view = disposal.propose_disposal(make_uow(), actor_required(), parse_body(ProposeDisposal))
    return DisposalOut.of(view).model_dump(mode="json"), 201


@registry.operation(
    bp,
    "/disposals",
    "GET",
    summary="Các đề xuất tiêu hủy của cơ quan (lưu trữ viên, lãnh đạo)",
    tag="dossiers",
    response=DisposalList,
    lists="disposal_id",
)
@api_auth
def disposals_list() -> object:
    rows = disposal.list_disposals(make_uow(), actor_required())
    return DisposalList(items=[DisposalOut.of(v) for v in rows]).model_dump(mode="json")


@registry.operation(
    bp,
    "/disposals/<uuid:disposal_id>",
    "GET",
    summary="Một đề xuất tiêu hủy, với biên bản khi đã phê duyệt",
    tag="dossiers",
    response=DisposalOut,
    errors=(404,),
)
@api_auth
def disposals_get(disposal_id: uuid.UUID) -> object:
    view = disposal.get_disposal(make_uow(), actor_required(), disposal_id)
    return DisposalOut.of(view).model_dump(mode="json")


@registry.operation(
    bp,
    "/disposals/<uuid:disposal_id>/actions",
    "POST",
    summary="Phê duyệt hoặc từ chối tiêu hủy (lãnh đạo cơ quan)",
    tag="dossiers",
    body=DisposalActionCommand,
    response=DisposalOut,
    errors=WRITE_ERRORS,
    description=DISPOSAL_RULES,
)
@api_auth
def disposals_action(disposal_id: uuid.UUID) -> object:
    cmd = parse_body(DisposalActionCommand)
    view = disposal.decide_disposal(make_uow(), actor_required(), disposal_id, cmd)
    return DisposalOut.of(view).model_dump(mode="json")
