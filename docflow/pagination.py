"""Keyset pagination: an opaque cursor holds the sort key of the last item; no counting."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from docflow.errors import ValidationError

T = TypeVar("T")
DEFAULT_LIMIT = 50
MAX_LIMIT = 200


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list: the items and the cursor of the next page (None at the end)."""

    items: Sequence[T]
    next_cursor: str | None


def encode_cursor(key: Sequence[Any]) -> str:
    raw = json.dumps([str(k) for k in key], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> list[str] | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value = json.loads(raw)
    except ValueError as exc:
        raise ValidationError.field("cursor", "Con trỏ phân trang không hợp lệ.") from exc
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationError.field("cursor", "Con trỏ phân trang không hợp lệ.")
    return value


def clamp_limit(limit: int | None) -> int:
    if limit is None:
        return DEFAULT_LIMIT
    if limit < 1 or limit > MAX_LIMIT:
        raise ValidationError.field("limit", f"limit phải từ 1 đến {MAX_LIMIT}.")
    return limit
