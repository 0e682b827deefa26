"""Login, logout and the home page."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, session, url_for

from app.auth import actor_required, login_session, page_auth
from app.pages import bp
from app.runtime import make_uow
from docflow import AuthenticationError, ThrottledError
from docflow.enums import Direction, Role
from docflow.services import identity, registers, users
from docflow.workdays import local_date


def _safe_next(target: str | None) -> str:
    """Only same-site paths: never redirect a user to another host after login."""
    if not target:
        return url_for("pages.home")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("pages.home")
    return target


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    error = None
    username = ""
    status = 200
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        password = request.form.get("password", "")
        try:
            user = identity.authenticate(make_uow(), username, password, channel="web")
        except ThrottledError as exc:
            error, status = exc.message, 429
        except AuthenticationError as exc:
            error, status = exc.message, 401
        else:
            login_session(user.id, user.session_epoch)
            return redirect(_safe_next(request.args.get("next")))
    return render_template("login.html", error=error, username=username), status


@bp.post("/logout")
def logout() -> Any:
    session.clear()
    flash("Bạn đã đăng xuất.", "info")
    return redirect(url_for("pages.login"))


@bp.post("/logout-everywhere")
@page_auth
def logout_everywhere() -> Any:
    identity.logout_everywhere(make_uow(), actor_required())
    session.clear()
    flash("Đã đăng xuất khỏi mọi thiết bị.", "info")
    return redirect(url_for("pages.login"))


@bp.get("/")
@page_auth
def home() -> Any:
    actor = actor_required()
    uow = make_uow()
    user = users.get_user(uow, actor, actor.user_id)
    today = local_date(uow.now())
    regs = []
    if any(actor.has_role(r) for r in (Role.CLERK, Role.LEADER, Role.ADMIN)):
        regs = registers.list_registers(uow, actor, actor.organization_id, year=today.year)
    holidays = [h for h in registers.list_holidays(uow, today.year) if h.day >= today][:3]
    return render_template(
        "home.html",
        user=user,
        today=today,
        registers=regs,
        holidays=holidays,
        Direction=Direction,
        due_in_5=registers.due_date(uow, today, 5),
    )
