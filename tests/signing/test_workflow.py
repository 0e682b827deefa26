"""The Decree 30 flow: leader then organisation on one document, attachments, copies, and what
the pages look like (rendered with pdftoppm, checked pixel by pixel, kept for people to see)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from PIL import Image

from signing import (
    FIELD_LEADER,
    FIELD_ORGANIZATION,
    Coverage,
    FieldBox,
    Modifications,
    PadesLevel,
    SampleDocument,
    SignatureFieldError,
    Summary,
    certify_copy,
    format_issue_date,
    issue_document,
    make_sample_attachment,
    sign_as_leader,
    sign_attachment,
    verify_pdf,
)

from .conftest import LEADER, ORG_CODE, ORG_NAME, PkiEnv
from .pdfsig import PdfSig

NOTATION = "60/KH-MTTW-BTT"
DATE_TEXT = format_issue_date("Hà Nội", date(2026, 6, 8))
DPI = 100


@pytest.fixture(scope="module")
def issued(pki_env: PkiEnv, prepared: bytes, signature_png: bytes, seal_png: bytes) -> bytes:
    options = pki_env.options(PadesLevel.B_T)
    signed = sign_as_leader(
        prepared, pki_env.signer(LEADER), signature_image=signature_png, options=options
    )
    return issue_document(
        signed,
        pki_env.signer(f"org:{ORG_CODE}"),
        number=NOTATION,
        date_text=DATE_TEXT,
        seal_image=seal_png,
        organization_name=ORG_NAME,
        options=options,
    )


def _render(pdf: bytes, out: Path, page: int) -> Image.Image:
    out.with_suffix(".pdf").write_bytes(pdf)
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            str(DPI),
            "-png",
            "-singlefile",
            "-f",
            str(page),
            "-l",
            str(page),
            str(out.with_suffix(".pdf")),
            str(out),
        ],
        check=True,
        timeout=60,
    )
    return Image.open(out.with_suffix(".png")).convert("RGB")


def _text(pdf: bytes, tmp_path: Path, *args: str) -> str:
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", *args, str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def test_leader_then_organisation_both_valid(
    issued: bytes, pki_env: PkiEnv, pdfsig: PdfSig, prepared: bytes
) -> None:
    report = verify_pdf(issued, pki_env.trust)
    assert report.summary == Summary.VALID, report.to_text()
    leader, org = report.signatures
    assert leader.field_name == FIELD_LEADER and org.field_name == FIELD_ORGANIZATION
    assert leader.signer.name == "Lê Văn Minh" and org.signer.name == ORG_NAME
    # The leader certified the document; since then only the form was filled and signed.
    assert leader.certification
    assert leader.coverage == Coverage.ENTIRE_REVISION
    assert leader.modifications == Modifications.FORM_FILLING
    assert org.coverage == Coverage.ENTIRE_FILE and org.modifications == Modifications.NONE
    assert all(
        s.intact and s.valid and s.trusted and s.level == PadesLevel.B_T for s in report.signatures
    )
    assert issued.startswith(prepared)
    pdfsig.assert_valid(issued, signatures=2)


def test_number_and_date_are_in_the_prepared_fields(issued: bytes, tmp_path: Path) -> None:
    text = _text(issued, tmp_path, "-f", "1", "-l", "1")
    assert NOTATION in text
    assert "Hà Nội, ngày 08 tháng 6 năm 2026" in text
    assert "Ủy ban Trung ương MTTQ Việt Nam" in _text(issued, tmp_path, "-f", "2", "-l", "2")


def test_a_signed_field_cannot_be_signed_again(
    issued: bytes, pki_env: PkiEnv, signature_png: bytes
) -> None:
    with pytest.raises(SignatureFieldError):
        sign_as_leader(
            issued,
            pki_env.signer(LEADER),
            signature_image=signature_png,
            options=pki_env.options(PadesLevel.B_B),
        )


def test_seal_overlaps_the_left_third_of_the_signature(
    issued: bytes, sample: SampleDocument, shots_dir: Path
) -> None:
    image = _render(issued, shots_dir / "leader-and-organisation", page=2)
    box = sample.layout.leader
    scale = DPI / 72
    top = image.height - (box.y + box.height) * scale
    bottom = image.height - box.y * scale
    left, right = box.x * scale, (box.x + box.width) * scale
    third = left + (right - left) / 3

    rgb = image.load()
    assert rgb is not None

    def count(x0: float, x1: float, test: Callable[[int, int, int], bool]) -> int:
        total = 0
        for x in range(int(x0), int(x1)):
            for y in range(int(top), int(bottom)):
                r, g, b = rgb[x, y]  # type: ignore[misc]
                total += test(r, g, b)
        return total

    def red(r: int, g: int, b: int) -> bool:
        return r > 170 and g < 110 and b < 110

    def blue(r: int, g: int, b: int) -> bool:
        return b > 110 and r < 110 and b - r > 60

    assert count(left, third, red) > 200  # the seal covers the left third...
    assert count(third + 2, right, red) == 0  # ...and only the left third
    assert count(third + 2, right, blue) > 200  # the signature stays visible beside it
    assert count(left - 60 * scale, left, red) > 200  # the seal extends left of the signature


def test_attachment_stamp_top_right_10pt(
    pki_env: PkiEnv, pdfsig: PdfSig, shots_dir: Path, tmp_path: Path
) -> None:
    attachment = make_sample_attachment()
    signed = sign_attachment(
        attachment,
        pki_env.signer(f"org:{ORG_CODE}"),
        main_notation=NOTATION,
        options=pki_env.options(PadesLevel.B_T),
    )
    report = verify_pdf(signed, pki_env.trust)
    assert report.summary == Summary.VALID, report.to_text()
    pdfsig.assert_valid(signed, signatures=1)
    _render(signed, shots_dir / "attachment", page=1)
    bbox = _text(signed, tmp_path, "-bbox", "-f", "1", "-l", "1")
    words = [line for line in bbox.splitlines() if NOTATION in line]
    assert words, bbox[:2000]
    attrs = dict(part.split("=") for part in words[0].split("<word ")[1].split(">")[0].split())
    x_min, y_min, y_max = (float(attrs[k].strip('"')) for k in ("xMin", "yMin", "yMax"))
    assert x_min > 595 / 2  # right half
    assert y_min < 70  # within the top margin
    assert 8 < y_max - y_min < 13  # a 10 pt line (ascent + descent of a serif face)


def test_copy_stamp(
    pki_env: PkiEnv, seal_png: bytes, pdfsig: PdfSig, shots_dir: Path, tmp_path: Path
) -> None:
    scanned = make_sample_attachment(title="BẢN SAO")
    copy = certify_copy(
        scanned,
        pki_env.signer(f"org:{ORG_CODE}"),
        seal_image=seal_png,
        organization_name=ORG_NAME,
        options=pki_env.options(PadesLevel.B_T),
    )
    assert verify_pdf(copy, pki_env.trust).summary == Summary.VALID
    pdfsig.assert_valid(copy, signatures=1)
    assert "SAO Y" in _text(copy, tmp_path, "-f", "1", "-l", "1")
    _render(copy, shots_dir / "copy-sao-y", page=1)


def test_attachment_field_must_be_new(pki_env: PkiEnv) -> None:
    attachment = make_sample_attachment()
    box = FieldBox(0, 300, 780, 200, 30)
    once = sign_attachment(
        attachment,
        pki_env.signer(f"org:{ORG_CODE}"),
        main_notation=NOTATION,
        options=pki_env.options(PadesLevel.B_B),
        box=box,
    )
    with pytest.raises(SignatureFieldError):
        sign_attachment(
            once,
            pki_env.signer(f"org:{ORG_CODE}"),
            main_notation=NOTATION,
            options=pki_env.options(PadesLevel.B_B),
            box=box,
        )
