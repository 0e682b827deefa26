"""Reference data shipped with DHTN and loaded into the database, where admins can edit it."""

from __future__ import annotations

import datetime as dt

from docflow.enums import HolidayKind

# (API doc_type, name, notation abbreviation, edXML type code when known). Decree 30 Art. 7.
DOCUMENT_TYPES: list[tuple[str, str, str, int | None]] = [
    ("NQ", "Nghị quyết", "NQ", None),
    ("QĐ", "Quyết định", "QĐ", None),
    ("CT", "Chỉ thị", "CT", None),
    ("QC", "Quy chế", "QC", None),
    ("QyĐ", "Quy định", "QyĐ", None),
    ("TC", "Thông cáo", "TC", None),
    ("TB", "Thông báo", "TB", None),
    ("HD", "Hướng dẫn", "HD", None),
    ("CTr", "Chương trình", "CTr", None),
    ("KH", "Kế hoạch", "KH", None),
    ("PA", "Phương án", "PA", None),
    ("ĐA", "Đề án", "ĐA", None),
    ("DA", "Dự án", "DA", None),
    ("BC", "Báo cáo", "BC", None),
    ("BB", "Biên bản", "BB", None),
    ("TTr", "Tờ trình", "TTr", None),
    ("HĐ", "Hợp đồng", "HĐ", None),
    ("CV", "Công văn", "", 18),
    ("CĐ", "Công điện", "CĐ", None),
    ("BGN", "Bản ghi nhớ", "BGN", None),
    ("BTT", "Bản thỏa thuận", "BTT", None),
    ("GUQ", "Giấy ủy quyền", "GUQ", None),
    ("GM", "Giấy mời", "GM", None),
    ("GGT", "Giấy giới thiệu", "GGT", None),
    ("GNP", "Giấy nghỉ phép", "GNP", None),
    ("PG", "Phiếu gửi", "PG", None),
    ("PC", "Phiếu chuyển", "PC", None),
    ("PB", "Phiếu báo", "PB", None),
    ("THC", "Thư công", "", None),
    ("NĐ", "Nghị định", "NĐ", None),
    ("TT", "Thông tư", "TT", None),
    # The Front's own kind under its own regulation (unconfirmed; admins may edit).
    ("TTri", "Thông tri", "TT", None),
]

# The 2026 calendar as announced for public servants; admins correct and extend it yearly.
HOLIDAYS_2026: list[tuple[dt.date, str, HolidayKind]] = [
    (dt.date(2026, 1, 1), "Tết Dương lịch", HolidayKind.HOLIDAY),
    *[
        (dt.date(2026, 2, d), "Tết Nguyên đán Bính Ngọ", HolidayKind.HOLIDAY)
        for d in (16, 17, 18, 19, 20)
    ],
    (dt.date(2026, 4, 27), "Nghỉ bù Giỗ Tổ Hùng Vương (10/3 âm lịch)", HolidayKind.HOLIDAY),
    (dt.date(2026, 4, 30), "Ngày Chiến thắng", HolidayKind.HOLIDAY),
    (dt.date(2026, 5, 1), "Ngày Quốc tế Lao động", HolidayKind.HOLIDAY),
    (dt.date(2026, 9, 1), "Quốc khánh (ngày liền kề)", HolidayKind.HOLIDAY),
    (dt.date(2026, 9, 2), "Quốc khánh", HolidayKind.HOLIDAY),
]
