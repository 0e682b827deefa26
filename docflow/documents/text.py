"""Vietnamese text folding for search: "Kế hoạch" and "ke hoach" fold to the same string."""

from __future__ import annotations

import unicodedata

_D = str.maketrans({"đ": "d", "Đ": "d"})


def fold(text: str | None) -> str:
    """Lower case, no diacritics, đ→d, whitespace collapsed."""
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFD", text.translate(_D))
    stripped = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    return " ".join(stripped.lower().split())


def search_text(*parts: str | None) -> str:
    return " | ".join(fold(p) for p in parts if p)
