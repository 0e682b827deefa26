"""File names as people gave them (Vietnamese kept), made safe to store and to send back."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

DEFAULT_STEM = "tài liệu"
MAX_NAME_BYTES = 255
# Characters that break a download on Windows or a shell; replaced, not dropped, so names stay
# recognisable.
_RESERVED = re.compile(r'[<>:"|?*]')
_SPACES = re.compile(r"\s+")
# RFC 5987 attr-char, minus what `quote` always keeps safe.
_ATTR_SAFE = "!#$&+^`|~"


def normalize_filename(name: str | None, *, default_stem: str = DEFAULT_STEM) -> str:
    """A safe display/storage name for ``name``: NFC, no path, no control characters.

    Keeps Vietnamese letters and the extension; drops directory parts (``/`` and ``\\``),
    control and format characters (which include the right-to-left override used to disguise
    extensions), collapses white space, trims dots and spaces at the ends, and caps the length
    at 255 UTF-8 bytes. An empty result becomes ``default_stem``.
    """
    text = unicodedata.normalize("NFC", name or "")
    text = re.split(r"[/\\]", text)[-1]
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C" or ch in "\t\n\r")
    text = _SPACES.sub(" ", text)
    text = _RESERVED.sub("_", text).strip(" .")
    if not text:
        text = default_stem
    return _truncate(text)


def split_extension(name: str) -> tuple[str, str]:
    """``("báo cáo", ".pdf")`` for ``"báo cáo.pdf"``; the extension is lower-cased, may be ""."""
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem or not ext or " " in ext:
        return name, ""
    return stem, "." + ext.lower()


def with_extension(name: str, extension: str) -> str:
    """``name`` with ``extension`` appended unless it already ends with it (case-insensitive)."""
    if name.lower().endswith(extension.lower()):
        return name
    return _truncate(name + extension)


def ascii_fallback(name: str) -> str:
    """An ASCII rendering for old clients: diacritics removed (đ → d), others replaced by _."""
    decomposed = unicodedata.normalize("NFD", name.replace("đ", "d").replace("Đ", "D"))
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\' else "_" for ch in plain)


def content_disposition(filename: str, *, inline: bool = False) -> str:
    """A ``Content-Disposition`` value per RFC 6266 / RFC 5987 that keeps Vietnamese names.

    ``filename`` carries an ASCII fallback; ``filename*`` the exact UTF-8 name.
    """
    name = normalize_filename(filename)
    kind = "inline" if inline else "attachment"
    encoded = quote(name, safe=_ATTR_SAFE)
    return f"{kind}; filename=\"{ascii_fallback(name)}\"; filename*=UTF-8''{encoded}"


def _truncate(name: str) -> str:
    if len(name.encode("utf-8")) <= MAX_NAME_BYTES:
        return name
    stem, ext = split_extension(name)
    if len(ext.encode("utf-8")) > 16:
        stem, ext = name, ""
    budget = MAX_NAME_BYTES - len(ext.encode("utf-8"))
    cut = stem.encode("utf-8")[:budget].decode("utf-8", errors="ignore")
    # Cutting may split a base letter from its combining marks; NFC re-joins what is left.
    return unicodedata.normalize("NFC", cut).rstrip(" .") + ext
