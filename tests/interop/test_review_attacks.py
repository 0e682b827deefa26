"""Attacks on the national exchange as a hostile peer or another vendor's system would make
them: packages and status messages written by hand as text (not by our builder), imported on
PostgreSQL through the public API or the axis polling job. Each case is a problem found in
review; it must be refused cleanly (422 with a stable code, nothing changed) or stored whole."""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from lxml import etree
from signxml.algorithms import (
    CanonicalizationMethod,
    DigestAlgorithm,
    SignatureConstructionMethod,
)
from signxml.signer import XMLSigner
from sqlalchemy import func, select

from docflow.models import Document
from docflow.models.exchange import ExchangeMessage
from interop import Organ
from interop.edxml import signature
from interop.edxml.signature import (
    DS_NS,
    PackageSigner,
    SignatureStatus,
    verify_package_signature,
)
from tests.conftest import Demo
from tests.interop.conftest import SECRET_B, SYSTEM_B, Sim, client_for
from tests.interop.test_axis_exchange import _wire
from tests.pdfs import make_pdf

NS = "http://www.mic.gov.vn/TBT/QCVN_102_2016"
TW = "000.00.00.Z01"
SENDER = "000.00.07.H31"


def _attachment(name: str = "Văn bản.pdf", data: bytes | None = None, cid: str = "1") -> str:
    payload = base64.b64encode(make_pdf() if data is None else data).decode()
    return (
        f"<edXML:Attachment><edXML:ContentType>application/pdf</edXML:ContentType>"
        f"<edXML:ContentId>{cid}</edXML:ContentId><edXML:AttachmentName>{name}"
        f"</edXML:AttachmentName><edXML:ContentTransferEncoded>{payload}"
        f"</edXML:ContentTransferEncoded></edXML:Attachment>"
    )


def package(
    *,
    sender: str = SENDER,
    to: str = f"<edXML:To><edXML:OrganId>{TW}</edXML:OrganId></edXML:To>",
    number: str = "41",
    date: str = "<edXML:PromulgationDate>2026/11/24</edXML:PromulgationDate>",
    document_id: str | None = None,
    extra_header: str = "",
    trace: str = "",
    attachments: str | None = None,
) -> bytes:
    """A package as another vendor's system writes it (text, not our builder)."""
    did = f"<edXML:DocumentId>{document_id}</edXML:DocumentId>" if document_id is not None else ""
    files = _attachment() if attachments is None else attachments
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<edXML:edXML xmlns:edXML="{NS}">
 <edXML:edXMLEnvelope>
  <edXML:edXMLHeader>
   <edXML:MessageHeader>
    <edXML:From><edXML:OrganId>{sender}</edXML:OrganId>
     <edXML:OrganName>Sở Nội vụ tỉnh Thử</edXML:OrganName></edXML:From>
    {to}
    <edXML:Code><edXML:CodeNumber>{number}</edXML:CodeNumber>
     <edXML:CodeNotation>SNV-VP</edXML:CodeNotation></edXML:Code>
    <edXML:PromulgationInfo><edXML:Place>Thử</edXML:Place>{date}</edXML:PromulgationInfo>
    <edXML:DocumentType><edXML:Type>18</edXML:Type><edXML:TypeName>Công văn</edXML:TypeName>
    </edXML:DocumentType>
    <edXML:Subject>Về việc phối hợp tổ chức hội nghị số {number}</edXML:Subject>
    {extra_header}
    {did}
   </edXML:MessageHeader>
   <edXML:TraceHeaderList>{trace}</edXML:TraceHeaderList>
  </edXML:edXMLHeader>
 </edXML:edXMLEnvelope>
 <edXML:AttachmentEncoded>{files}</edXML:AttachmentEncoded>
</edXML:edXML>
""".encode()


def _post(client: Any, api: Any, data: bytes, user: str = "vanthu.tw") -> Any:
    return client.post(
        "/api/v1/interop/packages", headers=api(user), data=data, content_type="application/xml"
    )


def _counts(demo: Demo) -> tuple[int, int, int]:
    with demo.factory() as s:
        return (
            s.scalar(select(func.count()).select_from(Document)) or 0,
            s.scalar(select(func.count()).select_from(ExchangeMessage)) or 0,
            demo.objects_in_use(),
        )


def _refused(client: Any, api: Any, demo: Demo, data: bytes) -> dict[str, Any]:
    before = _counts(demo)
    r = _post(client, api, data)
    assert r.status_code in (415, 422), (r.status_code, r.get_json())
    error: dict[str, Any] = r.get_json()["error"]
    assert error["code"] and error["message"]
    assert _counts(demo) == before
    return error


def _document(demo: Demo, doc_id: str) -> Document:
    with demo.factory() as s:
        return s.get_one(Document, uuid.UUID(doc_id))


# ------------------------------------------------------------------ garbled values: never a 500

OTHER = "<edXML:OtherInfo><edXML:PageAmount>{}</edXML:PageAmount></edXML:OtherInfo>"
GARBLED = {
    # str.isdigit() takes superscripts, int() does not: ValueError in the reader
    "page_amount_superscript": {"extra_header": OTHER.format("²")},
    # a count beyond the 32-bit column: DataError on PostgreSQL
    "page_amount_huge": {"extra_header": OTHER.format("99999999999999999999")},
    "type_superscript": {"type_code": "¹⁸"},
    "type_beyond_integer": {"type_code": "9999999999999999"},
    # a time where a date is expected, with an offset, at the edges of the calendar: the
    # conversion to Vietnam time overflowed
    "promulgation_year_1_with_offset": {
        "date": "<edXML:PromulgationDate>0001-01-01T00:00:00+08:00</edXML:PromulgationDate>"
    },
    "due_date_year_9999_with_offset": {
        "extra_header": "<edXML:DueDate>9999-12-31T23:00:00-05:00</edXML:DueDate>"
    },
    "response_for_date_with_offset": {
        "extra_header": "<edXML:ResponseFor><edXML:OrganId>000.00.00.Y01</edXML:OrganId>"
        "<edXML:Code>1/KH</edXML:Code><edXML:PromulgationDate>0001-01-01T01:00:00+09:00"
        "</edXML:PromulgationDate><edXML:DocumentId>000.00.00.Y01,2026/01/01,1/KH"
        "</edXML:DocumentId></edXML:ResponseFor>"
    },
    "priority_superscript": {
        "extra_header": "<edXML:OtherInfo><edXML:Priority>²</edXML:Priority></edXML:OtherInfo>"
    },
}


@pytest.mark.parametrize("case", list(GARBLED))
def test_garbled_numbers_dates_and_codes_are_read_as_unknown_not_a_500(
    client: Any, api: Any, demo: Demo, case: str
) -> None:
    changes = dict(GARBLED[case])
    type_code = changes.pop("type_code", "18")
    data = package(number="7", document_id=f"{SENDER},2026/11/24,7/SNV-VP", **changes)
    data = data.replace(b"<edXML:Type>18<", f"<edXML:Type>{type_code}<".encode())
    r = _post(client, api, data)
    assert r.status_code == 201, (r.status_code, r.get_json())
    doc = _document(demo, r.get_json()["id"])
    assert doc.notation == "7/SNV-VP" and doc.doc_type == "CV"
    assert doc.page_count is None
    assert doc.due_date == (dt.date(9999, 12, 31) if "due_date" in case else None)
    if case == "promulgation_year_1_with_offset":  # the date part as written is kept
        assert doc.issued_date == dt.date(1, 1, 1)


# ------------------------------------------------------------------ idempotency


def test_two_packages_without_a_document_id_are_two_documents(
    client: Any, api: Any, demo: Demo
) -> None:
    """No DocumentId and a date the reader cannot use (so none is derived): the key was "",
    and the second document from the same sender was taken for the first and lost."""
    date = "<edXML:PromulgationDate>ngày 24 tháng 11 năm 2026</edXML:PromulgationDate>"
    first, second = package(number="51", date=date), package(number="52", date=date)
    r1, r2 = _post(client, api, first), _post(client, api, second)
    assert (r1.status_code, r2.status_code) == (201, 201), (r1.get_json(), r2.get_json())
    assert r1.get_json()["id"] != r2.get_json()["id"]
    assert _document(demo, r2.get_json()["id"]).notation == "52/SNV-VP"
    again = _post(client, api, second)  # the same bytes again: still the same document
    assert again.status_code == 200 and again.get_json()["id"] == r2.get_json()["id"]
    # and a revocation naming no document cannot reach either of them
    revoke = package(
        number="53",
        date=date,
        trace="<edXML:Bussiness><edXML:BussinessDocType>1</edXML:BussinessDocType>"
        "<edXML:BussinessDocReason>Thu hồi</edXML:BussinessDocReason></edXML:Bussiness>",
    )
    assert _refused(client, api, demo, revoke)["code"] == "revoke_unknown"
    assert {_document(demo, r.get_json()["id"]).state for r in (r1, r2)} == {"arrived"}


# ------------------------------------------------------------------ through the axis

PEER = "000.00.00.Y97"  # an external recipient of ours, on the other system
VICTIM = "000.00.00.Y95"  # another organisation of the other system


def _status(code: str, document_id: str, *, sender: str = PEER) -> bytes:
    """A status message as another vendor writes it."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<edXML:edXML xmlns:edXML="{NS}"><edXML:edXMLEnvelope><edXML:edXMLHeader><edXML:MessageHeader>
 <edXML:ResponseFor><edXML:OrganId>{TW}</edXML:OrganId><edXML:Code>60/KH-MTTW</edXML:Code>
  <edXML:PromulgationDate>2026/11/20</edXML:PromulgationDate>
  <edXML:DocumentId>{document_id}</edXML:DocumentId></edXML:ResponseFor>
 <edXML:From><edXML:OrganId>{sender}</edXML:OrganId>
  <edXML:OrganName>Sở Thử nghiệm</edXML:OrganName></edXML:From>
 <edXML:StatusCode>{code}</edXML:StatusCode>
 <edXML:Description>Đồng ý thu hồi văn bản theo đề nghị</edXML:Description>
 <edXML:Timestamp>2026/11/21 09:00:00</edXML:Timestamp>
</edXML:MessageHeader></edXML:edXMLHeader></edXML:edXMLEnvelope></edXML:edXML>
""".encode()


def _sent_to_peer(demo: Demo) -> tuple[uuid.UUID, str]:
    """An outgoing document of the central committee that left through the axis to PEER (the
    rows ``send_queued`` leaves, PEER's 01 taken in): its delivery id and DocumentId."""
    _doc_id, delivery_id, key = to_peer(demo, doc_state="issued", status="01")
    return delivery_id, key


def to_peer(
    demo: Demo, *, doc_state: str = "dispatched", state: str = "sent", status: str | None = None
) -> tuple[uuid.UUID, uuid.UUID, str]:
    """An outgoing document of the central committee in ``doc_state`` with a delivery to PEER
    through the axis in ``state`` (``sent``: with the rows ``send_queued`` leaves) showing
    ``status``: (document id, delivery id, DocumentId)."""
    from docflow.models import Delivery

    key = f"{TW},2026/11/20,60/KH-MTTW"
    org_id = demo.org_id("tw")
    with demo.factory() as s:
        doc = Document(
            organization_id=org_id,
            direction="outgoing",
            state=doc_state,
            doc_type="KH",
            subject="Kế hoạch tổ chức hội nghị",
            source="internal",
            notation="60/KH-MTTW",
            issued_date=dt.date(2026, 11, 20),
        )
        s.add(doc)
        s.flush()
        delivery = Delivery(
            document_id=doc.id,
            position=1,
            recipient_code=PEER,
            recipient_name="Sở Thử nghiệm",
            channel="axis",
            state=state,
            status_code=status,
            status_text="Đã đến" if status == "01" else None,
            status_seq=1 if status else 0,
        )
        s.add(delivery)
        if state == "sent":
            s.add(
                ExchangeMessage(
                    direction="out",
                    kind="edoc",
                    organization_id=org_id,
                    key=key,
                    status_code="",
                    channel="axis",
                    peer_code=PEER,
                    document_id=doc.id,
                    state="sent",
                )
            )
        s.commit()
        return doc.id, delivery.id, key


class DuringSend:
    """Our axis client, with ``click`` (a clerk's action) landing while each package is on its
    way: after the axis took it, before the exchange records that it left."""

    def __init__(self, inner: Any, click: Any) -> None:
        self.inner, self.click = inner, click

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def send_edoc(self, *args: Any, **kw: Any) -> Any:
        result = self.inner.send_edoc(*args, **kw)
        self.click()
        return result


def _delivery(demo: Demo, delivery_id: uuid.UUID) -> tuple[str | None, list[str]]:
    from docflow.models import Delivery

    with demo.factory() as s:
        d = s.get_one(Delivery, delivery_id)
        return d.status_code, [e.status_code for e in d.events]


def test_a_recipient_cannot_put_our_delivery_into_recall_nor_answer_a_recall_never_asked(
    app: Any, demo: Demo, sim: Sim
) -> None:
    """13 is the sender's code: a recipient sending it made our delivery "recall requested",
    and the next sending round sent a revocation of our document in our name. 15/16 answer a
    recall: without one they are ignored. A genuine 03 still applies."""
    from app.exchange import poll_axis, register_agencies, send_to_axis

    rt = _wire(app, sim)
    register_agencies(rt)
    delivery_id, key = _sent_to_peer(demo)
    with client_for(sim.url, SYSTEM_B, SECRET_B) as peer:
        peer.register_agency(PEER, "Sở Thử nghiệm")
        for code in ("13", "15", "16"):
            peer.send_edoc(_status(code, key), [TW], messagetype="status", from_code=PEER)
        assert poll_axis(rt) == 0
        assert _delivery(demo, delivery_id) == ("01", [])
        assert send_to_axis(rt) == 0  # no revocation leaves
        assert peer.get_received_list("edoc") == []
        peer.send_edoc(_status("03", key), [TW], messagetype="status", from_code=PEER)
        assert poll_axis(rt) == 1
        assert _delivery(demo, delivery_id) == ("03", ["03"])


def test_a_package_naming_another_sender_does_not_make_us_refuse_that_senders_document(
    app: Any, demo: Demo, sim: Sim
) -> None:
    """A package over a length limit is answered 02. One sent by PEER but naming VICTIM as its
    From (with the DocumentId of a document VICTIM really sent us) made us tell VICTIM that we
    refused its document."""
    from app.exchange import poll_axis, register_agencies

    rt = _wire(app, sim)
    register_agencies(rt)
    with client_for(sim.url, SYSTEM_B, SECRET_B) as other:
        other.register_agency(PEER, "Sở Thử nghiệm")
        other.register_agency(VICTIM, "Sở Bị mạo danh")
        forged = package(
            sender=VICTIM, number="77", document_id=f"{VICTIM},2026/11/24,77/SNV-VP"
        ).replace("Về việc".encode(), ("Về việc " + "dài " * 3000).encode())
        other.send_edoc(forged, [TW], from_code=PEER)
        before = _counts(demo)
        assert poll_axis(rt) == 0
        assert _counts(demo)[:2] == before[:2]
        assert other.get_received_list("status") == []
        # the same package sent by VICTIM itself is answered 02, to VICTIM
        other.send_edoc(forged, [TW], from_code=VICTIM)
        assert poll_axis(rt) == 0
        [notice] = other.get_received_list("status")
        assert (notice.from_code, notice.to) == (TW, (VICTIM,))


# ------------------------------------------------------------------ the directory refresh


def test_directory_entries_with_control_characters_are_skipped_not_a_failed_refresh(
    demo: Demo,
) -> None:
    """A NUL in one name of the axis's list made PostgreSQL refuse the whole refresh; escape
    and bidi-override characters disguise what a clerk picks in the recipient list."""
    from docflow.directory import AgencyEntry, replace_directory
    from docflow.models import ExternalAgency

    entries = [
        AgencyEntry("000.00.00.G01", "Văn phòng Chính phủ"),
        AgencyEntry("000.00.00.G02", "Bộ Nội\x00vụ"),
        AgencyEntry("000.00.00.G03", "Bộ Tư pháp\x1b[2J"),
        AgencyEntry("000.00.00.G04", "Bộ Tài chính\u202eủhp hnihC"),
        AgencyEntry("000.00.00.G05\x00", "Bộ Công an"),
        AgencyEntry("000.00.00.G06", "Bộ Y tế", system_id="SYS\x00"),
        AgencyEntry("000.00.00.G07", "Bộ  Giáo dục\tvà\nĐào tạo"),  # spacing only: kept
    ]
    result = replace_directory(demo.uow(), entries)
    assert (result.added, result.skipped) == (2, 5)
    with demo.factory() as s:
        stored = {a.code: a.name for a in s.scalars(select(ExternalAgency))}
    assert stored == {
        "000.00.00.G01": "Văn phòng Chính phủ",
        "000.00.00.G07": "Bộ Giáo dục và Đào tạo",
    }


def test_a_package_reaches_only_those_of_our_organisations_the_axis_delivered_it_to(
    app: Any, demo: Demo, sim: Sim
) -> None:
    """The axis delivered the package to the central committee only; its own To also named
    the province, which got a document nobody sent it through the axis."""
    from app.exchange import poll_axis, register_agencies

    rt = _wire(app, sim)
    register_agencies(rt)
    to = "".join(
        f"<edXML:To><edXML:OrganId>{code}</edXML:OrganId></edXML:To>"
        for code in (TW, "000.00.01.Z01")
    )
    with client_for(sim.url, SYSTEM_B, SECRET_B) as peer:
        peer.register_agency(PEER, "Sở Thử nghiệm")
        peer.send_edoc(package(sender=PEER, number="88", to=to), [TW], from_code=PEER)
        assert poll_axis(rt) == 1
    with demo.factory() as s:
        owners = list(
            s.scalars(select(Document.organization_id).where(Document.notation == "88/SNV-VP"))
        )
    assert owners == [demo.org_id("tw")]


# ------------------------------------------------------------------ signature wrapping


def _signed_by_id(unsigned: bytes, signer: PackageSigner, reference: str) -> bytes:
    """Signed as some other vendors sign: a Reference to the root's Id, not ``URI=""``."""
    root = etree.fromstring(unsigned)
    holder = signature._signature_holder(root)
    assert holder is not None
    etree.SubElement(holder, f"{{{DS_NS}}}Signature", Id="placeholder", nsmap={"ds": DS_NS})
    xml_signer = XMLSigner(
        method=SignatureConstructionMethod.enveloped,
        signature_algorithm=signature._XML_METHOD[signer.algorithm],
        digest_algorithm=DigestAlgorithm.SHA256,
        c14n_algorithm=CanonicalizationMethod.CANONICAL_XML_1_0,
    )
    key: Any = signature._CallbackKey(signer)
    signed = xml_signer.sign(
        root, key=key, cert=[signer.certificate, *signer.chain], reference_uri=reference
    )
    out: bytes = etree.tostring(signed, xml_declaration=True, encoding="UTF-8")
    return out


def _self_signed_seal(organ_id: str) -> PackageSigner:
    """A seal made for the test (a fresh RSA key, a self-signed certificate naming the sender's
    code): enough to check what a signature covers; trust is another question."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, "Sở Thử nghiệm"),
            x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, organ_id),
        ]
    )
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )

    def sign(data: bytes) -> bytes:
        return key.sign(data, padding.PKCS1v15(), hashes.SHA256())

    return PackageSigner(certificate, (), "rsassa_pkcs1v15_sha256", sign)


def test_a_signature_wrapped_around_another_package_does_not_cover_the_whole_package() -> None:
    """The genuine package of the sender, signed by reference to its root ``Id="p1"``, is
    wrapped (signature stripped) inside a forged package whose own root carries ``ID="p1"``:
    signxml resolves ``Id`` first and checks the wrapped copy, and the coverage check looked at
    the forged root's ``ID``: the forged content passed for the whole package signed by the
    sender (``valid`` where the seal is trusted)."""
    sender = Organ(PEER, "Sở Thử nghiệm")
    holder = b"</edXML:TraceHeaderList><edXML:Signature/>"
    genuine = _signed_by_id(
        package(sender=PEER, number="5")
        .replace(b"<edXML:edXML ", b'<edXML:edXML Id="p1" ')
        .replace(b"</edXML:TraceHeaderList>", holder),
        _self_signed_seal(PEER),
        "#p1",
    )
    report = verify_package_signature(genuine, trust=None, sender=sender)
    assert (report.status, report.coverage, report.sender_match) == (
        SignatureStatus.UNTRUSTED,  # no trust roots here: only what it covers is in question
        "package",
        "code",
    )

    root = etree.fromstring(genuine)
    seal = root.find(f".//{{{DS_NS}}}Signature")
    assert seal is not None and seal.getparent() is not None
    seal.getparent().remove(seal)
    wrapped = etree.tostring(root)
    forged = (
        package(sender=PEER, number="666")
        .replace(b"<edXML:edXML ", b'<edXML:edXML ID="p1" ')
        .replace(
            b"</edXML:TraceHeaderList>",
            b"</edXML:TraceHeaderList><edXML:Signature>"
            + etree.tostring(seal)
            + b"</edXML:Signature>",
        )
        .replace(b"</edXML:edXML>", b"<edXML:Kept>" + wrapped + b"</edXML:Kept></edXML:edXML>")
    )
    report = verify_package_signature(forged, trust=None, sender=sender)
    assert report.coverage == "part", report.reasons


def test_an_unsigned_revocation_cannot_recall_a_document_that_arrived_sealed(
    client: Any, api: Any, demo: Demo
) -> None:
    """Unsigned packages are accepted (other systems may not sign), so a forger stripped the
    signature off a revocation: the sender's validly sealed document was recalled by it."""
    original = package(number="61", document_id=f"{SENDER},2026/11/24,61/SNV-VP")
    r = _post(client, api, original)
    assert r.status_code == 201
    with demo.factory() as s:  # it arrived with its sender's valid seal
        doc = s.get_one(Document, uuid.UUID(r.get_json()["id"]))
        doc.package_signature = {"status": "valid", "reasons": []}
        s.commit()
    revoke = package(
        number="62",
        document_id=f"{SENDER},2026/11/25,62/SNV-VP",
        trace="<edXML:Bussiness><edXML:BussinessDocType>1</edXML:BussinessDocType>"
        "<edXML:BussinessDocReason>Thu hồi</edXML:BussinessDocReason>"
        f"<edXML:DocumentId>{SENDER},2026/11/24,61/SNV-VP</edXML:DocumentId></edXML:Bussiness>",
    )
    assert _refused(client, api, demo, revoke)["code"] == "package_signature_required"
    update = revoke.replace(b"<edXML:BussinessDocType>1<", b"<edXML:BussinessDocType>2<")
    assert _refused(client, api, demo, update)["code"] == "package_signature_required"
    assert _document(demo, r.get_json()["id"]).state == "arrived"
