"""The user's own account: password, delegations they gave or received."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for

from app.auth import actor_required, login_session, page_auth, session_limits
from app.pages import bp
from app.pages.forms import domain_errors, parse_form
from app.runtime import make_uow
from app.security import client_address
from docflow import DomainError, directory
from docflow.directory import ChangeOwnPassword


@bp.route("/account", methods=["GET", "POST"])
@page_auth
def account() -> Any:
    actor = actor_required()
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        cmd, errors = parse_form(ChangeOwnPassword)
        if cmd is not None:
            try:
                sid = directory.change_own_password(
                    make_uow(), actor, cmd, reissue=session_limits(), ip=client_address()
                )
            except DomainError as exc:
                errors = domain_errors(exc)
            else:
                # Every session ended, this one too; the browser continues in a fresh one.
                assert sid is not None
                login_session(sid)
                flash("Đã đổi mật khẩu. Các phiên đăng nhập khác đã kết thúc.", "success")
                return redirect(url_for("pages.account"))
        status = 422
    user = directory.get_user(make_uow(), actor, actor.user_id)
    delegations = directory.list_delegations(make_uow(), actor, actor.organization_id)
    return render_template(
        "account.html", user=user, errors=errors, delegations=delegations
    ), status
