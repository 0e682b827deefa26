"""The one error hierarchy of ``signing``.

Every error carries a stable snake_case ``code`` (for programs and the JSON API) and a Vietnamese
``message`` (for people). Verification never raises these for a bad signature: it reports it; these
errors are for refusals (a certificate that must not sign, an expired session) and for input that
is not usable at all (not a PDF).
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = [
    "CertificateError",
    "CertificateExpiredError",
    "CertificateKeyUsageError",
    "CertificateNotYetValidError",
    "CertificateRevokedError",
    "CertificateUntrustedError",
    "InvalidDocumentError",
    "PkiError",
    "RemoteSigningAuthError",
    "RemoteSigningTimeoutError",
    "SignatureFieldError",
    "SignatureValueError",
    "SignerUnavailableError",
    "SigningConfigError",
    "SigningError",
    "SigningSessionError",
    "SigningSessionExpiredError",
    "TimestampError",
    "VerificationLimitError",
]


class SigningError(Exception):
    """Base of every error raised by ``signing``.

    ``code`` is stable and machine-readable; ``message`` is Vietnamese text for people; ``details``
    holds extra facts (never secrets) that an API may echo.
    """

    code: str = "signing_failed"
    default_message: str = "Không ký số được văn bản."

    def __init__(self, message: str | None = None, *, details: Mapping[str, object] | None = None):
        self.message = message or self.default_message
        self.details: dict[str, object] = dict(details or {})
        super().__init__(self.message)

    def to_dict(self) -> dict[str, object]:
        """The ``error`` object of API.md §2."""
        return {"code": self.code, "message": self.message, "details": dict(self.details)}


class SigningConfigError(SigningError):
    """The signing configuration is incomplete or contradictory (a programming/deployment error)."""

    code = "signing_config_invalid"
    default_message = "Cấu hình ký số không hợp lệ."


class InvalidDocumentError(SigningError):
    """The input is not a PDF that can be read (malformed, encrypted, not a PDF at all)."""

    code = "invalid_pdf"
    default_message = "Tệp không phải là tài liệu PDF hợp lệ."


class VerificationLimitError(SigningError):
    """The PDF is beyond what one verification may examine (signatures, revisions, pages, time).

    ``details["limit"]`` names the bound and ``details["max"]`` its value.
    """

    code = "verification_limit_exceeded"
    default_message = "Tệp vượt quá giới hạn kiểm tra chữ ký số."


class SignatureFieldError(SigningError):
    """The signature or form field to use is missing, already filled or misplaced."""

    code = "signature_field_invalid"
    default_message = "Không tìm thấy ô chữ ký phù hợp trên văn bản."


class CertificateError(SigningError):
    """The signer's certificate must not be used to sign (base of the certificate checks)."""

    code = "certificate_invalid"
    default_message = "Chứng thư số của người ký không hợp lệ."


class CertificateExpiredError(CertificateError):
    code = "certificate_expired"
    default_message = "Chứng thư số đã hết hạn, không thể dùng để ký."


class CertificateNotYetValidError(CertificateError):
    code = "certificate_not_yet_valid"
    default_message = "Chứng thư số chưa đến thời hạn có hiệu lực."


class CertificateRevokedError(CertificateError):
    code = "certificate_revoked"
    default_message = "Chứng thư số đã bị thu hồi, không thể dùng để ký."


class CertificateKeyUsageError(CertificateError):
    code = "certificate_key_usage"
    default_message = "Chứng thư số không được cấp cho mục đích ký số văn bản."


class CertificateUntrustedError(CertificateError):
    code = "certificate_untrusted"
    default_message = "Chứng thư số không do tổ chức cung cấp dịch vụ chứng thực được tin cậy cấp."


class SignerUnavailableError(SigningError):
    """The key cannot be used right now: wrong PIN, token absent, remote service down."""

    code = "signer_unavailable"
    default_message = "Không truy cập được khóa ký (thiết bị ký, HSM hoặc dịch vụ ký từ xa)."


class RemoteSigningAuthError(SignerUnavailableError):
    """The remote signing service refused the PIN or OTP (nothing was signed)."""

    code = "remote_signing_otp_invalid"
    default_message = "Mã PIN hoặc mã OTP không đúng; chưa văn bản nào được ký."


class RemoteSigningTimeoutError(SignerUnavailableError):
    """The remote signing service did not answer in time (nothing was signed)."""

    code = "remote_signing_timeout"
    default_message = "Dịch vụ ký số từ xa không trả lời kịp; chưa văn bản nào được ký."


class TimestampError(SigningError):
    """The time-stamping authority did not answer or answered badly."""

    code = "timestamp_unavailable"
    default_message = "Không lấy được dấu thời gian từ máy chủ cấp dấu thời gian."


class SigningSessionError(SigningError):
    """A two-phase signing session cannot be completed (state damaged, wrong certificate...)."""

    code = "signing_session_invalid"
    default_message = "Phiên ký số không hợp lệ."


class SigningSessionExpiredError(SigningSessionError):
    code = "signing_session_expired"
    default_message = "Phiên ký số đã hết hạn, vui lòng ký lại."


class SignatureValueError(SigningSessionError):
    """The signature value returned by the client does not verify against its certificate."""

    code = "signature_value_invalid"
    default_message = "Chữ ký số gửi lên không khớp với chứng thư số hoặc dữ liệu cần ký."


class PkiError(SigningError):
    """The demo PKI cannot do what was asked (unknown user, damaged directory)."""

    code = "demo_pki_error"
    default_message = "Lỗi hạ tầng khóa công khai thử nghiệm."
