"""The public page to check the signatures of a PDF, with the report in Vietnamese."""

from __future__ import annotations

from typing import Any

from flask import render_template, request

from app.api.verifications import verify_uploaded
from app.errors import ApiError
from app.pages import bp

COVERAGE = {
    "entire_file": "Toàn bộ tệp",
    "entire_revision": "Toàn bộ phiên bản đã ký (có thay đổi sau đó)",
    "partial": "Một phần",
}
MODIFICATIONS = {
    "none": "Không có",
    "form_filling": "Chỉ điền biểu mẫu, ký thêm (hợp lệ)",
    "annotations": "Thêm ghi chú",
    "other": "Có sửa đổi nội dung",
}
SUMMARY = {
    "valid": ("Hợp lệ", "success"),
    "invalid": ("Không hợp lệ", "danger"),
    "indeterminate": ("Chưa xác định được", "warning"),
}


@bp.route("/verify", methods=["GET", "POST"])
def verify_page() -> Any:
    report = error = None
    status = 200
    headers = {}
    if request.method == "POST":
        try:
            report = verify_uploaded()
        except ApiError as exc:
            error, status = exc.message, exc.status
            if "retry_after" in exc.details:
                headers["Retry-After"] = str(exc.details["retry_after"])
    return (
        render_template(
            "verify.html",
            report=report,
            error=error,
            coverage=COVERAGE,
            modifications=MODIFICATIONS,
            summary=SUMMARY,
        ),
        status,
        headers,
    )
