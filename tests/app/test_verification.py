"""Verification through the API and the public page, with the demo PKI of the data dir."""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from signing import (
    issue_document,
    make_sample_document,
    prepare_document,
    render_seal_image,
    render_signature_image,
    sign_as_leader,
)
from signing.testpki import (
    DemoPKI,
    OrgSpec,
    UserSpec,
    demo_options,
    demo_signer,
    generate_demo_pki,
)
from tests.app.test_pages import csrf_of
from tests.pdfs import make_pdf

CODE, ORG = "000.00.00.Z01", "Ủy ban Trung ương Mặt trận Tổ quốc Việt Nam"


@pytest.fixture(scope="module")
def pki_source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, DemoPKI]]:
    d = tmp_path_factory.mktemp("pki")
    pki = generate_demo_pki(
        d, organizations=[OrgSpec(CODE, ORG)], users=[UserSpec("lanhdao.tw", "Lê Văn Minh", CODE)]
    )
    yield d, pki


@pytest.fixture(scope="module")
def signed_pdf(pki_source: tuple[Path, DemoPKI]) -> bytes:
    _, pki = pki_source
    sample = make_sample_document()
    prepared = prepare_document(sample.pdf, sample.layout)
    with demo_signer(pki, "lanhdao.tw") as leader, demo_signer(pki, f"org:{CODE}") as seal:
        signed = sign_as_leader(
            prepared,
            leader,
            signature_image=render_signature_image("Lê Văn Minh"),
            options=demo_options(pki),
        )
        return issue_document(
            signed,
            seal,
            number="60/KH-MTTW-BTT",
            date_text="Hà Nội, ngày 23 tháng 11 năm 2026",
            seal_image=render_seal_image(ORG),
            organization_name=ORG,
            options=demo_options(pki),
        )


@pytest.fixture
def app_with_pki(app: Any, pki_source: tuple[Path, DemoPKI]) -> Any:
    from app.runtime import runtime

    shutil.copytree(pki_source[0], runtime(app).settings.data_dir / "pki")
    return app


def _post(client: Any, data: bytes, name: str = "văn bản.pdf") -> Any:
    return client.post(
        "/api/v1/verifications",
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def test_leader_and_organisation_signatures_verify(app_with_pki: Any, signed_pdf: bytes) -> None:
    r = _post(app_with_pki.test_client(), signed_pdf)
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["summary"] == "valid"
    leader, org = body["signatures"]
    assert leader["signer"]["name"] == "Lê Văn Minh" and leader["modifications"] == "form_filling"
    assert org["coverage"] == "entire_file" and org["signer"]["organization"]
    assert all(s["intact"] and s["valid"] and s["trusted"] for s in body["signatures"])
    assert leader["signed_at"].endswith("+07:00")


def test_unsigned_pdf_has_no_signatures(app_with_pki: Any) -> None:
    body = _post(app_with_pki.test_client(), make_pdf()).get_json()
    assert body == {"summary": "indeterminate", "signatures": []}


def test_without_trust_roots_signatures_are_not_trusted(app: Any, signed_pdf: bytes) -> None:
    body = _post(app.test_client(), signed_pdf).get_json()
    assert body["summary"] != "valid"
    assert not any(s["trusted"] for s in body["signatures"])


def test_not_a_pdf_is_415_and_missing_file_400(app: Any) -> None:
    c = app.test_client()
    assert _post(c, b"hello").status_code == 415
    assert (
        c.post("/api/v1/verifications", data={}, content_type="multipart/form-data").status_code
        == 400
    )


def test_public_page_reports_in_vietnamese(app_with_pki: Any, signed_pdf: bytes) -> None:
    c = app_with_pki.test_client()
    token = csrf_of(c.get("/verify").get_data(as_text=True))
    r = c.post(
        "/verify",
        data={"csrf_token": token, "file": (io.BytesIO(signed_pdf), "a.pdf")},
        content_type="multipart/form-data",
    )
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "Kết luận: Hợp lệ." in html and "Lê Văn Minh" in html and "Chỉ điền biểu mẫu" in html


def test_pki_endpoints_are_served(app_with_pki: Any) -> None:
    from app import create_app
    from app.runtime import runtime

    # mount_pki runs at start-up: a fresh app over the same data dir serves /pki.
    fresh = create_app(runtime(app_with_pki).settings)
    r = fresh.test_client().get("/pki/crl/issuing.crl")
    assert r.status_code == 200 and len(r.data) > 100


def test_a_registered_signed_pdf_is_verified_in_the_background(
    app_with_pki: Any, signed_pdf: bytes, api: Any
) -> None:
    import json

    c = app_with_pki.test_client()
    meta = {
        "notation": "60/KH-MTTW-BTT",
        "doc_type": "KH",
        "subject": "Kế hoạch đã ký số",
        "issuer": {"name": "Ủy ban MTTQ tỉnh Demo"},
        "issued_date": "2026-11-20",
    }
    r = c.post(
        "/api/v1/incoming",
        headers=api("vanthu.tw"),
        content_type="multipart/form-data",
        data={
            "meta": json.dumps(meta),
            "files": [(io.BytesIO(signed_pdf), "ky-so.pdf", "application/pdf")],
        },
    )
    assert r.status_code == 201, r.get_json()
    body = c.get(f"/api/v1/documents/{r.get_json()['id']}", headers=api("vanthu.tw")).get_json()
    assert body["verification"]["summary"] == "valid"
    assert [s["valid"] for s in body["files"][0]["verification"]["signatures"]] == [True, True]
