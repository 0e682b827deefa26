"""Hostile packages are refused with a clear error, and nothing of them is kept."""

from __future__ import annotations

import hashlib
import io
import re
import socket
from typing import BinaryIO

import pytest

from interop import (
    EDXML_NS,
    EdxmlAttachmentError,
    EdxmlEncodingError,
    EdxmlError,
    EdxmlForbiddenError,
    EdxmlHashMismatchError,
    EdxmlMalformedError,
    EdxmlNamespaceError,
    EdxmlStructureError,
    EdxmlTooDeepError,
    EdxmlTooLargeError,
    ParseLimits,
    build_package_bytes,
    parse_edxml,
    parse_package,
    read_envelope,
)

from .conftest import FIXTURES, sample_package

VIETNAMESE_LETTER = re.compile(
    "[àáảãạăắằẳẵặâấầẩẫậđèéẻẽẹêếềểễệìíỉĩịòóỏõọôốồổỗộơớờởỡợùúủũụưứừửữựỳýỷỹỵ]"
)


class RecordingSpool:
    """A spool that remembers what it created and what it was asked to discard."""

    def __init__(self) -> None:
        self.created: list[BinaryIO] = []
        self.discarded: list[BinaryIO] = []

    def create(self) -> BinaryIO:
        stream = io.BytesIO()
        self.created.append(stream)
        return stream

    def discard(self, stream: BinaryIO) -> None:
        self.discarded.append(stream)
        stream.close()

    def assert_nothing_kept(self) -> None:
        assert self.discarded == self.created
        assert all(stream.closed for stream in self.created)


def refused(data: bytes, kind: type[EdxmlError], code: str, **options: object) -> EdxmlError:
    spool = RecordingSpool()
    with pytest.raises(kind) as caught:
        parse_edxml(data, spool=spool, **options)  # type: ignore[arg-type]
    error = caught.value
    assert error.code == code
    assert re.fullmatch(r"[a-z]+(_[a-z]+)+", error.code)
    assert VIETNAMESE_LETTER.search(error.message.lower()), error.message
    assert 400 <= error.http_status < 500
    spool.assert_nothing_kept()
    return error


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.mark.parametrize(
    "name",
    ["hostile_billion_laughs.edxml", "hostile_external_entity.edxml", "hostile_external_dtd.edxml"],
)
def test_dtds_and_entity_declarations_are_refused(name: str) -> None:
    refused(fixture(name), EdxmlForbiddenError, "edxml_dtd_forbidden")
    with pytest.raises(EdxmlForbiddenError):
        read_envelope(fixture(name))


def test_nothing_is_fetched_from_the_network() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.setblocking(False)
        port = listener.getsockname()[1]
        attempts = [
            f'<!DOCTYPE edXML SYSTEM "http://127.0.0.1:{port}/x.dtd"><edXML xmlns="{EDXML_NS}"/>',
            f'<!DOCTYPE edXML [<!ENTITY e SYSTEM "http://127.0.0.1:{port}/e">]>'
            f'<edXML xmlns="{EDXML_NS}">&e;</edXML>',
            f'<edXML xmlns="{EDXML_NS}" xmlns:xi="http://www.w3.org/2001/XInclude">'
            f'<xi:include href="http://127.0.0.1:{port}/i"/></edXML>',
        ]
        for attempt in attempts:
            with pytest.raises(EdxmlError):
                parse_edxml(attempt.encode())
        with pytest.raises(BlockingIOError):
            listener.accept()  # nobody connected


def test_an_entity_reference_without_a_dtd_is_malformed() -> None:
    data = build_package_bytes(sample_package()).replace(b"<edXML:Subject>", b"<edXML:Subject>&x;")
    refused(data, EdxmlMalformedError, "edxml_malformed")


def test_other_encodings_cannot_hide_a_doctype() -> None:
    text = f'<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE a [<!ENTITY x "y">]><edXML xmlns="{EDXML_NS}"/>'
    refused(text.encode("utf-16"), EdxmlEncodingError, "edxml_encoding_unsupported")
    refused(text.encode("utf-16-le"), EdxmlEncodingError, "edxml_encoding_unsupported")
    utf7 = b'<?xml version="1.0" encoding="UTF-7"?>+ADw-!DOCTYPE a+AD4-<edXML/>'
    refused(utf7, EdxmlEncodingError, "edxml_encoding_unsupported")


def test_deep_nesting_and_too_many_elements_are_refused() -> None:
    deep = f'<edXML xmlns="{EDXML_NS}">'.encode() + b"<a>" * 5000 + b"</a>" * 5000 + b"</edXML>"
    refused(deep, EdxmlTooDeepError, "edxml_too_deep")
    wide = build_package_bytes(sample_package())
    refused(wide, EdxmlTooDeepError, "edxml_too_deep", limits=ParseLimits(max_elements=20))


@pytest.mark.parametrize(
    "data",
    [
        fixture("hostile_wrong_namespace.edxml"),
        b"<edXML><edXMLEnvelope/></edXML>",
        b'<html xmlns="http://www.w3.org/1999/xhtml"><body/></html>',
        f'<Document xmlns="{EDXML_NS}"/>'.encode(),
    ],
    ids=["lookalike", "no-namespace", "xhtml", "other-root"],
)
def test_a_wrong_namespace_is_refused(data: bytes) -> None:
    refused(data, EdxmlNamespaceError, "edxml_wrong_namespace")


@pytest.mark.parametrize(
    ("encoded", "why"),
    [
        ("JVBERi0x!!!not*base64", "alphabet"),
        ("SGVsbG8=SGVsbG8=", "data after padding"),
        ("SGVsbG8", "truncated"),
        ("SGVsbG8=\n=", "stray padding"),
        ("SGVs·bG8=", "non-ASCII"),
    ],
)
def test_broken_base64_is_refused_and_earlier_attachments_discarded(encoded: str, why: str) -> None:
    data = fixture("hostile_broken_base64.edxml").replace(
        b"JVBERi0x!!!not*base64", encoded.encode()
    )
    refused(data, EdxmlAttachmentError, "edxml_attachment_invalid")


def test_a_hash_that_does_not_match_is_refused() -> None:
    data = build_package_bytes(sample_package())
    error = refused(data, EdxmlHashMismatchError, "edxml_hash_mismatch", expected_sha256="0" * 64)
    assert error.details["actual"] == hashlib.sha256(data).hexdigest()
    with parse_edxml(data, expected_sha256=hashlib.sha256(data).hexdigest().upper()) as ok:
        assert ok.package is not None


def test_sizes_over_the_limits_are_refused() -> None:
    data = build_package_bytes(sample_package())
    refused(data, EdxmlTooLargeError, "edxml_too_large", limits=ParseLimits(max_size=1000))
    refused(
        data, EdxmlTooLargeError, "edxml_too_large", limits=ParseLimits(max_attachment_size=100)
    )
    refused(data, EdxmlTooLargeError, "edxml_too_large", limits=ParseLimits(max_field_chars=20))
    refused(data, EdxmlTooLargeError, "edxml_too_large", limits=ParseLimits(max_attachments=1))
    refused(data, EdxmlTooLargeError, "edxml_too_large", limits=ParseLimits(max_envelope_chars=500))


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"   ",
        b"not xml at all",
        f'<edXML xmlns="{EDXML_NS}"><edXMLEnvelope>'.encode(),
        f'<edXML xmlns="{EDXML_NS}"><a></b></edXML>'.encode(),
    ],
    ids=["empty", "blank", "text", "truncated", "mismatched"],
)
def test_malformed_input_is_refused(data: bytes) -> None:
    refused(data, EdxmlMalformedError, "edxml_malformed")


def test_a_message_without_its_essentials_is_refused() -> None:
    no_header = f'<edXML xmlns="{EDXML_NS}"><edXMLEnvelope/></edXML>'.encode()
    refused(no_header, EdxmlStructureError, "edxml_missing_element")
    no_sender = build_package_bytes(sample_package()).replace(
        b"<edXML:OrganId>000.00.00.Z01</edXML:OrganId>", b"<edXML:OrganId> </edXML:OrganId>", 1
    )
    error = refused(no_sender, EdxmlStructureError, "edxml_missing_element")
    assert error.details["element"] == "From"


def test_a_duplicate_content_id_is_refused() -> None:
    data = build_package_bytes(sample_package()).replace(
        b"<ContentId>pl</ContentId>", b"<ContentId>kh</ContentId>"
    )
    refused(data, EdxmlAttachmentError, "edxml_attachment_invalid")


def test_a_refused_parse_leaves_no_temp_file(tmp_path: pytest.TempPathFactory) -> None:
    from interop import TempSpool

    data = build_package_bytes(sample_package()).replace(
        b"</ContentTransferEncoded></Attachment></AttachmentEncoded>",
        b"!</ContentTransferEncoded></Attachment></AttachmentEncoded>",
    )
    with pytest.raises(EdxmlAttachmentError):
        parse_package(data, spool=TempSpool(max_memory=1, directory=str(tmp_path)))
    assert list(tmp_path.iterdir()) == []  # type: ignore[attr-defined]
