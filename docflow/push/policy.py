"""Who may register pushes, which push endpoints DHTN will ever send to, and what a push may
say (plain values; no database, no network).

The endpoint a person registers is the one outbound request their input leads to, so it is held
to: ``https`` on the default port, no user name or password in it, no IP literal that is not a
public address, no ``localhost`` or ``.local`` name. The operator may allow test push services
explicitly (``DHTN_PUSH_TEST_ORIGINS``: exact origins such as ``http://localhost:8090``, the
only way an ``http`` or loopback endpoint is accepted). The worker checks the endpoint again when
it sends, resolving the name and refusing a non-public address (see ``app/push.py``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Collection
from urllib.parse import urlsplit

from docflow.enums import Secrecy
from signing.fetching import is_public_address, normalize_host

LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".lan", ".home.arpa")


def may_subscribe(active: bool) -> bool:
    """Every signed-in, active person may take pushes on their own devices."""
    return active


def origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` of ``url`` in canonical form (lower case, default port left
    out), or ``None`` when it has none."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return None
    host = normalize_host(parts.hostname)
    if ":" in host:
        host = f"[{host}]"
    default = 443 if scheme == "https" else 80
    return f"{scheme}://{host}" + (f":{port}" if port and port != default else "")


def endpoint_problem(endpoint: str, test_origins: Collection[str] = ()) -> str | None:
    """Why DHTN will not send to ``endpoint`` (a Vietnamese sentence), or ``None``."""
    try:
        parts = urlsplit(endpoint)
        parts.port  # noqa: B018  (raises on a bad port)
    except ValueError:
        return "Địa chỉ dịch vụ đẩy không hợp lệ."
    origin = origin_of(endpoint)
    if origin is None or parts.fragment:
        return "Địa chỉ dịch vụ đẩy không hợp lệ."
    if parts.username is not None or parts.password is not None:
        return "Địa chỉ dịch vụ đẩy không được chứa tên đăng nhập hay mật khẩu."
    allowed = {o for o in (origin_of(t) for t in test_origins) if o}
    if origin in allowed:
        return None
    if parts.scheme.lower() != "https":
        return "Dịch vụ đẩy phải dùng https."
    if parts.port not in (None, 443):
        return "Dịch vụ đẩy phải dùng cổng 443 mặc định."
    host = normalize_host(parts.hostname or "")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is not None:
        if not is_public_address(address):
            return "Dịch vụ đẩy không được ở địa chỉ nội bộ."
    elif host == "localhost" or host.endswith(LOCAL_SUFFIXES) or "." not in host:
        return "Dịch vụ đẩy không được ở địa chỉ nội bộ."
    return None


def readable_offline(secrecy: str) -> bool:
    """Whether a document's page may be kept on the device for reading offline: never a
    document marked Mật or above (the device's cache is outside the clearance checks)."""
    return secrecy == Secrecy.NONE.value


def shown_on_lock_screen(secrecy: str) -> bool:
    """Whether a notification about a document may carry its subject (a push shows on the lock
    screen): not for a document marked Mật or above."""
    return secrecy == Secrecy.NONE.value
