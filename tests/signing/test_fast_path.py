# mypy: allow-untyped-calls
# (parts of pyHanko's validation API are unannotated)
"""The B-B fast path (CMS from a per-signer template, no event loop) writes what pyHanko writes.

Each signature here is checked by two independent implementations: poppler's ``pdfsig`` (NSS)
and pyHanko's own ``validate_pdf_signature`` against the demo trust root, with no network.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import replace
from datetime import UTC, datetime, tzinfo
from types import SimpleNamespace

import pytest
from asn1crypto import cms
from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils import incremental_writer as pyhanko_incremental
from pyhanko.pdf_utils.metadata import info as pyhanko_info
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import PdfSignatureStatus, SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from signing import (
    FIELD_LEADER,
    FIELD_ORGANIZATION,
    LocalKeySigner,
    PadesLevel,
    SigningOptions,
    SignRequest,
    Summary,
    issue_document,
    leader_request,
    make_sample_document,
    prepare_document,
    sign_pdf,
    verify_pdf,
)
from signing.fastcms import CmsTemplate, der_tlv, split_tlvs
from signing.pdfio import open_reader
from signing.signers import verify_raw_signature

from .conftest import CLERK, LEADER, ORG_CODE, ORG_NAME, PkiEnv
from .pdfsig import PdfSig

# The certificate was checked when signing; these tests are about the bytes written.
BB = SigningOptions(level=PadesLevel.B_B, check_certificate=False)


@pytest.fixture(scope="module")
def documents(prepared: bytes) -> dict[int, bytes]:
    """Prepared 1-page and 50-page documents (the 2-page one is the suite's ``prepared``)."""
    out = {}
    for pages in (1, 50):
        sample = make_sample_document(pages)
        out[pages] = prepare_document(sample.pdf, sample.layout)
    return out


def _context(pki_env: PkiEnv) -> ValidationContext:
    pki = pki_env.pki
    return ValidationContext(
        trust_roots=[asn1_x509.Certificate.load(pki.root.certificate_der)],
        other_certs=[asn1_x509.Certificate.load(pki.issuing.certificate_der)],
        crls=[pki.crl("root"), pki.crl("issuing")],
        allow_fetching=False,
    )


def _pyhanko_statuses(pdf: bytes, pki_env: PkiEnv) -> dict[str, PdfSignatureStatus]:
    statuses = {}
    for sig in open_reader(pdf).embedded_signatures:
        statuses[sig.field_name] = validate_pdf_signature(
            sig, signer_validation_context=_context(pki_env)
        )
    return statuses


def _assert_pades_bb(pdf: bytes, field: str) -> None:
    """What ETSI EN 319 142 B-B asks of the newest signature's dictionary and its CMS."""
    (sig,) = [s for s in open_reader(pdf).embedded_signatures if s.field_name == field]
    assert sig.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"
    start1, len1, start2, len2 = (int(v) for v in sig.sig_object["/ByteRange"])
    # The byte range covers the whole revision except exactly the /Contents hex string.
    assert start1 == 0 and pdf[start1 + len1 : start1 + len1 + 1] == b"<"
    assert pdf[start2 - 1 : start2] == b">"
    assert start2 + len2 == len(pdf)  # the newest signature: up to the end of the file
    contents_hex = pdf[start1 + len1 + 1 : start2 - 1]
    der = cms.ContentInfo.load(sig.sig_object["/Contents"]).dump()
    # Hex of the DER, then zero padding up to the reserved size.
    assert contents_hex.upper().startswith(der.hex().upper().encode())
    assert set(contents_hex[len(der) * 2 :]) <= {ord("0")}
    attrs = {a["type"].native for a in sig.signer_info["signed_attrs"]}
    assert attrs == {"content_type", "message_digest", "signing_certificate_v2"}
    assert "unsigned_attrs" not in sig.signer_info or not sig.signer_info["unsigned_attrs"]


def _assert_fully_valid(status: PdfSignatureStatus) -> None:
    assert (status.intact, status.valid, status.trusted) == (True, True, True), status.summary()
    assert status.bottom_line, status.summary()


@pytest.mark.parametrize("pages", [1, 50])
@pytest.mark.parametrize("look", [False, True], ids=["no-appearance", "decree30"])
def test_fast_path_output_validates(
    pages: int,
    look: bool,
    documents: dict[int, bytes],
    pki_env: PkiEnv,
    signature_png: bytes,
    pdfsig: PdfSig,
) -> None:
    signer = pki_env.signer(LEADER)
    request = leader_request(signature_png) if look else SignRequest(FIELD_LEADER)
    signed = sign_pdf(documents[pages], signer, request, BB)
    # The fast path was taken (not pyHanko's CMS builder).
    assert isinstance(signer.cms_template, CmsTemplate)
    assert signed.startswith(documents[pages])
    _assert_pades_bb(signed, FIELD_LEADER)
    pdfsig.assert_valid(signed, signatures=1)
    status = _pyhanko_statuses(signed, pki_env)[FIELD_LEADER]
    _assert_fully_valid(status)
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert verify_pdf(signed, pki_env.trust).summary == Summary.VALID


def test_second_signature_keeps_the_first_valid(
    documents: dict[int, bytes],
    pki_env: PkiEnv,
    signature_png: bytes,
    seal_png: bytes,
    pdfsig: PdfSig,
) -> None:
    leader = pki_env.signer(LEADER)
    seal = pki_env.signer(f"org:{ORG_CODE}")
    first = sign_pdf(documents[1], leader, leader_request(signature_png), BB)  # certifies
    both = issue_document(
        first,
        seal,
        number="62/KH-MTTW-BTT",
        date_text="Hà Nội, ngày 10 tháng 6 năm 2026",
        seal_image=seal_png,
        organization_name=ORG_NAME,
        options=BB,
    )
    assert isinstance(leader.cms_template, CmsTemplate)
    assert isinstance(seal.cms_template, CmsTemplate)
    assert both.startswith(first)
    _assert_pades_bb(both, FIELD_ORGANIZATION)
    pdfsig.assert_valid(both, signatures=2)
    statuses = _pyhanko_statuses(both, pki_env)
    assert set(statuses) == {FIELD_LEADER, FIELD_ORGANIZATION}
    for status in statuses.values():
        _assert_fully_valid(status)
    # The leader's signature covers its own revision only; what came after is form filling
    # and a signature, which its certification allows.
    assert statuses[FIELD_LEADER].coverage == SignatureCoverageLevel.ENTIRE_REVISION
    assert statuses[FIELD_LEADER].docmdp_ok
    assert statuses[FIELD_ORGANIZATION].coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert verify_pdf(both, pki_env.trust).summary == Summary.VALID


def test_tampered_bytes_are_detected(
    documents: dict[int, bytes], pki_env: PkiEnv, pdfsig: PdfSig
) -> None:
    signed = sign_pdf(documents[1], pki_env.signer(LEADER), SignRequest(FIELD_LEADER), BB)
    # One byte of the signed document: a newline inside an object of the first revision.
    at = signed.index(b" obj\n<<\n/") + len(b" obj\n<<")
    document_changed = signed[:at] + b" " + signed[at + 1 :]
    status = _pyhanko_statuses(document_changed, pki_env)[FIELD_LEADER]
    assert not status.intact and not status.bottom_line
    pdfsig.assert_broken(document_changed)
    assert verify_pdf(document_changed, pki_env.trust).summary == Summary.INVALID

    # One byte of the signature value inside /Contents (its hex digits, not the padding).
    (sig,) = open_reader(signed).embedded_signatures
    value = bytes(sig.signer_info["signature"].native).hex().upper().encode()
    at = signed.index(value) + 10
    flipped = b"0" if signed[at : at + 1] != b"0" else b"1"
    value_changed = signed[:at] + flipped + signed[at + 1 :]
    status = _pyhanko_statuses(value_changed, pki_env)[FIELD_LEADER]
    assert status.intact and not status.valid and not status.bottom_line
    pdfsig.assert_broken(value_changed)


class _FrozenClock(datetime):
    """What pyHanko's info-dictionary writer reads as "now" (it stamps /ModDate with the wall
    clock, not the signing time): frozen, so that two signings can be compared byte for byte."""

    @classmethod
    def now(cls, tz: tzinfo | None = None) -> datetime:  # type: ignore[override]
        return datetime(2026, 6, 9, 8, 30, tzinfo=UTC).astimezone(tz)


@pytest.mark.parametrize("look", [False, True], ids=["no-appearance", "decree30"])
def test_same_bytes_as_pyhanko(
    look: bool,
    documents: dict[int, bytes],
    pki_env: PkiEnv,
    signature_png: bytes,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With a deterministic mechanism (RSA PKCS#1 v1.5) the fast path and pyHanko's own CMS
    builder write the same document, byte for byte."""
    monkeypatch.setattr(pyhanko_info, "datetime", _FrozenClock)
    # The second half of the trailer's /ID is random per revision: made fixed for both runs.
    fixed_os = SimpleNamespace(urandom=lambda n: b"\x5a" * n, SEEK_END=os.SEEK_END)
    monkeypatch.setattr(pyhanko_incremental, "os", fixed_os)
    fast = pki_env.signer(LEADER, prefer_pss=False)
    slow = pki_env.signer(LEADER, prefer_pss=False)
    slow.cms_template = False  # as for a back-end whose CMS does not fit a template
    signed_at = datetime.now(UTC).replace(microsecond=0)
    request = replace(
        leader_request(signature_png) if look else SignRequest(FIELD_LEADER), signed_at=signed_at
    )
    by_fast = sign_pdf(documents[1], fast, request, BB)
    by_slow = sign_pdf(documents[1], slow, request, BB)
    assert isinstance(fast.cms_template, CmsTemplate)
    assert slow.cms_template is False
    assert by_fast == by_slow
    # The frozen clock and /ID were the ones used.
    assert b"/ModDate (D\\07220260609" in by_fast
    assert b"5a" * 16 in by_fast


def _template(signer: LocalKeySigner) -> CmsTemplate:
    return asyncio.run(CmsTemplate.for_signer(signer.signer))


def test_template_cms_equals_pyhanko_cms(pki_env: PkiEnv) -> None:
    signer = pki_env.signer(LEADER, prefer_pss=False)
    template = _template(signer)
    for digest in (bytes(32), bytes(range(32)), b"\xff" * 32):
        ours = asyncio.run(template.sign(signer.signer, digest))
        theirs = asyncio.run(signer.signer.async_sign(digest, "sha256", use_pades=True)).dump()
        assert ours == theirs


def test_template_recomputes_lengths_for_ecdsa(pki_env: PkiEnv) -> None:
    """ECDSA signatures vary in length (DER integers): every length is re-encoded."""
    signer = pki_env.signer(CLERK)
    assert signer.algorithm == "ecdsa_sha256"
    template = _template(signer)
    lengths = set()
    for n in range(24):
        digest = bytes([n]) * 32
        attrs = template.signed_attributes(digest)
        signature = signer.sign_bytes(attrs)
        lengths.add(len(signature))
        der = template.assemble(attrs, signature)
        info = cms.ContentInfo.load(der)
        assert info.dump(force=True) == der  # canonical DER throughout
        signer_info = info["content"]["signer_infos"][0]
        assert signer_info["signed_attrs"].dump(force=True)[1:] == attrs[1:]
        message_digest = [
            a for a in signer_info["signed_attrs"] if a["type"].native == "message_digest"
        ]
        assert message_digest[0]["values"][0].native == digest
        assert verify_raw_signature(signer.certificate, attrs, signature, "ecdsa_sha256")
    assert len(lengths) > 1, lengths  # 24 signatures nearly always include a shorter one


def test_template_refuses_what_it_cannot_reproduce(
    prepared: bytes, pki_env: PkiEnv, signature_png: bytes
) -> None:
    # A B-T signature carries an unsigned attribute (the timestamp): not a B-B template.
    signed = sign_pdf(
        prepared, pki_env.signer(LEADER), leader_request(signature_png), pki_env.options()
    )
    (sig,) = open_reader(signed).embedded_signatures
    with pytest.raises(ValueError):
        CmsTemplate.from_cms(cms.ContentInfo.load(sig.sig_object["/Contents"]).dump())
    with pytest.raises(ValueError):
        CmsTemplate.from_cms(b"\x30\x03\x02\x01\x01")
    with pytest.raises(ValueError):
        split_tlvs(der_tlv(0x04, b"abc")[:-1])
