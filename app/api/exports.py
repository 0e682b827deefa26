"""Printable exports: a register for a year (DOCX/XLSX) and an incoming document's slip."""

from __future__ import annotations

import uuid
from typing import Literal

from flask import Response
from pydantic import BaseModel, ConfigDict

from app.api import bp
from app.api.spec import Year, parse_query, registry
from app.auth import actor_required, api_auth
from app.errors import ApiError
from app.runtime import make_uow
from docflow.reports import register_book, slip
from storage import content_disposition

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class RegisterExportQuery(BaseModel):
    """Sổ văn bản của một năm (văn thư, lãnh đạo). Mục của văn bản có độ mật vượt mức được phép
    của người đọc chỉ giữ số và ngày, trích yếu thay bằng «[Văn bản mật]», các cột khác để trống;
    sổ mật trả 403 clearance_required cho người chưa được phép xem văn bản mật."""

    model_config = ConfigDict(extra="forbid")
    year: Year = None
    format: Literal["docx", "xlsx"] = "xlsx"


def register_export(register_id: uuid.UUID, fmt: str, year: int | None = None) -> Response:
    actor = actor_required()
    book = register_book.open_book(make_uow(), actor, register_id)
    if year is not None and year != book.year:
        raise ApiError(404, "register_not_found", f"Sổ này là sổ năm {book.year}.")
    data = (
        register_book.to_docx(make_uow(), book)
        if fmt == "docx"
        else register_book.to_xlsx(make_uow(), book)
    )
    response = Response(data, mimetype=DOCX if fmt == "docx" else XLSX)
    response.headers["Content-Disposition"] = content_disposition(f"{book.name}.{fmt}")
    return response


@registry.operation(
    bp,
    "/reports/registers/<uuid:register_id>",
    "GET",
    summary="In sổ văn bản (DOCX hoặc XLSX)",
    tag="reports",
    query=RegisterExportQuery,
    errors=(403, 404, 422),
    produces=(XLSX, DOCX),
)
@api_auth
def export_register(register_id: uuid.UUID) -> Response:
    q = parse_query(RegisterExportQuery)
    return register_export(register_id, q.format, q.year)


def slip_response(document_id: uuid.UUID) -> Response:
    data = slip.processing_slip(make_uow(), actor_required(), document_id)
    response = Response(data, mimetype=DOCX)
    response.headers["Content-Disposition"] = content_disposition(
        "Phiếu giải quyết văn bản đến.docx"
    )
    return response


@registry.operation(
    bp,
    "/documents/<uuid:document_id>/slip",
    "GET",
    summary="Phiếu giải quyết văn bản đến (DOCX)",
    tag="reports",
    errors=(404,),
    produces=DOCX,
)
@api_auth
def document_slip(document_id: uuid.UUID) -> Response:
    return slip_response(document_id)
