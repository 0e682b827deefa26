"""The one error hierarchy of ``interop``.

Every error carries a stable snake_case ``code`` for programs, an ``http_status`` hint for the web
layer (interop never builds HTTP responses for DHTN itself), a Vietnamese ``message`` for people and
``details`` that are safe to show (no secrets, no server paths).

Two branches: :class:`EdxmlError` for a package or status message that cannot be read or written,
and :class:`AxisError` for the exchange with the national axis. ``AxisError.retryable`` tells a
background job whether trying again later can help.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import ClassVar


class InteropError(Exception):
    """Base of every error raised by ``interop``."""

    code: ClassVar[str] = "interop_error"
    http_status: ClassVar[int] = 500
    default_message: ClassVar[str] = "Lỗi trao đổi văn bản điện tử."

    def __init__(self, message: str | None = None, **details: object) -> None:
        self.message = message or self.default_message
        self.details: Mapping[str, object] = MappingProxyType(dict(details))
        super().__init__(self.message)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"


# --- edXML packages and status messages ------------------------------------------------------


class EdxmlError(InteropError):
    """A package or status message is not acceptable edXML."""

    code = "edxml_invalid"
    http_status = 422
    default_message = "Gói tin edXML không hợp lệ."


class EdxmlMalformedError(EdxmlError):
    """Not well-formed XML (or not XML at all)."""

    code = "edxml_malformed"
    http_status = 400
    default_message = "Gói tin edXML không phải là tài liệu XML hợp lệ."


class EdxmlForbiddenError(EdxmlError):
    """A DOCTYPE, DTD or entity declaration: refused before anything is expanded or fetched."""

    code = "edxml_dtd_forbidden"
    http_status = 400
    default_message = (
        "Gói tin edXML chứa khai báo DOCTYPE/DTD hoặc thực thể (entity); "
        "không được chấp nhận vì lý do an toàn."
    )


class EdxmlEncodingError(EdxmlError):
    """A character encoding we do not read (edXML is UTF-8)."""

    code = "edxml_encoding_unsupported"
    http_status = 415
    default_message = "Gói tin edXML dùng bảng mã không được hỗ trợ (yêu cầu UTF-8)."


class EdxmlTooLargeError(EdxmlError):
    """Over a size limit: the whole package, one attachment, one field or their number."""

    code = "edxml_too_large"
    http_status = 413
    default_message = "Gói tin edXML vượt quá kích thước cho phép."


class EdxmlFieldTooLongError(EdxmlError):
    """A text field longer than any real document has (``interop.edxml.fields``); the details
    name it (``field``, ``element``) with its ``limit`` and ``length``."""

    code = "edxml_field_too_long"
    http_status = 422
    default_message = "Một trường của gói tin edXML dài quá giới hạn cho phép."


class EdxmlTooDeepError(EdxmlError):
    """Elements nested deeper than the limit, or too many elements."""

    code = "edxml_too_deep"
    http_status = 400
    default_message = "Gói tin edXML lồng quá nhiều cấp hoặc có quá nhiều phần tử."


class EdxmlNamespaceError(EdxmlError):
    """The root element is not edXML (QCVN 102:2016) nor the legacy SOAP envelope."""

    code = "edxml_wrong_namespace"
    default_message = (
        "Gói tin không thuộc không gian tên edXML (http://www.mic.gov.vn/TBT/QCVN_102_2016)."
    )


class EdxmlStructureError(EdxmlError):
    """An element without which the message means nothing is missing."""

    code = "edxml_missing_element"
    default_message = "Gói tin edXML thiếu thành phần bắt buộc."


class EdxmlKindError(EdxmlError):
    """A status message where a document package was expected, or the reverse."""

    code = "edxml_wrong_kind"
    default_message = "Gói tin edXML không đúng loại (văn bản hoặc thông điệp trạng thái)."


class EdxmlAttachmentError(EdxmlError):
    """An attachment that cannot be decoded (broken base64, duplicate ContentId...)."""

    code = "edxml_attachment_invalid"
    default_message = "Tệp đính kèm trong gói tin edXML bị hỏng (mã hóa base64 không hợp lệ)."


class EdxmlHashMismatchError(EdxmlError):
    """The bytes read do not have the SHA-256 announced for them."""

    code = "edxml_hash_mismatch"
    default_message = "Mã băm SHA-256 của gói tin edXML không khớp với giá trị đã công bố."


class EdxmlBuildError(EdxmlError):
    """Our own model cannot be written as strict edXML (a field is missing or malformed)."""

    code = "edxml_build_invalid"
    default_message = "Không thể tạo gói tin edXML: dữ liệu văn bản chưa đầy đủ hoặc sai định dạng."


# --- the national axis ------------------------------------------------------------------------


class AxisError(InteropError):
    """The axis refused a request or could not be used."""

    code = "axis_error"
    http_status = 502
    default_message = "Lỗi khi trao đổi với trục liên thông văn bản quốc gia."
    retryable: ClassVar[bool] = False


class AxisAuthError(AxisError):
    """The axis refused our credentials: unknown system, wrong secret, stale timestamp (401/403)."""

    code = "axis_auth_refused"
    default_message = "Trục liên thông từ chối xác thực (mã hệ thống hoặc khóa bí mật không đúng)."


class AxisRequestError(AxisError):
    """The axis refused the request itself (400, 413, 422...): sending it again will not help."""

    code = "axis_request_refused"
    default_message = "Trục liên thông từ chối yêu cầu."


class AxisNotFoundError(AxisError):
    """No such message (or not one this system may see)."""

    code = "axis_not_found"
    http_status = 404
    default_message = "Không tìm thấy gói tin trên trục liên thông."


class AxisConflictError(AxisError):
    """The request conflicts with what the axis holds (e.g. an agency code of another system)."""

    code = "axis_conflict"
    http_status = 409
    default_message = "Yêu cầu xung đột với dữ liệu đang có trên trục liên thông."


class AxisProtocolError(AxisError):
    """The axis answered something we cannot understand."""

    code = "axis_bad_response"
    default_message = "Trục liên thông trả về dữ liệu không đúng định dạng."
    retryable = True


class AxisIntegrityError(AxisError):
    """A downloaded package does not have the SHA-256 the axis announced."""

    code = "axis_hash_mismatch"
    default_message = "Gói tin tải về từ trục liên thông bị sai lệch (mã băm không khớp)."
    retryable = True


class AxisUnavailableError(AxisError):
    """The axis cannot be reached or keeps failing (connection, timeout, 5xx) after retries.
    ``details["reached"]``: whether an attempt may have reached the axis (a read timeout, a
    connection dropped after the request went, a 5xx: a gateway may answer one after the
    axis stored the package), so that a package sent may have been taken; False when no
    connection was made or the axis turned it away (429). Unknown (absent) counts as
    reached."""

    code = "axis_unavailable"
    http_status = 503
    default_message = "Trục liên thông tạm thời không truy cập được."
    retryable = True


# --- refusals of the axis's authentication (raised by the simulator's checks) -----------------


class AxisSignatureMissingError(AxisAuthError):
    """A request without the signed XroadVnpt- headers."""

    code = "axis_signature_missing"
    http_status = 401
    default_message = (
        "Yêu cầu thiếu chữ ký xác thực (XroadVnpt-sign-header, XroadVnpt-hash-header)."
    )


class AxisSignatureInvalidError(AxisAuthError):
    """The HMAC does not match, or a header differs from the signed one."""

    code = "axis_signature_invalid"
    http_status = 401
    default_message = "Chữ ký xác thực của yêu cầu không hợp lệ."


class AxisTimestampError(AxisAuthError):
    """The signed timestamp is missing, unreadable or too far from now (replay)."""

    code = "axis_timestamp_invalid"
    http_status = 401
    default_message = "Thời điểm ký của yêu cầu không hợp lệ hoặc đã quá hạn."


class AxisUnknownSystemError(AxisAuthError):
    """A system the axis does not know."""

    code = "axis_unknown_system"
    http_status = 403
    default_message = "Hệ thống không được phép kết nối trục liên thông."
