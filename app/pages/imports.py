"""The admin's directory import: upload → preview (every problem, or what would change) →
confirm; the template to download. The rules are docflow.imports'; the staged workbook's key
travels in a token signed with the app's secret, bound to the admin and valid one hour."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from flask import current_app, flash, redirect, render_template, request, send_file, url_for
from itsdangerous import BadSignature, URLSafeTimedSerializer

from app.auth import actor_required, page_auth
from app.pages import bp
from app.pages.forms import domain_errors
from app.runtime import make_uow, runtime
from app.uploads import as_upload, file_parts
from docflow import DomainError, imports
from docflow.actors import require_role
from docflow.enums import Role

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
COUNT_LABELS = {
    "organizations_created": "Tổ chức thêm mới",
    "organizations_updated": "Tổ chức cập nhật",
    "units_created": "Đơn vị thêm mới",
    "units_updated": "Đơn vị cập nhật",
    "users_created": "Người dùng thêm mới",
    "users_updated": "Người dùng cập nhật",
    "privilege_requests": "Đề nghị nâng quyền chờ duyệt",
    "activations_emailed": "Liên kết kích hoạt gửi qua thư điện tử",
}


def _can_email() -> bool:
    return bool(runtime().settings.smtp_url)


def _signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key or "", salt="directory-import")


@bp.get("/admin/import/template.xlsx")
@page_auth
def admin_import_template() -> Any:
    require_role(actor_required(), Role.ADMIN)
    return send_file(
        io.BytesIO(imports.template_xlsx()),
        mimetype=XLSX,
        as_attachment=True,
        download_name="mau-nhap-danh-muc.xlsx",
    )


@bp.route("/admin/import", methods=["GET", "POST"])
@page_auth
def admin_import() -> Any:
    actor = actor_required()
    require_role(actor, Role.ADMIN)
    ctx: dict[str, Any] = {
        "errors": {},
        "staged": None,
        "token": None,
        "labels": COUNT_LABELS,
        "can_email": _can_email(),
    }
    if request.method == "GET":
        return render_template("admin/import.html", **ctx)
    if request.form.get("token"):
        return _confirm(actor)
    parts = file_parts("file")
    csvs = [p for p in parts if (p.filename or "").lower().endswith(".csv")]
    if not parts or (csvs and len(csvs) != len(parts)) or (not csvs and len(parts) > 1):
        ctx["errors"] = {
            "file": "Chọn một tệp .xlsx, hoặc các tệp organizations.csv, units.csv, users.csv."
        }
        return render_template("admin/import.html", **ctx), 422
    try:
        if csvs:
            staged = imports.stage_directory_csv(make_uow(), actor, [as_upload(p) for p in csvs])
        else:
            staged = imports.stage_directory_upload(make_uow(), actor, as_upload(parts[0]))
    except DomainError as exc:
        ctx["errors"] = domain_errors(exc)
        return render_template("admin/import.html", **ctx), 422
    ctx["staged"] = staged
    if staged.plan.ok:
        ctx["token"] = _signer().dumps(
            {
                "key": staged.key,
                "user": str(actor.user_id),
                "name": staged.filename,
                "files": staged.files,
            }
        )
    return render_template("admin/import.html", **ctx), 200 if staged.plan.ok else 422


def _confirm(actor: Any) -> Any:
    try:
        data = _signer().loads(request.form["token"], max_age=3600)
    except BadSignature:
        flash("Phiên xem trước đã hết hạn; hãy tải tệp lên lại.", "warning")
        return redirect(url_for("pages.admin_import"))
    if data.get("user") != str(actor.user_id):
        flash("Phiên xem trước không phải của bạn; hãy tải tệp lên lại.", "warning")
        return redirect(url_for("pages.admin_import"))
    try:
        result = imports.import_staged(
            make_uow(),
            actor,
            data["key"],
            source=data["name"],
            link_base=runtime().settings.public_url or request.host_url,
            files=data.get("files") or None,
            email_links=bool(request.form.get("email_links")) and _can_email(),
        )
    except imports.ImportInvalidError as exc:  # the database changed since the preview
        staged = imports.StagedImport(
            data["key"], data["name"], imports.Plan(exc.problems), data.get("files") or {}
        )
        ctx = {
            "errors": {},
            "staged": staged,
            "token": None,
            "labels": COUNT_LABELS,
            "can_email": _can_email(),
        }
        return render_template("admin/import.html", **ctx), 422
    except DomainError as exc:
        flash(exc.message, "danger")
        return redirect(url_for("pages.admin_import"))
    if result.activations:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M")
        return send_file(
            io.BytesIO(imports.activations_xlsx(result.activations)),
            mimetype=XLSX,
            as_attachment=True,
            download_name=f"ma-kich-hoat-{stamp}.xlsx",
        )
    changed = {COUNT_LABELS.get(k, k): v for k, v in result.counts.items() if v}
    flash(
        "Đã nhập: " + ", ".join(f"{k}: {v}" for k, v in changed.items())
        if changed
        else "Không có gì thay đổi.",
        "success",
    )
    return redirect(url_for("pages.admin_import"))
