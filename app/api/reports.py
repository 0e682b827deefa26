"""Reports (API.md §6, §7): processing statistics per unit, person or organisation, for one
organisation or its whole subtree, as JSON or XLSX; periodic reports (forms, requests, results).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

from flask import Response
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.api import bp
from app.api.spec import Cursor, Limit, parse_body, parse_query, registry
from app.api.task_schemas import ProcessingReportOut, ProcessingRowOut
from app.auth import actor_required, api_auth
from app.runtime import make_uow
from docflow.models import ReportForm
from docflow.reports import (
    ApproveReport,
    CorrectReport,
    CreateReportForm,
    FillReport,
    FormResults,
    ReportBox,
    RequestView,
    RollupReport,
    StatsScope,
    SubmitReport,
    approve_report,
    correct_report,
    create_report_form,
    fill_report,
    form_results,
    get_report_request,
    list_report_forms,
    list_report_requests,
    processing_rollup,
    processing_xlsx,
    results_xlsx,
    return_report,
    signed_pdf,
    submit_report,
)
from storage import content_disposition

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ProcessingQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    date_from: dt.date = Field(alias="from", description="Ngày đầu kỳ (YYYY-MM-DD).")
    date_to: dt.date = Field(alias="to", description="Ngày cuối kỳ (YYYY-MM-DD).")
    group_by: Literal["unit", "user", "organization"] = Field(
        default="unit",
        description="organization: với scope=subtree, dòng đầu là số liệu riêng của tổ chức, "
        "mỗi dòng sau là một tổ chức trực thuộc cùng toàn bộ cấp dưới của nó (xem chi tiết: "
        "gọi lại với organization_id của dòng đó).",
    )
    organization_id: uuid.UUID | None = Field(
        default=None, description="Tổ chức cần thống kê (mặc định: tổ chức của người gọi)."
    )
    scope: StatsScope = Field(
        default=StatsScope.SELF,
        description="self: riêng tổ chức (đếm trực tiếp); subtree: tổ chức và mọi cấp dưới "
        "(từ bảng tổng hợp theo ngày, cập nhật qua hàng đợi trong vòng một phút). "
        "Chỉ lãnh đạo xem tổ chức cấp dưới hoặc scope=subtree.",
    )
    format: Literal["json", "xlsx"] = "json"
    limit: Limit = Field(
        default=None,
        ge=1,
        le=200,
        description="Một trang dòng (1–200, mặc định 50 khi có cursor). Không có limit và "
        "cursor: mọi dòng, như trước. Thứ tự cố định: tên tổ chức, tên dòng, id. "
        "`total` và `total_items` luôn tính trên mọi dòng. Bỏ qua khi format=xlsx.",
    )
    cursor: Cursor = None


class RollupRowOut(ProcessingRowOut):
    organization: dict[str, Any] | None = Field(
        default=None, description="Tổ chức của dòng ({id, name})."
    )
    subtree: bool = Field(default=False, description="Số liệu gồm cả các cấp dưới của tổ chức.")


class RollupReportOut(ProcessingReportOut):
    organization_id: uuid.UUID | None = None
    scope: str = "self"
    source: str = Field(
        default="live", description="live: đếm trực tiếp; aggregate: bảng tổng hợp."
    )
    refreshed_through: dt.date | None = Field(
        default=None, description="Bảng tổng hợp đã tính đến ngày này (scope=subtree)."
    )
    items: list[RollupRowOut]  # type: ignore[assignment]
    total_items: int | None = Field(default=None, description="Số dòng của cả kết quả (mọi trang).")
    next_cursor: str | None = Field(
        default=None, description="Con trỏ trang sau (có khi gọi với limit/cursor và còn dòng)."
    )

    @classmethod
    def of_rollup(cls, report: RollupReport) -> RollupReportOut:
        def row(r: Any) -> RollupRowOut:
            base = ProcessingRowOut.of(r).model_dump()
            org = (
                {"id": r.organization_id, "name": r.organization_name}
                if getattr(r, "organization_id", None)
                else None
            )
            return RollupRowOut(**base, organization=org, subtree=getattr(r, "subtree", False))

        return cls.model_validate(
            {
                "from": report.date_from,
                "to": report.date_to,
                "as_of": report.as_of,
                "group_by": report.group,
                "items": [row(r) for r in report.rows],
                "total": ProcessingRowOut.of(report.total),
                "organization_id": report.organization_id,
                "scope": report.scope.value,
                "source": report.source,
                "refreshed_through": report.refreshed_through,
                "total_items": report.total_items,
                "next_cursor": report.next_cursor,
            }
        )


@registry.operation(
    bp,
    "/reports/processing",
    "GET",
    summary="Thống kê xử lý theo đơn vị / cá nhân / tổ chức, của một tổ chức hoặc cả cấp dưới "
    "(format=xlsx: tệp Excel)",
    tag="reports",
    query=ProcessingQuery,
    response=RollupReportOut,
    produces=XLSX,
    errors=(403, 404, 422),
    rules=(
        "`to` không trước `from`, kỳ thống kê tối đa 800 ngày (422, trường `to`).",
        "`cursor` không phải con trỏ của thao tác này: 422 (trường `cursor`).",
    ),
)
@api_auth
def reports_processing() -> object:
    q = parse_query(ProcessingQuery)
    report = processing_rollup(
        make_uow(),
        actor_required(),
        date_from=q.date_from,
        date_to=q.date_to,
        group_by=q.group_by,
        organization_id=q.organization_id,
        scope=q.scope,
        limit=None if q.format == "xlsx" else q.limit,
        cursor=None if q.format == "xlsx" else q.cursor,
    )
    if q.format == "xlsx":
        name = f"thong-ke-xu-ly-{q.date_from:%Y%m%d}-{q.date_to:%Y%m%d}.xlsx"
        response = Response(processing_xlsx(report), mimetype=XLSX)
        response.headers["Content-Disposition"] = content_disposition(name)
        return response
    return RollupReportOut.of_rollup(report).model_dump(mode="json", by_alias=True)


# --- periodic reports ---------------------------------------------------------------------


class FormOut(BaseModel):
    id: uuid.UUID
    title: str
    fields: list[dict[str, Any]]
    period: str
    deadline_day: int | None
    deadline: dt.date | None
    recipients: dict[str, Any]
    organization: dict[str, Any]
    created_at: dt.datetime

    @classmethod
    def of(cls, f: ReportForm) -> FormOut:
        return cls(
            id=f.id,
            title=f.title,
            fields=f.fields,
            period=f.period,
            deadline_day=f.deadline_day,
            deadline=f.once_deadline,
            recipients=f.recipients,
            organization={"id": f.organization_id, "name": f.organization.name},
            created_at=f.created_at,
        )


class FormList(BaseModel):
    items: list[FormOut]
    next_cursor: str | None = None


class RequestOut(BaseModel):
    id: uuid.UUID
    form: dict[str, Any] = Field(description="{id, title, fields, requested_by}")
    organization: dict[str, Any]
    period: str
    period_start: dt.date
    period_end: dt.date
    deadline: dt.date
    state: str = Field(
        description="open (chưa điền) | late (quá hạn, chưa điền) | filled (đã điền, chờ lãnh "
        "đạo ký duyệt) | approved (đã ký duyệt, chờ văn thư gửi) | submitted | returned"
    )
    version: int
    submitted_at: dt.datetime | None
    submitted_late: bool
    values: dict[str, Any]
    prefilled: dict[str, Any] = Field(
        default_factory=dict, description="Số liệu hệ thống tự điền (trường có source)."
    )
    versions: list[dict[str, Any]] = Field(
        default_factory=list,
        description="Các phiên bản đã gửi, mới nhất trước: {version, submitted_at, values, "
        "comment, signed_pdf} (tệp PDF đã ký: /pdf?version=).",
    )
    allowed_actions: list[str] = Field(
        description="fill, approve, submit, correct, return: việc người gọi làm được lúc này."
    )
    approved_at: dt.datetime | None = None
    approved_by: str | None = Field(default=None, description="Lãnh đạo đã ký duyệt.")
    signed_pdf: bool = Field(default=False, description="Có bản PDF đã ký duyệt chờ gửi.")
    overdue: bool = Field(default=False, description="Chưa gửi và đã quá hạn.")

    @classmethod
    def of(cls, v: RequestView) -> RequestOut:
        return cls(
            id=v.id,
            form={
                "id": v.form_id,
                "title": v.form_title,
                "fields": v.form_fields,
                "requested_by": v.requested_by,
            },
            organization={"id": v.organization_id, "name": v.organization_name},
            period=v.period,
            period_start=v.period_start,
            period_end=v.period_end,
            deadline=v.deadline,
            state=v.state.value,
            version=v.version,
            submitted_at=v.submitted_at,
            submitted_late=v.submitted_late,
            values=v.values,
            prefilled=v.prefilled,
            versions=v.versions,
            allowed_actions=v.allowed_actions,
            approved_at=v.approved_at,
            approved_by=v.approved_by,
            signed_pdf=v.signed_pdf,
            overdue=v.overdue,
        )


class RequestList(BaseModel):
    items: list[RequestOut]
    next_cursor: str | None


class RequestsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    box: ReportBox = Field(default=ReportBox.TO_FILL, description="to_fill: cần gửi; sent: đã gửi.")
    limit: Limit = None
    cursor: Cursor = None


class ResultsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    period: str | None = Field(
        default=None, max_length=16, description="Kỳ: 2026-11, 2026-W48, 2026-Q4, once."
    )
    format: Literal["json", "xlsx"] = "json"


class ResultRowOut(BaseModel):
    organization: dict[str, Any]
    request_id: uuid.UUID | None
    state: str
    submitted_at: dt.datetime | None
    submitted_late: bool
    values: dict[str, Any] = Field(description="Số liệu của phiên bản đã gửi mới nhất.")
    version: int = 0
    overdue: bool = False


class ResultsOut(BaseModel):
    form: FormOut
    period: str
    deadline: dt.date
    items: list[ResultRowOut]
    totals: dict[str, Any] = Field(
        description="Số: tổng; phần trăm: trung bình các báo cáo đã gửi; bảng: tổng từng ô "
        "của các cột số ({dòng: {cột: tổng}})."
    )
    counts: dict[str, int] = Field(
        description="Số tổ chức theo trạng thái; overdue: chưa gửi mà đã quá hạn."
    )

    @classmethod
    def of(cls, r: FormResults) -> ResultsOut:
        return cls(
            form=FormOut.of(r.form),
            period=r.period,
            deadline=r.deadline,
            items=[
                ResultRowOut(
                    organization={"id": x.organization_id, "name": x.organization_name},
                    request_id=x.request_id,
                    state=x.state,
                    submitted_at=x.submitted_at,
                    submitted_late=x.submitted_late,
                    values=x.values,
                    version=x.version,
                    overdue=x.overdue,
                )
                for x in r.rows
            ],
            totals=r.totals,
            counts=r.counts,
        )


class ReturnBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    comment: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


@registry.operation(
    bp,
    "/report-forms",
    "POST",
    summary="Lập mẫu báo cáo định kỳ và gửi yêu cầu kỳ hiện tại tới các tổ chức báo cáo",
    tag="reports",
    body=CreateReportForm,
    response=FormOut,
    status=201,
    errors=(403, 422),
    creates="form_id",
    rules=(
        "`title` và `label` của trường có ít nhất một ký tự khác khoảng trắng, không có ký tự "
        "điều khiển; `key` của các trường không trùng nhau (422, trường).",
        "period=once cần `deadline`, không trước hôm nay; period=weekly: `deadline_day` 1–7 "
        "(422, trường).",
        "`recipients.organization_ids` phải là tổ chức cấp dưới của tổ chức yêu cầu (422 "
        "`invalid_recipient`).",
    ),
)
@api_auth
def report_forms_create() -> object:
    cmd = parse_body(CreateReportForm)
    form = create_report_form(make_uow(), actor_required(), cmd)
    return FormOut.of(form).model_dump(mode="json"), 201


@registry.operation(
    bp,
    "/report-forms",
    "GET",
    summary="Các mẫu báo cáo tổ chức mình yêu cầu",
    tag="reports",
    response=FormList,
    lists="form_id",
)
@api_auth
def report_forms_list() -> object:
    forms = list_report_forms(make_uow(), actor_required())
    return FormList(items=[FormOut.of(f) for f in forms]).model_dump(mode="json")


@registry.operation(
    bp,
    "/report-forms/<uuid:form_id>/results",
    "GET",
    summary="Tổng hợp một kỳ: từng tổ chức (trạng thái, số liệu) và tổng cộng "
    "(format=xlsx: tệp Excel)",
    tag="reports",
    query=ResultsQuery,
    response=ResultsOut,
    errors=(403, 404, 422),
    produces=XLSX,
    rules=(
        "`period` là một kỳ theo chu kỳ của mẫu: 2026-11 (tháng), 2026-W48 (tuần), 2026-Q4 "
        "(quý), once (một lần) (422, trường `period`).",
    ),
)
@api_auth
def report_form_results(form_id: uuid.UUID) -> object:
    q = parse_query(ResultsQuery)
    results = form_results(make_uow(), actor_required(), form_id, period=q.period)
    if q.format == "xlsx":
        response = Response(results_xlsx(results), mimetype=XLSX)
        response.headers["Content-Disposition"] = content_disposition(
            f"tong-hop-bao-cao-{results.period}.xlsx"
        )
        return response
    return ResultsOut.of(results).model_dump(mode="json")


@registry.operation(
    bp,
    "/report-requests",
    "GET",
    summary="Hộp báo cáo: cần gửi (to_fill) hoặc đã gửi (sent)",
    tag="reports",
    query=RequestsQuery,
    response=RequestList,
    errors=(422,),
    lists="request_id",
)
@api_auth
def report_requests_list() -> object:
    q = parse_query(RequestsQuery)
    page = list_report_requests(
        make_uow(), actor_required(), box=q.box, limit=q.limit, cursor=q.cursor
    )
    return RequestList(
        items=[RequestOut.of(v) for v in page.items], next_cursor=page.next_cursor
    ).model_dump(mode="json")


@registry.operation(
    bp,
    "/report-requests/<uuid:request_id>",
    "GET",
    summary="Một yêu cầu báo cáo, với số liệu hệ thống tự điền và các phiên bản đã gửi",
    tag="reports",
    response=RequestOut,
    errors=(404,),
)
@api_auth
def report_request_get(request_id: uuid.UUID) -> object:
    view = get_report_request(make_uow(), actor_required(), request_id)
    return RequestOut.of(view).model_dump(mode="json")


VALUES_RULE = (
    "Mỗi khóa của `values` là `key` của một trường trong mẫu; giá trị: chuỗi (tối đa 4000 ký "
    "tự) cho trường chữ, số không âm (tối đa 10^12; phần trăm tối đa 100) cho trường số, "
    "{mã dòng: {mã cột: giá trị}} với dòng, cột của mẫu cho trường bảng, hoặc null; trường "
    "gathered không nhận giá trị trực tiếp (422, trường `values.<key>`)."
)


@registry.operation(
    bp,
    "/report-requests/<uuid:request_id>/fill",
    "POST",
    summary="Điền (hoặc sửa) báo cáo: số liệu hệ thống biết được tự điền; `from_results` điền "
    "từ kết quả tổng hợp một mẫu của chính tổ chức (chuyển bảng tổng hợp lên cấp trên)",
    tag="reports",
    body=FillReport,
    response=RequestOut,
    errors=(403, 404, 409, 422),
    description="Sửa báo cáo đã ký duyệt thì bỏ chữ ký: lãnh đạo ký duyệt lại. Báo cáo đã gửi "
    "thì đính chính (`/correct`) trước.",
    rules=(
        VALUES_RULE,
        "`from_results.form_id` là mẫu báo cáo của chính tổ chức báo cáo mà người gọi được xem "
        "tổng hợp; `from_results.period` là một kỳ của mẫu đó (422 `invalid_source_form`, "
        "trường).",
    ),
)
@api_auth
def report_request_fill(request_id: uuid.UUID) -> object:
    cmd = parse_body(FillReport)
    uow = make_uow()
    actor = actor_required()
    fill_report(uow, actor, request_id, cmd)
    return RequestOut.of(get_report_request(uow, actor, request_id)).model_dump(mode="json")


@registry.operation(
    bp,
    "/report-requests/<uuid:request_id>/approve",
    "POST",
    summary="Lãnh đạo tổ chức báo cáo ký duyệt: hệ thống lập PDF của báo cáo và ký số "
    "(PAdES) bằng khóa máy chủ giữ",
    tag="reports",
    body=ApproveReport,
    response=RequestOut,
    errors=(403, 404, 409, 422),
    description="409 `report_signer_unavailable` khi máy chủ không giữ khóa ký của người này.",
)
@api_auth
def report_request_approve(request_id: uuid.UUID) -> object:
    cmd = parse_body(ApproveReport)
    uow = make_uow()
    actor = actor_required()
    approve_report(uow, actor, request_id, cmd)
    return RequestOut.of(get_report_request(uow, actor, request_id)).model_dump(mode="json")


@registry.operation(
    bp,
    "/report-requests/<uuid:request_id>/submit",
    "POST",
    summary="Văn thư (hoặc lãnh đạo) gửi báo cáo đã được ký duyệt: một phiên bản mới kèm PDF "
    "đã ký; các phiên bản trước được giữ",
    tag="reports",
    body=SubmitReport,
    response=RequestOut,
    errors=(403, 404, 409, 422),
    description="Số liệu là số liệu đã ký duyệt; `values` (nếu gửi kèm) phải trùng với chúng.",
    rules=(
        VALUES_RULE,
        "`values` gửi kèm phải trùng số liệu đã ký duyệt (422 `report_values_changed`).",
    ),
)
@api_auth
def report_request_submit(request_id: uuid.UUID) -> object:
    cmd = parse_body(SubmitReport)
    uow = make_uow()
    actor = actor_required()
    submit_report(uow, actor, request_id, cmd)
    return RequestOut.of(get_report_request(uow, actor, request_id)).model_dump(mode="json")


@registry.operation(
    bp,
    "/report-requests/<uuid:request_id>/correct",
    "POST",
    summary="Tổ chức báo cáo đính chính báo cáo đã gửi: điền lại, ký duyệt lại, gửi thành "
    "phiên bản mới (phiên bản cũ được giữ)",
    tag="reports",
    body=CorrectReport,
    response=RequestOut,
    errors=(403, 404, 409, 422),
)
@api_auth
def report_request_correct(request_id: uuid.UUID) -> object:
    cmd = parse_body(CorrectReport)
    uow = make_uow()
    actor = actor_required()
    correct_report(uow, actor, request_id, cmd)
    return RequestOut.of(get_report_request(uow, actor, request_id)).model_dump(mode="json")


class PdfQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int | None = Field(
        default=None,
        ge=1,
        le=10_000,
        description="Phiên bản đã gửi; bỏ trống: bản đã ký duyệt chờ gửi, nếu không thì bản "
        "gửi mới nhất.",
    )


@registry.operation(
    bp,
    "/report-requests/<uuid:request_id>/pdf",
    "GET",
    summary="PDF báo cáo đã được lãnh đạo ký duyệt (ký số PAdES)",
    tag="reports",
    query=PdfQuery,
    errors=(404, 422),
    produces="application/pdf",
)
@api_auth
def report_request_pdf(request_id: uuid.UUID) -> Response:
    q = parse_query(PdfQuery)
    data, name = signed_pdf(make_uow(), actor_required(), request_id, version=q.version)
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = content_disposition(name)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@registry.operation(
    bp,
    "/report-requests/<uuid:request_id>/return",
    "POST",
    summary="Tổ chức yêu cầu trả lại báo cáo đã gửi để sửa",
    tag="reports",
    body=ReturnBody,
    response=RequestOut,
    errors=(403, 404, 409, 422),
)
@api_auth
def report_request_return(request_id: uuid.UUID) -> object:
    body = parse_body(ReturnBody)
    uow = make_uow()
    actor = actor_required()
    return_report(uow, actor, request_id, body.comment)
    return RequestOut.of(get_report_request(uow, actor, request_id)).model_dump(mode="json")
