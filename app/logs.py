"""Structured logs: one JSON object per line, with the request id of the request being served.

The id comes from ``X-Request-ID`` only when a trusted reverse proxy stands in front
(``DHTN_TRUSTED_PROXIES`` > 0; the nginx site of ``deploy/`` sets it to its own ``$request_id``,
replacing whatever the client sent); otherwise it is generated here. It is returned in the
response, written in every log line of the request, and travels with the background jobs the
request queues (a Celery message header), so the worker's lines carry the same id.
"""

from __future__ import annotations

import json
import logging
import sys
import time
import uuid
from contextvars import ContextVar

from flask import Flask, Response, g, has_request_context, request

REQUEST_ID_HEADER = "X-Request-ID"
# The id of the request a background job was queued by (set by the Celery task wrapper).
job_request_id: ContextVar[str | None] = ContextVar("job_request_id", default=None)


def current_request_id() -> str | None:
    """The id of the request being served, or of the request that queued the running job."""
    if has_request_context():
        rid: str | None = g.get("request_id")
        return rid
    return job_request_id.get()


def valid_request_id(value: str) -> bool:
    """A caller's id is used only if it looks like one (it ends up in logs)."""
    return 0 < len(value) <= 64 and value.replace("-", "").isalnum()


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if has_request_context():
            entry["request_id"] = g.get("request_id")
            entry["method"] = request.method
            entry["path"] = request.path
            entry["ip"] = request.remote_addr
        elif job_request_id.get():
            entry["request_id"] = job_request_id.get()
        for key in ("status", "duration_ms", "user"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str) -> None:
    root = logging.getLogger()
    if any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    root.setLevel(level)


def init_request_ids(app: Flask, *, trust_header: bool = False) -> None:
    """``trust_header``: a trusted reverse proxy sets X-Request-ID (else the id is generated)."""
    access = logging.getLogger("dhtn.access")

    @app.before_request
    def _assign_request_id() -> None:
        incoming = request.headers.get(REQUEST_ID_HEADER, "") if trust_header else ""
        g.request_id = incoming if valid_request_id(incoming) else uuid.uuid4().hex
        g.started = time.perf_counter()

    @app.after_request
    def _log_request(response: Response) -> Response:
        response.headers[REQUEST_ID_HEADER] = g.get("request_id", "")
        started = g.get("started")
        if started is not None and request.endpoint not in {"health.healthz", "health.metrics"}:
            access.info(
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                },
            )
        return response
