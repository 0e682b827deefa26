"""The writer: the documented layout, strict checks before writing, streaming."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import io
import os
import tracemalloc
from pathlib import Path

import pytest
from lxml import etree

from interop import (
    EDXML_NS,
    Attachment,
    Bussiness,
    BussinessDocType,
    Code,
    EdxmlBuildError,
    PromulgationInfo,
    StatusCode,
    StatusMessage,
    build_package,
    build_package_bytes,
    build_status_bytes,
    make_document_id,
    parse_document_id,
    parse_package,
    write_package_file,
)

from .conftest import ORG_TINH, ORG_TW, sample_package

MESSAGE_HEADER_ORDER = [
    "From", "To", "Code", "PromulgationInfo", "DocumentType", "Subject", "Content",
    "SignerInfo", "DueDate", "ToPlaces", "OtherInfo", "ResponseFor", "SteeringType", "DocumentId",
]  # fmt: skip


def local(element: etree._Element) -> str:
    return etree.QName(element).localname


def test_the_layout_is_the_documented_one() -> None:
    package = dataclasses.replace(
        sample_package(),
        content="Nội dung",
        due_date=dt.date(2026, 7, 1),
        to_places=("Như trên",),
        response_for=(sample_package("59").as_response_for(),),
        steering_type=None,
    )
    data = build_package_bytes(package)
    assert data.startswith(
        b'<?xml version="1.0" encoding="UTF-8"?>\n<edXML xmlns="' + EDXML_NS.encode()
    )
    assert b'<edXML:edXMLEnvelope xmlns:edXML="' + EDXML_NS.encode() + b'">' in data
    root = etree.fromstring(data)
    assert (root.tag, root.prefix) == (f"{{{EDXML_NS}}}edXML", None)
    envelope, encoded = root
    assert [local(e) for e in root] == ["edXMLEnvelope", "AttachmentEncoded"]
    # every element of the envelope carries the edXML: prefix, the attachments none
    assert {e.prefix for e in envelope.iter()} == {"edXML"}
    assert {e.prefix for e in encoded.iter()} == {None}
    assert {etree.QName(e).namespace for e in root.iter()} == {EDXML_NS}
    header, body = envelope
    assert [local(e) for e in header] == ["MessageHeader", "TraceHeaderList", "Signature"]
    order = [local(e) for e in header[0]]
    assert order == [name for name in MESSAGE_HEADER_ORDER if name in order]
    assert order.count("To") == 1 and "Content" in order and "SteeringType" not in order
    assert (
        header[0].findtext(f"{{{EDXML_NS}}}DocumentId") == "000.00.00.Z01,2026/06/18,60/KH-MTTW-BTT"
    )
    assert [local(e) for e in header[1]] == ["TraceHeader", "Bussiness"]
    assert header[1][0].findtext(f"{{{EDXML_NS}}}Timestamp") == "2026/06/18 09:30:00"
    (manifest,) = body
    references = list(manifest)
    assert [r.get("{http://www.w3.org/1999/xlink}href") for r in references] == ["cid:kh", "cid:pl"]
    assert [local(e) for e in references[0]] == [
        "Description", "AttachmentName", "ContentType", "ContentId",
    ]  # fmt: skip
    first = encoded[0]
    assert [local(e) for e in first] == [
        "ContentType", "ContentId", "Description", "AttachmentName", "ContentTransferEncoded",
    ]  # fmt: skip
    base64_text = first[-1].text or ""
    assert "\n" not in base64_text and " " not in base64_text


def test_a_status_message_has_the_documented_elements() -> None:
    status = StatusMessage.about(
        sample_package(),
        from_=ORG_TINH,
        status_code=StatusCode.REJECTED,
        timestamp=dt.datetime(2026, 6, 18, 3, 0, tzinfo=dt.UTC),
        description="Sai nơi nhận",
    )
    root = etree.fromstring(build_status_bytes(status))
    message = root[0][0][0]
    assert local(message) == "MessageHeader" and message.prefix == "edXML"
    assert [local(e) for e in message] == [
        "ResponseFor", "From", "StatusCode", "Description", "Timestamp",
    ]  # fmt: skip
    assert message.findtext(f"{{{EDXML_NS}}}StatusCode") == "02"
    assert message.findtext(f"{{{EDXML_NS}}}Timestamp") == "2026/06/18 10:00:00"


def test_document_ids_have_the_standard_form() -> None:
    document_id = make_document_id("000.00.00.Z01", dt.date(2026, 6, 18), Code("60", "KH-MTTW-BTT"))
    assert document_id == "000.00.00.Z01,2026/06/18,60/KH-MTTW-BTT"
    parts = parse_document_id(document_id)
    assert parts is not None and parts.code == "60/KH-MTTW-BTT"
    assert parse_document_id("c0a8012e-uuid-from-the-wild") is None
    assert str(Code("491", "MTTW-BTT")) == "491/MTTW-BTT"
    assert Code.parse("491/MTTW-BTT") == Code("491", "MTTW-BTT")


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"to": ()}, "to:"),
        ({"promulgation": PromulgationInfo(None)}, "promulgation.date"),
        ({"subject": "  "}, "subject"),
        ({"code": Code("60", "")}, "code.notation"),
        ({"document_id": "60/KH"}, "document_id"),
        ({"subject": "Kế hoạch \x0b"}, "U+000B"),
        ({"subject": "\ufffe"}, "U+FFFE"),
        ({"bussiness": Bussiness(doc_type=BussinessDocType.REVOKE)}, "bussiness.document_id"),
        ({"attachments": (Attachment("a.pdf"),)}, "content"),
        (
            {"attachments": (Attachment("a", content_id="x", content=b"1"),) * 2},
            "trùng",
        ),
        ({"signature_xml": "<ds:Signature>"}, "signature_xml"),
    ],
)
def test_invalid_models_are_refused_before_anything_is_written(
    changes: dict[str, object], problem: str
) -> None:
    package = dataclasses.replace(sample_package(), **changes)  # type: ignore[arg-type]
    out = io.BytesIO()
    with pytest.raises(EdxmlBuildError) as refused:
        build_package(package, out)
    assert refused.value.code == "edxml_build_invalid"
    assert any(problem in p for p in refused.value.details["problems"])  # type: ignore[attr-defined]
    assert out.getvalue() == b""


def test_naive_times_and_unknown_status_codes_are_refused() -> None:
    naive = dt.datetime(2026, 6, 18, 9, 30)
    with pytest.raises(EdxmlBuildError):
        build_package_bytes(
            dataclasses.replace(
                sample_package(),
                trace_headers=(
                    dataclasses.replace(sample_package().trace_headers[0], timestamp=naive),
                ),
            )
        )
    status = StatusMessage.about(
        sample_package(), from_=ORG_TINH, status_code="99", timestamp=naive.replace(tzinfo=dt.UTC)
    )
    with pytest.raises(EdxmlBuildError):
        build_status_bytes(status)


def test_attachments_come_from_bytes_paths_or_openers(tmp_path: Path) -> None:
    path = tmp_path / "Tờ trình.pdf"
    path.write_bytes(b"%PDF from a file")
    package = sample_package(
        attachments=(
            Attachment("a.pdf", "application/pdf", content=path),
            Attachment("b.txt", "text/plain", content=lambda: io.BytesIO(b"from an opener")),
        )
    )
    with parse_package(build_package_bytes(package)) as result:
        assert [a.read_bytes() for a in result.attachments] == [
            b"%PDF from a file",
            b"from an opener",
        ]
        assert [a.attachment.content_id for a in result.attachments] == ["att1", "att2"]


def test_big_attachments_stream_through_build_and_parse(tmp_path: Path) -> None:
    size = 24 * 1024 * 1024
    source = tmp_path / "big.bin"
    with source.open("wb") as out:
        for _ in range(size // (1024 * 1024)):
            out.write(os.urandom(1024 * 1024))
    package = sample_package(attachments=(Attachment("big.bin", content=source),))
    target = tmp_path / "big.edxml"
    tracemalloc.start()
    try:
        built = write_package_file(package, target)
        _, build_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        with parse_package(target) as result:
            _, parse_peak = tracemalloc.get_traced_memory()
            (attachment,) = result.attachments
            assert attachment.size == size
            assert attachment.sha256 == built.attachments[0].sha256
            digest = hashlib.sha256()
            with attachment.open() as stream:
                while chunk := stream.read(1024 * 1024):
                    digest.update(chunk)
            assert digest.hexdigest() == hashlib.sha256(source.read_bytes()).hexdigest()
    finally:
        tracemalloc.stop()
    # Python-side allocations stay at a few chunks, far below the 24 MB attachment.
    assert build_peak < 8 * 1024 * 1024, build_peak
    assert parse_peak < 8 * 1024 * 1024, parse_peak
    assert built.size == target.stat().st_size


def test_the_urgency_vocabulary_round_trips() -> None:
    for urgency in ("normal", "urgent", "very_urgent", "flash", "flash_timed"):
        from interop import OtherInfo, Priority

        package = sample_package(other_info=OtherInfo(priority=Priority.from_urgency(urgency)))
        with parse_package(build_package_bytes(package)) as result:
            assert result.package is not None and result.package.urgency == urgency
    assert ORG_TW.organ_id == "000.00.00.Z01"
