"""Enumerations shared by code, API and UI (values are the API's; labels are Vietnamese)."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    CLERK = "clerk"
    LEADER = "leader"
    UNIT_HEAD = "unit_head"
    SPECIALIST = "specialist"
    FEEDBACK_OFFICER = "feedback_officer"
    ARCHIVIST = "archivist"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.ADMIN: "Quản trị",
    Role.CLERK: "Văn thư",
    Role.LEADER: "Lãnh đạo",
    Role.UNIT_HEAD: "Lãnh đạo đơn vị",
    Role.SPECIALIST: "Chuyên viên",
    Role.FEEDBACK_OFFICER: "Cán bộ tiếp nhận phản ánh",
    Role.ARCHIVIST: "Lưu trữ",
}


class OrgLevel(StrEnum):
    CENTRAL = "central"
    PROVINCE = "province"
    COMMUNE = "commune"
    VILLAGE = "village"

    @property
    def depth(self) -> int:
        return list(OrgLevel).index(self)

    @property
    def label(self) -> str:
        return {
            "central": "Trung ương",
            "province": "Tỉnh, thành phố",
            "commune": "Xã, phường, đặc khu",
            "village": "Thôn, bản, tổ dân phố",
        }[self.value]


class Direction(StrEnum):
    INCOMING = "incoming"
    OUTGOING = "outgoing"

    @property
    def label(self) -> str:
        return "Văn bản đến" if self is Direction.INCOMING else "Văn bản đi"


class Secrecy(StrEnum):
    NONE = "none"
    CONFIDENTIAL = "confidential"
    SECRET = "secret"
    TOP_SECRET = "top_secret"

    @property
    def rank(self) -> int:
        return list(Secrecy).index(self)

    @property
    def label(self) -> str:
        return {
            "none": "Thường",
            "confidential": "Mật",
            "secret": "Tối mật",
            "top_secret": "Tuyệt mật",
        }[self.value]


class Urgency(StrEnum):
    NORMAL = "normal"
    URGENT = "urgent"
    VERY_URGENT = "very_urgent"
    FLASH = "flash"
    FLASH_TIMED = "flash_timed"


class HolidayKind(StrEnum):
    HOLIDAY = "holiday"  # a weekday off (nghỉ lễ, Tết, nghỉ bù)
    WORKDAY = "workday"  # a weekend day worked to swap for a holiday (làm bù)
