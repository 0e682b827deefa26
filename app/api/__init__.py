"""The JSON API (API.md), mounted at /api/v1; each route is declared through ``spec.registry``.

Routes are attached to the blueprint once, when their modules are imported (at the end of this
module); ``init_api`` only registers the blueprint on an app.
"""

from __future__ import annotations

from flask import Blueprint, Flask, Response, jsonify, request

from app.api.spec import build_spec, check_text, registry

bp = Blueprint("api", __name__, url_prefix="/api/v1")

API_VERSION = "1.0.0"


@bp.before_app_request
def _refuse_unstorable_text() -> None:
    """Path and query parameters and form fields, like JSON bodies, never carry NUL or lone
    surrogates, on every page as in the API: 422 ``invalid_text`` (a Vietnamese error page for
    people), before anything reaches the database, which refuses NUL in text."""
    check_text(request.view_args or {})
    check_text(request.args.to_dict(flat=False))
    if request.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        check_text(request.form.to_dict(flat=False))
        for name, part in request.files.items(multi=True):  # every file of every field
            check_text(part.filename or "", name)


@bp.get("/openapi.json")
def openapi() -> Response:
    return jsonify(build_spec(registry, version=API_VERSION))


def init_api(app: Flask) -> None:
    from app.security import csrf

    csrf.exempt(bp)  # bearer tokens only: no ambient credentials to forge
    app.register_blueprint(bp)


from app.api import (  # noqa: E402, F401  (routes attach on import)
    admin,
    audit,
    auth,
    bulk_signing,
    directory,
    documents,
    dossiers,
    exports,
    feedback,
    interop,
    notifications,
    outgoing,
    phone,
    push,
    reports,
    signing_sessions,
    tasks,
    verifications,
)
