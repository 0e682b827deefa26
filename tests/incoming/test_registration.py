"""Registering incoming documents: bad input changes nothing, duplicates, search, secrecy."""

from __future__ import annotations

import json
from typing import Any

import pytest

from docflow import directory
from docflow.directory import CreateRegister
from docflow.enums import Direction
from tests.incoming.conftest import Incoming
from tests.pdfs import make_docx_bomb, make_pdf, make_png

BAD_META = {
    "unknown doc_type": ({"doc_type": "XYZ"}, "doc_type"),
    "notation without the type": ({"notation": "60/MTTW-BTT"}, "notation"),
    "notation of another type": ({"notation": "60/BC-MTTW"}, "notation"),
    "garbled notation": ({"notation": "sáu mươi"}, "notation"),
    "date not a date": ({"issued_date": "20/11/2026"}, "issued_date"),
    "unknown urgency": ({"urgency": "rất khẩn"}, "urgency"),
    "unknown field": ({"colour": "red"}, "colour"),
    "empty subject": ({"subject": "  "}, "subject"),
    "issuer code malformed": ({"issuer": {"name": "X", "code": "H49"}}, "issuer.code"),
    "both deadlines": ({"due_date": "2026-12-01", "due_in_working_days": 3}, "__root__"),
}


@pytest.mark.parametrize("case", list(BAD_META))
def test_invalid_metadata_is_422_naming_the_field_and_changes_nothing(
    flow: Incoming, case: str
) -> None:
    meta, field = BAD_META[case]
    before = flow.counts()
    r = flow.register(**meta)
    assert r.status_code == 422, r.get_json()
    assert field in r.get_json()["error"]["details"]["fields"]
    assert flow.counts() == before


BAD_FILES: dict[str, tuple[list[tuple[bytes, str, str]], int, str]] = {
    "text named .pdf": (
        [(b"hello, not a pdf", "a.pdf", "application/pdf")],
        415,
        "unsupported_file_type",
    ),
    "a picture named .pdf": ([(make_png(), "a.pdf", "application/pdf")], 415, "file_type_mismatch"),
    "an executable": (
        [(b"MZ\x90\x00" + b"\x00" * 200, "setup.exe", "application/octet-stream")],
        415,
        "unsupported_file_type",
    ),
    "a broken pdf": (
        [(b"%PDF-1.7\n1 0 obj <<>> garbage", "a.pdf", "application/pdf")],
        422,
        "malformed_pdf",
    ),
    "a zip bomb as docx": (
        [
            (
                make_docx_bomb(),
                "bom.docx",
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            )
        ],
        413,
        "zip_bomb",
    ),
    "a good file then a bad one": (
        [(make_pdf(), "ok.pdf", "application/pdf"), (make_png(), "b.pdf", "application/pdf")],
        415,
        "file_type_mismatch",
    ),
    "no file at all": ([], 422, "invalid_field"),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_refused_files_leave_no_document_no_object_no_number(flow: Incoming, case: str) -> None:
    files, status, code = BAD_FILES[case]
    before = flow.counts()
    r = flow.register(files=files)
    assert r.status_code == status, r.get_json()
    assert r.get_json()["error"]["code"] == code
    assert flow.counts() == before


def test_oversized_file_is_413_and_leaves_nothing(flow: Incoming, app: Any) -> None:
    from app.runtime import runtime
    from docflow.uow import DomainConfig

    runtime(app).config = DomainConfig(max_upload_bytes=4096)
    before = flow.counts()
    r = flow.register(files=[(make_pdf(padding=10_000), "lớn.pdf", "application/pdf")])
    assert r.status_code == 413 and r.get_json()["error"]["code"] == "file_too_large"
    assert flow.counts() == before


def test_a_file_shared_with_another_document_survives_a_failed_registration(flow: Incoming) -> None:
    pdf = make_pdf(title="dùng chung")
    assert flow.register(files=[(pdf, "a.pdf", "application/pdf")]).status_code == 201
    before = flow.counts()
    r = flow.register(
        notation="61/KH-MTTW-BTT",
        files=[(pdf, "a.pdf", "application/pdf"), (b"x", "b.pdf", "application/pdf")],
    )
    assert r.status_code == 415
    assert flow.counts() == before  # the shared object is still there


def test_multipart_and_meta_are_required(flow: Incoming) -> None:
    r = flow.client.post(
        "/api/v1/incoming", headers=flow.h("vanthu.tw"), json={"notation": "1/KH-X"}
    )
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "multipart_required"
    r = flow.client.post(
        "/api/v1/incoming",
        headers=flow.h("vanthu.tw"),
        data={"meta": "{not json"},
        content_type="multipart/form-data",
    )
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "malformed_json"


def test_only_clerks_register(flow: Incoming) -> None:
    before = flow.counts()
    assert flow.register("lanhdao.tw").status_code == 403
    assert flow.register("chuyenvien.dcgs").status_code == 403
    assert flow.counts() == before


def test_possible_duplicate_is_reported_with_a_link_not_registered_twice(flow: Incoming) -> None:
    first = flow.register().get_json()
    before = flow.counts()
    again = flow.register()
    assert again.status_code == 409
    err = again.get_json()["error"]
    assert err["code"] == "possible_duplicate" and err["details"]["document_id"] == first["id"]
    assert flow.counts() == before
    confirmed = flow.register(confirm_duplicate=True)
    assert confirmed.status_code == 201 and confirmed.get_json()["register_number"] == 2
    # Another organisation's register is not a duplicate of ours.
    assert flow.register("vanthu.tinh").status_code == 201


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("ke hoach", True),
        ("KẾ HOẠCH", True),
        ("dai doan ket", True),
        ("dang", True),
        ("60/kh-mttw", True),
        ("tinh demo", True),
        ("bao cao", False),
    ],
)
def test_search_ignores_diacritics_and_case(flow: Incoming, query: str, found: bool) -> None:
    doc = flow.register(subject="Kế hoạch tổ chức Ngày hội Đại đoàn kết của Đảng bộ").get_json()[
        "id"
    ]
    assert (doc in flow.box("vanthu.tw", "all", q=query)) is found


def test_filters_by_type_issuer_state_and_date(flow: Incoming) -> None:
    kh = flow.register().get_json()["id"]
    bc = flow.register(
        notation="7/BC-MTTQ", doc_type="BC", issuer={"name": "Sở Nội vụ"}
    ).get_json()["id"]
    assert flow.box("vanthu.tw", "all", doc_type="BC") == [bc]
    assert flow.box("vanthu.tw", "all", issuer="so noi vu") == [bc]
    assert flow.box("vanthu.tw", "all", state="registered") == [bc, kh]
    assert flow.box("vanthu.tw", "all", **{"from": "2026-11-24"}) == []
    assert set(flow.box("vanthu.tw", "all", **{"from": "2026-11-23", "to": "2026-11-23"})) == {
        kh,
        bc,
    }


def test_urgent_documents_come_first_and_pages_follow(flow: Incoming) -> None:
    ids = [flow.register(notation=f"{n}/KH-MTTW").get_json()["id"] for n in range(1, 6)]
    urgent = flow.register(notation="99/KH-MTTW", urgency="flash").get_json()["id"]
    r = flow.client.get("/api/v1/documents?box=all&limit=2", headers=flow.h("vanthu.tw")).get_json()
    assert r["items"][0]["id"] == urgent
    seen = [d["id"] for d in r["items"]]
    while r["next_cursor"]:
        r = flow.client.get(
            f"/api/v1/documents?box=all&limit=2&cursor={r['next_cursor']}",
            headers=flow.h("vanthu.tw"),
        ).get_json()
        seen += [d["id"] for d in r["items"]]
    assert seen == [urgent, *reversed(ids)]


def test_secret_document_is_a_metadata_record_on_an_ordinary_deployment(flow: Incoming) -> None:
    directory.create_register(
        flow.demo.uow(),
        flow.demo.actor("admin"),
        CreateRegister(
            organization_id=flow.demo.org_id("tw"),
            direction=Direction.INCOMING,
            year=2026,
            name="Sổ văn bản đến mật",
            secret_series=True,
        ),
    )
    before = flow.counts()
    # Content of a secret document is refused here…
    r = flow.register(secrecy="confidential")
    assert r.status_code == 403  # …and first of all this clerk has no clearance
    _raise_clearance(flow, "vanthu.tw", "secret")
    flow._tokens.clear()
    r = flow.register(secrecy="confidential")
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "secret_metadata_only"
    assert flow.counts() == before
    r = flow.register(secrecy="confidential", files=[], page_count=3)
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert (
        body["register"]["name"] == "Sổ văn bản đến mật"
        and body["register_number"] == 1
        and body["files"] == []
    )
    # Who sees it: cleared leader yes; a clerk of no clearance, or a specialist, no.
    assert flow.get("lanhdao.tw", body["id"]).status_code == 200
    assert body["id"] in flow.box("lanhdao.tw", "all")
    flow.client.patch(
        f"/api/v1/users/{flow.user_id('vanthu.tw')}",
        headers=flow.h("admin"),
        json={"clearance": "none"},
    )
    flow._tokens.clear()
    assert flow.get("vanthu.tw", body["id"]).status_code == 404
    assert body["id"] not in flow.box("vanthu.tw", "all")


def _raise_clearance(flow: Incoming, username: str, clearance: str) -> None:
    """An admin asks, a second admin approves (the two-person rule for clearances)."""
    r = flow.client.patch(
        f"/api/v1/users/{flow.user_id(username)}",
        headers=flow.h("admin"),
        json={"clearance": clearance},
    )
    pending = r.get_json()["pending_request"]
    flow.demo.add_admin("admin2")
    approved = flow.client.post(
        f"/api/v1/privilege-requests/{pending['id']}/approve", headers=flow.h("admin2")
    )
    assert approved.status_code == 200, approved.get_json()


def test_secret_document_goes_to_the_secret_series_only(flow: Incoming) -> None:
    _raise_clearance(flow, "vanthu.tw", "secret")
    flow._tokens.clear()
    r = flow.register(secrecy="confidential", files=[])
    assert r.status_code == 422 and "register_id" in r.get_json()["error"]["details"]["fields"]


def test_file_content_is_served_with_its_vietnamese_name(flow: Incoming) -> None:
    pdf = make_pdf(title="nội dung")
    body = flow.register(files=[(pdf, "Kế hoạch số 60.pdf", "application/pdf")]).get_json()
    f = body["files"][0]
    r = flow.client.get(
        f"/api/v1/documents/{body['id']}/files/{f['id']}/content", headers=flow.h("vanthu.tw")
    )
    assert r.status_code == 200 and r.data == pdf and r.mimetype == "application/pdf"
    assert (
        "filename*=UTF-8''K%E1%BA%BF%20ho%E1%BA%A1ch%20s%E1%BB%91%2060.pdf"
        in r.headers["Content-Disposition"]
    )
    other = flow.client.get(
        f"/api/v1/documents/{body['id']}/files/{f['id']}/content", headers=flow.h("vanthu.tinh")
    )
    assert other.status_code == 404


def test_meta_can_come_as_a_json_file_part(flow: Incoming) -> None:
    import io

    from tests.incoming.conftest import META

    data = {
        "meta": (io.BytesIO(json.dumps(META).encode()), "meta.json", "application/json"),
        "files": [(io.BytesIO(make_pdf()), "a.pdf", "application/pdf")],
    }
    r = flow.client.post(
        "/api/v1/incoming",
        headers=flow.h("vanthu.tw"),
        data=data,
        content_type="multipart/form-data",
    )
    assert r.status_code == 201, r.get_json()
