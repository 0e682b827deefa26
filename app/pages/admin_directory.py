"""Administration at national size (issue 15): the organisation tree opened one level at a
time (children fetched when a node is opened) with a search, the people list with filters and
keyset pages, bulk actions on the selected people, and the export of the directory in the
import's workbook shape. The rules are the directory's (``docflow.directory``): these views
parse, call and render."""

from __future__ import annotations

import datetime as dt
import io
import tempfile
import uuid
from dataclasses import dataclass, field
from typing import Any

import pydantic
from flask import flash, redirect, render_template, request, send_file, url_for

from app.auth import actor_required, page_auth
from app.errors import pydantic_fields
from app.pages import bp
from app.pages.forms import form_data
from app.runtime import make_uow, runtime
from docflow import DomainError, directory, imports
from docflow.actors import require_role
from docflow.enums import Role

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# The first view of the tree opens nodes while this many rows are shown at most.
TREE_OPEN_BUDGET = 60
BULK_ACTIONS = {
    "deactivate": "Khóa tài khoản",
    "activate": "Mở lại tài khoản",
    "move_unit": "Chuyển sang đơn vị",
    "reset_activation": "Cấp lại mã kích hoạt",
}


def _uuid_arg(name: str) -> uuid.UUID | None:
    value = request.args.get(name, "").strip()
    if not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


@dataclass
class Tree:
    """The first view of the tree: the root, and the children of the nodes opened at once."""

    roots: list[directory.OrgNode]
    children: dict[uuid.UUID, list[directory.OrgNode]] = field(default_factory=dict)
    more: dict[uuid.UUID, str] = field(default_factory=dict)


def first_tree(actor: Any) -> Tree:
    """The root and the levels under it, opened breadth-first while the rows shown stay under
    the budget: the demo's three organisations all show; the national tree shows the central
    committee and its 34 provinces (each province's communes load when it is opened)."""
    uow = make_uow()
    tree = Tree(list(directory.organization_tree(uow, actor).items))
    queue = list(tree.roots)
    shown = len(queue)
    while queue:
        node = queue.pop(0)
        if node.children and shown + node.children <= TREE_OPEN_BUDGET:
            page = directory.organization_tree(uow, actor, parent_id=node.org.id, limit=200)
            tree.children[node.org.id] = list(page.items)
            if page.next_cursor:
                tree.more[node.org.id] = page.next_cursor
            shown += len(page.items)
            queue.extend(page.items)
    return tree


@bp.get("/admin/tree")
@page_auth
def admin_tree() -> Any:
    """Children of one node (``parent``) or the search results (``q``): the fragment the tree
    inserts when a node opens (``?fragment=1``), or a whole page without script."""
    actor = actor_required()
    require_role(actor, Role.ADMIN)
    q = request.args.get("q", "").strip()[:100]
    parent = _uuid_arg("parent")
    page = directory.organization_tree(
        make_uow(),
        actor,
        parent_id=parent,
        q=q or None,
        cursor=request.args.get("cursor") or None,
    )
    ctx = {"nodes": page.items, "next_cursor": page.next_cursor, "parent": parent, "q": q}
    if request.args.get("fragment"):
        return render_template("admin/tree_nodes.html", **ctx)
    return render_template("admin/tree.html", **ctx)


def _people_filters() -> dict[str, Any]:
    role = request.args.get("role") or None
    active = {"1": True, "0": False}.get(request.args.get("active", ""))
    return {
        "organization_id": _uuid_arg("organization"),
        "unit_id": _uuid_arg("unit"),
        "role": Role(role) if role in {r.value for r in Role} else None,
        "active": active,
        "q": request.args.get("q", "").strip()[:100] or None,
    }


@bp.get("/admin/people")
@page_auth
def admin_people() -> Any:
    actor = actor_required()
    require_role(actor, Role.ADMIN)
    filters = _people_filters()
    uow = make_uow()
    page = directory.search_users(uow, actor, cursor=request.args.get("cursor") or None, **filters)
    org = units = None
    if filters["organization_id"]:
        org = directory.get_organization(uow, actor, filters["organization_id"])
        units = directory.list_units(uow, actor, org.id)
    args = {k: v for k, v in request.args.items() if k != "cursor" and v}
    return render_template(
        "admin/people.html",
        people=page.items,
        next_cursor=page.next_cursor,
        args=args,
        org=org,
        units=units,
        roles=[(r.value, r.label) for r in Role],
        actions=BULK_ACTIONS,
        max_selected=directory.BULK_MAX,
        can_email=bool(runtime().settings.smtp_url),
    )


@bp.post("/admin/people/bulk")
@page_auth
def admin_people_bulk() -> Any:
    actor = actor_required()
    require_role(actor, Role.ADMIN)
    back = request.form.get("back") or url_for("pages.admin_people")
    if not back.startswith("/admin/people"):
        back = url_for("pages.admin_people")
    data = form_data(drop=("csrf_token", "back", "user_ids", "email_links"))
    data["user_ids"] = request.form.getlist("user_ids")
    try:
        cmd = directory.BulkUserAction.model_validate(data)
    except pydantic.ValidationError as exc:
        flash("; ".join(pydantic_fields(exc).values()) or "Chưa chọn ai.", "danger")
        return redirect(back)
    try:
        result = directory.bulk_change_users(
            make_uow(),
            actor,
            cmd,
            email_links=bool(request.form.get("email_links")) and bool(runtime().settings.smtp_url),
        )
    except DomainError as exc:
        flash(exc.message, "danger")
        return redirect(back)
    if result.codes:
        base = runtime().settings.public_url or request.host_url
        lines = [
            imports.ActivationLine(
                c.username,
                c.full_name,
                c.organization_code,
                c.code,
                imports.activation_link(base, c.username, c.code),
                c.expires_at,
            )
            for c in result.codes
        ]
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M")
        return send_file(
            io.BytesIO(imports.activations_xlsx(lines)),
            mimetype=XLSX,
            as_attachment=True,
            download_name=f"ma-kich-hoat-{stamp}.xlsx",
        )
    emailed = f" ({result.emailed} người nhận liên kết qua thư điện tử)" if result.emailed else ""
    flash(f"{BULK_ACTIONS[cmd.action]}: đã thay đổi {result.changed} người{emailed}.", "success")
    return redirect(back)


@bp.get("/admin/export.xlsx")
@page_auth
def admin_export() -> Any:
    """The directory of the admin's subtree (or of ``organization``'s) as the import's
    workbook, written to a spooled file (memory up to 8 MB, then disk) and streamed."""
    actor = actor_required()
    require_role(actor, Role.ADMIN)
    out = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
    directory.export_directory(make_uow(), actor, out, organization_id=_uuid_arg("organization"))
    out.seek(0)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M")
    return send_file(out, mimetype=XLSX, as_attachment=True, download_name=f"danh-ba-{stamp}.xlsx")
