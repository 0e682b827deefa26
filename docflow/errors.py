"""The domain's error hierarchy.

Every refusal is a :class:`DomainError` with a stable ``code`` for programs and a Vietnamese
``message`` for people. The app maps the ``kind`` of an error to an HTTP status; docflow itself
knows nothing of HTTP.
"""

from __future__ import annotations

from typing import Any, ClassVar


class DomainError(Exception):
    """Base of every refusal raised by a docflow service."""

    kind: ClassVar[str] = "invalid"
    code: str = "domain_error"
    message: str = "Yêu cầu không hợp lệ."

    def __init__(
        self, message: str | None = None, *, code: str | None = None, details: Any = None
    ) -> None:
        if message is not None:
            self.message = message
        if code is not None:
            self.code = code
        self.details: dict[str, Any] = details or {}
        super().__init__(self.message)


class ValidationError(DomainError):
    """Field values that break a rule (422)."""

    kind = "invalid"
    code = "invalid_field"
    message = "Dữ liệu không hợp lệ."

    @classmethod
    def field(cls, field: str, message: str, *, code: str = "invalid_field") -> ValidationError:
        return cls(message, code=code, details={"fields": {field: message}})


class NotFoundError(DomainError):
    """Missing, or belonging to an organisation the actor cannot see (404)."""

    kind = "not_found"
    code = "not_found"
    message = "Không tìm thấy."


class PermissionDeniedError(DomainError):
    """The actor may see the object but not do this to it (403)."""

    kind = "forbidden"
    code = "forbidden"
    message = "Bạn không có quyền thực hiện thao tác này."


class ConflictError(DomainError):
    """Duplicate, or not allowed in the current state (409)."""

    kind = "conflict"
    code = "conflict"
    message = "Thao tác xung đột với dữ liệu hiện có."


class TransitionNotAllowedError(ConflictError):
    """A state machine refused an action in the current state."""

    code = "transition_not_allowed"
    message = "Không thể thực hiện thao tác này ở trạng thái hiện tại."


class AuthenticationError(DomainError):
    """Wrong credentials, expired or revoked token (401). Never says which."""

    kind = "unauthenticated"
    code = "invalid_credentials"
    message = "Tên đăng nhập hoặc mật khẩu không đúng."


class ThrottledError(DomainError):
    """Too many failed attempts; try again later (429)."""

    kind = "throttled"
    code = "too_many_attempts"
    message = "Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau ít phút."
