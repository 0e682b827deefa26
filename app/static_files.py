"""Static files that can be cached for good: every ``url_for('static', ...)`` carries ``v=``,
the first 12 hex digits of the file's SHA-256, so a changed file gets a new address. The nginx
site of ``deploy/`` serves ``/static/`` itself with a one-year ``immutable`` Cache-Control; the
app, when it serves them (embedded profile), answers with an ETag as Flask does."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import Flask


@lru_cache(maxsize=256)
def _fingerprint(path: Path, mtime_ns: int) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def fingerprint(folder: str, filename: str) -> str | None:
    path = (Path(folder) / filename).resolve()
    if not path.is_relative_to(Path(folder).resolve()) or not path.is_file():
        return None
    return _fingerprint(path, path.stat().st_mtime_ns)


def init_static(app: Flask) -> None:
    @app.url_defaults
    def _version_static(endpoint: str, values: dict[str, Any]) -> None:
        if endpoint != "static" or "v" in values or not app.static_folder:
            return
        version = fingerprint(app.static_folder, str(values.get("filename", "")))
        if version:
            values["v"] = version
