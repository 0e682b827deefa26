"""Reading edXML: hardened, streaming, tolerant.

Every package from outside is hostile input (DOMAIN.md §7). The reader refuses, with an
:class:`~interop.errors.EdxmlError` and nothing left behind, any DOCTYPE/DTD/entity declaration,
a foreign root namespace, nesting or sizes over :class:`ParseLimits`, broken base64, a
package whose SHA-256 differs from the one announced and (when reading a message in full) a text
field over its limit in ``interop.edxml.fields``. It never resolves entities nor touches
the network. It reads the input once, in chunks; attachments are decoded as they stream by into
spool streams (memory, then temp files), so a 100 MB attachment does not sit in memory.

It is tolerant of what peers really send: the ``edXML:`` prefix or not, the envelope as the
root, element names in another case, missing optional elements, unknown codes, the 1-based
SteeringType, the legacy SOAP form of archived packages (``SOAP-ENV:Envelope`` with the
MessageHeader or Status in ``SOAP-ENV:Header``). What it could not read is reported in
``warnings``, one ``"<path>: <what>"`` string each.

    with parse_package(path_or_bytes_or_stream) as result:
        result.package            # EdxmlPackage (attachments open their spooled bytes)
        result.attachments        # ParsedAttachment: .attachment, .sha256, .size, .open()
        result.sha256, result.size, result.warnings, result.form
    status = parse_status(data).status
    envelope = read_envelope(data)  # the envelope only: cheap, attachments not decoded
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import BinaryIO, Literal

from lxml import etree

from interop.edxml._layout import Parts, locate
from interop.edxml._read import Reader
from interop.edxml._scan import MAX_PROLOG, Collector, Payload, StopReading, check_prolog
from interop.edxml.codes import LEGACY_EDXML_NS
from interop.edxml.fields import check_lengths
from interop.edxml.model import Attachment, EdxmlPackage, StatusMessage
from interop.edxml.options import DEFAULT_LIMITS, AttachmentSpool, ParseLimits, TempSpool
from interop.errors import (
    EdxmlHashMismatchError,
    EdxmlKindError,
    EdxmlMalformedError,
    EdxmlTooLargeError,
)

Source = bytes | bytearray | memoryview | os.PathLike[str] | BinaryIO
"""A package: its bytes, a path to it, or a binary stream positioned at its start."""

_CHUNK = 256 * 1024


@dataclass(frozen=True)
class ParsedAttachment:
    """An attachment as received: metadata and content (``attachment``), digest and size."""

    attachment: Attachment
    sha256: str
    size: int

    def open(self) -> BinaryIO:
        """A new independent reader over the decoded bytes (closing it keeps the spool)."""
        return self.attachment.open()

    def read_bytes(self) -> bytes:
        return self.attachment.read_bytes()


@dataclass(frozen=True)
class Envelope:
    """What a package or status message says, without its attachments' content."""

    kind: Literal["edoc", "status"]
    form: Literal["edxml", "soap"]  # soap: the legacy form of archived packages
    package: EdxmlPackage | None  # when kind == "edoc"
    status: StatusMessage | None  # when kind == "status"
    warnings: tuple[str, ...]

    @property
    def document_id(self) -> str:
        """The DocumentId a package carries, or the one a status message answers."""
        if self.package is not None:
            return self.package.document_id
        return self.status.response_for.document_id if self.status else ""


@dataclass(frozen=True)
class ParseResult(Envelope):
    """A fully read message. Close it (or use ``with``) to delete the spooled attachments."""

    attachments: tuple[ParsedAttachment, ...]
    sha256: str  # of the package bytes: the axis's hash-file
    size: int
    _spool: AttachmentSpool = field(repr=False, compare=False)
    _streams: tuple[BinaryIO, ...] = field(repr=False, compare=False)

    def close(self) -> None:
        for stream in self._streams:
            self._spool.discard(stream)

    def __enter__(self) -> ParseResult:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def parse_edxml(
    source: Source,
    *,
    limits: ParseLimits = DEFAULT_LIMITS,
    spool: AttachmentSpool | None = None,
    expected_sha256: str | None = None,
) -> ParseResult:
    """Read a package or a status message completely (see the module docstring)."""
    spool = spool or TempSpool()
    collector, sha256, size = _collect(source, limits, spool, envelope_only=False)
    try:
        if expected_sha256 is not None and sha256 != expected_sha256.strip().lower():
            raise EdxmlHashMismatchError(expected=expected_sha256, actual=sha256)
        parts, reader = _start(collector, limits)
        package = status = None
        attachments: tuple[ParsedAttachment, ...] = ()
        if parts.is_status:
            status = reader.status(parts)
            collector.discard_all()
        else:
            lock = threading.Lock()
            attachments = tuple(
                ParsedAttachment(replace(meta, content=_opener(payload, lock)), *_digest(payload))
                for meta, payload in reader.attachments(parts)
                if payload is not None
            )
            package = reader.package(parts, tuple(a.attachment for a in attachments))
        check_lengths(package or status)
    except BaseException:
        collector.discard_all()
        raise
    return ParseResult(
        kind="status" if status else "edoc",
        form="soap" if collector.form == "soap" else "edxml",
        package=package,
        status=status,
        warnings=tuple(reader.warnings),
        attachments=attachments,
        sha256=sha256,
        size=size,
        _spool=spool,
        _streams=tuple(collector.streams),
    )


def parse_package(
    source: Source,
    *,
    limits: ParseLimits = DEFAULT_LIMITS,
    spool: AttachmentSpool | None = None,
    expected_sha256: str | None = None,
) -> ParseResult:
    """:func:`parse_edxml`, refusing a status message (:class:`EdxmlKindError`)."""
    result = parse_edxml(source, limits=limits, spool=spool, expected_sha256=expected_sha256)
    if result.package is None:
        result.close()
        raise EdxmlKindError("Đây là thông điệp trạng thái, không phải gói tin văn bản.")
    return result


def parse_status(
    source: Source,
    *,
    limits: ParseLimits = DEFAULT_LIMITS,
    expected_sha256: str | None = None,
) -> ParseResult:
    """:func:`parse_edxml`, refusing a document package (:class:`EdxmlKindError`)."""
    result = parse_edxml(source, limits=limits, expected_sha256=expected_sha256)
    if result.status is None:
        result.close()
        raise EdxmlKindError("Đây là gói tin văn bản, không phải thông điệp trạng thái.")
    return result


def read_envelope(source: Source, *, limits: ParseLimits = DEFAULT_LIMITS) -> Envelope:
    """Read up to the end of the envelope: what the message is, not its attachments' content.

    The attachments listed are those of the manifest, without content. Cheap whatever the
    package's size; for a check of the whole package use :func:`parse_edxml`.
    """
    collector, _, _ = _collect(source, limits, TempSpool(), envelope_only=True)
    parts, reader = _start(collector, limits)
    if parts.is_status:
        status = reader.status(parts)
        return Envelope("status", _form(collector), None, status, tuple(reader.warnings))
    listed = reader.manifest(parts)
    package = reader.package(parts, listed)
    return Envelope("edoc", _form(collector), package, None, tuple(reader.warnings))


# --- internals --------------------------------------------------------------------------------


def _form(collector: Collector) -> Literal["edxml", "soap"]:
    return "soap" if collector.form == "soap" else "edxml"


def _start(collector: Collector, limits: ParseLimits) -> tuple[Parts, Reader]:
    root = collector.root
    if root is None:
        raise EdxmlMalformedError("Gói tin edXML rỗng.")
    reader = Reader(limits.steering_scheme)
    if root.ns in LEGACY_EDXML_NS:
        reader.warn(root.name, f"không gian tên cũ '{root.ns}'")
    return locate(root, collector.form), reader


def _digest(payload: Payload) -> tuple[str, int]:
    return payload.sha256, payload.size


@contextlib.contextmanager
def _open(source: Source) -> Iterator[BinaryIO]:
    if isinstance(source, bytes | bytearray | memoryview):
        yield io.BytesIO(source)
    elif isinstance(source, os.PathLike):
        with open(source, "rb") as stream:
            yield stream
    else:
        yield source


def _collect(
    source: Source, limits: ParseLimits, spool: AttachmentSpool, *, envelope_only: bool
) -> tuple[Collector, str, int]:
    """Feed the bytes to the hardened parser; the collector holds the envelope tree."""
    collector = Collector(limits, spool, envelope_only)
    parser = etree.XMLParser(
        target=collector,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        attribute_defaults=False,
        huge_tree=False,
    )
    digest = hashlib.sha256()
    size = 0
    head = b""
    started = False
    try:
        with _open(source) as stream:
            while chunk := stream.read(_CHUNK):
                size += len(chunk)
                if size > limits.max_size:
                    raise EdxmlTooLargeError(limit=limits.max_size)
                digest.update(chunk)
                if started:
                    parser.feed(chunk)
                    continue
                head += chunk
                if check_prolog(head):
                    started = True
                    parser.feed(head)
                elif len(head) > MAX_PROLOG:
                    raise EdxmlMalformedError("Phần mở đầu của gói tin edXML quá dài.")
            if not started:
                if not head.strip():
                    raise EdxmlMalformedError("Gói tin edXML rỗng.")
                parser.feed(head)
            parser.close()
    except StopReading:
        pass
    except etree.XMLSyntaxError as exc:
        collector.discard_all()
        line, column = exc.position
        raise EdxmlMalformedError(line=line, column=column, reason=str(exc.msg)) from None
    except BaseException:
        collector.discard_all()
        raise
    return collector, digest.hexdigest(), size


class _SpoolView(io.RawIOBase):
    """A reader with its own position over a shared spool stream; closing it keeps the spool."""

    def __init__(self, stream: BinaryIO, size: int, lock: threading.Lock) -> None:
        self._stream = stream
        self._size = size
        self._lock = lock
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        with self._lock:
            self._stream.seek(self._position)
            data = self._stream.read(min(len(buffer), self._size - self._position))
        buffer[: len(data)] = data
        self._position += len(data)
        return len(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def tell(self) -> int:
        return self._position


def _opener(payload: Payload, lock: threading.Lock) -> Callable[[], BinaryIO]:
    stream = payload.stream
    assert stream is not None

    def open_view() -> BinaryIO:
        return io.BufferedReader(_SpoolView(stream, payload.size, lock), buffer_size=_CHUNK)

    return open_view
