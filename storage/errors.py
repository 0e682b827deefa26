"""The one error hierarchy of ``storage``.

Every error carries a stable snake_case ``code`` for programs, an ``http_status`` hint for the web
layer (storage never builds HTTP responses itself), a Vietnamese ``message`` for people and
``details`` that are safe to show (no secrets, no server paths).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import ClassVar


class StorageError(Exception):
    """Base of every error raised by ``storage``."""

    code: ClassVar[str] = "storage_error"
    http_status: ClassVar[int] = 500
    default_message: ClassVar[str] = "Lỗi kho lưu trữ tệp."

    def __init__(self, message: str | None = None, **details: object) -> None:
        self.message = message or self.default_message
        self.details: Mapping[str, object] = MappingProxyType(dict(details))
        super().__init__(self.message)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"


# --- the store ------------------------------------------------------------------------------


class ConfigurationError(StorageError):
    """The storage URL, the options or the key file are unusable."""

    code = "storage_misconfigured"
    default_message = "Cấu hình kho lưu trữ tệp không hợp lệ."


class InvalidKeyError(StorageError):
    """A key that this store never issues (also every path-traversal attempt)."""

    code = "invalid_object_key"
    http_status = 400
    default_message = "Mã đối tượng lưu trữ không hợp lệ."


class ObjectNotFoundError(StorageError):
    """No object under this key."""

    code = "object_not_found"
    http_status = 404
    default_message = "Không tìm thấy tệp trong kho lưu trữ."


class RangeNotSatisfiableError(StorageError):
    """The requested byte range starts beyond the end of the object."""

    code = "range_not_satisfiable"
    http_status = 416
    default_message = "Khoảng byte yêu cầu nằm ngoài kích thước tệp."


class IntegrityError(StorageError):
    """Stored bytes do not match their key's hash, or an encrypted object was tampered with."""

    code = "object_corrupted"
    default_message = "Tệp trong kho lưu trữ bị hỏng hoặc bị sửa đổi."


class StorageUnavailableError(StorageError):
    """The back-end cannot be reached or failed (network, disk, server error, missing bucket)."""

    code = "storage_unavailable"
    http_status = 503
    default_message = "Kho lưu trữ tệp tạm thời không truy cập được."


class StorageAccessDeniedError(StorageUnavailableError):
    """The back-end refused our credentials: an operator must fix the configuration."""

    code = "storage_access_denied"
    default_message = "Kho lưu trữ tệp từ chối thông tin xác thực của hệ thống."


class MasterKeyError(StorageError):
    """A data key cannot be unwrapped: its master key is unknown or does not match."""

    code = "master_key_unavailable"
    default_message = "Không có khóa chủ để giải mã tệp."


# --- upload checks ----------------------------------------------------------------------------


class UploadRefusedError(StorageError):
    """An upload refused by the checks; nothing of it was stored."""

    code = "upload_refused"
    http_status = 422
    default_message = "Tệp tải lên không được chấp nhận."


class EmptyFileError(UploadRefusedError):
    code = "empty_file"
    default_message = "Tệp tải lên không có nội dung."


class FileTooLargeError(UploadRefusedError):
    code = "file_too_large"
    http_status = 413
    default_message = "Tệp tải lên vượt quá dung lượng cho phép."


class UnsupportedFileTypeError(UploadRefusedError):
    code = "unsupported_file_type"
    http_status = 415
    default_message = "Định dạng tệp không được hỗ trợ."


class FileTypeMismatchError(UploadRefusedError):
    code = "file_type_mismatch"
    http_status = 415
    default_message = "Phần mở rộng hoặc kiểu khai báo không khớp với nội dung tệp."


class MalformedPdfError(UploadRefusedError):
    code = "malformed_pdf"
    default_message = "Tệp PDF bị hỏng hoặc không đọc được."


class EncryptedPdfError(UploadRefusedError):
    code = "encrypted_pdf"
    default_message = "Tệp PDF được đặt mật khẩu mở; hãy gỡ mật khẩu rồi tải lên lại."


class MalformedOfficeFileError(UploadRefusedError):
    code = "malformed_office_file"
    default_message = "Tệp Word/Excel bị hỏng hoặc không phải gói OOXML hợp lệ."


class ZipBombError(UploadRefusedError):
    code = "zip_bomb"
    http_status = 413
    default_message = "Tệp nén giải nén ra dung lượng quá lớn so với cho phép."
