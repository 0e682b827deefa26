"""The organisation's audit log for its admin: filter by person, object, event and days; newest
first, page by page; the same filters as an Excel file."""

from __future__ import annotations

from typing import Any

from flask import Response, render_template, request

from app.api.audit import XLSX, AuditListQuery
from app.auth import actor_required, page_auth
from app.pages import bp
from app.runtime import make_uow
from docflow import audit
from storage import content_disposition


def _query() -> AuditListQuery:
    # Empty form fields mean "no filter".
    args = {k: v.strip() for k, v in request.args.items() if v.strip()}
    args.pop("format", None)
    return AuditListQuery.model_validate(args)


@bp.get("/admin/audit")
@page_auth
def admin_audit() -> Any:
    actor = actor_required()
    q = _query()
    uow = make_uow()
    page = audit.list_entries(uow, actor, q.to_query())
    filters = q.model_dump(by_alias=True, exclude={"cursor", "limit", "format"}, mode="json")
    return render_template(
        "admin/audit.html",
        page=page,
        q=q,
        filters={k: v for k, v in filters.items() if v},
        people=audit.people(uow, actor),
        events=sorted(audit.EVENT_LABELS.items(), key=lambda kv: kv[1]),
        labels=audit.EVENT_LABELS,
    )


@bp.get("/admin/audit.xlsx")
@page_auth
def admin_audit_xlsx() -> Response:
    data = audit.export_xlsx(make_uow(), actor_required(), _query().to_query())
    response = Response(data, mimetype=XLSX)
    response.headers["Content-Disposition"] = content_disposition("nhat-ky-kiem-tra.xlsx")
    return response
