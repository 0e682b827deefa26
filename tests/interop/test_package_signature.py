"""Signed packages (issue 12): the organisation's XML signature in ``edXML:Signature``.

Checked against what we did not write: ``xmlsec1`` (Debian) signs a hand-written package that we
must accept and verifies the packages we produce; tampered content and a wrong key are refused
with nothing stored, on PostgreSQL, through the import API and through the axis; a certificate
outside the trust roots is shown untrusted; nothing is fetched from the URLs in certificates.
Keys are generated at test time (demo PKIs under the test's temporary directories).
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from lxml import etree
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from docflow import UnitOfWork
from docflow.models import Document
from docflow.models.exchange import ExchangeMessage
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
from interop.edxml.signature import (
    DS_NS,
    PackageSigner,
    SignatureStatus,
    sign_package_bytes,
    verify_package_signature,
)
from interop.package_signatures import signed_package_bytes
from signing import (
    TrustSettings,
)
from signing.testpki import (
    DemoPKI,
    OrgSpec,
    demo_signer,
    demo_trust,
    generate_demo_pki,
)
from tests.conftest import Clock, Demo, make_test_settings
from tests.interop.conftest import SECRET_A, SECRET_B, SYSTEM_A, SYSTEM_B, Sim, client_for
from tests.pdfs import make_pdf

TW = Organ("000.00.00.Z01", "Ủy ban Trung ương MTTQ Việt Nam")
EXTERNAL = Organ("000.00.00.Y98", "Sở Thử nghiệm (ngoài hệ thống)")
EDXML_NS = "http://www.mic.gov.vn/TBT/QCVN_102_2016"
SUBJECT = "Kế hoạch phối hợp tổ chức Ngày hội Đại đoàn kết"

pytestmark = pytest.mark.pg


# --- PKIs and the app -------------------------------------------------------------------------


class _Listener:
    """A TCP socket that counts connections: the target of every URL in the test certificates,
    so a fetch the verifier should never make would show up here."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = int(self.sock.getsockname()[1])
        self.connections = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            conn.close()


@pytest.fixture(scope="module")
def listener() -> Iterator[_Listener]:
    running = _Listener()
    yield running
    running.sock.close()


@pytest.fixture(scope="module")
def pki_dir(tmp_path_factory: pytest.TempPathFactory, listener: _Listener) -> Path:
    """The trusted demo PKI: our organisations and the external sender, every certificate
    pointing its OCSP/CRL URLs at the listener."""
    directory = tmp_path_factory.mktemp("xsign-pki") / "pki"
    generate_demo_pki(
        directory,
        organizations=[
            OrgSpec(TW.organ_id, TW.organ_name),
            OrgSpec(EXTERNAL.organ_id, EXTERNAL.organ_name),
        ],
        base_url=f"http://127.0.0.1:{listener.port}/pki",
    )
    return directory


@pytest.fixture(scope="module")
def pki(pki_dir: Path) -> DemoPKI:
    from signing.testpki import load_demo_pki

    return load_demo_pki(pki_dir)


@pytest.fixture(scope="module")
def rogue_pki(tmp_path_factory: pytest.TempPathFactory, listener: _Listener) -> DemoPKI:
    """Another CA, not among the trust roots, issuing a seal with the external sender's code."""
    return generate_demo_pki(
        tmp_path_factory.mktemp("xsign-rogue") / "pki",
        organizations=[OrgSpec(EXTERNAL.organ_id, EXTERNAL.organ_name)],
        base_url=f"http://127.0.0.1:{listener.port}/rogue",
    )


@pytest.fixture
def clock() -> Clock:
    """The real time: certificates and the demo CRLs are checked at the moment a package
    arrives, and the CRLs are issued now (a fixed past clock would find them "too recent")."""
    return Clock(dt.datetime.now(dt.UTC))


@pytest.fixture
def app(
    tmp_path: Path,
    pg_url: str,
    session_factory: sessionmaker[Session],
    clock: Clock,
    demo: Demo,
    pki_dir: Path,
) -> Any:
    """The app with the trusted demo PKI in its data dir (its roots are the trust roots)."""
    from app import create_app

    shutil.copytree(pki_dir, tmp_path / "data" / "pki")
    flask_app = create_app(
        make_test_settings(tmp_path, pg_url), session_factory=session_factory, clock=clock
    )
    flask_app.config.update(TESTING=True)
    return flask_app


def _seal(pki: DemoPKI, organ: Organ) -> PackageSigner:
    return PackageSigner.of(demo_signer(pki, f"org:{organ.organ_id}"))


def _package(from_: Organ = EXTERNAL, subject: str = SUBJECT) -> EdxmlPackage:
    return EdxmlPackage(
        from_=from_,
        to=(TW,),
        code=Code("15", "KH-UBND"),
        promulgation=PromulgationInfo(dt.date(2026, 11, 20), "Thành phố Thử"),
        subject=subject,
        other_info=OtherInfo(priority=Priority(1)),
        attachments=(Attachment("Kế hoạch.pdf", "application/pdf", content=make_pdf()),),
    )


def _post(client: Any, headers: dict[str, str], data: bytes) -> Any:
    return client.post(
        "/api/v1/interop/packages", headers=headers, data=data, content_type="application/xml"
    )


def _counts(demo: Demo) -> tuple[int, int, int]:
    with demo.factory() as s:
        docs = s.scalar(select(func.count()).select_from(Document)) or 0
        messages = s.scalar(select(func.count()).select_from(ExchangeMessage)) or 0
    return int(docs), int(messages), sum(1 for _ in demo.store.list())


def _tamper_subject(data: bytes) -> bytes:
    """One byte of the subject changed ("phối hợp" → "phối Hợp")."""
    at = data.index("phối hợp".encode())
    position = at + len("phối ".encode())
    assert data[position : position + 1] == b"h"
    return data[:position] + b"H" + data[position + 1 :]


# --- through the import API (PostgreSQL) ------------------------------------------------------


def test_package_signed_by_our_builder_verifies_and_is_shown(
    client: Any, api: Any, demo: Demo, pki: DemoPKI, listener: _Listener
) -> None:
    from tests.app.test_pages import login

    before = listener.connections
    data = build_package_bytes(_package(), signer=_seal(pki, EXTERNAL))
    r = _post(client, api("vanthu.tw"), data)
    assert r.status_code == 201, r.get_json()
    signature = r.get_json()["package_signature"]
    seal_cert = pki.organization(EXTERNAL.organ_id).certificate
    assert signature["status"] == "valid", signature
    assert signature["reason"] == ""
    assert signature["sender_match"] == "code" and signature["coverage"] == "package"
    assert signature["signer"]["organization_code"] == EXTERNAL.organ_id
    assert signature["certificate"]["serial"] == format(seal_cert.serial_number, "x")
    with demo.factory() as s:
        stored = s.get_one(Document, r.get_json()["id"]).package_signature
    assert stored is not None and stored["status"] == "valid"
    login(client, "vanthu.tw")
    page = client.get(f"/documents/{r.get_json()['id']}").get_data(as_text=True)
    assert 'data-package-signature="valid"' in page and "Chữ ký gói tin" in page
    assert format(seal_cert.serial_number, "x") in page
    assert listener.connections == before  # no revocation fetched from the certificate's URLs


def test_one_byte_changed_in_the_subject_is_refused_and_nothing_stored(
    client: Any, api: Any, demo: Demo, pki: DemoPKI
) -> None:
    data = _tamper_subject(build_package_bytes(_package(), signer=_seal(pki, EXTERNAL)))
    before = _counts(demo)
    r = _post(client, api("vanthu.tw"), data)
    assert r.status_code == 422, r.get_json()
    error = r.get_json()["error"]
    assert error["code"] == "package_signature_invalid"
    assert "bị thay đổi sau khi ký" in error["message"]
    assert error["details"]["package_signature"]["status"] == "invalid"
    assert _counts(demo) == before


def test_a_wrong_key_is_refused_and_nothing_stored(
    client: Any, api: Any, demo: Demo, pki: DemoPKI
) -> None:
    """The external sender's certificate in KeyInfo, the value made with another key."""
    honest = _seal(pki, EXTERNAL)
    other = demo_signer(pki, f"org:{TW.organ_id}")
    forged = dataclasses.replace(honest, sign=lambda data: other.sign_bytes(data, honest.algorithm))
    data = build_package_bytes(_package(), signer=forged)
    before = _counts(demo)
    r = _post(client, api("vanthu.tw"), data)
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "package_signature_invalid"
    assert "không khớp với khóa công khai" in r.get_json()["error"]["message"]
    assert _counts(demo) == before


def test_a_trusted_seal_of_another_organisation_is_refused(
    client: Any, api: Any, demo: Demo, pki: DemoPKI
) -> None:
    """From says the external sender; the (trusted, intact) seal is the central committee's."""
    data = build_package_bytes(_package(), signer=_seal(pki, TW))
    before = _counts(demo)
    r = _post(client, api("vanthu.tw"), data)
    assert r.status_code == 422, r.get_json()
    assert "không phải nơi gửi 000.00.00.Y98" in r.get_json()["error"]["message"]
    assert _counts(demo) == before


def test_a_seal_outside_the_trust_roots_is_accepted_as_untrusted(
    client: Any, api: Any, rogue_pki: DemoPKI
) -> None:
    data = build_package_bytes(_package(), signer=_seal(rogue_pki, EXTERNAL))
    r = _post(client, api("vanthu.tw"), data)
    assert r.status_code == 201, r.get_json()
    signature = r.get_json()["package_signature"]
    assert signature["status"] == "untrusted"
    assert "chứng thư gốc tin cậy" in signature["reason"]
    assert signature["signer"]["name"] == EXTERNAL.organ_name


def test_an_unsigned_package_is_accepted_and_says_so(client: Any, api: Any) -> None:
    from tests.app.test_pages import login

    r = _post(client, api("vanthu.tw"), build_package_bytes(_package()))
    assert r.status_code == 201
    assert r.get_json()["package_signature"]["status"] == "unsigned"
    login(client, "vanthu.tw")
    page = client.get(f"/documents/{r.get_json()['id']}").get_data(as_text=True)
    assert "Gói tin không có chữ ký số" in page


def test_a_tampered_package_through_the_axis_is_refused_logged_and_not_stored(
    app: Any, demo: Demo, sim: Sim, pki: DemoPKI, caplog: pytest.LogCaptureFixture
) -> None:
    from app.exchange import poll_axis, register_agencies
    from app.runtime import runtime

    rt = runtime(app)
    rt.settings = rt.settings.with_overrides(
        axis_url=sim.url, axis_system_id=SYSTEM_A, axis_secret=SECRET_A
    )
    register_agencies(rt)
    before = _counts(demo)
    with client_for(sim.url, SYSTEM_B, SECRET_B) as external:
        external.register_agency(EXTERNAL.organ_id, EXTERNAL.organ_name)
        data = _tamper_subject(build_package_bytes(_package(), signer=_seal(pki, EXTERNAL)))
        external.send_edoc(data, [TW.organ_id], from_code=EXTERNAL.organ_id)
        with caplog.at_level("WARNING"):
            assert poll_axis(rt) == 0
        assert poll_axis(rt) == 0  # acknowledged (fail): not offered again
        intact = build_package_bytes(
            _package(subject=SUBJECT + " (2)"), signer=_seal(pki, EXTERNAL)
        )
        external.send_edoc(intact, [TW.organ_id], from_code=EXTERNAL.organ_id)
        assert poll_axis(rt) == 1  # the same path accepts a good one
    assert "package_signature_invalid" in caplog.text
    docs, _, _ = _counts(demo)
    assert docs == before[0] + 1


# --- independent signer and verifier: xmlsec1 -------------------------------------------------

XMLSEC1 = shutil.which("xmlsec1")
needs_xmlsec1 = pytest.mark.skipif(XMLSEC1 is None, reason="xmlsec1 (Debian) not installed")


def _pem_files(pki: DemoPKI, organ: Organ, directory: Path) -> tuple[Path, Path, Path]:
    ident = pki.organization(organ.organ_id)
    key = directory / "seal-key.pem"
    key.write_bytes(
        ident.private_key().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    cert = directory / "seal.pem"
    cert.write_bytes(ident.certificate.public_bytes(serialization.Encoding.PEM))
    issuing = directory / "issuing.pem"
    issuing.write_bytes(pki.issuing.certificate.public_bytes(serialization.Encoding.PEM))
    return key, cert, issuing


def _hand_written(placement: str) -> bytes:
    """A package in another vendor's shape, written element by element (not our builder): no
    XML declaration quirks of ours, base64 wrapped at 76 columns, an exclusive-c14n template
    with only the enveloped transform (the reference's c14n is then the default, C14N 1.0)."""
    E = f"{{{EDXML_NS}}}"
    root = etree.Element(f"{E}edXML", nsmap={None: EDXML_NS})
    envelope = etree.SubElement(root, f"{E}edXMLEnvelope", nsmap={"edXML": EDXML_NS})
    header = etree.SubElement(envelope, f"{E}edXMLHeader")
    message = etree.SubElement(header, f"{E}MessageHeader")

    def leaf(parent: etree._Element, name: str, text: str) -> etree._Element:
        element = etree.SubElement(parent, f"{E}{name}")
        element.text = text
        return element

    frm = etree.SubElement(message, f"{E}From")
    leaf(frm, "OrganId", EXTERNAL.organ_id)
    leaf(frm, "OrganName", EXTERNAL.organ_name)
    to = etree.SubElement(message, f"{E}To")
    leaf(to, "OrganId", TW.organ_id)
    code = etree.SubElement(message, f"{E}Code")
    leaf(code, "CodeNumber", "27")
    leaf(code, "CodeNotation", "CV-UBND")
    info = etree.SubElement(message, f"{E}PromulgationInfo")
    leaf(info, "Place", "Thành phố Thử")
    leaf(info, "PromulgationDate", "2026/11/21")
    kind = etree.SubElement(message, f"{E}DocumentType")
    leaf(kind, "Type", "18")
    leaf(kind, "TypeName", "Công văn")
    leaf(message, "Subject", "V/v cử cán bộ tham dự hội nghị (chữ ký xmlsec1)")
    leaf(message, "DocumentId", f"{EXTERNAL.organ_id},2026/11/21,27/CV-UBND")
    trace = etree.SubElement(header, f"{E}TraceHeaderList")
    bussiness = etree.SubElement(trace, f"{E}Bussiness")
    leaf(bussiness, "BussinessDocType", "0")
    holder = etree.SubElement(header, f"{E}Signature")
    body = etree.SubElement(envelope, f"{E}edXMLBody")
    manifest = etree.SubElement(body, f"{E}edXMLManifest")
    reference = etree.SubElement(
        manifest, f"{E}Reference", {"{http://www.w3.org/1999/xlink}href": "cid:cv27"},
        nsmap={"xlink": "http://www.w3.org/1999/xlink"},
    )  # fmt: skip
    leaf(reference, "AttachmentName", "Công văn 27.pdf")
    leaf(reference, "ContentType", "application/pdf")
    leaf(reference, "ContentId", "cv27")
    encoded = etree.SubElement(root, f"{E}AttachmentEncoded")
    attachment = etree.SubElement(encoded, f"{E}Attachment")
    leaf(attachment, "ContentType", "application/pdf")
    leaf(attachment, "ContentId", "cv27")
    leaf(attachment, "AttachmentName", "Công văn 27.pdf")
    b64 = base64.encodebytes(make_pdf()).decode()
    leaf(attachment, "ContentTransferEncoded", b64)
    D = f"{{{DS_NS}}}"
    parent = holder if placement == "header" else root
    signature = etree.SubElement(parent, f"{D}Signature", nsmap={"ds": DS_NS})
    signed_info = etree.SubElement(signature, f"{D}SignedInfo")
    etree.SubElement(
        signed_info, f"{D}CanonicalizationMethod",
        Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#",
    )  # fmt: skip
    etree.SubElement(
        signed_info, f"{D}SignatureMethod",
        Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
    )  # fmt: skip
    ref = etree.SubElement(signed_info, f"{D}Reference", URI="")
    transforms = etree.SubElement(ref, f"{D}Transforms")
    etree.SubElement(
        transforms,
        f"{D}Transform",
        Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature",
    )
    etree.SubElement(ref, f"{D}DigestMethod", Algorithm="http://www.w3.org/2001/04/xmlenc#sha256")
    etree.SubElement(ref, f"{D}DigestValue")
    etree.SubElement(signature, f"{D}SignatureValue")
    key_info = etree.SubElement(signature, f"{D}KeyInfo")
    x509_data = etree.SubElement(key_info, f"{D}X509Data")
    etree.SubElement(x509_data, f"{D}X509Certificate")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _xmlsec1_sign(template: bytes, pki: DemoPKI, organ: Organ, directory: Path) -> bytes:
    key, cert, issuing = _pem_files(pki, organ, directory)
    (directory / "template.edxml").write_bytes(template)
    out = directory / "signed.edxml"
    subprocess.run(
        [XMLSEC1 or "xmlsec1", "--sign", "--privkey-pem", f"{key},{cert},{issuing}",
         "--output", str(out), str(directory / "template.edxml")],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return out.read_bytes()


@needs_xmlsec1
@pytest.mark.parametrize("placement", ["header", "end_of_root"])
def test_a_package_signed_by_xmlsec1_verifies(
    client: Any, api: Any, pki: DemoPKI, tmp_path: Path, placement: str
) -> None:
    signed = _xmlsec1_sign(_hand_written(placement), pki, EXTERNAL, tmp_path)
    assert b"<ds:SignatureValue>" in signed and b"<ds:SignatureValue/>" not in signed
    report = verify_package_signature(signed, trust=demo_trust(pki), sender=EXTERNAL)
    assert report.status is SignatureStatus.VALID, report.reasons
    r = _post(client, api("vanthu.tw"), signed)
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["subject"] == "V/v cử cán bộ tham dự hội nghị (chữ ký xmlsec1)"
    assert body["package_signature"]["status"] == "valid"
    # and the same bytes with the attachment changed no longer verify
    at = signed.index(b"<ContentTransferEncoded>") + len(b"<ContentTransferEncoded>") + 40
    flipped = signed[:at] + (b"B" if signed[at : at + 1] != b"B" else b"C") + signed[at + 1 :]
    assert r.status_code == 201
    assert _post(client, api("vanthu.tw"), flipped).status_code == 422


def _xmlsec1_verify(
    data: bytes, pki: DemoPKI, directory: Path
) -> subprocess.CompletedProcess[bytes]:
    (directory / "root.pem").write_bytes(pki.trust_roots_pem())
    (directory / "package.edxml").write_bytes(data)
    return subprocess.run(
        [XMLSEC1 or "xmlsec1", "--verify", "--trusted-pem", str(directory / "root.pem"),
         str(directory / "package.edxml")],
        capture_output=True, timeout=60,
    )  # fmt: skip


@needs_xmlsec1
def test_xmlsec1_verifies_what_we_produce_and_refuses_it_tampered(
    session_factory: sessionmaker[Session], clock: Clock, pki: DemoPKI, tmp_path: Path
) -> None:
    """Signed through the app's own path: the seal the server uses for PDFs (DemoSigning)."""
    from app.config import Settings
    from app.pki import DemoSigning

    settings = make_test_settings(tmp_path, "sqlite://")
    assert isinstance(settings, Settings)
    uow = UnitOfWork(session_factory, clock=clock, signing=DemoSigning(settings, pki))
    data = signed_package_bytes(uow, _package(from_=TW))
    assert data.count(f'xmlns:ds="{DS_NS}"'.encode()) == 1
    header = etree.fromstring(data).find(f"{{{EDXML_NS}}}edXMLEnvelope/{{{EDXML_NS}}}edXMLHeader")
    assert header is not None
    assert [etree.QName(e).localname for e in header] == [
        "MessageHeader", "TraceHeaderList", "Signature",
    ]  # fmt: skip
    assert header[2][0].tag == f"{{{DS_NS}}}Signature"
    ok = _xmlsec1_verify(data, pki, tmp_path)
    assert ok.returncode == 0, ok.stderr.decode()
    bad = _xmlsec1_verify(_tamper_subject(data), pki, tmp_path)
    assert bad.returncode != 0


# --- the verifier on its own ------------------------------------------------------------------


def test_signing_is_deterministic_and_replaces_a_kept_signature(pki: DemoPKI) -> None:
    seal = _seal(pki, EXTERNAL)
    first = build_package_bytes(_package(), signer=seal)
    assert build_package_bytes(_package(), signer=seal) == first
    resigned = sign_package_bytes(first, seal)
    assert resigned.count(b"<ds:Signature ") == 1
    assert verify_package_signature(resigned, trust=demo_trust(pki), sender=EXTERNAL).status is (
        SignatureStatus.VALID
    )


def test_configured_roots_that_allow_fetching_still_fetch_nothing(
    pki: DemoPKI, listener: _Listener
) -> None:
    """DHTN_TRUST_ROOTS gives TrustSettings that may fetch; the package check never does,
    though every certificate names the listener as its OCSP responder and CRL point."""
    trust = TrustSettings.from_pem(pki.trust_roots_pem())
    assert trust.allow_fetching
    before = listener.connections
    data = build_package_bytes(_package(), signer=_seal(pki, EXTERNAL))
    report = verify_package_signature(data, trust=trust, sender=EXTERNAL)
    assert report.status is SignatureStatus.VALID, report.reasons
    assert listener.connections == before


def test_an_external_reference_is_not_dereferenced(pki: DemoPKI, listener: _Listener) -> None:
    data = build_package_bytes(_package(), signer=_seal(pki, EXTERNAL))
    url = f"http://127.0.0.1:{listener.port}/payload"
    hostile = data.replace(b'<ds:Reference URI="">', f'<ds:Reference URI="{url}">'.encode())
    before = listener.connections
    report = verify_package_signature(hostile, trust=demo_trust(pki), sender=EXTERNAL)
    assert report.status is SignatureStatus.INVALID
    assert listener.connections == before


def test_doctype_and_sha1_and_missing_certificate(pki: DemoPKI) -> None:
    data = build_package_bytes(_package(), signer=_seal(pki, EXTERNAL))
    with_dtd = data.replace(b"?>\n", b'?>\n<!DOCTYPE edXML [<!ENTITY x "y">]>\n', 1)
    assert verify_package_signature(with_dtd, trust=demo_trust(pki)).status is (
        SignatureStatus.INVALID
    )
    sha1 = data.replace(
        b"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
        b"http://www.w3.org/2000/09/xmldsig#rsa-sha1",
    )
    report = verify_package_signature(sha1, trust=demo_trust(pki), sender=EXTERNAL)
    assert report.status is SignatureStatus.UNTRUSTED and "không được chấp nhận" in report.reason
    root = etree.fromstring(data)
    for element in root.iter(f"{{{DS_NS}}}KeyInfo"):
        element.getparent().remove(element)
    bare = etree.tostring(root)
    report = verify_package_signature(bare, trust=demo_trust(pki), sender=EXTERNAL)
    assert report.status is SignatureStatus.UNTRUSTED and "X509Data" in report.reason


def test_sender_bound_by_name_when_the_certificate_has_no_code(
    pki: DemoPKI, tmp_path: Path
) -> None:
    """A seal certificate without an identifier code (as some CAs issue them) is tied to the
    sender by its O/CN, accents and case aside; an unrelated name stays untrusted."""

    extra = pki.issue_extra("seal-no-code", common_name="SỞ THỬ NGHIỆM (NGOÀI HỆ THỐNG)",
                            organization="Sở Thử nghiệm (ngoài hệ thống)")  # fmt: skip
    signer = demo_signer(pki, extra.name)
    data = build_package_bytes(_package(), signer=PackageSigner.of(signer))
    report = verify_package_signature(data, trust=demo_trust(pki), sender=EXTERNAL)
    assert (report.status, report.sender_match) == (SignatureStatus.VALID, "name"), report.reasons
    stranger = Organ("000.00.00.Y97", "Sở Khác")
    report = verify_package_signature(data, trust=demo_trust(pki), sender=stranger)
    assert report.status is SignatureStatus.UNTRUSTED
