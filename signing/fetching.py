# mypy: allow-untyped-calls
# (pyhanko-certvalidator's fetchers and pyHanko's timestamp client are unannotated.)
"""The one outbound-fetch policy of DHTN: what the server may fetch over HTTP, and from where.

Nothing is fetched because of what a user or a peer sent. URLs inside certificates (AIA
"CA issuers", OCSP, CRL distribution points) are attacker-chosen when the certificate came in an
uploaded PDF, a signing session or a received package, so a URL is fetched only when its host is
one the operator configured:

* the host of ``DHTN_TSA_URL`` (the timestamp server);
* the hosts named in the AIA / OCSP / CRL extensions of the CA certificates the operator trusts
  (``DHTN_TRUST_ROOTS``, or the demo PKI's);
* the entries of ``DHTN_FETCH_ALLOW`` (``host``, ``host:port`` or a URL; comma or space separated).

A host entry without a port allows ports 80 and 443; a URL or ``host:port`` allows that port.
Only ``http`` and ``https`` are fetched. Every address a name resolves to is checked, and the
connection goes to a checked address (no second lookup an attacker's DNS could answer
differently). Loopback, private, link-local, multicast, reserved and other non-public addresses
(IPv4 and IPv6, IPv4-mapped, 6to4, Teredo, NAT64 forms included) are refused, except for hosts
the operator named explicitly (``DHTN_TSA_URL``, ``DHTN_FETCH_ALLOW``): an address derived from
a CA certificate must be public. Each fetch has a deadline, a size cap, and follows a redirect
only to the same scheme, host and port (at most three).

:class:`PolicyFetcherBackend` plugs the policy into pyhanko-certvalidator (validation contexts
built by :class:`~signing.trust.TrustSettings`); :class:`PolicyTimeStamper` is the RFC 3161
client for the TSA.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import time
from asyncio import to_thread
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
import urllib3
from asn1crypto import tsp
from asn1crypto import x509 as asn1_x509
from pyhanko.sign.timestamps.api import TimeStamper
from pyhanko.sign.timestamps.common_utils import TimestampRequestError, set_tsp_headers
from pyhanko_certvalidator.fetchers.api import FetcherBackend, Fetchers, FetchLimits
from pyhanko_certvalidator.fetchers.common_utils import FetchBudget
from pyhanko_certvalidator.fetchers.requests_fetchers.cert_fetch_client import (
    RequestsCertificateFetcher,
)
from pyhanko_certvalidator.fetchers.requests_fetchers.crl_client import RequestsCRLFetcher
from pyhanko_certvalidator.fetchers.requests_fetchers.ocsp_client import RequestsOCSPFetcher

__all__ = [
    "AllowedHost",
    "FetchError",
    "FetchPolicy",
    "FetchRefusedError",
    "FetchResponse",
    "PolicyFetcherBackend",
    "PolicyTimeStamper",
    "certificate_urls",
    "is_public_address",
]

log = logging.getLogger(__name__)

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Sequence[str]]

DEFAULT_PORTS = {"http": 80, "https": 443}
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_CHUNK = 64 * 1024


class FetchError(Exception):
    """A fetch did not produce a usable answer (refused by the policy, or failed)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class FetchRefusedError(FetchError):
    """The policy forbids this request: nothing was sent."""


@dataclass(frozen=True)
class AllowedHost:
    """One host the server may fetch from; ``port`` ``None`` = the scheme's default port."""

    host: str
    port: int | None = None
    private_ok: bool = False

    def matches(self, host: str, port: int, scheme: str) -> bool:
        if host != self.host:
            return False
        if self.port is None:
            return port == DEFAULT_PORTS[scheme]
        return port == self.port


@dataclass(frozen=True)
class FetchResponse:
    """What came back (the body already read, within the size cap)."""

    status_code: int
    headers: Mapping[str, str]
    content: bytes
    url: str


def _system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def normalize_host(host: str) -> str:
    """Lower-case, no trailing dot, IDNA for names; the canonical text of an IP literal."""
    host = host.strip().strip("[]").rstrip(".").lower()
    try:
        return str(ipaddress.ip_address(host.split("%", 1)[0]))
    except ValueError:
        pass
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


def is_public_address(address: str | Address) -> bool:
    """Whether ``address`` is a globally routable unicast address (not ours, not a LAN's)."""
    addr = ipaddress.ip_address(address) if isinstance(address, str) else address
    if isinstance(addr, ipaddress.IPv6Address):
        if addr.scope_id:
            return False
        embedded: ipaddress.IPv4Address | None = addr.ipv4_mapped or addr.sixtofour
        if embedded is None and addr.teredo is not None:
            embedded = addr.teredo[1]
        if embedded is None and addr in _NAT64:
            embedded = ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF)
        if embedded is not None and not is_public_address(embedded):
            return False
    return bool(
        addr.is_global
        and not addr.is_multicast
        and not addr.is_reserved
        and not addr.is_unspecified
        and not addr.is_loopback
        and not addr.is_link_local
        and not addr.is_private
    )


def _uri_text(general: Any) -> str:
    # The bytes as written: asn1crypto's .native rewrites some URIs (drops IPv6 brackets).
    return bytes(general.chosen.contents).decode("ascii", "replace")


def certificate_urls(cert: asn1_x509.Certificate) -> list[str]:
    """The AIA (CA issuers, OCSP) and CRL distribution point URLs a certificate names."""
    urls: list[str] = []
    aia = cert.authority_information_access_value
    if aia is not None:
        for desc in aia:
            location = desc["access_location"]
            if location.name == "uniform_resource_identifier":
                urls.append(_uri_text(location))
    for dp in cert.crl_distribution_points or ():
        names = dp["distribution_point"]
        if names.name != "full_name":
            continue
        for general in names.chosen:
            if general.name == "uniform_resource_identifier":
                urls.append(_uri_text(general))
    return urls


def _origin(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or DEFAULT_PORTS.get(scheme, -1)
    except ValueError:
        port = -1
    return scheme, normalize_host(parts.hostname or ""), port


def _entry(text: str, *, private_ok: bool) -> AllowedHost | None:
    text = text.strip()
    if not text:
        return None
    parts = urlsplit(text if "://" in text else f"//{text}")
    if parts.scheme and parts.scheme not in DEFAULT_PORTS:
        return None
    try:
        port = parts.port
    except ValueError:
        return None
    if not parts.hostname:
        return None
    if parts.scheme and port is None:
        port = DEFAULT_PORTS[parts.scheme]
    return AllowedHost(normalize_host(parts.hostname), port, private_ok)


@dataclass(frozen=True)
class FetchPolicy:
    """Hosts the server may fetch from, with a deadline and a size cap per fetch.

    An empty policy (``FetchPolicy()``) fetches nothing. Build one with :meth:`configure`.
    """

    hosts: tuple[AllowedHost, ...] = ()
    timeout: float = 10.0
    max_bytes: int = 2 * 1024 * 1024
    max_redirects: int = 3
    user_agent: str = "DHTN"
    resolver: Resolver = field(default=_system_resolver, compare=False, repr=False)

    @classmethod
    def configure(
        cls,
        *,
        allow: Iterable[str] = (),
        tsa_url: str | None = None,
        trusted_cas: Iterable[bytes | asn1_x509.Certificate] = (),
        **kwargs: Any,
    ) -> FetchPolicy:
        """The policy of an installation: ``allow`` (``DHTN_FETCH_ALLOW`` entries) and the TSA
        may be on private addresses; hosts taken from the trusted CA certificates must be
        public unless ``allow`` names them too."""
        hosts: list[AllowedHost] = []
        for text in [*allow, *([tsa_url] if tsa_url else [])]:
            entry = _entry(text, private_ok=True)
            if entry is not None:
                hosts.append(entry)
        for ca in trusted_cas:
            cert = ca if isinstance(ca, asn1_x509.Certificate) else asn1_x509.Certificate.load(ca)
            for url in certificate_urls(cert):
                entry = _entry(url, private_ok=False)
                if entry is not None and urlsplit(url).scheme in DEFAULT_PORTS:
                    hosts.append(entry)
        return cls(hosts=tuple(dict.fromkeys(hosts)), **kwargs)

    @property
    def fetches(self) -> bool:
        return bool(self.hosts)

    # --- checking

    def check(self, url: str) -> tuple[str, str, int, list[str]]:
        """``(scheme, host, port, addresses)`` of an allowed URL; :class:`FetchRefusedError` else."""
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in DEFAULT_PORTS:
            raise FetchRefusedError("scheme_not_allowed", f"scheme not allowed: {url[:200]}")
        if parts.username or parts.password:
            raise FetchRefusedError("credentials_in_url", "URLs with credentials are not fetched")
        try:
            port = parts.port or DEFAULT_PORTS[scheme]
        except ValueError as exc:
            raise FetchRefusedError("bad_url", f"bad port in {url[:200]}") from exc
        if not parts.hostname:
            raise FetchRefusedError("bad_url", f"no host in {url[:200]}")
        host = normalize_host(parts.hostname)
        entries = [h for h in self.hosts if h.matches(host, port, scheme)]
        if not entries:
            raise FetchRefusedError("host_not_allowed", f"host not allowed: {host}:{port}")
        private_ok = any(h.private_ok for h in entries)
        try:
            literal: Address | None = ipaddress.ip_address(host)
        except ValueError:
            literal = None
        if literal is not None:
            addresses = [str(literal)]
        else:
            try:
                addresses = list(self.resolver(host, port))
            except (OSError, UnicodeError) as exc:
                raise FetchError("resolution_failed", f"cannot resolve {host}: {exc}") from exc
        if not addresses:
            raise FetchError("resolution_failed", f"cannot resolve {host}")
        if not private_ok:
            bad = [a for a in addresses if not is_public_address(a)]
            if bad:
                raise FetchRefusedError(
                    "address_not_public", f"{host} resolves to a non-public address {bad[0]}"
                )
        return scheme, host, port, addresses

    def allows(self, url: str) -> bool:
        """Whether ``url`` passes the host and address checks (resolves names)."""
        try:
            self.check(url)
        except FetchError:
            return False
        return True

    # --- fetching

    def get(self, url: str, *, headers: Mapping[str, str] | None = None) -> FetchResponse:
        return self.request("GET", url, headers=headers)

    def post(
        self, url: str, data: bytes, *, headers: Mapping[str, str] | None = None
    ) -> FetchResponse:
        return self.request("POST", url, body=data, headers=headers)

    def request(
        self,
        method: str,
        url: str,
        *,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> FetchResponse:
        """One request under the policy (redirects only within the same origin)."""
        deadline = time.monotonic() + self.timeout
        origin: tuple[str, str, int] | None = None
        for _ in range(self.max_redirects + 1):
            if origin is not None and _origin(url) != origin:
                raise FetchRefusedError(
                    "redirect_not_allowed", f"redirect from {origin[1]} to another host refused"
                )
            scheme, host, port, addresses = self.check(url)
            origin = (scheme, host, port)
            response = self._send(method, url, body, headers or {}, deadline, addresses)
            location = response.headers.get("location")
            if response.status_code not in _REDIRECTS or not location:
                return response
            if response.status_code == 303:
                method, body = "GET", None
            url = urljoin(url, location)
        raise FetchRefusedError("too_many_redirects", "too many redirects")

    def _send(
        self,
        method: str,
        url: str,
        body: bytes | None,
        headers: Mapping[str, str],
        deadline: float,
        addresses: list[str],
    ) -> FetchResponse:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        host = normalize_host(parts.hostname or "")
        port = parts.port or DEFAULT_PORTS[scheme]
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        host_header = f"[{host}]" if ":" in host else host
        if port != DEFAULT_PORTS[scheme]:
            host_header += f":{port}"
        sent = {"User-Agent": self.user_agent, **headers, "Host": host_header}
        last: Exception | None = None
        for address in addresses:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            timeout = urllib3.Timeout(connect=remaining, read=remaining)
            pool: urllib3.HTTPConnectionPool
            if scheme == "https":
                pool = urllib3.HTTPSConnectionPool(
                    address,
                    port,
                    timeout=timeout,
                    retries=False,
                    maxsize=1,
                    server_hostname=host,
                    assert_hostname=host,
                    cert_reqs="CERT_REQUIRED",
                )
            else:
                pool = urllib3.HTTPConnectionPool(
                    address, port, timeout=timeout, retries=False, maxsize=1
                )
            try:
                raw = pool.urlopen(
                    method,
                    path,
                    body=body,
                    headers=sent,
                    redirect=False,
                    retries=False,
                    preload_content=False,
                    assert_same_host=False,
                )
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                last = exc
                pool.close()
                continue
            try:
                content = self._read(raw, deadline)
                return FetchResponse(
                    raw.status, {k.lower(): v for k, v in raw.headers.items()}, content, url
                )
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                raise FetchError("fetch_failed", f"reading from {host} failed: {exc}") from exc
            finally:
                raw.release_conn()
                pool.close()
        raise FetchError("fetch_failed", f"cannot reach {host}:{port}: {last or 'timeout'}")

    def _read(self, raw: urllib3.BaseHTTPResponse, deadline: float) -> bytes:
        declared = raw.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > self.max_bytes:
            raise FetchRefusedError("too_large", f"answer of {declared} bytes is over the cap")
        chunks: list[bytes] = []
        size = 0
        while True:
            if time.monotonic() > deadline:
                raise FetchError("timeout", "the fetch took too long")
            chunk = raw.read(_CHUNK)
            if not chunk:
                return b"".join(chunks)
            size += len(chunk)
            if size > self.max_bytes:
                raise FetchRefusedError("too_large", "answer over the size cap")
            chunks.append(chunk)


# --- pyhanko-certvalidator: fetchers whose HTTP goes through the policy


class _PolicyHttp:
    """Replaces the ``requests`` calls of certvalidator's fetchers with policy-checked ones."""

    _policy: FetchPolicy
    user_agent: str

    def _call(
        self, method: str, url: str, data: bytes | None, headers: dict[str, str]
    ) -> FetchResponse:
        try:
            response = self._policy.request(method, url, body=data, headers=headers)
        except FetchRefusedError as exc:
            log.warning("outbound fetch refused (%s): %s", exc.code, exc)
            raise requests.RequestException(str(exc)) from exc
        except FetchError as exc:
            raise requests.RequestException(str(exc)) from exc
        if response.status_code != 200:
            raise requests.RequestException(f"status code {response.status_code}")
        return response

    def _get(self, url: str, *, acceptable_content_types: Iterable[str]) -> Any:
        headers = {"Accept": ",".join(acceptable_content_types), "User-Agent": self.user_agent}
        return to_thread(self._call, "GET", url, None, headers)

    def _post(
        self, url: str, data: bytes, *, content_type: str, acceptable_content_types: Iterable[str]
    ) -> Any:
        headers = {
            "Accept": ",".join(acceptable_content_types),
            "User-Agent": self.user_agent,
            "Content-Type": content_type,
        }
        return to_thread(self._call, "POST", url, data, headers)


class _OcspFetcher(_PolicyHttp, RequestsOCSPFetcher):
    def __init__(self, policy: FetchPolicy, budget: FetchBudget) -> None:
        super().__init__(per_request_timeout=policy.timeout, budget=budget)
        self._policy = policy


class _CrlFetcher(_PolicyHttp, RequestsCRLFetcher):
    def __init__(self, policy: FetchPolicy, budget: FetchBudget) -> None:
        super().__init__(per_request_timeout=policy.timeout, budget=budget)
        self._policy = policy


class _CertFetcher(_PolicyHttp, RequestsCertificateFetcher):
    def __init__(self, policy: FetchPolicy, budget: FetchBudget) -> None:
        super().__init__(per_request_timeout=policy.timeout, budget=budget)
        self._policy = policy


# Far below certvalidator's defaults: a real chain needs a handful of fetches.
DEFAULT_LIMITS = FetchLimits(max_requests=30, max_cert_requests=8, max_aia_urls_per_object=2)


class PolicyFetcherBackend(FetcherBackend):
    """certvalidator fetchers (OCSP, CRL, issuer certificates) that obey a :class:`FetchPolicy`."""

    def __init__(self, policy: FetchPolicy, limits: FetchLimits = DEFAULT_LIMITS) -> None:
        self.policy = policy
        self.limits = limits

    def get_fetchers(self) -> Fetchers:
        budget = FetchBudget(self.limits)
        return Fetchers(
            ocsp_fetcher=_OcspFetcher(self.policy, budget),
            crl_fetcher=_CrlFetcher(self.policy, budget),
            cert_fetcher=_CertFetcher(self.policy, budget),
        )

    async def close(self) -> None:
        return None


class PolicyTimeStamper(TimeStamper):
    """RFC 3161 over HTTP POST to ``url``, through the policy (which must allow its host)."""

    def __init__(self, url: str, policy: FetchPolicy) -> None:
        super().__init__()
        self.url = url
        self.policy = policy

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        def task() -> tsp.TimeStampResp:
            try:
                response = self.policy.post(self.url, req.dump(), headers=set_tsp_headers({}))
            except FetchError as exc:
                raise TimestampRequestError(
                    f"Error in communication with timestamp server: {exc}"
                ) from exc
            if response.status_code != 200 or (
                response.headers.get("content-type") != "application/timestamp-reply"
            ):
                raise TimestampRequestError("Timestamp server response is malformed.")
            return tsp.TimeStampResp.load(response.content)

        return await to_thread(task)
