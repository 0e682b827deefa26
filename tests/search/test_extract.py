"""Reading text from real files, without a database (docflow.search.extract)."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader, PdfWriter

from docflow.errors import ValidationError
from docflow.search import ExtractionError, extract, make_snippet, parse_query
from docflow.search.extract import DOCX, language_of
from docflow.search.states import TextAction, TextStatus, next_status
from tests.pdfs import make_pdf
from tests.search.files import docx_file, scan_pdf, text_pdf


def test_a_pdf_text_layer_is_read_page_by_page() -> None:
    got = extract(text_pdf(pages=2), "application/pdf")
    assert got.method == "text_layer"
    assert len(got.pages) == 2 and not got.needs_ocr
    assert "phản biện xã hội" in got.pages[1]
    assert language_of(got.pages[0]) == "vi"


def test_pages_without_text_are_left_to_ocr() -> None:
    got = extract(scan_pdf(), "application/pdf")
    assert got.scanned_pages == [1]
    assert extract(make_pdf(3), "application/pdf").scanned_pages == [1, 2, 3]


def test_a_docx_gives_its_paragraphs_and_tables() -> None:
    data = docx_file(
        ["Kế hoạch tổ chức Ngày hội"], [["Đơn vị", "Kinh phí"], ["Phường Ba Đình", "12 triệu"]]
    )
    got = extract(data, DOCX)
    assert got.method == "docx"
    text = got.pages[0]
    assert "Kế hoạch tổ chức Ngày hội" in text
    assert "Phường Ba Đình\t12 triệu" in text


@pytest.mark.parametrize(
    ("data", "ctype", "words"),
    [
        (b"PK\x03\x04 not really a zip", DOCX, "DOCX bị hỏng"),
        (b"%PDF-1.7\n1 0 obj <<>> garbage", "application/pdf", "PDF bị hỏng"),
        (b"\x00\x01", "application/zip", "Không đọc được"),
    ],
)
def test_damaged_files_fail_with_a_reason(data: bytes, ctype: str, words: str) -> None:
    with pytest.raises(ExtractionError) as caught:
        extract(data, ctype)
    assert words in caught.value.message


def test_a_password_protected_pdf_fails_with_a_reason() -> None:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(text_pdf())))
    writer.encrypt(user_password="mat-khau", owner_password="chu", algorithm="AES-256")
    out = io.BytesIO()
    writer.write(out)
    with pytest.raises(ExtractionError) as caught:
        extract(out.getvalue(), "application/pdf")
    assert "mật khẩu" in caught.value.message


def test_query_syntax_words_phrases_exclusions() -> None:
    terms = parse_query('"Phản biện xã hội" Đất đai -ruộng 15/KH')
    assert terms.include == ("phan bien xa hoi", "dat", "dai", "15/kh")
    assert terms.exclude == ("ruong",)
    for bad in ["", " ", "a", "-ruong"]:
        with pytest.raises(ValidationError):
            parse_query(bad)


def test_a_snippet_keeps_the_diacritics_and_marks_the_match() -> None:
    text = "Mở đầu.\n\nTổ chức hội nghị  PHẢN BIỆN xã hội về đất đai; " + "x " * 200
    found = make_snippet(text, ["phan bien xa hoi"])
    assert found is not None
    ((start, end),) = found.marks
    assert found.text[start:end] == "PHẢN BIỆN xã hội"
    assert found.text.endswith("…")
    assert make_snippet(text, ["khong co"]) is None
    # Whole words only: "xa" is not found inside "xanh".
    assert make_snippet("màu xanh", ["xa"]) is None


def test_the_status_table() -> None:
    assert next_status("none", TextAction.QUEUE) is TextStatus.PENDING
    assert next_status("pending", TextAction.SUCCEED) is TextStatus.DONE
    assert next_status("pending", TextAction.FAIL) is TextStatus.FAILED
    with pytest.raises(ValueError):
        next_status("done", TextAction.FAIL)
    with pytest.raises(ValueError):
        next_status("none", TextAction.SUCCEED)


def test_part_of_a_notation_is_marked_as_a_substring() -> None:
    from docflow.search.snippets import substring_snippet

    found = substring_snippet("4321/BC-MTTW", ["4321/bc"])
    assert found is not None and found.text == "4321/BC-MTTW" and found.marks == ((0, 7),)
    found = substring_snippet("12/QĐ-MTTW", ["qd-mt", "2/q"])
    assert found is not None and found.marks == ((1, 8),)
    assert substring_snippet("12/KH-MTTW", ["13/kh"]) is None
