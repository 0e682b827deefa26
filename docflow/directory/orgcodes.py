"""Identifier codes of organisations (mã định danh), national format ``V1V2V3.Z1Z2.Y1Y2.L##``.

The code comes from the national registry, so we check its form, not its meaning: 13
characters, three digits, two, two, then one capital letter and two digits.
"""

from __future__ import annotations

import re

CODE_RE = re.compile(r"^\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}$")


def is_valid_code(code: str) -> bool:
    return bool(CODE_RE.fullmatch(code))


def normalise_code(code: str) -> str:
    return code.strip().upper()
