"""The JSON API (API.md), mounted at /api/v1; each route is declared through ``spec.registry``.

Routes are attached to the blueprint once, when their modules are imported (at the end of this
module); ``init_api`` only registers the blueprint on an app.
"""

from __future__ import annotations

from flask import Blueprint, Flask, Response, jsonify

from app.api.spec import build_spec, registry

bp = Blueprint("api", __name__, url_prefix="/api/v1")

API_VERSION = "1.0.0"


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
