"""Packages as other vendors' systems write them (hand-written fixtures, not our builder's
output) imported on PostgreSQL through the public API: every field arrives whole."""

from __future__ import annotations

import base64
import hashlib
import re
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from docflow.models import Document
from docflow.models.exchange import ExchangeMessage
from tests.conftest import Demo
from tests.interop.conftest import FIXTURES

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _post(client: Any, headers: dict[str, str], data: bytes) -> Any:
    return client.post(
        "/api/v1/interop/packages", headers=headers, data=data, content_type="application/xml"
    )


def _payload_digests(path: Path) -> list[str]:
    """SHA-256 of each attachment as the fixture carries it (read straight from the text)."""
    text = path.read_text(encoding="utf-8")
    blocks = re.findall(r"<(?:\w+:)?ContentTransferEncoded>([^<]*)<", text)
    return [hashlib.sha256(base64.b64decode("".join(b.split()))).hexdigest() for b in blocks]


def _import(client: Any, api: Any, name: str) -> dict[str, Any]:
    r = _post(client, api("vanthu.tw"), (FIXTURES / name).read_bytes())
    assert r.status_code == 201, r.get_json()
    body: dict[str, Any] = r.get_json()
    return body


def _file_bytes(client: Any, api: Any, doc: dict[str, Any], file: dict[str, Any]) -> bytes:
    r = client.get(
        f"/api/v1/documents/{doc['id']}/files/{file['id']}/content", headers=api("vanthu.tw")
    )
    assert r.status_code == 200
    data: bytes = r.data
    return data


def test_provincial_system_default_namespace_three_files(client: Any, api: Any, demo: Demo) -> None:
    name = "foreign_vendor_default_ns.edxml"
    doc = _import(client, api, name)
    assert doc["notation"] == "1520/VPĐĐBQH&HĐND-TTDN"
    assert doc["subject"] == (
        'V/v góp ý dự thảo Báo cáo "Kết quả giám sát việc giải quyết kiến nghị của cử tri"'
        " & đề xuất <năm 2026>"
    )
    assert doc["issuer"] == {
        "name": "Văn phòng Đoàn đại biểu Quốc hội và Hội đồng nhân dân tỉnh Bà Rịa - Vũng Tàu",
        "code": "000.12.30.H49",
    }
    assert doc["signer"] == {
        "name": "Nguyễn Văn Thành",
        "position": "PHÓ CHỦ NHIỆM THƯỜNG TRỰC",
        "competence": "KT. CHỦ NHIỆM",
    }
    assert (doc["issued_date"], doc["due_date"], doc["urgency"], doc["page_count"]) == (
        "2026-11-20",
        "2026-12-05",
        "urgent",
        3,
    )
    assert (doc["doc_type"], doc["state"], doc["source"]) == ("CV", "arrived", "axis")
    files = doc["files"]
    assert [(f["name"], f["kind"], f["content_type"]) for f in files] == [
        ("Công văn 1520 gửi UBTW MTTQ.pdf", "main", "application/pdf"),
        # arrived decomposed (NFD character references): stored composed, spaces kept
        (unicodedata.normalize("NFC", "Phụ lục 1 - Danh sách đại biểu.docx"), "attachment", DOCX),
        ("Phụ lục 2 Kinh phí.pdf", "attachment", "application/pdf"),
    ]
    assert all(unicodedata.is_normalized("NFC", f["name"]) for f in files)
    digests = [hashlib.sha256(_file_bytes(client, api, doc, f)).hexdigest() for f in files]
    assert digests == _payload_digests(FIXTURES / name) == [f["sha256"] for f in files]
    with demo.factory() as s:
        row = s.get_one(Document, doc["id"])
        assert row.signer_competence == "KT. CHỦ NHIỆM"
        log = s.scalars(select(ExchangeMessage).where(ExchangeMessage.document_id == row.id)).one()
        assert (log.key, log.peer_code) == (
            "000.12.30.H49,2026/11/20,1520/VPĐĐBQH&HĐND-TTDN",
            "000.12.30.H49",
        )


def test_java_sdk_ns2_prefix_long_codes(client: Any, api: Any, demo: Demo) -> None:
    name = "foreign_sdk_ns2_prefix.edxml"
    doc = _import(client, api, name)
    notation = "125/KH-BCĐTWCVĐ-UBMTTQVN-HĐND-UBND-BCĐXDĐSVHKDC-VPUBNDTỈNH-HCTCQT"
    assert len(notation) > 64  # wider than the column used to be
    assert doc["notation"] == notation
    assert doc["issuer"]["code"] == "000.00.12.H41.VP01"  # a hub's code: longer than 13
    assert doc["issuer"]["name"] == (
        'Văn phòng Ban Chỉ đạo cuộc vận động "Toàn dân đoàn kết xây dựng nông thôn mới,'
        ' đô thị văn minh" tỉnh Nghệ An'
    )
    assert doc["signer"] == {
        "name": "Bùi Đình Long",
        "position": "KT. CHỦ TỊCH - PHÓ CHỦ TỊCH",
        "competence": "TM. ỦY BAN NHÂN DÂN",
    }
    assert (doc["issued_date"], doc["due_date"], doc["doc_type"], doc["page_count"]) == (
        "2026-11-21",
        "2026-12-01",
        "KH",
        7,
    )
    files = doc["files"]
    assert [(f["name"], f["kind"], f["content_type"]) for f in files] == [
        ("Kế hoạch 125 - Toàn dân đoàn kết.docx", "main", DOCX),
        ("Phụ lục - Chỉ tiêu từng huyện.pdf", "attachment", "application/pdf"),
    ]
    assert [f["sha256"] for f in files] == _payload_digests(FIXTURES / name)
    with demo.factory() as s:
        log = s.scalars(
            select(ExchangeMessage).where(ExchangeMessage.document_id == doc["id"])
        ).one()
        assert log.key == f"000.00.12.H41.VP01,2026/11/21,{notation}"
        assert log.peer_code == "000.00.12.H41.VP01"


def test_minimal_package_without_optional_elements(client: Any, api: Any, demo: Demo) -> None:
    name = "foreign_minimal.edxml"
    doc = _import(client, api, name)
    assert (doc["notation"], doc["subject"], doc["issued_date"]) == (
        "88/TB-SNV",
        "Thông báo lịch nghỉ Tết Nguyên đán Bính Ngọ",
        "2026-11-19",
    )
    assert doc["issuer"] == {"name": "000.00.05.H26", "code": "000.00.05.H26"}
    assert doc["signer"] == {"name": None, "position": None, "competence": None}
    assert (doc["urgency"], doc["due_date"], doc["page_count"]) == ("normal", None, None)
    [file] = doc["files"]
    # no name and no type in the package: the content decides the type, the id names it
    assert file["content_type"] == "application/pdf" and file["name"].startswith("1")
    assert file["sha256"] == _payload_digests(FIXTURES / name)[0]
    with demo.factory() as s:
        log = s.scalars(
            select(ExchangeMessage).where(ExchangeMessage.document_id == doc["id"])
        ).one()
        assert log.key == "000.00.05.H26,2026/11/19,88/TB-SNV"  # derived


@pytest.mark.parametrize(
    "name",
    ["foreign_vendor_default_ns.edxml", "foreign_sdk_ns2_prefix.edxml", "foreign_minimal.edxml"],
)
def test_same_foreign_package_twice_is_one_document(
    client: Any, api: Any, demo: Demo, name: str
) -> None:
    data = (FIXTURES / name).read_bytes()
    first = _post(client, api("vanthu.tw"), data)
    again = _post(client, api("vanthu.tw"), data)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json()["id"] == first.get_json()["id"]
