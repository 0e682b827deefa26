"""Signing and checking axis requests: HMAC-SHA256 over the ``XroadVnpt-`` headers.

The official SDKs (DOMAIN.md §7) send every logical header ``name`` as ``XroadVnpt-<name>``,
put a JSON object of those headers in ``XroadVnpt-sign-header`` and its HMAC-SHA256, keyed by the
system's secret and hex-encoded, in ``XroadVnpt-hash-header``. How the SDK orders and spaces that
JSON is unconfirmed (the Java SDK serialises a hash map), so the two sides are built not to depend
on it:

- :func:`sign` writes the canonical form: keys sorted, compact separators (``,`` and ``:``),
  non-ASCII escaped as ``\\uXXXX`` so the header stays ASCII, HMAC over its UTF-8 bytes. It also
  sends ``XroadVnpt-sign-header-key`` (the signed names joined by ``;``) and
  ``XroadVnpt-version``, as the SDK does; those two are informative, not signed.
- :func:`verify` takes the JSON exactly as received: it checks the HMAC of those bytes, then
  that every signed header was really sent with the signed value, and that every
  ``XroadVnpt-`` header sent was signed. Any JSON layout of a well-behaved client passes;
  nothing unsigned gets through.

Logical names are lower case: ``systemid`` and ``timestamp`` on every request (the SDK's
``ddMMyyyy'T'HHmmss+SSSS``, in Vietnam time; ISO 8601 with an offset is accepted too),
plus per call ``from``, ``to`` (a JSON list), ``servicetype``, ``messagetype``, ``hash-file``
(SHA-256 hex of the package), ``hash-body`` (SHA-256 hex of a JSON body), ``docid``,
``status``. The timestamp must be within ``max_skew`` of the checker's clock: a captured
request cannot be replayed later (within the window, replays are harmless: sends are
deduplicated and the other calls are idempotent).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from interop.edxml.dates import VN_TZ
from interop.errors import (
    AxisSignatureInvalidError,
    AxisSignatureMissingError,
    AxisTimestampError,
    AxisUnknownSystemError,
)

PREFIX = "XroadVnpt-"
SIGN_HEADER = "XroadVnpt-sign-header"
HASH_HEADER = "XroadVnpt-hash-header"
SIGN_KEYS_HEADER = "XroadVnpt-sign-header-key"
VERSION_HEADER = "XroadVnpt-version"
PROTOCOL_VERSION = "3.0.201608"
DEFAULT_MAX_SKEW = dt.timedelta(minutes=15)
_UNSIGNED = {h.lower() for h in (SIGN_HEADER, HASH_HEADER, SIGN_KEYS_HEADER, VERSION_HEADER)}


def canonical_json(values: Mapping[str, str]) -> str:
    return json.dumps(dict(values), sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def format_timestamp(moment: dt.datetime) -> str:
    """The SDK's ``ddMMyyyy'T'HHmmss+SSSS`` (milliseconds, 4 digits) in Vietnam time."""
    local = moment.astimezone(VN_TZ)
    return f"{local:%d%m%Y}T{local:%H%M%S}+{local.microsecond // 1000:04d}"


def parse_timestamp(raw: str) -> dt.datetime | None:
    value = raw.strip()
    try:
        moment = dt.datetime.strptime(value[:15], "%d%m%YT%H%M%S")
        if value[15:16] == "+" and value[16:].isdigit():
            moment += dt.timedelta(milliseconds=int(value[16:]))
        elif value[15:]:
            raise ValueError(value)
        return moment.replace(tzinfo=VN_TZ)
    except ValueError:
        pass
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.utcoffset() is not None else None


def sign(logical: Mapping[str, str], secret: str) -> dict[str, str]:
    """The HTTP headers carrying ``logical`` (which must include systemid and timestamp)."""
    prefixed = {PREFIX + name: value for name, value in logical.items()}
    document = canonical_json(prefixed)
    digest = hmac.new(secret.encode("utf-8"), document.encode("utf-8"), hashlib.sha256)
    return {
        **prefixed,
        SIGN_KEYS_HEADER: ";".join(sorted(logical)),
        SIGN_HEADER: document,
        HASH_HEADER: digest.hexdigest(),
        VERSION_HEADER: PROTOCOL_VERSION,
    }


@dataclass(frozen=True)
class SignedRequest:
    """A request that passed :func:`verify`: who sent it and its logical headers."""

    system_id: str
    headers: Mapping[str, str]  # logical name (lower case) -> value
    timestamp: dt.datetime

    def get(self, name: str, default: str = "") -> str:
        return self.headers.get(name.lower(), default)


def verify(
    headers: Mapping[str, str],
    secret_for: Callable[[str], str | None],
    *,
    now: dt.datetime,
    max_skew: dt.timedelta = DEFAULT_MAX_SKEW,
) -> SignedRequest:
    """Check a request's signature; ``headers`` are the HTTP headers (any case).

    Raises :class:`AxisSignatureMissingError`, :class:`AxisSignatureInvalidError` (401),
    :class:`AxisUnknownSystemError` (403) or :class:`AxisTimestampError` (401).
    """
    received = {name.lower(): value for name, value in headers.items()}
    document = received.get(SIGN_HEADER.lower())
    digest = received.get(HASH_HEADER.lower())
    if not document or not digest:
        raise AxisSignatureMissingError()
    try:
        signed = json.loads(document)
    except ValueError:
        raise AxisSignatureInvalidError(reason="sign-header is not JSON") from None
    if not isinstance(signed, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in signed.items()
    ):
        raise AxisSignatureInvalidError(reason="sign-header is not an object of strings")
    signed_lower = {name.lower(): value for name, value in signed.items()}
    system_id = signed_lower.get(f"{PREFIX}systemid".lower(), "")
    secret = secret_for(system_id) if system_id else None
    if secret is None:
        raise AxisUnknownSystemError(system_id=system_id)
    expected = hmac.new(secret.encode("utf-8"), document.encode("utf-8"), hashlib.sha256)
    if not hmac.compare_digest(expected.hexdigest(), digest.strip().lower()):
        raise AxisSignatureInvalidError(reason="HMAC mismatch")
    sent = {
        name: value
        for name, value in received.items()
        if name.startswith(PREFIX.lower()) and name not in _UNSIGNED
    }
    if sent != signed_lower:
        raise AxisSignatureInvalidError(reason="headers differ from the signed ones")
    moment = parse_timestamp(signed_lower.get(f"{PREFIX}timestamp".lower(), ""))
    if moment is None or abs(now - moment) > max_skew:
        raise AxisTimestampError()
    logical = {name[len(PREFIX) :]: value for name, value in signed_lower.items()}
    return SignedRequest(system_id, logical, moment)
