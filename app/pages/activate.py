"""Activating an imported account: the one-time code (from the link or typed) and a password
of the person's own choosing (docflow.imports.activate_account)."""

from __future__ import annotations

from typing import Any

import pydantic
from flask import flash, redirect, render_template, request, url_for

from app.errors import pydantic_fields
from app.pages import bp
from app.pages.forms import domain_errors
from app.ratelimit import Limit as RateLimit
from app.ratelimit import check_rate
from app.runtime import make_uow, runtime
from docflow import DomainError, imports


@bp.route("/activate", methods=["GET", "POST"])
def activate() -> Any:
    errors: dict[str, str] = {}
    status = 200
    values = {
        "username": request.values.get("u") or request.form.get("username", ""),
        "code": request.values.get("code", ""),
    }
    if request.method == "POST":
        # Codes are long enough not to be guessed; still, the one form that takes a
        # credential without signing in is limited per client like the public endpoints.
        rt = runtime()
        check_rate(rt, "activate", RateLimit(*rt.settings.public_rate_limit))
        cmd: imports.ActivateAccount | None = None
        if request.form.get("password") != request.form.get("password2"):
            errors = {"password2": "Hai lần nhập mật khẩu không khớp."}
        else:
            try:
                cmd = imports.ActivateAccount.model_validate(
                    {k: request.form.get(k, "") for k in ("username", "code", "password")}
                )
            except pydantic.ValidationError as exc:
                errors = pydantic_fields(exc)
        if cmd is not None:
            try:
                imports.activate_account(make_uow(), cmd)
            except DomainError as exc:
                errors = domain_errors(exc)
            else:
                flash("Đã kích hoạt tài khoản. Hãy đăng nhập bằng mật khẩu vừa chọn.", "success")
                return redirect(url_for("pages.login"))
        status = 422
    return render_template("activate.html", errors=errors, values=values), status
