"""Manual import of an .edxml package (API.md §6): an arrived document, once; hostile or
mis-addressed packages refused with nothing stored."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select

from docflow.models import Document
from interop import (
    Attachment,
    Code,
    EdxmlPackage,
    Organ,
    OtherInfo,
    Priority,
    PromulgationInfo,
    build_package_bytes,
)
from tests.conftest import Demo
from tests.pdfs import make_pdf, make_png


def _package(
    to: str = "000.00.00.Z01", files: tuple[Attachment, ...] | None = None, number: str = "15"
) -> bytes:
    pkg = EdxmlPackage(
        from_=Organ("000.00.00.Y98", "Sở Thử nghiệm (ngoài hệ thống)"),
        to=(Organ(to, "Ủy ban Trung ương MTTQ Việt Nam"),),
        code=Code(number, "KH-UBND"),
        promulgation=PromulgationInfo(dt.date(2026, 11, 20), "Thành phố Thử"),
        subject="Kế hoạch phối hợp tổ chức Ngày hội Đại đoàn kết",
        other_info=OtherInfo(priority=Priority(1)),
        attachments=files
        if files is not None
        else (Attachment("Kế hoạch.pdf", "application/pdf", content=make_pdf()),),
    )
    return build_package_bytes(pkg)


def _post(client: Any, headers: dict[str, str], data: bytes) -> Any:
    return client.post(
        "/api/v1/interop/packages", headers=headers, data=data, content_type="application/xml"
    )


def _counts(demo: Demo) -> tuple[int, int]:
    with demo.factory() as s:
        docs = s.scalar(select(func.count()).select_from(Document)) or 0
    return int(docs), demo.objects_in_use()


def test_package_becomes_an_arrived_document_once(client: Any, api: Any, demo: Demo) -> None:
    h = api("vanthu.tw")
    data = _package()
    r = _post(client, h, data)
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert (body["state"], body["source"], body["notation"], body["doc_type"], body["urgency"]) == (
        "arrived",
        "axis",
        "15/KH-UBND",
        "KH",
        "urgent",
    )
    assert body["issuer"] == {"name": "Sở Thử nghiệm (ngoài hệ thống)", "code": "000.00.00.Y98"}
    assert (
        body["files"][0]["name"] == "Kế hoạch.pdf"
        and body["files"][0]["content_type"] == "application/pdf"
    )
    assert set(body["allowed_actions"]) == {"register", "reject", "comment"}
    again = _post(client, h, data)
    assert again.status_code == 200 and again.get_json()["id"] == body["id"]
    multipart = client.post(
        "/api/v1/interop/packages",
        headers=h,
        data={"file": (__import__("io").BytesIO(data), "goi.edxml")},
        content_type="multipart/form-data",
    )
    assert multipart.get_json()["id"] == body["id"]


HOSTILE = {
    "billion laughs": b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><edXML>&lol2;</edXML>',
    "not xml": b"%PDF-1.4 this is not a package",
    "wrong namespace": b'<?xml version="1.0"?><edXML xmlns="urn:other"><x/></edXML>',
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_packages_are_refused_and_store_nothing(
    client: Any, api: Any, demo: Demo, case: str
) -> None:
    before = _counts(demo)
    r = _post(client, api("vanthu.tw"), HOSTILE[case])
    assert r.status_code == 422, r.get_json()
    assert r.get_json()["error"]["code"].startswith("edxml_")
    assert _counts(demo) == before


def test_package_for_another_organisation_is_refused(client: Any, api: Any, demo: Demo) -> None:
    before = _counts(demo)
    r = _post(client, api("vanthu.tinh"), _package())
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "not_addressed"
    assert _counts(demo) == before


def test_an_attachment_that_fails_the_checks_refuses_the_whole_package(
    client: Any, api: Any, demo: Demo
) -> None:
    before = _counts(demo)
    files = (
        Attachment("a.pdf", "application/pdf", content=make_pdf()),
        Attachment("b.pdf", "application/pdf", content=make_png()),
    )
    r = _post(client, api("vanthu.tw"), _package(files=files, number="16"))
    assert r.status_code == 415 and r.get_json()["error"]["code"] == "file_type_mismatch"
    assert _counts(demo) == before


def test_only_clerks_import(client: Any, api: Any) -> None:
    assert _post(client, api("lanhdao.tw"), _package()).status_code == 403


def test_a_replacement_arrives_as_a_new_document_and_recalls_the_old_copy(
    client: Any, api: Any
) -> None:
    from dataclasses import replace

    from interop import Bussiness, BussinessDocType, parse_package

    h = api("vanthu.tw")
    original = _post(client, h, _package()).get_json()
    with parse_package(__import__("io").BytesIO(_package())) as parsed:
        assert parsed.package is not None
        base = parsed.package
    replacement = replace(
        base,
        code=Code("17", "KH-UBND"),
        document_id="",
        subject="Kế hoạch phối hợp (thay thế)",
        bussiness=Bussiness(
            doc_type=BussinessDocType.REPLACE,
            reason="Sai ngày tổ chức",
            document_id=base.document_id,
        ),
        attachments=(
            Attachment("Kế hoạch mới.pdf", "application/pdf", content=make_pdf(title="mới")),
        ),
    )
    r = _post(client, h, build_package_bytes(replacement))
    assert r.status_code == 201, r.get_json()
    new = r.get_json()
    assert new["id"] != original["id"] and new["state"] == "arrived"
    old = client.get(f"/api/v1/documents/{original['id']}", headers=h).get_json()
    assert old["state"] == "recalled"
    assert _post(client, h, build_package_bytes(replacement)).get_json()["id"] == new["id"]  # once
