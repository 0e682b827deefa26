# mypy: allow-untyped-calls
# (parts of pyHanko's writer/reader API are unannotated)
"""Tampered, broken and unusual input is reported, never raised as a stack trace."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import BytesIO

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from signing import (
    Coverage,
    InvalidDocumentError,
    Modifications,
    PadesLevel,
    Summary,
    TrustSettings,
    issue_document,
    sign_as_leader,
    verify_pdf,
)

from .conftest import LEADER, ORG_CODE, ORG_NAME, PkiEnv
from .pdfsig import PdfSig


@pytest.fixture(scope="module")
def issued(pki_env: PkiEnv, prepared: bytes, signature_png: bytes, seal_png: bytes) -> bytes:
    options = pki_env.options(PadesLevel.B_B)
    signed = sign_as_leader(
        prepared, pki_env.signer(LEADER), signature_image=signature_png, options=options
    )
    return issue_document(
        signed,
        pki_env.signer(f"org:{ORG_CODE}"),
        number="61/KH-MTTW-BTT",
        date_text="Hà Nội, ngày 09 tháng 6 năm 2026",
        seal_image=seal_png,
        organization_name=ORG_NAME,
        options=options,
    )


def _revision_ends(pdf: bytes) -> list[int]:
    ends, start = [], 0
    while (found := pdf.find(b"%%EOF", start)) != -1:
        ends.append(found + len(b"%%EOF"))
        start = found + 1
    return ends


def _flip_whitespace_in_revision(pdf: bytes, revision: int) -> bytes:
    """Change one byte inside revision ``revision``: the newline after an object's ``<<`` becomes
    a space. The PDF means the same, but the signed bytes differ."""
    ends = _revision_ends(pdf)
    start = 0 if revision == 0 else ends[revision - 1]
    position = pdf.find(b" obj\n<<\n/", start, ends[revision])
    assert position != -1
    index = position + len(b" obj\n<<")
    return pdf[:index] + b" " + pdf[index + 1 :]


def test_page_content_added_after_signing(issued: bytes, pki_env: PkiEnv, pdfsig: PdfSig) -> None:
    writer = IncrementalPdfFileWriter(BytesIO(issued))
    # A red box drawn over page 1: exactly what certification must reveal.
    stream = generic.StreamObject(stream_data=b"q 1 0 0 rg 100 600 300 60 re f Q")
    writer.add_stream_to_page(0, writer.add_object(stream))
    out = BytesIO()
    writer.write(out)
    tampered = out.getvalue()
    report = verify_pdf(tampered, pki_env.trust)
    assert report.summary == Summary.INVALID
    leader, org = report.signatures
    # The signatures themselves are intact: it is the later revision that is illegitimate.
    assert leader.intact and leader.valid and org.intact and org.valid
    assert leader.modifications == Modifications.OTHER
    assert org.modifications == Modifications.OTHER
    assert org.coverage == Coverage.ENTIRE_REVISION
    assert any("sửa đổi nội dung" in p for p in leader.problems)
    assert "KHÔNG hợp lệ" in report.to_text()
    # pdfsig only checks byte ranges: it finds the signatures valid but not covering the file.
    assert "Total document signed" not in pdfsig_output(pdfsig, tampered)


def pdfsig_output(pdfsig: PdfSig, pdf: bytes) -> str:
    import subprocess

    path = pdfsig.workdir / "tampered.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdfsig", "-nocert", str(path)], capture_output=True, text=True).stdout


# Revisions of the issued document: 0 the generated pages, 1 the prepared fields, 2 the
# leader's signature, 3 the number/date and the organisation's signature.
@pytest.mark.parametrize(
    ("revision", "leader_intact", "org_intact"),
    [(0, False, False), (1, False, False), (2, False, False), (3, True, False)],
)
def test_one_byte_changed_in_each_revision(
    issued: bytes,
    pki_env: PkiEnv,
    pdfsig: PdfSig,
    revision: int,
    leader_intact: bool,
    org_intact: bool,
) -> None:
    assert len(_revision_ends(issued)) == 4
    tampered = _flip_whitespace_in_revision(issued, revision)
    assert len(tampered) == len(issued) and tampered != issued
    report = verify_pdf(tampered, pki_env.trust)
    leader, org = report.signatures
    assert (leader.intact, org.intact) == (leader_intact, org_intact)
    assert report.summary == Summary.INVALID
    assert not org.trusted
    pdfsig.assert_broken(tampered)


def test_not_a_pdf_is_a_clean_error(pki_env: PkiEnv) -> None:
    for data in (b"", b"hello world", b"%PDF-1.7\n garbage without structure"):
        with pytest.raises(InvalidDocumentError) as err:
            verify_pdf(data, pki_env.trust)
        assert err.value.code == "invalid_pdf"
        assert err.value.message


def test_truncated_pdf_never_raises_anything_else(issued: bytes, pki_env: PkiEnv) -> None:
    for cut in (len(issued) // 3, len(issued) - 100):
        try:
            report = verify_pdf(issued[:cut], pki_env.trust)
        except InvalidDocumentError:
            continue
        assert report.summary != Summary.VALID


def test_unsigned_pdf_is_indeterminate(prepared: bytes, pki_env: PkiEnv) -> None:
    report = verify_pdf(prepared, pki_env.trust)
    assert report.signatures == ()
    assert report.summary == Summary.INDETERMINATE
    assert report.to_dict() == {"summary": "indeterminate", "signatures": []}
    assert "không có chữ ký" in report.to_text()


def test_unknown_root_is_untrusted_not_invalid(issued: bytes) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Some other root")])
    now = datetime.now(UTC)
    other_root = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    trust = TrustSettings(
        roots=(other_root.public_bytes(serialization.Encoding.DER),), allow_fetching=False
    )
    report = verify_pdf(issued, trust)
    assert report.summary == Summary.INDETERMINATE
    assert all(s.intact and s.valid and not s.trusted for s in report.signatures)
