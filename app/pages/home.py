"""Login, logout and the home page."""

from __future__ import annotations

from typing import Any

from flask import flash, make_response, redirect, render_template, request, session, url_for

from app.auth import actor_required, current_session_id, login_session, page_auth, session_limits
from app.pages import bp
from app.pages.forms import same_site
from app.runtime import make_uow
from app.security import client_address
from docflow import AuthenticationError, ThrottledError, directory
from docflow.enums import Direction, Role
from docflow.reports.dashboard import clerk_day, leader_dashboard, weeks_chart
from docflow.workdays import local_date


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    error = None
    username = ""
    status = 200
    retry_after = None
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        password = request.form.get("password", "")
        try:
            user = directory.authenticate(
                make_uow(), username, password, channel="web", client=client_address()
            )
        except ThrottledError as exc:
            error, status = exc.message, 429
            retry_after = exc.details.get("retry_after")
        except AuthenticationError as exc:
            error, status = exc.message, 401
        else:
            sid = directory.start_session(
                make_uow(), user.id, limits=session_limits(), ip=client_address()
            )
            login_session(sid)
            return redirect(same_site(request.args.get("next"), url_for("pages.home")))
    response = make_response(render_template("login.html", error=error, username=username), status)
    if status == 429 and retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response


@bp.post("/logout")
def logout() -> Any:
    sid = current_session_id()
    if sid is not None:
        directory.end_session(make_uow(), sid)  # a copy of the cookie no longer works
    session.clear()
    flash("Bạn đã đăng xuất.", "info")
    return redirect(url_for("pages.login"))


@bp.post("/logout-everywhere")
@page_auth
def logout_everywhere() -> Any:
    directory.logout_everywhere(make_uow(), actor_required())
    session.clear()
    flash("Đã đăng xuất khỏi mọi thiết bị.", "info")
    return redirect(url_for("pages.login"))


@bp.get("/")
@page_auth
def home() -> Any:
    actor = actor_required()
    uow = make_uow()
    user = directory.get_user(uow, actor, actor.user_id)
    today = local_date(uow.now())
    regs = []
    if any(actor.has_role(r) for r in (Role.CLERK, Role.LEADER, Role.ADMIN)):
        regs = directory.list_registers(uow, actor, actor.organization_id, year=today.year)
    holidays = [h for h in directory.list_holidays(uow, today.year) if h.day >= today][:3]
    return render_template(
        "home.html",
        user=user,
        today=today,
        registers=regs,
        holidays=holidays,
        Direction=Direction,
        due_in_5=directory.due_date(uow, today, 5),
        work=_work_today(actor),
        board=leader_dashboard(make_uow(), actor) if actor.has_role(Role.LEADER) else None,
        clerk=clerk_day(make_uow(), actor) if actor.has_role(Role.CLERK) else None,
        weeks_chart=weeks_chart,
    )


def _work_today(actor: Any) -> Any:
    """The counts of the "today" card: waiting documents, overdue ones and tasks, unread."""
    from docflow.phone import counters

    return counters(make_uow(), actor)
