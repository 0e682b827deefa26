"""Outgoing documents in the API (API.md §3): drafts (upload or template), new versions, the
versions list, deliveries. Actions go through ``POST /documents/{id}/actions``."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from flask import request
from pydantic import BaseModel, ConfigDict, Field

from app.api import bp
from app.api.document_schemas import DocumentOut
from app.api.documents import answer_json
from app.api.spec import FILE_PART, parse_body, registry, validate_input
from app.auth import actor_required, api_auth
from app.runtime import make_uow
from app.uploads import multipart, require_multipart, uploads
from docflow.models import Delivery, DraftVersion
from docflow.outgoing import axis_deliveries
from docflow.outgoing import drafts as outgoing
from docflow.outgoing import versions as outgoing_versions
from docflow.outgoing.axis_deliveries import DeliveryAction as DeliveryActionName
from docflow.outgoing.commands import DraftMeta, TemplateDraft, TemplateVersion
from docflow.outgoing.states import STATUS_LABELS, DeliveryState


@registry.operation(
    bp,
    "/outgoing",
    "POST",
    summary="Tạo dự thảo văn bản đi từ tệp DOCX hoặc PDF",
    tag="outgoing",
    multipart=DraftMeta,
    response=DocumentOut,
    status=201,
    errors=(403, 409, 413, 415, 422),
    creates="document_id",
    link_params={"file_id": "$response.body#/files/0/id"},
    rules=(
        "`doc_type` phải có trong danh mục loại văn bản đang dùng (trường `doc_type`).",
        "`signer_user_id` là lãnh đạo của cơ quan mình (trường `signer_user_id`); mỗi nơi nhận phải có trong danh bạ (trường `recipients.N`).",
        "Cần một phần `files` là DOCX hoặc PDF (trường `files`; loại khác: 415).",
        "Văn bản thay thế, đính chính (`replaces_document_id`, `replaces_kind`): văn bản đi đã ban hành của cơ quan mà người soạn xem được (trường `replaces_document_id`, 422 `document_not_found` hoặc `not_issued`); văn bản thay thế cùng loại với văn bản bị thay thế (422 `replacement_type`), đính chính bằng công văn CV (422 `correction_type`); văn bản đã được thay thế bởi một văn bản còn hiệu lực thì không thay thế lần nữa (409 `already_replaced`). Không ghi `recipients`: gửi đến nơi nhận của văn bản đó.",
    ),
    files_required=True,
)
@api_auth
def create_outgoing() -> object:
    data, files = multipart("draft")
    meta = validate_input(DraftMeta, data)
    doc = outgoing.create_draft(make_uow(), actor_required(), meta, files)
    return answer_json(doc.id), 201


@registry.operation(
    bp,
    "/outgoing/template",
    "POST",
    summary="Tạo dự thảo văn bản đi theo mẫu Nghị định 30",
    tag="outgoing",
    body=TemplateDraft,
    response=DocumentOut,
    status=201,
    errors=(403, 409, 422),
    creates="document_id",
    rules=(
        "`doc_type` phải có trong danh mục loại văn bản đang dùng (trường `doc_type`).",
        "`signer_user_id` là lãnh đạo của cơ quan mình (trường `signer_user_id`); mỗi nơi nhận phải có trong danh bạ (trường `recipients.N`).",
        "Văn bản thay thế, đính chính (`replaces_document_id`, `replaces_kind`): văn bản đi đã ban hành của cơ quan mà người soạn xem được (trường `replaces_document_id`, 422 `document_not_found` hoặc `not_issued`); văn bản thay thế cùng loại với văn bản bị thay thế (422 `replacement_type`), đính chính bằng công văn CV (422 `correction_type`); văn bản đã được thay thế bởi một văn bản còn hiệu lực thì không thay thế lần nữa (409 `already_replaced`). Không ghi `recipients`: gửi đến nơi nhận của văn bản đó.",
    ),
)
@api_auth
def create_outgoing_from_template() -> object:
    cmd = parse_body(TemplateDraft)
    doc = outgoing.create_template_draft(make_uow(), actor_required(), cmd)
    return answer_json(doc.id), 201


@registry.operation(
    bp,
    "/documents/<uuid:document_id>/files",
    "POST",
    summary="Thêm bản dự thảo mới hoặc tệp đính kèm (multipart files, kind=draft|attachment)",
    tag="outgoing",
    form={
        "type": "object",
        "required": ["files"],
        "properties": {
            "files": {"type": "array", "minItems": 1, "items": FILE_PART},
            "kind": {"type": "string", "enum": ["draft", "attachment"], "default": "draft"},
            "note": {"type": "string"},
        },
    },
    rules=(
        "Mỗi tệp phải là DOCX hoặc PDF (dự thảo) hay một loại được phép (đính kèm); loại khác: "
        "415.",
    ),
    response=DocumentOut,
    status=201,
    errors=(403, 404, 409, 413, 415, 422),
)
@api_auth
def add_document_files(document_id: uuid.UUID) -> object:
    require_multipart()
    kind = request.form.get("kind") or "draft"
    note = request.form.get("note") or None
    doc = outgoing_versions.add_version(
        make_uow(), actor_required(), document_id, uploads(kind), kind=kind, note=note
    )
    return answer_json(doc.id), 201


@registry.operation(
    bp,
    "/documents/<uuid:document_id>/versions/template",
    "POST",
    summary="Bản dự thảo mới theo mẫu (nội dung sửa đổi)",
    tag="outgoing",
    body=TemplateVersion,
    response=DocumentOut,
    status=201,
    errors=(403, 404, 409, 422),
)
@api_auth
def add_template_version(document_id: uuid.UUID) -> object:
    cmd = parse_body(TemplateVersion)
    doc = outgoing_versions.add_template_version(make_uow(), actor_required(), document_id, cmd)
    return answer_json(doc.id), 201


class VersionOut(BaseModel):
    version: int
    source_file_id: uuid.UUID
    pdf_file_id: uuid.UUID | None
    conversion_state: str
    conversion_error: str | None
    layout: dict[str, Any] | None
    from_template: bool
    note: str | None
    created_by: str
    created_at: dt.datetime

    @classmethod
    def of(cls, v: DraftVersion) -> VersionOut:
        return cls(
            version=v.version,
            source_file_id=v.source_file_id,
            pdf_file_id=v.pdf_file_id,
            conversion_state=v.conversion_state,
            conversion_error=v.conversion_error,
            layout=v.layout,
            from_template=v.template is not None,
            note=v.note,
            created_by=v.created_by_name,
            created_at=v.created_at,
        )


class VersionList(BaseModel):
    items: list[VersionOut]


@registry.operation(
    bp,
    "/documents/<uuid:document_id>/versions",
    "GET",
    summary="Các bản dự thảo (mới nhất trước), trạng thái chuyển PDF",
    tag="outgoing",
    response=VersionList,
    errors=(404,),
)
@api_auth
def list_versions(document_id: uuid.UUID) -> object:
    rows = outgoing_versions.list_versions(make_uow(), actor_required(), document_id)
    return VersionList(items=[VersionOut.of(v) for v in rows]).model_dump(mode="json")


class RecipientOut(BaseModel):
    name: str
    code: str | None
    organization_id: uuid.UUID | None = None


class DeliveryEventOut(BaseModel):
    status_code: str
    status_text: str
    at: dt.datetime


class DeliveryOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    id: uuid.UUID
    recipient: RecipientOut
    channel: str
    state: str
    state_label: str
    status_code: str | None
    status_text: str | None
    updated_at: dt.datetime
    sent_at: dt.datetime | None
    events: list[DeliveryEventOut]
    error: str | None = Field(
        default=None,
        description="Vì sao chưa gửi được (tiếng Việt): lần thử gần nhất bị trục liên thông từ "
        "chối hoặc không trả lời. Có khi state là queued (sẽ tự gửi lại lúc next_attempt_at) "
        "hoặc failed (văn thư chọn retry hoặc cancel).",
    )
    attempts: int = 0
    next_attempt_at: dt.datetime | None = None
    allowed_actions: list[DeliveryActionName] = Field(default_factory=list)

    @classmethod
    def of(cls, d: Delivery, allowed: list[str] | None = None) -> DeliveryOut:
        return cls(
            id=d.id,
            recipient=RecipientOut(
                name=d.recipient_name,
                code=d.recipient_code,
                organization_id=d.recipient_organization_id,
            ),
            channel=d.channel,
            state=d.state,
            state_label=DeliveryState(d.state).label,
            status_code=d.status_code,
            status_text=d.status_text
            or (STATUS_LABELS.get(d.status_code, "") if d.status_code else None),
            updated_at=d.updated_at,
            sent_at=d.sent_at,
            events=[
                DeliveryEventOut(status_code=e.status_code, status_text=e.status_text, at=e.at)
                for e in d.events
            ],
            error=d.last_error if d.state in ("queued", "failed") else None,
            attempts=d.attempts,
            next_attempt_at=d.next_attempt_at if d.state == "queued" else None,
            allowed_actions=[DeliveryActionName(a) for a in allowed or []],
        )


class DeliveryList(BaseModel):
    items: list[DeliveryOut]


@registry.operation(
    bp,
    "/documents/<uuid:document_id>/deliveries",
    "GET",
    summary="Tình hình gửi nhận theo từng nơi nhận (mã trạng thái 01-06, 13, 15)",
    tag="outgoing",
    response=DeliveryList,
    errors=(404,),
    lists="delivery_id",
)
@api_auth
def list_deliveries(document_id: uuid.UUID) -> object:
    rows = axis_deliveries.list_with_actions(make_uow(), actor_required(), document_id)
    return DeliveryList(items=[DeliveryOut.of(d, allowed) for d, allowed in rows]).model_dump(
        mode="json"
    )


class DeliveryActionIn(BaseModel):
    """``retry``: gửi lại ngay một nơi nhận qua Trục liên thông chưa gửi được (đang chờ gửi lại
    hoặc gửi lỗi); ``cancel``: không gửi nữa. Nếu một lần gửi trước không được trục trả lời
    (gói tin có thể đã đến), hủy gửi cũng đề nghị nơi nhận đó thu hồi (mã 13, gói thu hồi
    gửi qua trục; nơi nhận trả lời 15 hoặc 16)."""

    model_config = ConfigDict(extra="forbid")
    action: DeliveryActionName


@registry.operation(
    bp,
    "/documents/<uuid:document_id>/deliveries/<uuid:delivery_id>/actions",
    "POST",
    summary="Gửi lại hoặc hủy gửi một nơi nhận chưa gửi được (văn thư của cơ quan gửi)",
    tag="outgoing",
    body=DeliveryActionIn,
    response=DeliveryOut,
    errors=(400, 403, 404, 409, 422),
)
@api_auth
def delivery_action(document_id: uuid.UUID, delivery_id: uuid.UUID) -> object:
    cmd = parse_body(DeliveryActionIn)
    actor = actor_required()
    d, allowed = axis_deliveries.act_on_delivery(
        make_uow(), actor, document_id, delivery_id, cmd.action.value
    )
    return DeliveryOut.of(d, allowed).model_dump(mode="json")
