"""Administration pages: organisations, units, users, registers, delegations, holidays.

Admins manage their own organisation and its subtree; leaders record their own delegations.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

import pydantic
from flask import flash, redirect, render_template, request, url_for

from app.auth import actor_required, page_auth
from app.pages import bp
from app.pages.forms import domain_errors, parse_form, same_site, year_arg
from app.runtime import make_uow
from docflow import DomainError, directory
from docflow.actors import require_role
from docflow.directory import (
    CreateDelegation,
    CreateOrganization,
    CreateRegister,
    CreateUnit,
    CreateUser,
    SetHoliday,
    SetPassword,
    UpdateOrganization,
    UpdateUnit,
    UpdateUser,
)
from docflow.enums import Direction, HolidayKind, OrgLevel, Role, Secrecy
from docflow.workdays import local_date


def _submit(
    model: type[pydantic.BaseModel],
    action: Callable[[Any], Any],
    success: str,
    *,
    clears: bool = False,
    **extra: Any,
) -> tuple[Any, dict[str, str]]:
    """Parse the form into ``model`` (``clears``: see :func:`parse_form`), run ``action``;
    return (result, errors)."""
    cmd, errors = parse_form(model, clears=clears, **extra)
    if cmd is None:
        return None, errors
    try:
        result = action(cmd)
    except DomainError as exc:
        return None, domain_errors(exc)
    if success:
        flash(success, "success")
    return result, {}


# An organisation's page lists its first people; the people list pages through the rest.
PEOPLE_SHOWN = 100


@bp.get("/admin")
@page_auth
def admin_home() -> Any:
    actor = actor_required()
    require_role(actor, Role.ADMIN)
    from app.pages.admin_directory import first_tree

    return render_template("admin/index.html", tree=first_tree(actor))


@bp.route("/admin/organizations/new", methods=["GET", "POST"])
@page_auth
def admin_org_new() -> Any:
    actor = actor_required()
    require_role(actor, Role.ADMIN)
    errors: dict[str, str] = {}
    if request.method == "POST":
        org, errors = _submit(
            CreateOrganization,
            lambda c: directory.create_organization(make_uow(), actor, c),
            "Đã thêm tổ chức.",
        )
        if org is not None:
            return redirect(url_for("pages.admin_org", org_id=org.id))
    return render_template(
        "admin/org_form.html",
        errors=errors,
        form=request.form,
        parent_options=[(o.id, o.name) for o in directory.managed_organizations(make_uow(), actor)],
        level_options=[(lv.value, lv.label) for lv in OrgLevel],
        org=None,
    ), 422 if errors else 200


@bp.get("/admin/organizations/<uuid:org_id>")
@page_auth
def admin_org(org_id: uuid.UUID) -> Any:
    actor = actor_required()
    uow = make_uow()
    org = directory.get_organization(uow, actor, org_id)
    unit_list = directory.list_units(uow, actor, org_id)
    return render_template(
        "admin/org.html",
        org=org,
        units=unit_list,
        unit_names={u.id: u.name for u in unit_list},
        people=directory.list_users(uow, actor, org_id, include_inactive=True, limit=PEOPLE_SHOWN),
        people_shown=PEOPLE_SHOWN,
        registers=directory.list_registers(uow, actor, org_id),
        delegations=directory.list_delegations(uow, actor, org_id),
    )


@bp.route("/admin/organizations/<uuid:org_id>/edit", methods=["GET", "POST"])
@page_auth
def admin_org_edit(org_id: uuid.UUID) -> Any:
    actor = actor_required()
    org = directory.get_organization(make_uow(), actor, org_id)
    errors: dict[str, str] = {}
    if request.method == "POST":
        extra = {"active": request.form.get("active") == "on"}
        done, errors = _submit(
            UpdateOrganization,
            lambda c: directory.update_organization(make_uow(), actor, org_id, c),
            "Đã lưu thông tin tổ chức.",
            clears=True,
            **extra,
        )
        if done is not None:
            return redirect(url_for("pages.admin_org", org_id=org_id))
    return render_template(
        "admin/org_form.html",
        errors=errors,
        form=request.form if request.method == "POST" else org.__dict__,
        org=org,
    ), 422 if errors else 200


@bp.route("/admin/organizations/<uuid:org_id>/units/new", methods=["GET", "POST"])
@bp.route("/admin/units/<uuid:unit_id>/edit", methods=["GET", "POST"], endpoint="admin_unit_edit")
@page_auth
def admin_unit_new(org_id: uuid.UUID | None = None, unit_id: uuid.UUID | None = None) -> Any:
    actor = actor_required()
    uow = make_uow()
    unit = directory.get_unit(uow, actor, unit_id) if unit_id is not None else None
    if unit is not None:
        org_id = unit.organization_id
    assert org_id is not None
    org = directory.get_organization(uow, actor, org_id)
    siblings = [
        u for u in directory.list_units(uow, actor, org_id) if unit is None or u.id != unit.id
    ]
    errors: dict[str, str] = {}
    if request.method == "POST":
        if unit is None:
            done, errors = _submit(
                CreateUnit,
                lambda c: directory.create_unit(make_uow(), actor, c),
                "Đã thêm đơn vị.",
                organization_id=str(org_id),
            )
        else:
            done, errors = _submit(
                UpdateUnit,
                lambda c: directory.update_unit(make_uow(), actor, unit.id, c),
                "Đã lưu đơn vị.",
                clears=True,
                active=request.form.get("active") == "on",
            )
        if done is not None:
            return redirect(url_for("pages.admin_org", org_id=org_id))
    form = request.form if request.method == "POST" else (unit.__dict__ if unit else {})
    return render_template(
        "admin/unit_form.html", org=org, unit=unit, units=siblings, errors=errors, form=form
    ), 422 if errors else 200


@bp.route("/admin/organizations/<uuid:org_id>/users/new", methods=["GET", "POST"])
@bp.route("/admin/users/<uuid:user_id>/edit", methods=["GET", "POST"], endpoint="admin_user_edit")
@page_auth
def admin_user_new(org_id: uuid.UUID | None = None, user_id: uuid.UUID | None = None) -> Any:
    actor = actor_required()
    uow = make_uow()
    person = directory.get_user(uow, actor, user_id) if user_id else None
    if person is not None:
        org_id = person.organization_id
    assert org_id is not None
    org = directory.get_organization(uow, actor, org_id)
    errors: dict[str, str] = {}
    if request.method == "POST":
        if person is None:
            done, errors = _submit(
                CreateUser,
                lambda c: directory.create_user(make_uow(), actor, c),
                "Đã thêm người dùng.",
                organization_id=str(org_id),
                roles=request.form.getlist("roles"),
            )
        elif request.form.get("form") == "password":

            def reset(cmd: SetPassword) -> bool:
                if directory.set_password(make_uow(), actor, person.id, cmd) is not None:
                    flash(
                        "Người này là quản trị viên hoặc được xem văn bản mật: mật khẩu mới chờ "
                        "một quản trị viên khác phê duyệt (mục Yêu cầu nâng quyền).",
                        "warning",
                    )
                    return True
                flash(
                    "Đã đặt lại mật khẩu; các phiên đăng nhập của người này đã kết thúc.", "success"
                )
                return True

            done, errors = _submit(
                SetPassword, reset, "", password=request.form.get("password", "")
            )
        else:
            done, errors = _submit(
                UpdateUser,
                lambda c: directory.update_user(make_uow(), actor, person.id, c),
                "Đã lưu người dùng.",
                clears=True,
                roles=request.form.getlist("roles"),
                active=request.form.get("active") == "on",
            )
        if isinstance(done, directory.UserChange) and done.pending is not None:
            flash(PENDING_MESSAGE, "warning")
            return redirect(url_for("pages.admin_privilege_requests", org_id=org_id))
        if done is not None:
            return redirect(url_for("pages.admin_org", org_id=org_id))
    if request.method == "POST":
        form: Any = request.form
        chosen = set(request.form.getlist("roles"))
    elif person is not None:
        form = person.__dict__
        chosen = {r.value for r in person.roles}
    else:
        form, chosen = {}, set()
    return render_template(
        "admin/user_form.html",
        org=org,
        person=person,
        units=directory.list_units(uow, actor, org_id),
        roles=list(Role),
        chosen_roles=chosen,
        secrecy=list(Secrecy),
        errors=errors,
        form=form,
    ), 422 if errors else 200


PENDING_MESSAGE = (
    "Việc nâng độ mật hoặc cấp quyền quản trị đang chờ một quản trị viên khác phê duyệt."
)


@bp.get("/admin/organizations/<uuid:org_id>/privilege-requests")
@page_auth
def admin_privilege_requests(org_id: uuid.UUID) -> Any:
    """Requests to raise a clearance or grant the admin role, for a second admin to decide."""
    actor = actor_required()
    show_all = request.args.get("state") == "all"
    items = directory.list_privilege_requests(
        make_uow(), actor, org_id, state=None if show_all else directory.RequestState.PENDING
    )
    given = directory.passwords_given(make_uow(), actor, org_id, [i.user_id for i in items])
    return render_template(
        "admin/privilege_requests.html",
        org_id=org_id,
        items=items,
        given=given,
        show_all=show_all,
        secrecy_labels={s.value: s.label for s in Secrecy},
    )


@bp.post("/admin/privilege-requests/<uuid:request_id>/<any(approve, reject):decision>")
@page_auth
def admin_privilege_decide(request_id: uuid.UUID, decision: str) -> Any:
    actor = actor_required()
    try:
        req = directory.decide_privilege_request(
            make_uow(), actor, request_id, approve=decision == "approve"
        )
    except DomainError as exc:
        if exc.kind == "not_found":
            raise
        flash(exc.message, "danger")
        return redirect(url_for("pages.admin_home"))
    flash("Đã phê duyệt." if decision == "approve" else "Đã từ chối yêu cầu.", "success")
    return redirect(url_for("pages.admin_privilege_requests", org_id=req.organization_id))


@bp.route("/admin/organizations/<uuid:org_id>/registers/new", methods=["GET", "POST"])
@page_auth
def admin_register_new(org_id: uuid.UUID) -> Any:
    actor = actor_required()
    uow = make_uow()
    org = directory.get_organization(uow, actor, org_id)
    errors: dict[str, str] = {}
    if request.method == "POST":
        done, errors = _submit(
            CreateRegister,
            lambda c: directory.create_register(make_uow(), actor, c),
            "Đã mở sổ văn bản.",
            organization_id=str(org_id),
            secret_series=request.form.get("secret_series") == "on",
        )
        if done is not None:
            return redirect(url_for("pages.admin_org", org_id=org_id))
    return render_template(
        "admin/register_form.html",
        org=org,
        errors=errors,
        form=request.form if request.method == "POST" else {"year": local_date(uow.now()).year},
        directions=list(Direction),
    ), 422 if errors else 200


@bp.route("/delegations/new", methods=["GET", "POST"])
@page_auth
def delegation_new() -> Any:
    """A leader delegates their own roles; an admin records a delegation for someone."""
    actor = actor_required()
    require_role(actor, Role.LEADER, Role.ADMIN, Role.UNIT_HEAD)
    uow = make_uow()
    org_id = actor.organization_id
    people = directory.list_users(uow, actor, org_id)
    errors: dict[str, str] = {}
    if request.method == "POST":
        extra: dict[str, Any] = {"roles": request.form.getlist("roles")}
        if not actor.has_role(Role.ADMIN):
            extra["delegator_id"] = str(actor.user_id)
        done, errors = _submit(
            CreateDelegation,
            lambda c: directory.create_delegation(make_uow(), actor, c),
            "Đã ủy quyền.",
            **extra,
        )
        if done is not None:
            return redirect(url_for("pages.account"))
    today = local_date(uow.now())
    return render_template(
        "delegation_form.html",
        people_options=[(p.id, p.full_name) for p in people],
        delegate_options=[(p.id, p.full_name) for p in people if p.id != actor.user_id],
        chosen_roles=set(request.form.getlist("roles")),
        errors=errors,
        form=request.form
        if request.method == "POST"
        else {
            "start_date": today.isoformat(),
            "end_date": (today + dt.timedelta(days=7)).isoformat(),
        },
        roles=[Role.LEADER, Role.UNIT_HEAD, Role.CLERK, Role.SPECIALIST],
        is_admin=actor.has_role(Role.ADMIN),
    ), 422 if errors else 200


@bp.post("/delegations/<uuid:delegation_id>/revoke")
@page_auth
def delegation_revoke(delegation_id: uuid.UUID) -> Any:
    actor = actor_required()
    try:
        directory.revoke_delegation(make_uow(), actor, delegation_id)
        flash("Đã thu hồi ủy quyền.", "success")
    except DomainError as exc:
        flash(exc.message, "danger")
    return redirect(same_site(request.referrer, url_for("pages.account")))


@bp.route("/admin/holidays", methods=["GET", "POST"])
@page_auth
def admin_holidays() -> Any:
    actor = actor_required()
    uow = make_uow()
    year = year_arg(None) or local_date(uow.now()).year
    errors: dict[str, str] = {}
    if request.method == "POST":
        if request.form.get("delete"):
            try:
                directory.delete_holiday(
                    make_uow(), actor, dt.date.fromisoformat(request.form["delete"])
                )
                flash("Đã xóa ngày khỏi lịch.", "success")
            except (DomainError, ValueError) as exc:
                flash(getattr(exc, "message", "Ngày không hợp lệ."), "danger")
            return redirect(url_for("pages.admin_holidays", year=year))
        done, errors = _submit(
            SetHoliday, lambda c: directory.set_holiday(make_uow(), actor, c), "Đã cập nhật lịch."
        )
        if done is not None:
            return redirect(url_for("pages.admin_holidays", year=done.day.year))
    return render_template(
        "admin/holidays.html",
        year=year,
        holidays=directory.list_holidays(uow, year),
        can_edit=directory.can_edit_calendar(uow, actor),
        kinds=list(HolidayKind),
        errors=errors,
        form=request.form,
    ), 422 if errors else 200
