"""The HMAC signature of axis requests, unit by unit."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json

import pytest

from interop.axis_auth import (
    HASH_HEADER,
    SIGN_HEADER,
    format_timestamp,
    parse_timestamp,
    sign,
    verify,
)
from interop.edxml.dates import VN_TZ
from interop.errors import (
    AxisSignatureInvalidError,
    AxisSignatureMissingError,
    AxisTimestampError,
    AxisUnknownSystemError,
)

NOW = dt.datetime(2026, 6, 18, 2, 30, 15, 123000, tzinfo=dt.UTC)
SECRETS = {"SYS.A": "khóa-bí-mật"}


def signed(**extra: str) -> dict[str, str]:
    return sign(
        {"systemid": "SYS.A", "timestamp": format_timestamp(NOW), **extra}, SECRETS["SYS.A"]
    )


def test_the_signature_is_the_hmac_of_the_canonical_json() -> None:
    headers = signed(**{"to": '["000.00.01.Z01"]', "hash-file": "ab" * 32})
    document = headers[SIGN_HEADER]
    assert document == json.dumps(
        json.loads(document), sort_keys=True, separators=(",", ":"), ensure_ascii=True
    )
    assert (
        headers[HASH_HEADER]
        == hmac.new(SECRETS["SYS.A"].encode(), document.encode(), hashlib.sha256).hexdigest()
    )
    assert headers["XroadVnpt-systemid"] == "SYS.A"
    assert headers["XroadVnpt-sign-header-key"] == "hash-file;systemid;timestamp;to"
    assert all(value.isascii() for value in headers.values())
    request = verify(headers, SECRETS.get, now=NOW)
    assert request.system_id == "SYS.A"
    assert request.get("hash-file") == "ab" * 32
    # Header names are case-insensitive in HTTP.
    assert verify({k.lower(): v for k, v in headers.items()}, SECRETS.get, now=NOW)


def test_timestamps_in_the_sdk_format_and_iso() -> None:
    text = format_timestamp(NOW)
    assert text == "18062026T093015+0123"
    assert parse_timestamp(text) == NOW
    assert parse_timestamp("2026-06-18T02:30:15Z") == NOW.replace(microsecond=0)
    assert parse_timestamp("2026-06-18T02:30:15") is None  # no offset: refused
    assert parse_timestamp("yesterday") is None
    assert NOW.astimezone(VN_TZ).hour == 9


def test_refusals() -> None:
    headers = signed()
    with pytest.raises(AxisSignatureMissingError):
        verify({}, SECRETS.get, now=NOW)
    with pytest.raises(AxisUnknownSystemError):
        verify(headers, {}.get, now=NOW)
    with pytest.raises(AxisSignatureInvalidError):
        verify({**headers, HASH_HEADER: "00" * 32}, SECRETS.get, now=NOW)
    with pytest.raises(AxisSignatureInvalidError):
        verify({**headers, SIGN_HEADER: "not json"}, SECRETS.get, now=NOW)
    with pytest.raises(AxisSignatureInvalidError):
        verify({**headers, "XroadVnpt-status": "done"}, SECRETS.get, now=NOW)
    with pytest.raises(AxisTimestampError):
        verify(headers, SECRETS.get, now=NOW + dt.timedelta(minutes=16))
    assert verify(headers, SECRETS.get, now=NOW - dt.timedelta(minutes=14))
