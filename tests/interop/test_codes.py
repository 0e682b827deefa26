"""Code lists: what we emit, and what we accept from peers."""

from __future__ import annotations

import pytest

from interop import (
    DOCUMENT_TYPES,
    BussinessDocType,
    Priority,
    StatusCode,
    SteeringType,
    document_type_for_abbreviation,
)
from interop.edxml import codes


def test_priorities_map_to_our_urgency_values() -> None:
    assert [(p.value, p.urgency, p.label) for p in Priority] == [
        (0, "normal", "Thường"),
        (1, "urgent", "Khẩn"),
        (2, "very_urgent", "Thượng khẩn"),
        (3, "flash", "Hỏa tốc"),
        (4, "flash_timed", "Hỏa tốc hẹn giờ"),
    ]
    assert all(Priority.from_urgency(p.urgency) is p for p in Priority)
    with pytest.raises(ValueError):
        Priority.from_urgency("immediately")


def test_business_types_and_status_codes() -> None:
    assert [t.value for t in BussinessDocType] == [0, 1, 2, 3]
    assert BussinessDocType.REVOKE.label == "Thu hồi văn bản"
    assert [c.value for c in StatusCode] == [
        "01", "02", "03", "04", "05", "06", "13", "15", "16",
    ]  # fmt: skip
    assert StatusCode.RECALL_REQUESTED.sent_by == "sender"
    assert {c.sent_by for c in StatusCode if c is not StatusCode.RECALL_REQUESTED} == {"recipient"}
    assert StatusCode.REJECTED.label == "Từ chối tiếp nhận"
    assert codes.read_status_code("6") == ("06", None)
    value, warning = codes.read_status_code("99")
    assert value == "99" and warning is not None


def test_document_types() -> None:
    assert DOCUMENT_TYPES["18"].name == "Công văn"
    assert DOCUMENT_TYPES["10"].abbreviation == "KH"
    assert document_type_for_abbreviation("KH") == DOCUMENT_TYPES["10"]
    assert document_type_for_abbreviation("CV") == DOCUMENT_TYPES["18"]
    assert document_type_for_abbreviation("THC") == DOCUMENT_TYPES["29"]
    assert document_type_for_abbreviation("XYZ") is None
    assert codes.read_document_type("18") is None
    assert codes.read_document_type("99") is not None


@pytest.mark.parametrize(
    ("raw", "scheme", "expected", "warns"),
    [
        ("0", "auto", SteeringType.ORDINARY, False),
        ("1", "auto", SteeringType.DIRECTIVE, False),
        ("2", "auto", SteeringType.DIRECTIVE_REPORT, False),
        ("3", "auto", SteeringType.DIRECTIVE_REPORT, True),
        ("1", "one_based", SteeringType.ORDINARY, False),
        ("3", "one_based", SteeringType.DIRECTIVE_REPORT, False),
        ("3", "zero_based", None, True),
        ("0", "one_based", None, True),
        ("x", "auto", None, True),
        ("", "auto", None, False),
    ],
)
def test_steering_type_variants(
    raw: str, scheme: codes.SteeringScheme, expected: SteeringType | None, warns: bool
) -> None:
    value, warning = codes.read_steering_type(raw, scheme)
    assert value is expected
    assert (warning is not None) is warns


def test_paper_and_unknown_codes_are_tolerated() -> None:
    assert codes.read_paper("1") == (True, None)
    assert codes.read_paper("Không") == (False, None)
    assert codes.read_paper("")[0] is None
    assert codes.read_paper("maybe")[1] is not None
    assert codes.read_priority("9")[0] is Priority.NORMAL
    assert codes.read_bussiness_doc_type("7")[1] is not None
