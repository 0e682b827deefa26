"""The search box's syntax: words, "phrases in quotes", -excluded words (as on the web)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from docflow.documents.text import fold
from docflow.errors import ValidationError

MAX_QUERY_CHARS = 200
MAX_TERMS = 40  # a pasted subject line (200 characters) stays searchable
_TOKEN = re.compile(r'(-?)"([^"]*)"?|(-?)(\S+)')


@dataclass(frozen=True)
class SearchTerms:
    """A parsed query, folded (no accents, lower case, đ→d).

    Attributes:
        include: terms that must all be found; each a word or a phrase (words in order).
        exclude: terms none of which may be found.
        folded: the whole query folded (PostgreSQL's ``websearch_to_tsquery`` reads it).
    """

    include: tuple[str, ...]
    exclude: tuple[str, ...]
    folded: str


def parse_query(q: str) -> SearchTerms:
    """Parse the box's text; 422 (field ``q``) when nothing searchable is left."""
    folded = fold(q[:MAX_QUERY_CHARS]).replace("“", '"').replace("”", '"')
    include: list[str] = []
    exclude: list[str] = []
    for match in _TOKEN.finditer(folded):
        if match.group(2) is not None:
            negative, term = match.group(1), " ".join(match.group(2).split())
        else:
            negative, term = match.group(3), match.group(4)
        term = term.strip()
        if not term or term in {"-", "or"}:
            continue
        (exclude if negative else include).append(term)
    if not include or sum(len(t) for t in include) < 2:
        raise ValidationError.field("q", "Nhập ít nhất 2 ký tự để tìm.")
    if len(include) + len(exclude) > MAX_TERMS:
        raise ValidationError.field("q", f"Tối đa {MAX_TERMS} từ hoặc cụm từ.")
    return SearchTerms(tuple(include), tuple(exclude), folded)
