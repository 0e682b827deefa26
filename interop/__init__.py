"""interop: exchange with other systems.

edXML packages and status messages (QCVN 102:2016), the national-axis client, a local axis
simulator, and the outbox/inbox that moves packages. May import docflow, never app.

The standalone parts (no database, no Flask)::

    # edXML: the model (frozen dataclasses), a strict streaming writer, a hardened reader
    package = EdxmlPackage(from_=Organ(...), to=(Organ(...),), code=Code("60", "KH-MTTW-BTT"),
                           promulgation=PromulgationInfo(date, "Hà Nội"), subject="...",
                           attachments=(Attachment("KH.pdf", "application/pdf", content=path),))
    built = build_package(package, out)          # BuildResult(sha256, size, attachments)
    with parse_package(source) as result:        # ParseResult: package, attachments, warnings
        ...                                      # (ParsedAttachment: sha256, size, open())
    build_status(StatusMessage.about(package, from_=..., status_code=StatusCode.ARRIVED,
                                     timestamp=now), out)
    read_envelope(source)                        # what a message is, without its attachments

    # the national axis (DOMAIN.md §7): HMAC-signed XroadVnpt- headers, retries, idempotency
    client = AxisClient(url, system_id, secret)  # send_edoc, get_received_list, get_edoc, ...

    # the local simulator (``dhtn axis-sim``)
    serve(host, port, data_dir, {"SYSTEM-ID": "secret"})   # or make_sim_app(...) for WSGI

Errors: everything raised is an :class:`InteropError` with ``code``, ``http_status``,
``message`` (Vietnamese) and ``details``: :class:`EdxmlError` for packages,
:class:`AxisError` (``retryable``) for the axis.
"""

from interop.axis_client import AxisClient
from interop.axis_results import Agency, Delivery, DownloadedEdoc, EdocInfo, SentEdoc
from interop.axis_sim import make_sim_app, parse_system_option, serve
from interop.edxml.build import (
    BuildResult,
    BuiltAttachment,
    build_package,
    build_package_bytes,
    build_status,
    build_status_bytes,
    write_package_file,
)
from interop.edxml.codes import (
    DOCUMENT_TYPES,
    EDXML_NS,
    BussinessDocType,
    DocumentTypeCode,
    Priority,
    StatusCode,
    SteeringType,
    document_type_for_abbreviation,
)
from interop.edxml.model import (
    Attachment,
    Bussiness,
    BussinessDocumentInfo,
    Code,
    DocumentType,
    EdxmlPackage,
    Organ,
    OtherInfo,
    PromulgationInfo,
    Receiver,
    ReplacementInfo,
    ResponseFor,
    SignerInfo,
    StaffInfo,
    StatusMessage,
    TraceHeader,
    make_document_id,
    parse_document_id,
)
from interop.edxml.options import DEFAULT_LIMITS, AttachmentSpool, ParseLimits, TempSpool
from interop.edxml.parse import (
    Envelope,
    ParsedAttachment,
    ParseResult,
    parse_edxml,
    parse_package,
    parse_status,
    read_envelope,
)
from interop.errors import (
    AxisAuthError,
    AxisConflictError,
    AxisError,
    AxisIntegrityError,
    AxisNotFoundError,
    AxisProtocolError,
    AxisRequestError,
    AxisUnavailableError,
    EdxmlAttachmentError,
    EdxmlBuildError,
    EdxmlEncodingError,
    EdxmlError,
    EdxmlFieldTooLongError,
    EdxmlForbiddenError,
    EdxmlHashMismatchError,
    EdxmlKindError,
    EdxmlMalformedError,
    EdxmlNamespaceError,
    EdxmlStructureError,
    EdxmlTooDeepError,
    EdxmlTooLargeError,
    InteropError,
)

__all__ = [
    "DEFAULT_LIMITS",
    "DOCUMENT_TYPES",
    "EDXML_NS",
    "Agency",
    "Attachment",
    "AttachmentSpool",
    "AxisAuthError",
    "AxisClient",
    "AxisConflictError",
    "AxisError",
    "AxisIntegrityError",
    "AxisNotFoundError",
    "AxisProtocolError",
    "AxisRequestError",
    "AxisUnavailableError",
    "BuildResult",
    "BuiltAttachment",
    "Bussiness",
    "BussinessDocType",
    "BussinessDocumentInfo",
    "Code",
    "Delivery",
    "DocumentType",
    "DocumentTypeCode",
    "DownloadedEdoc",
    "EdocInfo",
    "EdxmlAttachmentError",
    "EdxmlBuildError",
    "EdxmlEncodingError",
    "EdxmlError",
    "EdxmlFieldTooLongError",
    "EdxmlForbiddenError",
    "EdxmlHashMismatchError",
    "EdxmlKindError",
    "EdxmlMalformedError",
    "EdxmlNamespaceError",
    "EdxmlPackage",
    "EdxmlStructureError",
    "EdxmlTooDeepError",
    "EdxmlTooLargeError",
    "Envelope",
    "InteropError",
    "Organ",
    "OtherInfo",
    "ParseLimits",
    "ParseResult",
    "ParsedAttachment",
    "Priority",
    "PromulgationInfo",
    "Receiver",
    "ReplacementInfo",
    "ResponseFor",
    "SentEdoc",
    "SignerInfo",
    "StaffInfo",
    "StatusCode",
    "StatusMessage",
    "SteeringType",
    "TempSpool",
    "TraceHeader",
    "build_package",
    "build_package_bytes",
    "build_status",
    "build_status_bytes",
    "document_type_for_abbreviation",
    "make_document_id",
    "make_sim_app",
    "parse_document_id",
    "parse_edxml",
    "parse_package",
    "parse_status",
    "parse_system_option",
    "read_envelope",
    "serve",
    "write_package_file",
]
