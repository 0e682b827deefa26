"""Citizen feedback pages: the public mailbox of an organisation (``/gop-y/<code>``, also per
village: ``/gop-y/<code>/<village>``), the tracking page, the monthly results; and the officers'
boxes, one item with its moves, the mailbox settings, the QR poster and the quarterly XLSX.

The public pages need no sign-in and no JavaScript: one small stylesheet, a plain form. They are
exempt from the CSRF token (no ambient credentials to forge; the rate limits apply) so that a
form left open on a phone for an hour still sends. Everything a citizen wrote is rendered as
text (Jinja escapes it), never as HTML.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pydantic
from flask import Response, abort, flash, redirect, render_template, request, url_for

from app.api.feedback import (
    check_lookup_rate,
    check_submission_rate,
    file_response,
    parse_submission,
)
from app.auth import actor_required, page_auth
from app.errors import ApiError, pydantic_fields
from app.pages import bp
from app.pages.forms import year_arg
from app.runtime import make_uow, runtime
from app.security import csrf
from app.uploads import as_upload, file_parts
from docflow import DomainError
from docflow.feedback import (
    Complexity,
    FeedbackActionRequest,
    FeedbackBox,
    FeedbackState,
    MailboxSettings,
    RegisterPaper,
    act_on_feedback,
    figures_xlsx,
    get_feedback,
    get_file,
    get_mailbox,
    handling_choices,
    list_feedback,
    mailbox_poster,
    monthly_summary,
    own_mailbox,
    place_slug,
    public_status,
    quarter_figures,
    register_paper,
    save_mailbox,
    submit_feedback,
)
from docflow.workdays import local_date
from storage import content_disposition

BOXES = [
    (FeedbackBox.INBOX, "Cần xử lý"),
    (FeedbackBox.OVERDUE, "Quá hạn"),
    (FeedbackBox.QUARANTINE, "Khu cách ly"),
    (FeedbackBox.ALL, "Tất cả"),
]
QUARANTINE_REASONS = {
    "honeypot": "Nghi gửi tự động",
    "links": "Chứa nhiều liên kết",
    "duplicate": "Trùng nội dung trong 24 giờ",
}
FORM_FIELDS = ("category", "place", "content", "name", "phone", "email", "address")


def _public(template: str, http_status: int = 200, **context: Any) -> Any:
    return Response(render_template(template, **context), status=http_status)


def _form_values() -> dict[str, Any]:
    form = request.form
    values: dict[str, Any] = {k: form.get(k, "").strip() or None for k in FORM_FIELDS}
    values["consent"] = form.get("consent") == "1"
    values["share_contact"] = form.get("share_contact") == "1"
    values["website"] = form.get("website") or None
    return values


@bp.route("/gop-y/<code>", methods=["GET", "POST"], endpoint="feedback_public_form")
@bp.route("/gop-y/<code>/<place>", methods=["GET", "POST"], endpoint="feedback_public_place")
@csrf.exempt  # type: ignore[untyped-decorator]
def feedback_public_form(code: str, place: str | None = None) -> Any:
    try:
        box = get_mailbox(make_uow(), code[:32])
    except DomainError:
        return _public("feedback/public_missing.html", 404)
    chosen = None
    if place is not None:
        chosen = next((p for p in box.places if place_slug(p) == place), None)
        if chosen is None:
            return _public("feedback/public_missing.html", 404)
    values: dict[str, Any] = {"place": chosen}
    errors: dict[str, str] = {}
    message = None
    status = 200
    retry_after = None
    if request.method == "POST":
        values = _form_values()
        rt = runtime()
        try:
            check_submission_rate(rt)
            cmd = parse_submission(rt, {"organization_code": box.code, **values})
            files = [as_upload(part) for part in file_parts()]
            receipt = submit_feedback(make_uow(), cmd, files)
        except pydantic.ValidationError as exc:
            errors, status = pydantic_fields(exc), 422
            message = "Vui lòng kiểm tra lại các mục được đánh dấu."
        except ApiError as exc:
            message, status = exc.message, exc.status
            retry_after = exc.details.get("retry_after")
        except DomainError as exc:
            errors = dict((exc.details or {}).get("fields", {}))
            message = exc.message
            status = int(getattr(exc, "http_status", None) or 422)
        else:
            # Post/Redirect/Get: reloading the result page reads, it never sends again.
            target = url_for("pages.feedback_public_sent", code=box.code, ma=receipt.tracking_code)
            return redirect(target, code=303)
    response = _public(
        "feedback/public_form.html",
        status,
        box=box,
        values=values,
        errors=errors,
        message=message,
        place=place,
    )
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response


@bp.get("/gop-y/<code>/da-gui")
def feedback_public_sent(code: str) -> Any:
    """The page a sent form redirects to: the tracking code and the expected answer date. It
    reads like the tracking page (same rate limit, nothing personal), so reloading it is safe."""
    tracking = (request.args.get("ma") or "").strip()[:32]
    try:
        box = get_mailbox(make_uow(), code[:32])
        check_lookup_rate(runtime())
        status = public_status(make_uow(), tracking)
    except ApiError as exc:
        return _public("feedback/public_missing.html", exc.status)
    except DomainError:
        return _public("feedback/public_missing.html", 404)
    return _public("feedback/public_done.html", box=box, status=status)


@bp.get("/gop-y/tra-cuu")
def feedback_public_track() -> Any:
    code = (request.args.get("ma") or "").strip()[:32]
    status = None
    message = None
    http = 200
    if code:
        try:
            check_lookup_rate(runtime())
            status = public_status(make_uow(), code)
        except ApiError as exc:
            message, http = exc.message, exc.status
        except DomainError as exc:
            message, http = exc.message, 404
    return _public("feedback/public_track.html", http, code=code, status=status, message=message)


@bp.get("/gop-y/<code>/ket-qua")
def feedback_public_results(code: str) -> Any:
    today = local_date(runtime().clock())
    month = request.args.get("thang") or f"{today.year}-{today.month:02d}"
    try:
        year, mon = (int(x) for x in month.split("-", 1))
        summary = monthly_summary(make_uow(), code[:32], year, mon)
    except (ValueError, DomainError):
        return _public("feedback/public_missing.html", 404)
    prev = dt.date(year, mon, 1) - dt.timedelta(days=1)
    return _public("feedback/public_results.html", summary=summary, code=code, prev=prev)


# ----------------------------------------------------------------- officers


@bp.get("/feedback")
@page_auth
def feedback_list_page() -> Any:
    try:
        box = FeedbackBox(request.args.get("box") or "inbox")
    except ValueError:
        abort(404)
    page = list_feedback(
        make_uow(), actor_required(), box=box, limit=30, cursor=request.args.get("cursor")
    )
    return render_template(
        "feedback/list.html",
        page=page,
        box=box,
        boxes=BOXES,
        reasons=QUARANTINE_REASONS,
        FeedbackState=FeedbackState,
    )


@bp.route("/feedback/new", methods=["GET", "POST"])
@page_auth
def feedback_paper_page() -> Any:
    actor = actor_required()
    errors: dict[str, str] = {}
    if request.method == "POST":
        data: dict[str, Any] = {k: request.form.get(k, "").strip() or None for k in FORM_FIELDS}
        data["share_contact"] = request.form.get("share_contact") == "1"
        data["received_on"] = request.form.get("received_on", "").strip() or None
        try:
            view = register_paper(make_uow(), actor, RegisterPaper.model_validate(data))
        except pydantic.ValidationError as exc:
            errors = pydantic_fields(exc)
        except DomainError as exc:
            errors = dict((exc.details or {}).get("fields", {})) or {"content": exc.message}
        else:
            flash(f"Đã vào sổ thư giấy, mã theo dõi {view.tracking_code}.", "success")
            return redirect(url_for("pages.feedback_page", feedback_id=view.id))
    box = own_mailbox(make_uow(), actor)
    return render_template(
        "feedback/paper.html",
        box=box,
        errors=errors,
        form=request.form,
        today=local_date(runtime().clock()),
    ), 422 if errors else 200


@bp.get("/feedback/<uuid:feedback_id>")
@page_auth
def feedback_page(feedback_id: uuid.UUID) -> Any:
    actor = actor_required()
    view = get_feedback(make_uow(), actor, feedback_id)
    people, orgs = handling_choices(make_uow(), actor)
    return render_template(
        "feedback/show.html",
        v=view,
        people=people,
        orgs=orgs,
        reasons=QUARANTINE_REASONS,
        Complexity=Complexity,
        categories=own_mailbox(make_uow(), actor).categories,
    )


@bp.post("/feedback/<uuid:feedback_id>/actions")
@page_auth
def feedback_action_page(feedback_id: uuid.UUID) -> Any:
    data: dict[str, Any] = {k: v for k, v in request.form.items() if k != "csrf_token" and v != ""}
    if "in_scope" in data:
        data["in_scope"] = data["in_scope"] == "1"
    try:
        cmd = FeedbackActionRequest.model_validate(data).root
        act_on_feedback(make_uow(), actor_required(), feedback_id, cmd)
    except pydantic.ValidationError as exc:
        flash("; ".join(pydantic_fields(exc).values()) or "Dữ liệu không hợp lệ.", "danger")
    except DomainError as exc:
        if exc.kind == "not_found":
            raise
        flash(exc.message, "danger")
    else:
        flash("Đã cập nhật phản ánh.", "success")
    return redirect(url_for("pages.feedback_page", feedback_id=feedback_id))


@bp.get("/feedback/<uuid:feedback_id>/files/<uuid:file_id>")
@page_auth
def feedback_file_page(feedback_id: uuid.UUID, file_id: uuid.UUID) -> Any:
    return file_response(get_file(make_uow(), actor_required(), feedback_id, file_id))


@bp.get("/feedback/poster.pdf")
@page_auth
def feedback_poster() -> Any:
    rt = runtime()
    base = rt.settings.public_url or request.host_url
    name, pdf = mailbox_poster(make_uow(), actor_required(), base, request.args.get("noi"))
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": content_disposition(name)},
    )


@bp.get("/feedback/statistics.xlsx")
@page_auth
def feedback_statistics_xlsx() -> Any:
    today = local_date(runtime().clock())
    year = year_arg(None, "year") if request.args.get("year") else today.year
    try:
        quarter = int(request.args.get("quarter") or (today.month - 1) // 3 + 1)
    except ValueError:
        quarter = 0
    if year is None or not 1 <= quarter <= 4:
        abort(422)
    f = quarter_figures(make_uow(), actor_required(), year, quarter)
    return Response(
        figures_xlsx(f),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": content_disposition(f"phan-anh-quy-{quarter}-{year}.xlsx")},
    )


@bp.route("/feedback/mailbox", methods=["GET", "POST"])
@page_auth
def feedback_mailbox_page() -> Any:
    actor = actor_required()
    errors: dict[str, str] = {}
    if request.method == "POST":

        def lines(name: str) -> list[str]:
            return [x.strip() for x in request.form.get(name, "").splitlines() if x.strip()]

        try:
            save_mailbox(
                make_uow(),
                actor,
                MailboxSettings.model_validate(
                    {
                        "categories": lines("categories"),
                        "places": lines("places"),
                        "retention_days": request.form.get("retention_days") or 730,
                        "enabled": request.form.get("enabled") == "1",
                    }
                ),
            )
        except pydantic.ValidationError as exc:
            errors = pydantic_fields(exc)
        else:
            flash("Đã lưu cấu hình hòm thư.", "success")
            return redirect(url_for("pages.feedback_mailbox_page"))
    box = own_mailbox(make_uow(), actor)
    base = runtime().settings.public_url or request.host_url
    # A refused value is shown under its box (a line of a list names the line), and the boxes
    # keep what was typed.
    shown: dict[str, str] = {}
    for key, message in errors.items():
        name, _, index = key.partition(".")
        line = f"Dòng {int(index) + 1}: " if index.isdigit() else ""
        shown[name] = "; ".join(filter(None, [shown.get(name), line + message]))
    typed = request.form if errors else None
    return render_template(
        "feedback/mailbox.html",
        box=box,
        errors=shown,
        typed=typed,
        base=base.rstrip("/"),
        slug=place_slug,
    ), 422 if errors else 200
