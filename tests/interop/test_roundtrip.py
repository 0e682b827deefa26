"""Build → parse → equal, for any package or status message the model can hold."""

from __future__ import annotations

import hashlib
import io

from hypothesis import HealthCheck, given, settings

from interop import (
    EdxmlPackage,
    StatusMessage,
    build_package,
    build_package_bytes,
    build_status_bytes,
    parse_package,
    parse_status,
    read_envelope,
)

from .strategies import packages, statuses

SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(packages())
def test_a_package_survives_build_and_parse(package: EdxmlPackage) -> None:
    data = build_package_bytes(package)
    with parse_package(data) as result:
        assert result.package == package
        assert result.warnings == ()
        assert result.sha256 == hashlib.sha256(data).hexdigest()
        assert result.size == len(data)
        assert len(result.attachments) == len(package.attachments)
        for sent, received in zip(package.attachments, result.attachments, strict=True):
            original = sent.read_bytes()
            assert received.read_bytes() == original
            assert received.sha256 == hashlib.sha256(original).hexdigest()
            assert received.size == len(original)
            # The parsed attachment can feed a new package (forwarding) as is.
            assert received.attachment.read_bytes() == original


@SETTINGS
@given(statuses)
def test_a_status_message_survives_build_and_parse(status: StatusMessage) -> None:
    data = build_status_bytes(status)
    with parse_status(data) as result:
        assert result.status == status
        assert result.warnings == ()
        assert result.package is None


@settings(max_examples=40, deadline=None)
@given(packages())
def test_the_envelope_alone_says_the_same(package: EdxmlPackage) -> None:
    envelope = read_envelope(build_package_bytes(package))
    assert envelope.kind == "edoc"
    assert envelope.document_id == package.document_id
    assert envelope.package is not None
    assert envelope.package.subject == package.subject
    assert envelope.package.attachments == package.attachments  # metadata from the manifest


@settings(max_examples=30, deadline=None)
@given(packages())
def test_building_is_deterministic_and_reports_its_digest(package: EdxmlPackage) -> None:
    out = io.BytesIO()
    result = build_package(package, out)
    assert out.getvalue() == build_package_bytes(package)
    assert result.sha256 == hashlib.sha256(out.getvalue()).hexdigest()
    assert result.size == len(out.getvalue())
    for built, attachment in zip(result.attachments, package.attachments, strict=True):
        assert built.sha256 == hashlib.sha256(attachment.read_bytes()).hexdigest()


def test_a_parsed_package_rebuilds_to_the_same_bytes() -> None:
    from .conftest import sample_package

    data = build_package_bytes(sample_package())
    with parse_package(data) as result:
        assert result.package is not None
        assert build_package_bytes(result.package) == data
