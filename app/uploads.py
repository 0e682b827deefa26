"""Files in a request, turned into docflow's :class:`~docflow.uploads.Upload`: the one parser
every endpoint and page that takes files uses.

A request with files is ``multipart/form-data``: the files in parts named ``files`` (in order;
for documents the first is the main file), the fields of the command as JSON in a part named
``meta`` (API) or as form fields (pages). What the files may be (the deployment's size limit,
``DHTN_MAX_UPLOAD_MB``, the types, the structure) is checked by docflow when it stores them
(:func:`docflow.uploads.store_uploads`), the same on every path. A file input left empty sends
one nameless part: it is not a file and is skipped everywhere.

Refusals of the request's shape are 400 with stable codes: ``multipart_required``,
``missing_meta``, ``malformed_json``, ``missing_file``.

The other way, :func:`stored_file` is the one answer that serves a stored file (a document's,
a task's, a citizen's, a dossier's table of contents).
"""

from __future__ import annotations

import json
from typing import Any

from flask import Response, request, stream_with_context
from werkzeug.datastructures import FileStorage

from app.errors import ApiError
from docflow.uploads import Upload
from storage import ObjectReader, content_disposition

#: The name a file gets when its part names none.
NAMELESS = "tep"
#: The most of a ``meta`` file part that is read (a command is a few kilobytes).
META_MAX_BYTES = 1024 * 1024


def file_parts(field: str = "files") -> list[FileStorage]:
    """The chosen files of a part name, in order (nameless parts skipped)."""
    return [f for f in request.files.getlist(field) if f.filename]


def as_upload(part: FileStorage, kind: str = "main") -> Upload:
    return Upload(
        stream=part.stream,
        filename=part.filename or NAMELESS,
        content_type=part.mimetype,
        kind=kind,
    )


def uploads(kind: str = "main", *, rest: str | None = None, field: str = "files") -> list[Upload]:
    """The files of the request as uploads: the first of kind ``kind``, the others of kind
    ``rest`` (``kind`` too when not given)."""
    later = kind if rest is None else rest
    return [as_upload(p, kind if i == 0 else later) for i, p in enumerate(file_parts(field))]


def single_upload(field: str = "file") -> Upload | None:
    """The one file of a part name (the first one), or None."""
    parts = file_parts(field)
    return as_upload(parts[0]) if parts else None


def require_multipart() -> None:
    if not request.mimetype.startswith("multipart/"):
        raise ApiError(
            400, "multipart_required", "Gửi dạng multipart/form-data: phần meta (JSON) và các tệp."
        )


def meta() -> dict[str, Any]:
    """The JSON object of the ``meta`` part (a form field, or a file part)."""
    raw: str | None = request.form.get("meta")
    if raw is None and "meta" in request.files:
        raw = request.files["meta"].read(META_MAX_BYTES).decode("utf-8", errors="replace")
    if raw is None:
        raise ApiError(400, "missing_meta", "Thiếu phần «meta» (JSON) trong yêu cầu multipart.")
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError) as exc:  # nested deeper than the parser goes
        raise ApiError(400, "malformed_json", "Phần «meta» không phải JSON hợp lệ.") from exc
    if not isinstance(value, dict):
        raise ApiError(400, "malformed_json", "Phần «meta» phải là một đối tượng JSON.")
    return value


def multipart(
    kind: str = "main", *, rest: str | None = None
) -> tuple[dict[str, Any], list[Upload]]:
    """A multipart request's ``meta`` and its files (400 when it is not multipart)."""
    require_multipart()
    return meta(), uploads(kind, rest=rest)


def json_or_multipart() -> tuple[dict[str, Any], list[Upload]]:
    """The body as a dict, and the uploaded files: JSON alone, or multipart with ``meta``."""
    if request.mimetype.startswith("multipart/"):
        return meta(), uploads()
    if not request.is_json:
        raise ApiError(400, "malformed_json", "Nội dung phải là JSON hoặc multipart/form-data.")
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiError(400, "malformed_json", "JSON phải là một đối tượng.")
    return data, []


def stored_file(
    reader: ObjectReader,
    *,
    content_type: str,
    size: int,
    name: str,
    sha256: str | None = None,
    inline: bool = False,
) -> Response:
    """A stored file streamed from ``reader`` (opened checked against its hash): its type, which
    the browser must not second-guess (``nosniff``), its length, a safe name, and never kept by
    the browser (``private, no-store``): after signing out, on a shared computer, the next
    person must not find a document in the browser's cache (the pages are ``no-store`` too;
    the offline copies of ordinary documents are the service worker's, dropped on sign-out)."""

    def chunks() -> Any:
        with reader:
            yield from reader.iter_chunks()

    response = Response(stream_with_context(chunks()), mimetype=content_type)
    response.headers["Content-Length"] = str(size)
    response.headers["Content-Disposition"] = content_disposition(name, inline=inline)
    response.headers["X-Content-Type-Options"] = "nosniff"
    if sha256:
        response.headers["ETag"] = f'"{sha256}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
