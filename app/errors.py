"""Errors in the shape of API.md §2 for the API, Vietnamese pages for people.

Every error under ``/api/`` (our DomainErrors, invalid input, and Flask's own 404/405/413) is
``{"error": {"code", "message", "details"}}``.
"""

from __future__ import annotations

import logging
from typing import Any

import pydantic
from flask import Flask, Response, jsonify, render_template, request
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException

from docflow import DomainError
from docflow.db import database_unreachable

log = logging.getLogger(__name__)

STATUS_OF_KIND = {
    "invalid": 422,
    "not_found": 404,
    "forbidden": 403,
    "conflict": 409,
    "unauthenticated": 401,
    "throttled": 429,
}

HTTP_MESSAGES = {
    400: ("bad_request", "Yêu cầu không đúng định dạng."),
    401: ("unauthenticated", "Bạn cần đăng nhập."),
    403: ("forbidden", "Bạn không có quyền thực hiện thao tác này."),
    404: ("not_found", "Không tìm thấy."),
    405: ("method_not_allowed", "Phương thức không được hỗ trợ."),
    409: ("conflict", "Thao tác không thực hiện được ở trạng thái hiện tại."),
    413: ("payload_too_large", "Dữ liệu gửi lên quá lớn."),
    415: ("unsupported_media_type", "Định dạng không được hỗ trợ."),
    422: ("invalid_field", "Dữ liệu không hợp lệ."),
    429: ("too_many_requests", "Quá nhiều yêu cầu, vui lòng thử lại sau."),
    500: ("internal_error", "Lỗi hệ thống. Vui lòng thử lại sau."),
    503: (
        "database_unavailable",
        "Hệ thống tạm thời không truy cập được dữ liệu. Vui lòng thử lại sau.",
    ),
}
# Seconds a client is asked to wait when PostgreSQL cannot be reached (a restart takes a few).
DATABASE_RETRY_AFTER = 5

PYDANTIC_MESSAGES = {
    "missing": "Thiếu trường bắt buộc.",
    "extra_forbidden": "Trường này không được chấp nhận.",
    "string_too_short": "Giá trị quá ngắn.",
    "string_too_long": "Giá trị quá dài.",
    "string_pattern_mismatch": "Giá trị không đúng định dạng.",
    "enum": "Giá trị không nằm trong danh sách cho phép.",
    "uuid_parsing": "Mã định danh (id) không hợp lệ.",
    "date_from_datetime_parsing": "Ngày phải có dạng YYYY-MM-DD.",
    "date_parsing": "Ngày phải có dạng YYYY-MM-DD.",
    "int_parsing": "Phải là số nguyên.",
    "bool_parsing": "Phải là true hoặc false.",
    "too_short": "Danh sách không được rỗng.",
    "greater_than_equal": "Giá trị quá nhỏ.",
    "less_than_equal": "Giá trị quá lớn.",
}


class ApiError(Exception):
    """An error raised by the app layer itself (bad JSON, bad multipart…)."""

    def __init__(self, status: int, code: str, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details or {}


def pydantic_fields(exc: pydantic.ValidationError) -> dict[str, str]:
    fields: dict[str, str] = {}
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "__root__"
        if err["type"] == "value_error":
            msg = str(err["msg"]).removeprefix("Value error, ")
        else:
            msg = PYDANTIC_MESSAGES.get(err["type"], "Giá trị không hợp lệ.")
        fields.setdefault(loc, msg)
    return fields


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def json_error(status: int, code: str, message: str, details: Any = None) -> Response:
    response = jsonify(error_body(code, message, details))
    response.status_code = status
    return response


def wants_json() -> bool:
    return request.path.startswith("/api/")


def log_refusal(status: int, code: str) -> None:
    """Audit a refused attempt of a signed-in person (API or page) with the ids asked for."""
    from app.auth import current_actor
    from app.runtime import make_uow
    from docflow.audit import record_refusal

    actor = current_actor()
    if actor is None:
        return
    ids = {k: str(v) for k, v in (request.view_args or {}).items() if k.endswith("_id")}
    object_type, object_id = next(iter(ids.items()), (None, None))
    if code == "file_not_found" and "file_id" in ids:
        object_type, object_id = "file_id", ids["file_id"]
    try:
        record_refusal(
            make_uow(),
            actor,
            status=status,
            code=code,
            object_type=object_type.removesuffix("_id") if object_type else None,
            object_id=object_id,
            method=request.method,
            path=request.path,
        )
    except Exception:  # the refusal stands even if the log cannot be written
        log.exception("could not audit a refused attempt")


def init_errors(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain(exc: DomainError) -> Any:
        # File refusals carry their own status (413 too large, 415 wrong type).
        status = getattr(exc, "http_status", None) or STATUS_OF_KIND.get(exc.kind, 400)
        if exc.kind == "forbidden":
            log.info("permission refused: %s", exc.code)
        if exc.kind in ("not_found", "forbidden"):
            log_refusal(status, exc.code)
        if wants_json():
            response = json_error(status, exc.code, exc.message, exc.details)
            if status == 429 and "retry_after" in exc.details:
                response.headers["Retry-After"] = str(exc.details["retry_after"])
            return response
        return render_template("error.html", status=status, message=exc.message), status

    @app.errorhandler(pydantic.ValidationError)
    def _invalid(exc: pydantic.ValidationError) -> Any:
        fields = pydantic_fields(exc)
        if wants_json():
            return json_error(422, "invalid_field", "Dữ liệu không hợp lệ.", {"fields": fields})
        return render_template("error.html", status=422, message="Dữ liệu không hợp lệ."), 422

    @app.errorhandler(ApiError)
    def _api(exc: ApiError) -> Any:
        headers = {}
        if exc.status == 429 and "retry_after" in exc.details:
            headers["Retry-After"] = str(exc.details["retry_after"])
        if wants_json():
            response = json_error(exc.status, exc.code, exc.message, exc.details)
            response.headers.update(headers)
            return response
        page = render_template("error.html", status=exc.status, message=exc.message)
        return page, exc.status, headers

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Any:
        status = exc.code or 500
        code, message = HTTP_MESSAGES.get(status, ("http_error", exc.description or ""))
        if status == 400 and exc.description and "CSRF" in exc.description:
            code, message = (
                "csrf_failed",
                "Phiên làm việc của biểu mẫu đã hết hạn, vui lòng thử lại.",
            )
        if wants_json():
            response = json_error(status, code, message)
            if status == 405 and exc.get_response().headers.get("Allow"):
                response.headers["Allow"] = exc.get_response().headers["Allow"]
            return response
        from app.auth import PUBLIC_FILES

        if request.endpoint in PUBLIC_FILES:
            # A file asked for beside a page (a missing icon, a stale static name): plain text,
            # not the error page, which reads the session's messages and would change the
            # cookie of a request that may arrive after the user signed in again.
            return Response(message, status=status, mimetype="text/plain")
        return render_template("error.html", status=status, message=message), status

    @app.errorhandler(DBAPIError)
    def _database(exc: DBAPIError) -> Any:
        if not database_unreachable(exc):
            return _unexpected(exc)
        # Temporary, and the pool reconnects by itself (docflow.db._ping_after_idle, and a lost
        # connection drops the pool's older ones): 503 + Retry-After, so
        # that clients and proxies retry instead of reporting a server fault.
        log.warning("database unavailable: %s", str(exc.orig).splitlines()[0][:200])
        code, message = HTTP_MESSAGES[503]
        headers = {"Retry-After": str(DATABASE_RETRY_AFTER)}
        if wants_json():
            response = json_error(503, code, message)
            response.headers.update(headers)
            return response
        return render_template("error.html", status=503, message=message), 503, headers

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Any:
        log.exception("unhandled error")
        code, message = HTTP_MESSAGES[500]
        if wants_json():
            return json_error(500, code, message)
        return render_template("error.html", status=500, message=message), 500
