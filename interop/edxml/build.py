"""Writing edXML: strict, streaming, deterministic.

The layout is DOMAIN.md §7: the root ``edXML`` in the QCVN 102:2016 default namespace, every
element of the envelope prefixed ``edXML:`` (the prefix declared on ``edXML:edXMLEnvelope``), and
the attachments base64-encoded after the envelope in ``AttachmentEncoded/Attachment``
(unprefixed, same namespace), each on one line without breaks (some peers' decoders refuse
them). Elements come in the documented order; an empty optional field is not written.

Everything is checked before the first byte is written (:class:`EdxmlBuildError` lists what is
wrong), then the envelope and the attachments are streamed to the output in chunks through
``lxml.etree.xmlfile``: memory stays flat whatever the attachments' size. The same model gives
the same bytes, so a package rebuilt for a retry has the same SHA-256 (the axis's ``hash-file``).

With a ``signer`` (:class:`~interop.edxml.signature.PackageSigner`, the organisation's seal) the
package carries its XML-DSig signature in ``edXML:Signature`` (:mod:`interop.edxml.signature`):
built first, then signed over its canonical form, which needs the whole package in memory.
"""

from __future__ import annotations

import base64
import hashlib
import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from lxml import etree

from interop.edxml.checks import package_problems, raise_if, signature_elements, status_problems
from interop.edxml.codes import EDXML_NS, XLINK_NS
from interop.edxml.dates import format_date, format_time
from interop.edxml.model import (
    Attachment,
    Bussiness,
    EdxmlPackage,
    Organ,
    ResponseFor,
    StaffInfo,
    StatusMessage,
)
from interop.edxml.signature import PackageSigner, sign_package_bytes

_RAW_CHUNK = 3 * 256 * 1024  # a multiple of 3: base64 of each chunk needs no padding
_FLUSH_AT = 256 * 1024


@dataclass(frozen=True)
class BuiltAttachment:
    content_id: str
    name: str
    sha256: str  # of the decoded bytes
    size: int


@dataclass(frozen=True)
class BuildResult:
    """What was written: the package's SHA-256 (hex, the axis's ``hash-file``) and size."""

    sha256: str
    size: int
    attachments: tuple[BuiltAttachment, ...] = ()


class _Writable(Protocol):
    def write(self, data: bytes, /) -> Any: ...


class _HashingWriter:
    """Hashes what goes to ``out`` and gathers lxml's many small writes into bigger ones."""

    def __init__(self, out: _Writable) -> None:
        self._out = out
        self._buffer = bytearray()
        self.hash = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.hash.update(data)
        self.size += len(data)
        if len(data) >= _FLUSH_AT:  # a base64 chunk: no need to copy it through the buffer
            self.flush()
            self._out.write(data)
            return len(data)
        self._buffer += data
        if len(self._buffer) >= _FLUSH_AT:
            self.flush()
        return len(data)

    def flush(self) -> None:
        if self._buffer:
            self._out.write(bytes(self._buffer))
            self._buffer.clear()


def _tag(name: str) -> str:
    return f"{{{EDXML_NS}}}{name}"


# --- writing ----------------------------------------------------------------------------------


class _Writer:
    def __init__(self, xf: Any, raw: _HashingWriter) -> None:
        self.xf = xf
        self.raw = raw

    @contextmanager
    def element(self, name: str, **kwargs: Any) -> Iterator[None]:
        with self.xf.element(_tag(name), **kwargs):
            yield

    def leaf(self, name: str, text: str, *, always: bool = False) -> None:
        if text or always:
            with self.xf.element(_tag(name)):
                if text:
                    self.xf.write(text)

    def organ(self, name: str, organ: Organ) -> None:
        with self.element(name):
            self.leaf("OrganId", organ.organ_id, always=True)
            self.leaf("OrganizationInCharge", organ.organization_in_charge)
            self.leaf("OrganName", organ.organ_name)
            self.leaf("OrganAdd", organ.organ_add)
            self.leaf("Email", organ.email)
            self.leaf("Telephone", organ.telephone)
            self.leaf("Fax", organ.fax)
            self.leaf("Website", organ.website)

    def response_for(self, response: ResponseFor) -> None:
        with self.element("ResponseFor"):
            self.leaf("OrganId", response.organ_id, always=True)
            self.leaf("Code", response.code)
            if response.promulgation_date is not None:
                self.leaf("PromulgationDate", format_date(response.promulgation_date))
            self.leaf("DocumentId", response.document_id)

    def staff(self, staff: StaffInfo | None) -> None:
        if staff is None:
            return
        with self.element("StaffInfo"):
            self.leaf("Department", staff.department)
            self.leaf("Staff", staff.staff)
            self.leaf("Mobile", staff.mobile)
            self.leaf("Email", staff.email)

    def message_header(self, package: EdxmlPackage) -> None:
        with self.element("MessageHeader"):
            self.organ("From", package.from_)
            for organ in package.to:
                self.organ("To", organ)
            with self.element("Code"):
                self.leaf("CodeNumber", package.code.number)
                self.leaf("CodeNotation", package.code.notation, always=True)
            with self.element("PromulgationInfo"):
                self.leaf("Place", package.promulgation.place)
                assert package.promulgation.date is not None  # checked before writing
                self.leaf("PromulgationDate", format_date(package.promulgation.date))
            with self.element("DocumentType"):
                self.leaf("Type", package.document_type.type_code, always=True)
                self.leaf("TypeName", package.document_type.type_name)
            self.leaf("Subject", package.subject, always=True)
            self.leaf("Content", package.content)
            if package.signer is not None:
                with self.element("SignerInfo"):
                    self.leaf("Competence", package.signer.competence)
                    self.leaf("Position", package.signer.position)
                    self.leaf("FullName", package.signer.full_name)
            if package.due_date is not None:
                self.leaf("DueDate", format_date(package.due_date))
            if package.to_places:
                with self.element("ToPlaces"):
                    for place in package.to_places:
                        self.leaf("Place", place, always=True)
            self.other_info(package)
            for response in package.response_for:
                self.response_for(response)
            if package.steering_type is not None:
                self.leaf("SteeringType", str(int(package.steering_type)))
            self.leaf("DocumentId", package.document_id, always=True)

    def other_info(self, package: EdxmlPackage) -> None:
        other = package.other_info
        with self.element("OtherInfo"):
            self.leaf("Priority", str(int(other.priority)), always=True)
            self.leaf("SphereOfPromulgation", other.sphere_of_promulgation)
            self.leaf("TyperNotation", other.typer_notation)
            if other.promulgation_amount is not None:
                self.leaf("PromulgationAmount", str(other.promulgation_amount))
            if other.page_amount is not None:
                self.leaf("PageAmount", str(other.page_amount))
            if other.appendixes:
                with self.element("Appendixes"):
                    for appendix in other.appendixes:
                        self.leaf("Appendix", appendix, always=True)

    def trace_header_list(self, package: EdxmlPackage) -> None:
        with self.element("TraceHeaderList"):
            for trace in package.trace_headers:
                with self.element("TraceHeader"):
                    self.leaf("OrganId", trace.organ_id, always=True)
                    self.leaf("Timestamp", format_time(trace.timestamp), always=True)
            self.bussiness(package.bussiness)

    def bussiness(self, bussiness: Bussiness) -> None:
        with self.element("Bussiness"):
            self.leaf("BussinessDocType", str(int(bussiness.doc_type)), always=True)
            self.leaf("BussinessDocReason", bussiness.reason)
            info = bussiness.document_info
            if info is not None:
                with self.element("BussinessDocumentInfo"):
                    self.leaf("DocumentInfo", info.document_info)
                    self.leaf("DocumentReceiver", info.document_receiver)
                    if info.receivers:
                        with self.element("ReceiverList"):
                            for receiver in info.receivers:
                                with self.element("Receiver"):
                                    self.leaf("ReceiverType", receiver.receiver_type)
                                    self.leaf("OrganId", receiver.organ_id, always=True)
            self.leaf("DocumentId", bussiness.document_id)
            self.staff(bussiness.staff)
            if bussiness.paper is not None:
                self.leaf("Paper", "1" if bussiness.paper else "0")
            if bussiness.replacements:
                with self.element("ReplacementInfoList"):
                    for replaced in bussiness.replacements:
                        with self.element("ReplacementInfo"):
                            self.leaf("DocumentId", replaced.document_id, always=True)
                            with self.element("OrganIdList"):
                                for organ_id in replaced.organ_ids:
                                    self.leaf("OrganId", organ_id, always=True)

    def manifest(self, attachments: tuple[Attachment, ...]) -> None:
        with self.element("edXMLBody"), self.element("edXMLManifest"):
            for attachment in attachments:
                href = {f"{{{XLINK_NS}}}href": f"cid:{attachment.content_id}"}
                with self.element("Reference", attrib=href):
                    self.leaf("Description", attachment.description)
                    self.leaf("AttachmentName", attachment.name, always=True)
                    self.leaf("ContentType", attachment.content_type, always=True)
                    self.leaf("ContentId", attachment.content_id, always=True)

    def attachment(self, attachment: Attachment) -> BuiltAttachment:
        self.leaf("ContentType", attachment.content_type, always=True)
        self.leaf("ContentId", attachment.content_id, always=True)
        self.leaf("Description", attachment.description)
        self.leaf("AttachmentName", attachment.name, always=True)
        digest = hashlib.sha256()
        size = 0
        with self.element("ContentTransferEncoded"), attachment.open() as source:
            # Base64 needs no escaping: past lxml (unbuffered, so in order) straight to the
            # output, which saves a copy and a character check of every chunk.
            self.xf.flush()
            pending = b""
            while chunk := source.read(_RAW_CHUNK):
                digest.update(chunk)
                size += len(chunk)
                if pending:
                    chunk, pending = pending + chunk, b""
                whole = len(chunk) - len(chunk) % 3
                if whole < len(chunk):  # short reads: keep the tail for the next chunk
                    chunk, pending = chunk[:whole], chunk[whole:]
                if chunk:
                    self.raw.write(base64.b64encode(chunk))
            if pending:
                self.raw.write(base64.b64encode(pending))
        return BuiltAttachment(attachment.content_id, attachment.name, digest.hexdigest(), size)


@contextmanager
def _document(out: _HashingWriter) -> Iterator[_Writer]:
    out.write(b'<?xml version="1.0" encoding="UTF-8"?>\n')
    # Unbuffered: lxml's own buffering would keep the whole document until the end.
    with (
        etree.xmlfile(out, encoding="utf-8", buffered=False) as xf,
        xf.element(_tag("edXML"), nsmap={None: EDXML_NS, "xlink": XLINK_NS}),
    ):
        yield _Writer(xf, out)
    out.flush()


def build_package(
    package: EdxmlPackage, out: _Writable, *, signer: PackageSigner | None = None
) -> BuildResult:
    """Write ``package`` as an ``.edxml`` to the binary stream ``out``; checked first, streamed.

    With ``signer`` the package is signed (see the module docstring): built in memory, signed,
    then written.
    """
    problems = list(package_problems(package))
    raise_if(problems)
    if signer is not None:
        unsigned = io.BytesIO()
        first = build_package(package, unsigned)
        data = sign_package_bytes(unsigned.getvalue(), signer)
        out.write(data)
        return BuildResult(hashlib.sha256(data).hexdigest(), len(data), first.attachments)
    writer_out = _HashingWriter(out)
    built: list[BuiltAttachment] = []
    with _document(writer_out) as writer:
        with writer.element("edXMLEnvelope", nsmap={"edXML": EDXML_NS}):
            with writer.element("edXMLHeader"):
                writer.message_header(package)
                writer.trace_header_list(package)
                with writer.element("Signature"):
                    if package.signature_xml.strip():
                        for element in signature_elements(package.signature_xml):
                            writer.xf.write(element)
            writer.manifest(package.attachments)
        with writer.xf.element(_tag("AttachmentEncoded")):
            for attachment in package.attachments:
                with writer.xf.element(_tag("Attachment")):
                    built.append(writer.attachment(attachment))
    return BuildResult(writer_out.hash.hexdigest(), writer_out.size, tuple(built))


def build_status(status: StatusMessage, out: _Writable) -> BuildResult:
    """Write a status message (messagetype ``status``) to the binary stream ``out``."""
    raise_if(list(status_problems(status)))
    writer_out = _HashingWriter(out)
    with (
        _document(writer_out) as writer,
        writer.element("edXMLEnvelope", nsmap={"edXML": EDXML_NS}),
        writer.element("edXMLHeader"),
        writer.element("MessageHeader"),
    ):
        writer.response_for(status.response_for)
        writer.organ("From", status.from_)
        writer.leaf("StatusCode", status.status_code, always=True)
        writer.leaf("Description", status.description)
        assert status.timestamp is not None  # checked before writing
        writer.leaf("Timestamp", format_time(status.timestamp), always=True)
        writer.staff(status.staff)
    return BuildResult(writer_out.hash.hexdigest(), writer_out.size)


def build_package_bytes(package: EdxmlPackage, *, signer: PackageSigner | None = None) -> bytes:
    """The whole package in memory (signed with ``signer`` when given)."""
    out = io.BytesIO()
    build_package(package, out, signer=signer)
    return out.getvalue()


def build_status_bytes(status: StatusMessage) -> bytes:
    out = io.BytesIO()
    build_status(status, out)
    return out.getvalue()


def write_package_file(
    package: EdxmlPackage, path: str | bytes | Any, *, signer: PackageSigner | None = None
) -> BuildResult:
    """Build ``package`` into the file at ``path`` (replaced if it exists)."""
    with open(path, "wb") as out:
        return build_package(package, out, signer=signer)
