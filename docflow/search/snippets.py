"""Snippets: the words of the original text (with its accents) around where the folded query
was found, and where to highlight them.

A folded term becomes a pattern over the original text in which each letter is the class of
every letter that folds to it ("d" → "[dDđĐ]"), so matches are found in the original at C speed,
with their offsets, without folding texts of many pages."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

WINDOW = 90  # characters of context on each side
MAX_SCAN = 300_000  # characters of a text searched for the first match


@dataclass(frozen=True)
class Snippet:
    """``text`` (a slice of the original, "…" where cut, whitespace runs as one space) and
    ``marks``: [start, end) offsets in ``text`` of each match, for highlighting."""

    text: str
    marks: tuple[tuple[int, int], ...]


@functools.lru_cache(maxsize=1)
def _table() -> dict[int, str]:
    """Each Latin letter (with any diacritics) to its lower-case base letter, one to one."""
    table: dict[int, str] = {}
    for code in list(range(0x41, 0x5B)) + list(range(0xC0, 0x250)) + list(range(0x1E00, 0x1F00)):
        c = chr(code)
        base = "".join(
            x for x in unicodedata.normalize("NFD", c) if unicodedata.category(x) != "Mn"
        ).lower()
        if c in "đĐ":
            base = "d"
        if len(base) == 1 and base != c:
            table[code] = base
    return table


@functools.lru_cache(maxsize=1)
def _classes() -> dict[str, str]:
    """Each base letter to a character class of every letter that folds to it ("d" →
    "[dDđĐ]", "a" → "[aAàÀáÁ…]")."""
    variants: dict[str, set[str]] = {}
    for code, base in _table().items():
        variants.setdefault(base, {base}).add(chr(code))
    return {b: "[" + "".join(sorted(v)) + "]" for b, v in variants.items()}


@functools.lru_cache(maxsize=256)
def _pattern(term: str) -> re.Pattern[str]:
    """A folded term as a pattern over the original text: accents and case ignored, whole
    words, any whitespace between words (searched at C speed, stopping at the first match)."""
    classes = _classes()
    words = ["".join(classes.get(c, re.escape(c)) for c in w) for w in term.split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)")


def make_snippet(text: str, terms: Sequence[str], *, window: int = WINDOW) -> Snippet | None:
    """The first place any of ``terms`` (folded) occurs in ``text``, with context; None when
    none occurs."""
    if not text or not terms:
        return None
    original = unicodedata.normalize("NFC", text[:MAX_SCAN])
    patterns = [_pattern(t) for t in terms if t.strip()]
    first = None
    for p in patterns:
        m = p.search(original)
        if m and (first is None or m.start() < first.start()):
            first = m
    if first is None:
        return None
    lo = max(0, first.start() - window)
    hi = min(len(original), first.end() + window)
    while lo > 0 and not original[lo - 1].isspace() and first.start() - lo < window + 20:
        lo -= 1
    while hi < len(original) and not original[hi].isspace() and hi - first.end() < window + 20:
        hi += 1
    raw = [(m.start() - lo, m.end() - lo) for p in patterns for m in p.finditer(original, lo, hi)]
    # Collapse whitespace in the piece, keeping each offset's place.
    piece = original[lo:hi]
    out: list[str] = []
    where: list[int] = []  # piece offset -> output offset
    space = True  # drop leading whitespace
    for c in piece:
        where.append(len(out))
        if c.isspace():
            if not space:
                out.append(" ")
            space = True
        else:
            out.append(c)
            space = False
    where.append(len(out))
    clean = "".join(out).rstrip()
    prefix = "…" if lo > 0 else ""
    suffix = "…" if hi < len(original) else ""
    shift = len(prefix)
    marks = sorted({(where[a] + shift, min(where[b], len(clean)) + shift) for a, b in raw})
    text_out = prefix + clean + suffix
    merged: list[tuple[int, int]] = []
    for start, end in marks:  # words next to each other are one highlight
        if merged and start <= merged[-1][1] + 1 and not text_out[merged[-1][1] : start].strip():
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return Snippet(text_out, tuple(merged))


def substring_snippet(text: str, terms: Sequence[str]) -> Snippet | None:
    """``text`` (a short field: a notation) with every occurrence of the folded ``terms``
    marked as substrings ("4321/bc" in "4321/BC-MTTW", "8/kh-b" in "8/KH-BTT"): the way part of
    a notation is found. None when none occurs."""
    if not text:
        return None
    original = unicodedata.normalize("NFC", text)
    table = _table()
    folded = "".join(table.get(ord(c), c) for c in original).lower()  # one to one
    marks = []
    for term in terms:
        at = folded.find(term) if term else -1
        while at >= 0:
            marks.append((at, at + len(term)))
            at = folded.find(term, at + 1)
    if not marks or len(folded) != len(original):
        return None
    merged: list[tuple[int, int]] = []
    for start, end in sorted(marks):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return Snippet(original, tuple(merged))
