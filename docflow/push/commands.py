"""A browser's PushSubscription as the Push API's ``toJSON()`` gives it (W3C Push API §4.3)."""

from __future__ import annotations

import base64
from typing import Annotated

from cryptography.hazmat.primitives.asymmetric import ec
from pydantic import BaseModel, ConfigDict, Field, field_validator

from docflow.commands import Command

ENDPOINT_MAX = 1000
#: base64url of 65 bytes (an uncompressed P-256 point) and of 16 bytes, padding optional.
P256DH_PATTERN = r"^[A-Za-z0-9_-]{87}=?$"
AUTH_PATTERN = r"^[A-Za-z0-9_-]{22}(==)?$"


def b64url_decode(text: str) -> bytes:
    text = text.rstrip("=")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class PushKeys(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    p256dh: Annotated[
        str,
        Field(
            pattern=P256DH_PATTERN,
            description="Khóa công khai P-256 của trình duyệt (65 byte, base64url).",
        ),
    ]
    auth: Annotated[
        str,
        Field(pattern=AUTH_PATTERN, description="Bí mật xác thực (16 byte, base64url)."),
    ]

    @field_validator("p256dh")
    @classmethod
    def _on_the_curve(cls, value: str) -> str:
        raw = b64url_decode(value)
        try:
            ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
        except ValueError:
            raise ValueError(
                "Khóa p256dh không phải một điểm hợp lệ của đường cong P-256."
            ) from None
        if raw[0] != 4:
            raise ValueError("Khóa p256dh phải ở dạng không nén.")
        return value.rstrip("=")

    @field_validator("auth")
    @classmethod
    def _unpadded(cls, value: str) -> str:
        return value.rstrip("=")


class Subscribe(Command):
    """Register (or renew) one push subscription of the actor."""

    endpoint: Annotated[
        str,
        Field(
            min_length=8,
            max_length=ENDPOINT_MAX,
            description="Địa chỉ https của dịch vụ đẩy mà trình duyệt cấp.",
        ),
    ]
    expirationTime: Annotated[
        int | None,
        Field(default=None, ge=0, description="Thời điểm hết hạn (ms), nếu trình duyệt cho biết."),
    ] = None
    keys: PushKeys


class Unsubscribe(Command):
    endpoint: Annotated[str, Field(min_length=1, max_length=ENDPOINT_MAX)]
