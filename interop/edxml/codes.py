"""Code lists of edXML (QCVN 102:2016, Decision 28/2018) and their mapping to DHTN's values.

Output uses the documented codes only. Input is tolerant: the ``read_*`` functions return the
value they understood and, when the code was unknown or ambiguous, a Vietnamese warning saying
what was assumed (callers collect these into ``ParseResult.warnings``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import Literal

EDXML_NS = "http://www.mic.gov.vn/TBT/QCVN_102_2016"
XLINK_NS = "http://www.w3.org/1999/xlink"
XMLDSIG_NS = "http://www.w3.org/2000/09/xmldsig#"
SOAP11_NS = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12_NS = "http://www.w3.org/2003/05/soap-envelope"
# Namespaces of older provincial hubs (LGSP) that reuse the edXML element names.
LEGACY_EDXML_NS = ("http://www.go.vn/eDoc",)

Urgency = Literal["normal", "urgent", "very_urgent", "flash", "flash_timed"]
"""DHTN's urgency values (API.md §2), the same strings as ``docflow.enums.Urgency``."""


class Priority(IntEnum):
    """OtherInfo/Priority: độ khẩn."""

    NORMAL = 0
    URGENT = 1
    VERY_URGENT = 2
    FLASH = 3
    FLASH_TIMED = 4

    @property
    def label(self) -> str:
        return _PRIORITY_LABELS[self]

    @property
    def urgency(self) -> Urgency:
        return _PRIORITY_URGENCY[self]

    @classmethod
    def from_urgency(cls, urgency: str) -> Priority:
        """The priority of one of DHTN's urgency values; ``ValueError`` for anything else."""
        for priority, value in _PRIORITY_URGENCY.items():
            if value == urgency:
                return priority
        raise ValueError(f"unknown urgency {urgency!r}")


_PRIORITY_LABELS = {
    Priority.NORMAL: "Thường",
    Priority.URGENT: "Khẩn",
    Priority.VERY_URGENT: "Thượng khẩn",
    Priority.FLASH: "Hỏa tốc",
    Priority.FLASH_TIMED: "Hỏa tốc hẹn giờ",
}
_PRIORITY_URGENCY: dict[Priority, Urgency] = {
    Priority.NORMAL: "normal",
    Priority.URGENT: "urgent",
    Priority.VERY_URGENT: "very_urgent",
    Priority.FLASH: "flash",
    Priority.FLASH_TIMED: "flash_timed",
}


class BussinessDocType(IntEnum):
    """TraceHeaderList/Bussiness/BussinessDocType: what the package does to a document."""

    NEW = 0
    REVOKE = 1
    UPDATE = 2
    REPLACE = 3

    @property
    def label(self) -> str:
        return _BUSSINESS_LABELS[self]


_BUSSINESS_LABELS = {
    BussinessDocType.NEW: "Văn bản mới",
    BussinessDocType.REVOKE: "Thu hồi văn bản",
    BussinessDocType.UPDATE: "Cập nhật văn bản",
    BussinessDocType.REPLACE: "Thay thế văn bản",
}


class StatusCode(StrEnum):
    """StatusCode of a status message (DOMAIN.md §7)."""

    ARRIVED = "01"
    REJECTED = "02"
    REGISTERED = "03"
    ASSIGNED = "04"
    IN_PROGRESS = "05"
    DONE = "06"
    RECALL_REQUESTED = "13"
    RECALL_AGREED = "15"
    RECALL_REFUSED = "16"

    @property
    def label(self) -> str:
        return _STATUS_LABELS[self][0]

    @property
    def sent_by(self) -> Literal["sender", "recipient"]:
        """Which party of the exchange sends this code."""
        return _STATUS_LABELS[self][1]


_STATUS_LABELS: dict[StatusCode, tuple[str, Literal["sender", "recipient"]]] = {
    StatusCode.ARRIVED: ("Đã đến", "recipient"),
    StatusCode.REJECTED: ("Từ chối tiếp nhận", "recipient"),
    StatusCode.REGISTERED: ("Đã tiếp nhận", "recipient"),
    StatusCode.ASSIGNED: ("Phân công", "recipient"),
    StatusCode.IN_PROGRESS: ("Đang xử lý", "recipient"),
    StatusCode.DONE: ("Hoàn thành", "recipient"),
    StatusCode.RECALL_REQUESTED: ("Lấy lại / thu hồi", "sender"),
    StatusCode.RECALL_AGREED: ("Đồng ý thu hồi / cập nhật", "recipient"),
    StatusCode.RECALL_REFUSED: ("Từ chối thu hồi / cập nhật", "recipient"),
}


class SteeringType(IntEnum):
    """MessageHeader/SteeringType, emitted in the documented 0-based scheme.

    The meaning of each value is unconfirmed (DOMAIN.md §7); the names are our reading. In the wild some systems count from 1 (1 ordinary, 2 directive, 3 directive with a report
    required): see :func:`read_steering_type` and its ``scheme``.
    """

    ORDINARY = 0
    DIRECTIVE = 1
    DIRECTIVE_REPORT = 2

    @property
    def label(self) -> str:
        return _STEERING_LABELS[self]


_STEERING_LABELS = {
    SteeringType.ORDINARY: "Văn bản thông thường",
    SteeringType.DIRECTIVE: "Văn bản chỉ đạo",
    SteeringType.DIRECTIVE_REPORT: "Văn bản chỉ đạo có yêu cầu báo cáo",
}

SteeringScheme = Literal["auto", "zero_based", "one_based"]
"""How to read SteeringType: the documented 0/1/2, the 1/2/3 some peers use, or guess."""


@dataclass(frozen=True)
class DocumentTypeCode:
    """One entry of the DocumentType/Type code list."""

    code: str
    name: str
    abbreviation: str  # as in the notation (DOMAIN.md §2); "" for Công văn and Thư công


DOCUMENT_TYPES: dict[str, DocumentTypeCode] = {
    entry.code: entry
    for entry in (
        DocumentTypeCode(str(number), name, abbreviation)
        for number, (name, abbreviation) in enumerate(
            [
                ("Nghị quyết", "NQ"),
                ("Quyết định", "QĐ"),
                ("Chỉ thị", "CT"),
                ("Quy chế", "QC"),
                ("Quy định", "QyĐ"),
                ("Thông cáo", "TC"),
                ("Thông báo", "TB"),
                ("Hướng dẫn", "HD"),
                ("Chương trình", "CTr"),
                ("Kế hoạch", "KH"),
                ("Phương án", "PA"),
                ("Đề án", "ĐA"),
                ("Dự án", "DA"),
                ("Báo cáo", "BC"),
                ("Biên bản", "BB"),
                ("Tờ trình", "TTr"),
                ("Hợp đồng", "HĐ"),
                ("Công văn", ""),
                ("Công điện", "CĐ"),
                ("Bản ghi nhớ", "BGN"),
                ("Bản thỏa thuận", "BTT"),
                ("Giấy ủy quyền", "GUQ"),
                ("Giấy mời", "GM"),
                ("Giấy giới thiệu", "GGT"),
                ("Giấy nghỉ phép", "GNP"),
                ("Phiếu gửi", "PG"),
                ("Phiếu chuyển", "PC"),
                ("Phiếu báo", "PB"),
                ("Thư công", ""),
            ],
            start=1,
        )
    )
}
"""The administrative types of Decree 30 in the QCVN order (18 = Công văn). The codes after 19
follow Decree 30's list and are unconfirmed against QCVN 102:2016's own table."""

CONG_VAN = "18"


def document_type_for_abbreviation(abbreviation: str) -> DocumentTypeCode | None:
    """The code-list entry of a notation abbreviation (``"KH"``); ``"CV"`` is Công văn."""
    if abbreviation in ("", "CV"):
        return DOCUMENT_TYPES[CONG_VAN]
    if abbreviation == "THC":
        return DOCUMENT_TYPES["29"]
    for entry in DOCUMENT_TYPES.values():
        if entry.abbreviation == abbreviation:
            return entry
    return None


# --- tolerant readers -------------------------------------------------------------------------


def is_number(value: str) -> bool:
    """ASCII digits only: ``str.isdigit`` also takes "²" or "¹⁸", which ``int`` refuses."""
    return value.isascii() and value.isdigit()


def read_priority(raw: str) -> tuple[Priority, str | None]:
    value = raw.strip()
    if is_number(value) and int(value) in Priority._value2member_map_:
        return Priority(int(value)), None
    return Priority.NORMAL, f"độ khẩn '{value}' không xác định, coi là thường (0)"


def read_bussiness_doc_type(raw: str) -> tuple[BussinessDocType, str | None]:
    value = raw.strip()
    if is_number(value) and int(value) in BussinessDocType._value2member_map_:
        return BussinessDocType(int(value)), None
    return BussinessDocType.NEW, f"loại nghiệp vụ '{value}' không xác định, coi là văn bản mới (0)"


def read_status_code(raw: str) -> tuple[str, str | None]:
    """The code as two digits (``"1"`` → ``"01"``); a warning when it is not in the list."""
    value = raw.strip()
    if is_number(value) and len(value) < 2:
        value = value.zfill(2)
    if value in StatusCode._value2member_map_:
        return value, None
    return value, f"mã trạng thái '{value}' không có trong danh mục"


def read_steering_type(
    raw: str, scheme: SteeringScheme = "auto"
) -> tuple[SteeringType | None, str | None]:
    """Read SteeringType in the given scheme.

    ``auto`` takes the documented 0-based codes, except ``3``, which only the 1-based scheme has.
    A peer known to count from 1 should be read with ``one_based``.
    """
    value = raw.strip()
    if not value:
        return None, None
    if not is_number(value):
        return None, f"loại chỉ đạo '{value}' không xác định, bỏ qua"
    number = int(value)
    if scheme == "one_based" or (scheme == "auto" and number == 3):
        if 1 <= number <= 3:
            warning = None if scheme == "one_based" else "loại chỉ đạo '3' theo cách đánh số 1-3"
            return SteeringType(number - 1), warning
    elif 0 <= number <= 2:
        return SteeringType(number), None
    return None, f"loại chỉ đạo '{value}' không xác định, bỏ qua"


_TRUE = {"1", "true", "yes", "có", "co", "y"}
_FALSE = {"0", "false", "no", "không", "khong", "n"}


def read_paper(raw: str) -> tuple[bool | None, str | None]:
    """Bussiness/Paper: whether a paper original follows (emitted as 1/0)."""
    value = raw.strip().lower()
    if not value:
        return None, None
    if value in _TRUE:
        return True, None
    if value in _FALSE:
        return False, None
    return None, f"giá trị bản giấy '{raw.strip()}' không xác định, bỏ qua"


def read_document_type(raw: str) -> str | None:
    """A warning when DocumentType/Type is not in the code list (the code is kept as sent)."""
    value = raw.strip()
    if value in DOCUMENT_TYPES:
        return None
    return f"mã loại văn bản '{value}' không có trong danh mục"
