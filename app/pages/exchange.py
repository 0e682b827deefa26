"""The exchange page: what came in and went out through the national axis."""

from __future__ import annotations

from typing import Any

from flask import render_template

from app.auth import actor_required, page_auth
from app.pages import bp
from app.runtime import make_uow, runtime
from docflow.documents.exchange_log import exchange_log


@bp.get("/admin/exchange")
@page_auth
def exchange_page() -> Any:
    log = exchange_log(make_uow(), actor_required())
    configured = bool(runtime().settings.axis_url)
    return render_template("admin/exchange.html", log=log, configured=configured)
