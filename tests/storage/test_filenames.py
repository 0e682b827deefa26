"""File names: Vietnamese kept, paths and control characters gone, RFC 5987 headers."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st
from werkzeug.http import parse_options_header

from storage import content_disposition, normalize_filename


@pytest.mark.parametrize(
    ("given_name", "expected"),
    [
        ("Tờ trình.pdf", "Tờ trình.pdf"),
        (unicodedata.normalize("NFD", "Quyết định số 5.docx"), "Quyết định số 5.docx"),
        ("/var/www/../Báo cáo.pdf", "Báo cáo.pdf"),
        ("..\\..\\Thư mời.pdf", "Thư mời.pdf"),
        ("a\r\nb.pdf", "a b.pdf"),
        ('báo "cáo" <mới>?.pdf', "báo _cáo_ _mới__.pdf"),
        ("\u202egnp.exe", "gnp.exe"),
        ("  .hidden.pdf  ", "hidden.pdf"),
        ("..", "tài liệu"),
    ],
)
def test_normalize_filename(given_name: str, expected: str) -> None:
    assert normalize_filename(given_name) == expected


def test_long_names_are_cut_at_255_bytes_keeping_the_extension() -> None:
    name = "Ủy ban Mặt trận " * 40 + ".pdf"
    result = normalize_filename(name)
    assert len(result.encode("utf-8")) <= 255
    assert result.endswith(".pdf") and result.startswith("Ủy ban")
    assert unicodedata.is_normalized("NFC", result)


@given(st.text(max_size=400))
def test_any_name_becomes_a_safe_one(name: str) -> None:
    result = normalize_filename(name)
    assert result and len(result.encode("utf-8")) <= 255
    assert "/" not in result and "\\" not in result
    assert not any(unicodedata.category(ch).startswith("C") for ch in result)
    assert result not in (".", "..") and unicodedata.is_normalized("NFC", result)


def test_content_disposition_keeps_vietnamese() -> None:
    value = content_disposition("Tờ trình số 12.pdf")
    assert value == (
        'attachment; filename="To trinh so 12.pdf"; '
        "filename*=UTF-8''T%E1%BB%9D%20tr%C3%ACnh%20s%E1%BB%91%2012.pdf"
    )
    # A standard parser reads the exact name back.
    assert parse_options_header(value) == ("attachment", {"filename": "Tờ trình số 12.pdf"})
    assert content_disposition("../Tờ trình số 12.pdf") == value  # the path part goes


def test_content_disposition_inline_and_quotes() -> None:
    value = content_disposition('Đơn "khiếu nại".pdf', inline=True)
    assert value.startswith('inline; filename="Don _khieu nai_.pdf"; ')
    assert "filename*=UTF-8''%C4%90%C6%A1n%20_khi%E1%BA%BFu%20n%E1%BA%A1i_.pdf" in value
