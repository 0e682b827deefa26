"""The leader's page for signing many drafts at once (issue 21), from a phone too: the drafts
waiting for their signature with checkboxes, the signing method (the server-held demo key, or
"Ký từ xa" through the operator's remote signing service with the OTP/PIN typed now), and the
outcome of each document. Linking the remote signing account is on the same page."""

from __future__ import annotations

from typing import Any

import pydantic
from flask import flash, redirect, render_template, request, url_for

from app.auth import actor_required, page_auth
from app.errors import pydantic_fields
from app.pages import bp
from app.pages.forms import domain_errors, same_site
from app.pages.outgoing import _labels
from app.runtime import make_uow
from docflow import DomainError, outgoing
from docflow.actors import Actor
from docflow.outgoing import BulkSign, LinkRemoteSigning, Outcome


def _context(actor: Actor) -> dict[str, Any]:
    uow = make_uow()
    return {
        "docs": outgoing.waiting_for_my_signature(uow, actor),
        "account": outgoing.get_account(uow, actor),
        "server_key": outgoing.server_key_available(uow, actor),
        **_labels(),
    }


def _render(actor: Actor, **extra: Any) -> Any:
    return render_template("outgoing/bulk_sign.html", **{**_context(actor), **extra})


@bp.get("/outgoing/ky-nhieu")
@page_auth
def outgoing_bulk_sign() -> Any:
    return _render(actor_required(), chosen=set(), results=None, error=None)


def _form() -> dict[str, Any]:
    f = request.form
    data: dict[str, Any] = {
        "action": "sign",
        "document_ids": f.getlist("document_id"),
        "method": f.get("method") or "server",
    }
    for key in ("pin", "otp", "comment"):
        if f.get(key, "").strip():
            data[key] = f[key]
    return data


@bp.post("/outgoing/ky-nhieu")
@page_auth
def outgoing_bulk_sign_post() -> Any:
    actor = actor_required()
    data = _form()
    chosen = {str(i) for i in data["document_ids"]}
    try:
        cmd = BulkSign.model_validate(data)
        outcomes = outgoing.sign_many(make_uow(), actor, cmd.document_ids, cmd)
    except pydantic.ValidationError as exc:
        fields = pydantic_fields(exc)
        message = (
            "Hãy chọn ít nhất một văn bản."
            if "document_ids" in fields
            else "; ".join(fields.values())
        )
        return _render(
            actor, chosen=chosen, results=None, error=message, method=data["method"]
        ), 422
    except DomainError as exc:
        return _render(
            actor,
            chosen=chosen,
            results=None,
            error="Chưa văn bản nào được ký: " + "; ".join(domain_errors(exc).values()),
            method=data["method"],
        ), 200
    subjects = outgoing.subjects_of(make_uow(), actor, [o.document_id for o in outcomes])
    results = [_row(o, subjects.get(o.document_id)) for o in outcomes]
    return _render(actor, chosen=set(), results=results, error=None)


def _row(outcome: Outcome, subject: str | None) -> dict[str, Any]:
    return {
        "id": outcome.document_id,
        "ok": outcome.ok,
        "subject": subject or "Văn bản không tìm thấy",
        "message": outcome.error.message if outcome.error else None,
        "code": outcome.error.code if outcome.error else None,
    }


@bp.post("/outgoing/ky-tu-xa/lien-ket")
@page_auth
def remote_signing_link() -> Any:
    actor = actor_required()
    try:
        cmd = LinkRemoteSigning.model_validate(
            {"credential_id": request.form.get("credential_id", "")}
        )
        outgoing.link_account(make_uow(), actor, cmd)
    except pydantic.ValidationError:
        flash("Nhập mã chứng thư ký từ xa (do nhà cung cấp cấp cho bạn).", "danger")
    except DomainError as exc:
        flash("Chưa liên kết được: " + "; ".join(domain_errors(exc).values()), "danger")
    else:
        flash("Đã liên kết tài khoản ký số từ xa.", "success")
    return redirect(same_site(request.form.get("back"), url_for("pages.outgoing_bulk_sign")))


@bp.post("/outgoing/ky-tu-xa/bo-lien-ket")
@page_auth
def remote_signing_unlink() -> Any:
    outgoing.unlink_account(make_uow(), actor_required())
    flash("Đã bỏ liên kết tài khoản ký số từ xa.", "success")
    return redirect(url_for("pages.outgoing_bulk_sign"))
