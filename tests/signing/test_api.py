# mypy: allow-untyped-calls
# (parts of pyHanko's writer/reader API are unannotated)
"""The public surface: report JSON shape (API.md §4), errors, fonts, the demo profile offline."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import signing
from signing import (
    PadesLevel,
    SigningError,
    Summary,
    sign_as_leader,
    verify_pdf,
)
from signing.pdfio import open_reader
from signing.testpki import (
    OrgSpec,
    UserSpec,
    demo_options,
    demo_signer,
    demo_trust,
    generate_demo_pki,
)

from .conftest import LEADER, PkiEnv, free_port


def test_report_json_has_exactly_the_api_shape(
    pki_env: PkiEnv, prepared: bytes, signature_png: bytes
) -> None:
    signed = sign_as_leader(
        prepared,
        pki_env.signer(LEADER),
        signature_image=signature_png,
        options=pki_env.options(PadesLevel.B_T),
    )
    data = verify_pdf(signed, pki_env.trust).to_dict()
    assert set(data) == {"summary", "signatures"}
    assert data["summary"] == "valid"
    signatures = data["signatures"]
    assert isinstance(signatures, list) and len(signatures) == 1
    sig: dict[str, Any] = signatures[0]
    assert set(sig) == {
        "signer",
        "certificate",
        "signed_at",
        "timestamp",
        "intact",
        "valid",
        "trusted",
        "coverage",
        "modifications",
        "level",
    }
    assert set(sig["signer"]) == {"name", "organization"}
    assert set(sig["certificate"]) == {"serial", "issuer", "not_before", "not_after"}
    assert sig["coverage"] == "entire_file" and sig["modifications"] == "none"
    assert sig["level"] == "B-T"
    # Times are ISO 8601 with an offset; the report shows Vietnam time.
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+07:00", sig["signed_at"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+07:00", sig["timestamp"])


def test_errors_have_stable_codes_and_vietnamese_messages() -> None:
    errors = [
        getattr(signing, name)
        for name in signing.__all__
        if isinstance(getattr(signing, name), type)
        and issubclass(getattr(signing, name), SigningError)
    ]
    assert len(errors) >= 15
    codes = [cls.code for cls in errors]
    assert len(set(codes)) == len(codes)
    for cls in errors:
        assert cls.__name__.endswith("Error")
        assert re.fullmatch(r"[a-z]+(_[a-z0-9]+)*", cls.code)
        error = cls()
        assert re.search(r"[àáảãạăâđêôơưỳýỷỹỵ]", error.message.lower()), cls
        assert error.to_dict() == {"code": cls.code, "message": error.message, "details": {}}


def test_embedded_fonts_use_pdf_glyph_units(
    pki_env: PkiEnv, prepared: bytes, signature_png: bytes
) -> None:
    # pyHanko writes TrueType widths in font units (2048/em for Liberation): letters would be
    # spread twice too wide. Every width we embed must be in thousandths of an em.
    widths: list[float] = []
    for index in range(2):
        page = open_reader(prepared).find_page_for_modification(index)[0].get_object()
        for font in page["/Resources"]["/Font"].values():
            descendant = font.get_object()["/DescendantFonts"][0].get_object()
            entries = list(descendant["/W"])
            for item in entries:
                if isinstance(item, list):
                    widths.extend(float(w) for w in item)
            assert -400 < int(descendant["/FontDescriptor"]["/Descent"]) < 0
            assert 600 < int(descendant["/FontDescriptor"]["/Ascent"]) < 1100
    assert widths and max(widths) < 1100 and min(widths) >= 0
    assert 180 < sorted(widths)[len(widths) // 2] < 700  # a typical letter is about half an em


def test_demo_profile_signs_offline(tmp_path: Path, prepared: bytes, signature_png: bytes) -> None:
    # URLs point at a port where nothing listens: everything must happen in-process.
    dead = f"http://127.0.0.1:{free_port()}/pki"
    pki = generate_demo_pki(
        tmp_path,
        organizations=[OrgSpec("000.00.02.Z01", "Ủy ban MTTQ Việt Nam phường Demo")],
        users=[UserSpec("lanhdao.phuong", "Đỗ Văn Dũng", "000.00.02.Z01")],
        base_url=dead,
    )
    options = demo_options(pki, PadesLevel.B_LT)
    signed = sign_as_leader(
        prepared, demo_signer(pki, "lanhdao.phuong"), signature_image=signature_png, options=options
    )
    report = verify_pdf(signed, demo_trust(pki))
    assert report.summary == Summary.VALID, report.to_text()
    assert report.signatures[0].level == PadesLevel.B_LT


def test_a_refused_file_is_a_typed_report_with_api_md_error_shape() -> None:
    from signing import Refusal, VerificationReport

    limit = VerificationReport.refused(
        Summary.INDETERMINATE, "verification_limit_exceeded", "Quá giới hạn.", {"limit": "pages"}
    )
    assert limit.refusal == Refusal(
        "verification_limit_exceeded", "Quá giới hạn.", {"limit": "pages"}
    )
    assert limit.to_dict() == {
        "summary": "indeterminate",
        "signatures": [],
        "error": {
            "code": "verification_limit_exceeded",
            "message": "Quá giới hạn.",
            "details": {"limit": "pages"},
        },
    }
    bad = VerificationReport.refused(Summary.INVALID, "invalid_document", "Không đọc được.")
    assert bad.to_dict()["error"] == {"code": "invalid_document", "message": "Không đọc được."}
