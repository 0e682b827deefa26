"""Turning a submitted form into a docflow command, and its errors into per-field messages."""

from __future__ import annotations

from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import pydantic
from flask import request

from app.errors import pydantic_fields
from docflow import DomainError

M = TypeVar("M", bound=pydantic.BaseModel)

LIST_FIELDS = {"roles"}


def form_data(*, drop: tuple[str, ...] = ("csrf_token", "form")) -> dict[str, Any]:
    """The form as a dict: empty strings become None, list fields keep every value."""
    data: dict[str, Any] = {}
    for key in request.form:
        if key in drop:
            continue
        if key in LIST_FIELDS:
            data[key] = request.form.getlist(key)
            continue
        value = request.form.get(key, "").strip()
        data[key] = value if value != "" else None
    return data


def parse_form(
    model: type[M], *, clears: bool = False, **extra: Any
) -> tuple[M | None, dict[str, str]]:
    """The form as ``model``. A field left empty is left out (the command's default), or, with
    ``clears`` (an edit form, whose command changes only the fields it is given), sent as
    null: the person emptied it to clear it."""
    data = {k: v for k, v in form_data().items() if v is not None or clears}
    data.update(extra)
    try:
        return model.model_validate(data), {}
    except pydantic.ValidationError as exc:
        return None, pydantic_fields(exc)


def same_site(target: str | None, default: str) -> str:
    """``target`` when it is a path of this site (or an address of this host, as a Referer
    is: its path), else ``default``: a page never sends the browser to another host (a
    ``next`` parameter, a form's ``back``, the Referer)."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.netloc:
        if parts.netloc != request.host or parts.scheme not in ("http", "https"):
            return default
        return urlunsplit(("", "", parts.path or "/", parts.query, ""))
    if parts.scheme or not target.startswith("/"):
        return default
    return target


#: The years a page may ask for, as the API's ``Year`` (2000–2100).
FIRST_YEAR, LAST_YEAR = 2000, 2100


def year_arg(default: int | None, name: str = "year") -> int | None:
    """The query's year, or ``default`` when it is missing, not a number, or outside
    :data:`FIRST_YEAR`–:data:`LAST_YEAR` (a year the database or a date cannot hold)."""
    try:
        year = int(request.args.get(name) or "")
    except ValueError:
        return default
    return year if FIRST_YEAR <= year <= LAST_YEAR else default


def domain_errors(exc: DomainError) -> dict[str, str]:
    fields = exc.details.get("fields") if isinstance(exc.details, dict) else None
    if isinstance(fields, dict) and fields:
        return {str(k): str(v) for k, v in fields.items()}
    return {"__all__": exc.message}
