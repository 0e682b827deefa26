"""Hand-written packages (tests/interop/fixtures) in each variant seen in the wild."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest

from interop import (
    BussinessDocType,
    EdxmlKindError,
    EdxmlPackage,
    ParseLimits,
    Priority,
    StatusCode,
    SteeringType,
    parse_edxml,
    parse_package,
    parse_status,
    read_envelope,
)
from interop.edxml.dates import VN_TZ

from .conftest import FIXTURES

PDF = "%PDF-1.4 Kế hoạch 60/KH-MTTW-BTT\n".encode()
APPENDIX = "Phụ lục: danh sách đại biểu\n".encode()


def package_of(name: str, **options: object) -> EdxmlPackage:
    with parse_package(FIXTURES / name, **options) as result:
        assert result.package is not None
        return result.package


def test_the_documented_layout_is_read_completely() -> None:
    with parse_package(FIXTURES / "new_standard.edxml") as result:
        assert result.warnings == ()
        assert result.form == "edxml"
        package = result.package
        assert package is not None
        assert package.from_.organ_id == "000.00.00.Z01"
        assert package.from_.organ_add == "46 Tràng Thi, Hoàn Kiếm, Hà Nội"
        assert [o.organ_id for o in package.to] == ["000.00.01.Z01", "000.01.01.Z01"]
        assert str(package.code) == "60/KH-MTTW-BTT"
        assert package.promulgation.date == dt.date(2026, 6, 18)
        assert package.document_type.type_code == "10"
        assert package.signer is not None and package.signer.full_name == "Nguyễn Thị Hồng"
        assert package.due_date == dt.date(2026, 7, 15)
        assert package.to_places == ("Như trên", "Lưu: VT, BTT")
        assert package.other_info.priority is Priority.VERY_URGENT
        assert package.urgency == "very_urgent"
        assert package.other_info.promulgation_amount == 65
        assert package.other_info.appendixes == ("Phụ lục: danh sách đại biểu",)
        assert package.steering_type is SteeringType.DIRECTIVE
        assert package.document_id == "000.00.00.Z01,2026/06/18,60/KH-MTTW-BTT"
        assert package.trace_headers[0].timestamp == dt.datetime(2026, 6, 18, 9, 30, tzinfo=VN_TZ)
        assert package.bussiness.doc_type is BussinessDocType.NEW
        assert package.bussiness.paper is False
        assert package.bussiness.staff is not None
        assert package.bussiness.staff.mobile == "0912000001"
        first, second = result.attachments
        assert (first.attachment.name, first.attachment.content_type) == (
            "60-KH-MTTW-BTT.pdf",
            "application/pdf",
        )
        assert first.attachment.description == "Văn bản chính"
        assert first.read_bytes() == PDF
        assert first.sha256 == hashlib.sha256(PDF).hexdigest()
        # Base64 broken over lines with indentation is read.
        assert second.read_bytes() == APPENDIX
        assert second.attachment.name == "Phụ lục.txt"


def test_unprefixed_one_based_and_incomplete_packages_are_read_with_warnings() -> None:
    with parse_package(FIXTURES / "variant_unprefixed.edxml") as result:
        package = result.package
        assert package is not None
        assert package.from_.organ_id == "000.00.01.H41"  # trimmed
        assert package.promulgation.date == dt.date(2026, 3, 5)  # dd/MM/yyyy
        assert package.steering_type is SteeringType.DIRECTIVE_REPORT  # "3", counted from 1
        assert package.bussiness.paper is True  # "true"
        assert package.signer is None
        assert package.content == ""
        assert package.other_info.priority is Priority.NORMAL  # "7" is unknown
        assert package.document_type.type_code == "99"  # kept as sent
        assert package.trace_headers[0].timestamp == dt.datetime(2026, 3, 5, 1, 15, tzinfo=dt.UTC)
        # The attachment is matched to its manifest entry through "cid:<abc-1>".
        (attachment,) = result.attachments
        assert attachment.attachment.name == "1234-UBND-VX.pdf"
        assert attachment.attachment.content_type == "application/pdf"
        assert attachment.read_bytes() == b"Hello"
        text = "\n".join(result.warnings)
        for expected in ("ExtraVendorField", "SteeringType", "Type: mã loại", "Priority"):
            assert expected in text


def test_a_peer_known_to_count_steering_from_one_is_read_with_its_scheme() -> None:
    package = package_of("new_standard.edxml", limits=ParseLimits(steering_scheme="one_based"))
    assert package.steering_type is SteeringType.ORDINARY  # "1" in the 1-based scheme


def test_an_envelope_as_root_with_a_missing_attachment_is_read() -> None:
    with parse_package(FIXTURES / "variant_envelope_root.edxml") as result:
        package = result.package
        assert package is not None
        assert result.attachments == ()
        assert package.steering_type is SteeringType.ORDINARY
        # Not sent: derived from sender, date and code as the standard does (with a warning).
        assert package.document_id == "000.00.00.G22,2026/09/30,7816/VPCP-TTĐT"
        assert any("missing-1" in w for w in result.warnings)
        assert any("DocumentId" in w for w in result.warnings)


def test_an_older_hub_namespace_is_read_with_a_warning() -> None:
    with parse_package(FIXTURES / "lgsp_legacy_namespace.edxml") as result:
        assert result.package is not None
        assert result.package.from_.organ_id == "H37.DN.001"
        assert any("go.vn/eDoc" in w for w in result.warnings)


def test_revoke_update_replace_and_reply_are_represented() -> None:
    revoke = package_of("revoke.edxml")
    assert revoke.bussiness.doc_type is BussinessDocType.REVOKE
    assert revoke.bussiness.reason == "Ban hành nhầm đối tượng nhận"
    assert revoke.bussiness.document_id == "000.00.00.Z01,2026/06/18,60/KH-MTTW-BTT"

    update = package_of("update.edxml")
    assert update.bussiness.doc_type is BussinessDocType.UPDATE
    info = update.bussiness.document_info
    assert info is not None and info.document_receiver == "1"
    assert [(r.organ_id, r.receiver_type) for r in info.receivers] == [("000.00.02.Z01", "1")]

    replace = package_of("replace.edxml")
    assert replace.bussiness.doc_type is BussinessDocType.REPLACE
    (replaced,) = replace.bussiness.replacements
    assert replaced.document_id == "000.00.00.Z01,2026/06/18,60/KH-MTTW-BTT"
    assert replaced.organ_ids == ("000.00.01.Z01", "000.01.01.Z01")

    reply = package_of("reply.edxml")
    (answered,) = reply.response_for
    assert answered.document_id == "000.00.00.Z01,2026/06/18,60/KH-MTTW-BTT"
    assert answered.code == "60/KH-MTTW-BTT"
    assert answered == package_of("new_standard.edxml").as_response_for()


def test_a_status_message_is_read() -> None:
    with parse_status(FIXTURES / "status_registered.edxml") as result:
        status = result.status
        assert status is not None and result.warnings == ()
        assert status.known_code is StatusCode.REGISTERED
        assert status.known_code.label == "Đã tiếp nhận"
        assert status.response_for.document_id == "000.00.00.Z01,2026/06/18,60/KH-MTTW-BTT"
        assert status.staff is not None and status.staff.staff == "Lê Thị Văn Thư"
        assert status.timestamp == dt.datetime(2026, 6, 18, 10, 5, tzinfo=VN_TZ)


def test_the_legacy_soap_form_of_archives_is_read() -> None:
    with parse_package(FIXTURES / "legacy_soap_edoc.edxml") as result:
        assert result.form == "soap"
        package = result.package
        assert package is not None
        assert package.document_id == "000.00.00.H41,2015/09/30,98/UBND-VP"
        assert package.trace_headers[0].timestamp == dt.datetime(2015, 9, 30, 15, 20, tzinfo=VN_TZ)
        (attachment,) = result.attachments
        assert attachment.attachment.name == "98-UBND-VP.txt"
        assert attachment.read_bytes() == "Văn bản lưu trữ 2015\n".encode()
    with parse_status(FIXTURES / "legacy_soap_status.edxml") as result:
        assert result.form == "soap"
        assert result.status is not None
        assert result.status.status_code == "01"  # "1" normalised
        assert result.status.response_for.promulgation_date == dt.date(2026, 6, 18)


def test_an_xml_signature_is_kept_for_the_record() -> None:
    package = package_of("signed.edxml")
    assert package.signature_xml.startswith('<ds:Signature xmlns:ds="http://www.w3.org/2000/09/')
    assert "R2JWYjhuOStxRnh6NDY2QWcwc2JwVmRMUHMyUjA=" in package.signature_xml


def test_kinds_are_told_apart() -> None:
    with pytest.raises(EdxmlKindError) as refused:
        parse_status(FIXTURES / "new_standard.edxml")
    assert refused.value.code == "edxml_wrong_kind"
    with pytest.raises(EdxmlKindError):
        parse_package(FIXTURES / "status_registered.edxml")
    assert read_envelope(FIXTURES / "status_registered.edxml").kind == "status"
    assert parse_edxml(FIXTURES / "status_registered.edxml").kind == "status"


def test_reading_the_envelope_does_not_decode_attachments() -> None:
    envelope = read_envelope(FIXTURES / "new_standard.edxml")
    assert envelope.package is not None
    assert [a.name for a in envelope.package.attachments] == [
        "60-KH-MTTW-BTT.pdf",
        "Phụ lục.txt",
    ]
    assert all(a.content is None for a in envelope.package.attachments)
    assert envelope.document_id == "000.00.00.Z01,2026/06/18,60/KH-MTTW-BTT"


def test_attachments_inside_an_envelope_used_as_root_are_read_once() -> None:
    data = (
        (FIXTURES / "variant_envelope_root.edxml")
        .read_bytes()
        .replace(
            b"</edXML:edXMLEnvelope>",
            b"<AttachmentEncoded><Attachment><ContentId>missing-1</ContentId>"
            b"<ContentTransferEncoded>SGVsbG8=</ContentTransferEncoded></Attachment>"
            b"</AttachmentEncoded></edXML:edXMLEnvelope>",
        )
    )
    with parse_package(data) as result:
        (attachment,) = result.attachments
        assert attachment.attachment.name == "7816-VPCP.pdf"
        assert attachment.read_bytes() == b"Hello"


def test_a_kept_signature_names_xmldsig_ds_even_when_the_scope_named_no_prefix() -> None:
    """What is kept for the record does not depend on what the process registered before: a
    Signature whose scanned scope named no prefix is written with ``ds:``, never ``ns0:``."""
    from lxml import etree

    from interop.edxml._layout import _element, _used
    from interop.edxml._scan import Node
    from interop.edxml.codes import XMLDSIG_NS

    signature = Node(XMLDSIG_NS, "Signature", {}, False)
    signature.children.append(Node(XMLDSIG_NS, "SignatureValue", {}, False))
    written = etree.tostring(_element(signature, _used(signature), top=True), encoding="unicode")
    assert written == (
        '<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignatureValue/>'
        "</ds:Signature>"
    )
