"""Số, ký hiệu (Decree 30 Art. 8): "60/KH-MTTW-BTT" or, for a công văn, "491/MTTW-BTT".

The number comes first, then after "/" the type abbreviation (none for Công văn and Thư công),
the issuing organisation's abbreviation and, optionally, the drafting unit's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from docflow.errors import ValidationError

# Legal documents carry the year: "30/2020/NĐ-CP".
_NOTATION = re.compile(r"^(?P<number>\d{1,6})(?:/(?P<year>\d{4}))?/(?P<rest>[^\s/]+)$")
_PREFIX = re.compile(r"^s[ốo]\s*:\s*", re.IGNORECASE)


@dataclass(frozen=True)
class Notation:
    """The parts of a notation: number, type abbreviation ("" for công văn), issuer, unit."""

    number: int
    type_abbr: str
    issuer: str
    unit: str | None


def parse_notation(text: str, *, type_abbr: str, known_abbrs: frozenset[str]) -> Notation:
    """Parse ``text`` and check it against the document type's abbreviation.

    ``known_abbrs`` lets a công văn be told apart from a typed document whose type was mistyped
    ("12/KH-MTTW" given as a công văn is refused: it names the type Kế hoạch).
    """
    value = _PREFIX.sub("", "".join(text.split()))
    match = _NOTATION.fullmatch(value)
    if not match:
        raise ValidationError.field(
            "notation", "Số, ký hiệu phải có dạng 60/KH-MTTW-BTT (công văn: 491/MTTW-BTT)."
        )
    parts = match.group("rest").split("-")
    if type_abbr:
        if len(parts) < 2 or parts[0] != type_abbr:
            raise ValidationError.field(
                "notation",
                f"Ký hiệu phải có tên loại «{type_abbr}» sau số, ví dụ 12/{type_abbr}-MTTW.",
            )
        issuer, unit = parts[1], "-".join(parts[2:]) or None
    else:
        if parts[0] in known_abbrs and len(parts) >= 2:
            raise ValidationError.field(
                "notation", f"Ký hiệu «{parts[0]}» là tên loại văn bản, không phải công văn."
            )
        issuer, unit = parts[0], "-".join(parts[1:]) or None
    return Notation(int(match.group("number")), type_abbr, issuer, unit)
