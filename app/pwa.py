"""The installable app (PWA): the web app manifest, the service worker at ``/sw.js`` (scope
``/``), the icons (drawn here with Pillow: no third-party artwork), and the page side of push
subscriptions (the signed-in page's session and CSRF token; the JSON API's twin is
``app/api/push.py``).

Offline reading: the service worker keeps the last opened document pages and the PDF an
incoming document's page shows (network first, at most 20 entries of at most 5 MB, dropped on
sign-out). It keeps only answers with ``X-DHTN-Offline: 1``, which this module adds to a
document's page and file when the reader sees the document and it is not marked Mật or above
(:func:`docflow.push.readable_offline`).
"""

from __future__ import annotations

import functools
import io
import json
import math
import uuid
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Response, abort, jsonify, request
from PIL import Image, ImageDraw

from app.api.spec import validate_input
from app.auth import actor_required, current_actor, page_auth
from app.errors import json_error
from app.runtime import make_uow, runtime
from docflow import DomainError, push

bp = Blueprint("pwa", __name__)

NAME = "DHTN — Hệ thống thông tin điều hành tác nghiệp"
SHORT_NAME = "DHTN"
THEME = "#0b4f8a"  # --dhtn-blue of dhtn.css
BACKGROUND = "#f5f6f8"
RED = "#b3261e"
GOLD = "#ffd54a"
ICON_SIZES = (192, 512)
OFFLINE_PAGES = ("pages.document_page", "pages.outgoing_page", "pages.document_file")
SW_SOURCE = Path(__file__).with_name("static") / "sw.js"


def manifest() -> dict[str, Any]:
    icons: list[dict[str, str]] = []
    for purpose, prefix in (("any", ""), ("maskable", "maskable-")):
        icons += [
            {
                "src": f"/icons/{prefix}{size}.png",
                "sizes": f"{size}x{size}",
                "type": "image/png",
                "purpose": purpose,
            }
            for size in ICON_SIZES
        ]
    return {
        "id": "/",
        "name": NAME,
        "short_name": SHORT_NAME,
        "description": "Văn bản, nhiệm vụ và thông báo của Mặt trận Tổ quốc Việt Nam.",
        "lang": "vi",
        "dir": "ltr",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "orientation": "any",
        "background_color": BACKGROUND,
        "theme_color": THEME,
        "icons": icons,
    }


def _star(cx: float, cy: float, outer: float) -> list[tuple[float, float]]:
    inner = outer * 0.382
    points = []
    for i in range(10):
        r = outer if i % 2 == 0 else inner
        a = -math.pi / 2 + i * math.pi / 5
        points.append((cx + r * math.cos(a), cy + r * math.sin(a)))
    return points


@functools.cache
def draw_icon(size: int, maskable: bool) -> bytes:
    """Our icon: a document sheet on the Front's blue, with a gold star on a red seal. A
    maskable icon fills the square and keeps the drawing in the middle 60% (the safe zone)."""
    scale = 4  # drawn large, then reduced: smooth edges
    n = size * scale
    img = Image.new("RGBA", (n, n), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    if maskable:
        d.rectangle((0, 0, n, n), fill=THEME)
        box = n * 0.2, n * 0.8  # the drawing's square inside the safe zone
    else:
        d.rounded_rectangle((0, 0, n - 1, n - 1), radius=n * 0.22, fill=THEME)
        box = n * 0.14, n * 0.86
    lo, hi = box
    w = hi - lo
    sheet = (lo + w * 0.12, lo + w * 0.02, lo + w * 0.78, lo + w * 0.92)
    fold = w * 0.16
    x0, y0, x1, y1 = sheet
    d.polygon([(x0, y0), (x1 - fold, y0), (x1, y0 + fold), (x1, y1), (x0, y1)], fill="#ffffff")
    d.polygon([(x1 - fold, y0), (x1 - fold, y0 + fold), (x1, y0 + fold)], fill="#c9d6e3")
    line = max(2.0, w * 0.045)
    for i, length in enumerate((0.44, 0.5, 0.5, 0.3)):
        y = y0 + w * (0.26 + i * 0.13)
        d.rounded_rectangle(
            (x0 + w * 0.09, y, x0 + w * (0.09 + length), y + line), radius=line / 2, fill=THEME
        )
    cx, cy, r = lo + w * 0.74, lo + w * 0.76, w * 0.24
    d.ellipse((cx - r, cy - r, cx + r, cy + r), fill=RED, outline="#ffffff", width=int(w * 0.03))
    d.polygon(_star(cx, cy + r * 0.05, r * 0.72), fill=GOLD)
    out = io.BytesIO()
    img.resize((size, size), Image.Resampling.LANCZOS).save(out, format="PNG", optimize=True)
    return out.getvalue()


@bp.get("/manifest.webmanifest")
def manifest_file() -> Response:
    response = Response(
        json.dumps(manifest(), ensure_ascii=False), mimetype="application/manifest+json"
    )
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.get("/sw.js")
def service_worker() -> Response:
    response = Response(SW_SOURCE.read_text(encoding="utf-8"), mimetype="text/javascript")
    # The browser checks for a new worker on each visit; it must never be served stale.
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/icons/<string:name>.png")
def icon(name: str) -> Response:
    maskable = name.startswith("maskable-")
    size = name.removeprefix("maskable-")
    if not size.isdigit() or int(size) not in ICON_SIZES:
        abort(404)
    response = Response(draw_icon(int(size), maskable), mimetype="image/png")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


@bp.route("/push/subscriptions", methods=["POST", "DELETE"])
@page_auth
def page_push_subscriptions() -> Any:
    """The notifications page's "Bật thông báo" button posts the browser's subscription here
    (same service as ``POST /api/v1/me/push-subscriptions``; the page's CSRF token in
    ``X-CSRFToken``)."""
    import pydantic

    from app.errors import pydantic_fields

    settings = runtime().settings
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return json_error(400, "malformed_json", "Nội dung phải là một đối tượng JSON.")
    try:
        if request.method == "DELETE":
            push.unsubscribe(make_uow(), actor_required(), validate_input(push.Unsubscribe, data))
            return Response(status=204)
        if not push_enabled():
            return json_error(409, "push_disabled", DISABLED)
        cmd = validate_input(push.Subscribe, data)
        view, created = push.subscribe(
            make_uow(), actor_required(), cmd, test_origins=settings.push_test_origins
        )
    except pydantic.ValidationError as exc:
        fields = pydantic_fields(exc)
        return json_error(422, "invalid_field", "Dữ liệu không hợp lệ.", {"fields": fields})
    except DomainError as exc:
        status = {"not_found": 404, "forbidden": 403, "conflict": 409}.get(exc.kind, 422)
        return json_error(status, exc.code, exc.message, exc.details)
    return jsonify(id=str(view.id), endpoint=view.endpoint), 201 if created else 200


DISABLED = "Cài đặt này không gửi thông báo đẩy (mạng riêng)."


def push_enabled() -> bool:
    from app.push import push_service

    return push_service().enabled


def _offline_header(response: Response) -> Response:
    """Mark a document page the reader's device may keep for offline reading."""
    if request.endpoint not in OFFLINE_PAGES or response.status_code != 200:
        return response
    actor = current_actor()
    document_id = (request.view_args or {}).get("document_id")
    if actor is None or not isinstance(document_id, uuid.UUID):
        return response
    if push.readable_offline(make_uow(), actor, document_id):
        response.headers["X-DHTN-Offline"] = "1"
    return response


def init_pwa(app: Flask) -> None:
    from app.push import push_service

    app.register_blueprint(bp)
    app.after_request(_offline_header)

    @app.context_processor
    def _push_key() -> dict[str, Any]:
        return {"push_public_key": push_service(app).public_key}
