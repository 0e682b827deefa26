"""Citizen feedback (API.md §7): the public submission and lookup (no sign-in), the officers'
boxes, one item, its moves, paper letters, the mailbox settings and the quarterly figures.

The public submission is multipart (``meta``: JSON, ``files``: up to 5 photos or PDFs of at most
10 MB each); it is rate-limited per client, per phone number and for everyone together
(``DHTN_FEEDBACK_RATE_LIMIT``, ``DHTN_FEEDBACK_PHONE_LIMIT``, ``DHTN_FEEDBACK_RATE_LIMIT_GLOBAL``;
429 ``rate_limited`` with Retry-After), and counted before anything is read or stored.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from typing import Any

from flask import Response, request
from pydantic import BaseModel, ConfigDict, Field

from app.api import bp
from app.api.spec import Cursor, Limit, parse_body, parse_query, registry, validate_input
from app.auth import actor_required, api_auth
from app.errors import ApiError
from app.ratelimit import Limit as RateLimit
from app.ratelimit import check_key, check_rate
from app.runtime import Runtime, make_uow, runtime
from app.uploads import as_upload, file_parts, meta, stored_file
from docflow.feedback import (
    FeedbackActionRequest,
    FeedbackBox,
    FeedbackSummary,
    FeedbackView,
    Mailbox,
    MailboxSettings,
    PublicStatus,
    RegisterPaper,
    SubmitFeedback,
    act_on_feedback,
    figures_xlsx,
    get_feedback,
    get_file,
    list_feedback,
    public_status,
    quarter_figures,
    register_paper,
    save_mailbox,
    submit_feedback,
)
from docflow.feedback.services import FILE_TYPES, MAX_FILE_BYTES, MAX_FILES
from docflow.uploads import open_object
from storage import content_disposition

WRITE_ERRORS = (403, 404, 409, 413, 415, 422)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# The largest multipart body worth reading: the files plus the form's text.
MAX_BODY = MAX_FILES * MAX_FILE_BYTES + 256 * 1024

SENDER_RULES = (
    "`phone` là số điện thoại Việt Nam (0 và 9–11 chữ số, có thể viết +84, dấu cách, chấm, "
    "gạch) và `email` là địa chỉ thư điện tử; để trống = không cung cấp (422, trường).",
    "`category` và `place` phải nằm trong danh sách của hòm thư khi hòm thư có danh sách "
    "(422, trường).",
)
PUBLIC_RULES = SENDER_RULES
PUBLIC_DESCRIPTION = (
    "Không cần đăng nhập. Phần `meta` (JSON) theo lược đồ SubmitFeedback; phần `files`: tối đa "
    "5 ảnh (JPEG, PNG) hoặc PDF, mỗi tệp tối đa 10 MB (413 file_too_large, 415 "
    "unsupported_file_type; tệp giả mạo kiểu bị từ chối), toàn bộ yêu cầu tối đa 50 MB (413). "
    "Giới hạn số lần gửi theo máy khách, theo số điện thoại và cho toàn hệ thống (429 "
    "rate_limited, kèm Retry-After). Nội dung trùng lặp trong 24 giờ, chứa nhiều liên kết, hoặc "
    "điền trường ẩn `website` được nhận nhưng đưa vào khu cách ly chờ cán bộ xem xét. Hạn trả "
    "lời: 7 ngày làm việc kể từ ngày nhận (20 ngày nếu được phân loại phức tạp)."
)


class TrackingCodeOut(BaseModel):
    tracking_code: str
    due_date: dt.date


class PublicStatusOut(BaseModel):
    """Nothing personal: no name, phone, e-mail, address, content or officer."""

    tracking_code: str
    state: str
    state_label: str
    organization_name: str
    category: str
    received_at: dt.datetime
    due_date: dt.date
    answer: str | None
    answered_at: dt.datetime | None

    @classmethod
    def of(cls, v: PublicStatus) -> PublicStatusOut:
        return cls(
            tracking_code=v.tracking_code,
            state=v.state.value,
            state_label=v.state.label,
            organization_name=v.organization_name,
            category=v.category,
            received_at=v.received_at,
            due_date=v.due_date,
            answer=v.answer,
            answered_at=v.answered_at,
        )


class SenderOut(BaseModel):
    name: str | None
    phone: str | None
    email: str | None
    address: str | None
    share_contact: bool


class FeedbackFileOut(BaseModel):
    id: uuid.UUID
    filename: str
    content_type: str
    size: int


class FeedbackTrailOut(BaseModel):
    seq: int
    at: dt.datetime
    actor_name: str
    organization_name: str
    action: str
    action_label: str
    to_state: str
    comment: str | None


class FeedbackSummaryOut(BaseModel):
    id: uuid.UUID
    tracking_code: str | None
    channel: str
    category: str
    place: str | None
    excerpt: str
    state: str
    quarantine_reason: str | None
    complexity: str
    received_at: dt.datetime
    due_date: dt.date
    is_overdue: bool

    @classmethod
    def of(cls, v: FeedbackSummary) -> FeedbackSummaryOut:
        return cls(**{k: getattr(v, k) for k in cls.model_fields if k != "state"}, state=v.state)


class FeedbackPage(BaseModel):
    items: list[FeedbackSummaryOut]
    next_cursor: str | None


class FeedbackOut(BaseModel):
    id: uuid.UUID
    organization_id: uuid.UUID
    organization_name: str
    tracking_code: str
    channel: str
    category: str
    place: str | None
    content: str
    state: str
    state_label: str
    quarantine_reason: str | None
    complexity: str
    in_scope: bool | None
    received_at: dt.datetime
    due_date: dt.date
    original_due_date: dt.date
    extension_reason: str | None
    is_overdue: bool
    assignee_id: uuid.UUID | None
    assignee_name: str | None
    task_id: uuid.UUID | None
    forwarded_to_org_id: uuid.UUID | None
    forwarded_to_agency: str | None
    letter_document_id: uuid.UUID | None = Field(
        default=None,
        description="Chuyển ra cơ quan ngoài: dự thảo công văn (văn bản đi) soạn từ phản ánh.",
    )
    origin_id: uuid.UUID | None
    answer: str | None
    answered_at: dt.datetime | None
    reject_reason: str | None
    sender: SenderOut | None = Field(
        description="Chỉ cán bộ của tổ chức người dân gửi đến thấy; tổ chức được chuyển đến "
        "chỉ thấy khi người gửi đồng ý (share_contact)."
    )
    sender_hidden: bool
    files: list[FeedbackFileOut]
    trail: list[FeedbackTrailOut]
    allowed_actions: list[str]

    @classmethod
    def of(cls, v: FeedbackView) -> FeedbackOut:
        data: dict[str, Any] = {
            k: getattr(v, k)
            for k in cls.model_fields
            if k not in ("state", "state_label", "sender", "files", "trail")
        }
        return cls(
            **data,
            state=v.state.value,
            state_label=v.state.label,
            sender=SenderOut(**v.sender.__dict__) if v.sender else None,
            files=[FeedbackFileOut(**f.__dict__) for f in v.files],
            trail=[FeedbackTrailOut(**t.__dict__) for t in v.trail],
        )


class FeedbackQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    box: FeedbackBox = FeedbackBox.INBOX
    limit: Limit = None
    cursor: Cursor = None


class StatisticsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    year: int = Field(ge=2000, le=2100, description="Năm (2000–2100).")
    quarter: int = Field(ge=1, le=4)
    format: str = Field(default="json", pattern="^(json|xlsx)$")


class CountRowOut(BaseModel):
    key: str
    received: int
    answered: int
    on_time: int


class FeedbackStatisticsOut(BaseModel):
    organization_name: str
    year: int
    quarter: int
    start: dt.date
    end: dt.date
    received: int
    answered: int
    on_time: int
    late: int
    open: int
    overdue: int
    forwarded: int
    rejected: int
    on_time_rate: float | None
    by_category: list[CountRowOut]
    by_place: list[CountRowOut]
    by_state: dict[str, int]


class MailboxOut(BaseModel):
    organization_id: uuid.UUID
    code: str
    name: str
    categories: list[str]
    places: list[str]
    retention_days: int
    enabled: bool

    @classmethod
    def of(cls, m: Mailbox) -> MailboxOut:
        return cls(**m.__dict__)


def _phone_key(rt: Runtime, phone: str) -> str:
    """The counter's key of a phone number: a keyed hash, so the counters hold no number."""
    secret = (rt.settings.secret_key or "").encode()
    return "feedback:phone:" + hashlib.sha256(secret + phone.encode()).hexdigest()[:40]


def parse_submission(rt: Runtime, data: dict[str, Any]) -> SubmitFeedback:
    """Validate the meta; count the phone number's limit before anything is stored."""
    cmd = validate_input(SubmitFeedback, data)
    if cmd.phone:
        check_key(rt, _phone_key(rt, cmd.phone), RateLimit(*rt.settings.feedback_phone_limit))
    return cmd


def check_submission_rate(rt: Runtime) -> None:
    check_rate(
        rt,
        "feedback",
        RateLimit(*rt.settings.feedback_rate_limit),
        RateLimit(*rt.settings.feedback_rate_limit_global),
    )
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise ApiError(
            413, "payload_too_large", "Dữ liệu gửi lên quá lớn.", {"max_bytes": MAX_BODY}
        )


@registry.operation(
    bp,
    "/public/feedback",
    "POST",
    summary="Người dân gửi phản ánh, kiến nghị (không cần đăng nhập; multipart: meta + files)",
    tag="feedback",
    multipart=SubmitFeedback,
    response=TrackingCodeOut,
    status=201,
    auth=False,
    creates="tracking_code",
    link_params={"tracking_code": "$response.body#/tracking_code"},
    rules=PUBLIC_RULES,
    errors=(404, 413, 415, 422, 429),
    description=PUBLIC_DESCRIPTION,
)
def public_feedback_create() -> object:
    rt = runtime()
    check_submission_rate(rt)
    if not request.mimetype.startswith("multipart/"):
        raise ApiError(400, "malformed_request", "Gửi dạng multipart/form-data: meta + files.")
    cmd = parse_submission(rt, meta())
    files = [as_upload(part) for part in file_parts()]
    receipt = submit_feedback(make_uow(), cmd, files)
    return TrackingCodeOut(
        tracking_code=receipt.tracking_code, due_date=receipt.due_date
    ).model_dump(mode="json"), 201


def check_lookup_rate(rt: Runtime) -> None:
    check_rate(
        rt,
        "feedback-lookup",
        RateLimit(*rt.settings.public_rate_limit),
        RateLimit(*rt.settings.public_rate_limit_global),
    )


@registry.operation(
    bp,
    "/public/feedback/<tracking_code>",
    "GET",
    summary="Tra cứu phản ánh bằng mã theo dõi (không có thông tin cá nhân)",
    tag="feedback",
    response=PublicStatusOut,
    auth=False,
    errors=(404, 429),
)
def public_feedback_get(tracking_code: str) -> object:
    check_lookup_rate(runtime())
    status = public_status(make_uow(), tracking_code[:32])
    return PublicStatusOut.of(status).model_dump(mode="json")


@registry.operation(
    bp,
    "/feedback",
    "GET",
    summary="Hòm thư phản ánh của tổ chức: inbox (đang xử lý), all, quarantine, overdue",
    tag="feedback",
    query=FeedbackQuery,
    response=FeedbackPage,
    errors=(403, 422),
    lists="feedback_id",
)
@api_auth
def feedback_list() -> object:
    q = parse_query(FeedbackQuery)
    page = list_feedback(make_uow(), actor_required(), box=q.box, limit=q.limit, cursor=q.cursor)
    return FeedbackPage(
        items=[FeedbackSummaryOut.of(v) for v in page.items], next_cursor=page.next_cursor
    ).model_dump(mode="json")


@registry.operation(
    bp,
    "/feedback",
    "POST",
    summary="Vào sổ một thư góp ý giấy từ hòm thư dự phòng",
    tag="feedback",
    body=RegisterPaper,
    response=FeedbackOut,
    status=201,
    errors=WRITE_ERRORS,
    creates="feedback_id",
    rules=(*SENDER_RULES, "`received_on` không sau hôm nay (422, trường `received_on`)."),
)
@api_auth
def feedback_register_paper() -> object:
    view = register_paper(make_uow(), actor_required(), parse_body(RegisterPaper))
    return FeedbackOut.of(view).model_dump(mode="json"), 201


@registry.operation(
    bp,
    "/feedback/<uuid:feedback_id>",
    "GET",
    summary="Một phản ánh (kèm thông tin người gửi nếu được phép xem; việc xem được ghi nhật ký)",
    tag="feedback",
    response=FeedbackOut,
    errors=(404,),
)
@api_auth
def feedback_get(feedback_id: uuid.UUID) -> object:
    return FeedbackOut.of(get_feedback(make_uow(), actor_required(), feedback_id)).model_dump(
        mode="json"
    )


@registry.operation(
    bp,
    "/feedback/<uuid:feedback_id>/actions",
    "POST",
    summary="Thao tác trên phản ánh: accept, reject, classify, assign, forward, answer, close, "
    "request_extension, release, discard",
    tag="feedback",
    body=FeedbackActionRequest,
    response=FeedbackOut,
    errors=WRITE_ERRORS,
    rules=(
        "forward: đúng một trong `organization_id` (tổ chức có trong hệ thống, 422 trường "
        "`organization_id`) và `agency` không trống (422, trường `forward`).",
        "assign: `user_id` là người của cơ quan (422, trường `user_id`).",
        "classify: `category` nằm trong danh sách của hòm thư (422, trường `category`).",
    ),
    description=(
        "classify: complexity simple (7 ngày làm việc) | complex (20), tính từ ngày người dân "
        "gửi; assign: user_id (lãnh đạo giao thì tạo nhiệm vụ); forward: organization_id (tổ "
        "chức trong hệ thống, nhận bản sao vào hòm thư) hoặc agency (cơ quan ngoài); answer: "
        "text (công bố trên trang tra cứu, gửi thư điện tử nếu có); request_extension: "
        "working_days (1-20) và reason, một lần; release/discard: cho phản ánh ở khu cách ly. "
        "Văn thư: accept, reject, classify, release, discard; lãnh đạo và cán bộ phụ trách phản "
        "ánh (feedback_officer): mọi thao tác."
    ),
)
@api_auth
def feedback_action(feedback_id: uuid.UUID) -> object:
    cmd = parse_body(FeedbackActionRequest).root
    view = act_on_feedback(make_uow(), actor_required(), feedback_id, cmd)
    return FeedbackOut.of(view).model_dump(mode="json")


@registry.operation(
    bp,
    "/feedback/<uuid:feedback_id>/files/<uuid:file_id>/content",
    "GET",
    summary="Ảnh hoặc tệp gửi kèm phản ánh",
    tag="feedback",
    errors=(404,),
    produces=tuple(sorted(t.media_type for t in FILE_TYPES)),
)
@api_auth
def feedback_file_content(feedback_id: uuid.UUID, file_id: uuid.UUID) -> Response:
    return file_response(get_file(make_uow(), actor_required(), feedback_id, file_id))


def file_response(row: Any) -> Response:
    return stored_file(
        open_object(make_uow(), row.object_key),
        content_type=row.content_type,
        size=row.size,
        name=row.filename,
        sha256=row.sha256,
    )


@registry.operation(
    bp,
    "/feedback/statistics",
    "GET",
    summary="Số liệu phản ánh theo quý (báo cáo cấp trên): theo lĩnh vực, thôn/tổ, trạng thái; "
    "format=xlsx để tải Excel. Không có thông tin người gửi.",
    tag="feedback",
    query=StatisticsQuery,
    response=FeedbackStatisticsOut,
    errors=(403, 422),
    produces=XLSX,
)
@api_auth
def feedback_statistics() -> object:
    q = parse_query(StatisticsQuery)
    f = quarter_figures(make_uow(), actor_required(), q.year, q.quarter)
    if q.format == "xlsx":
        return Response(
            figures_xlsx(f),
            mimetype=XLSX,
            headers={
                "Content-Disposition": content_disposition(
                    f"phan-anh-quy-{f.quarter}-{f.year}.xlsx"
                )
            },
        )
    data = {k: getattr(f, k) for k in FeedbackStatisticsOut.model_fields if k != "on_time_rate"}
    data["by_category"] = [CountRowOut(**r.__dict__) for r in f.by_category]
    data["by_place"] = [CountRowOut(**r.__dict__) for r in f.by_place]
    return FeedbackStatisticsOut(**data, on_time_rate=f.on_time_rate).model_dump(mode="json")


@registry.operation(
    bp,
    "/feedback/mailbox",
    "PUT",
    summary="Cấu hình hòm thư: lĩnh vực, thôn/tổ dân phố, thời hạn lưu thông tin người gửi",
    tag="feedback",
    body=MailboxSettings,
    response=MailboxOut,
    errors=(403, 422),
)
@api_auth
def feedback_mailbox_save() -> object:
    box = save_mailbox(make_uow(), actor_required(), parse_body(MailboxSettings))
    return MailboxOut.of(box).model_dump(mode="json")
