"""The client of the national document interconnection axis (VDXP/LGSP), API of DOMAIN.md §7.

    client = AxisClient(url, system_id, secret, timeout=(5, 60), retries=3)
    sent = client.send_edoc(path_or_bytes_or_stream, to=["000.00.01.Z01"])   # SentEdoc
    for item in client.get_received_list():                 # EdocInfo, messagetype "edoc"
        data = client.get_edoc(item.doc_id)                 # bytes; or download_edoc(id, sink)
        ...                                                 # parse, store, then acknowledge:
        client.update_status(item.doc_id, "done")           # "done" | "fail" | "processing"
    client.get_received_list("status")                      # status messages, polled the same way
    client.register_agency("000.00.00.Z01", "Ủy ban Trung ương MTTQ Việt Nam")
    client.get_agencies()                                   # [Agency]

Every request is POST with the signed ``XroadVnpt-`` headers of :mod:`interop.axis_auth`,
re-signed (fresh timestamp) on each attempt. Connection errors, timeouts and 429/500/502/503/504
are retried ``retries`` times with exponential backoff and jitter (``Retry-After`` is honoured up
to ``max_backoff``); then :class:`AxisUnavailableError`. Other refusals are not retried:
401/403 :class:`AxisAuthError`, 404 :class:`AxisNotFoundError`, 409 :class:`AxisConflictError`,
other 4xx :class:`AxisRequestError` (``details["axis_code"]`` holds the axis's own code).

Idempotency: ``send_edoc`` computes the package's SHA-256 (sent as ``hash-file``) and reads its
DocumentId before sending, and returns both with the axis's id. Retrying a send whose answer was
lost is safe because the axis (and the simulator) treat the same bytes from the same sender to
the same recipients as one message (``SentEdoc.duplicate``). On receipt, dedupe on ``doc_id``,
then on the package SHA-256 and DocumentId. ``send_edoc`` refuses, before any network call, a
package that is not readable edXML or whose kind does not match ``messagetype``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import random
import shutil
import ssl
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Literal

import requests
import urllib3

from interop.axis_auth import format_timestamp, sign
from interop.axis_results import (
    Agency,
    DownloadedEdoc,
    EdocInfo,
    SentEdoc,
    agency,
    edoc_content,
    edoc_info,
    read_items,
    read_json,
    refusal,
)
from interop.edxml._scan import Base64Sink
from interop.edxml.parse import Source, read_envelope
from interop.errors import (
    AxisIntegrityError,
    AxisProtocolError,
    AxisUnavailableError,
    EdxmlError,
    EdxmlKindError,
)

MessageType = Literal["edoc", "status"]
TransportStatus = Literal["done", "fail", "processing"]
TOO_MANY = 429  # retried, as is every 5xx (a gateway's 520, 524, 599 too)
_CHUNK = 256 * 1024


class AxisClient:
    """A client bound to one system's credentials. Thread-safe enough for one job at a time."""

    def __init__(
        self,
        base_url: str,
        system_id: str,
        secret: str,
        timeout: float | tuple[float, float] = (5.0, 60.0),
        retries: int = 3,
        *,
        backoff: float = 0.5,
        max_backoff: float = 10.0,
        session: requests.Session | None = None,
        clock: Callable[[], dt.datetime] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.system_id = system_id
        self._secret = secret
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._session = session or requests.Session()
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self._sleep = sleep

    def __repr__(self) -> str:
        return f"AxisClient({self.base_url!r}, system_id={self.system_id!r})"

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> AxisClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # --- the API ----------------------------------------------------------------------------

    def send_edoc(
        self,
        package: Source,
        to: Sequence[str] | None = None,
        *,
        messagetype: MessageType = "edoc",
        from_code: str | None = None,
    ) -> SentEdoc:
        """Send a package (or, with ``messagetype="status"``, a status message).

        ``to`` defaults to the package's To organisations (a status goes to the organisation
        it answers); ``from_code`` to its From. Bytes, a path or a binary stream.
        """
        with _body(package) as (body, sha256, size):
            envelope = read_envelope(body)
            if envelope.kind != messagetype:
                raise EdxmlKindError(expected=messagetype, actual=envelope.kind)
            if envelope.package is not None:
                sender = envelope.package.from_.organ_id
                recipients = [organ.organ_id for organ in envelope.package.to]
            else:
                assert envelope.status is not None
                sender = envelope.status.from_.organ_id
                recipients = [envelope.status.response_for.organ_id]
            targets = list(to) if to is not None else recipients
            if not targets:
                raise ValueError("send_edoc: no recipient")
            logical = {
                "from": from_code or sender,
                "to": json.dumps(targets, separators=(",", ":")),
                "servicetype": "eDoc",
                "messagetype": messagetype,
                "hash-file": sha256,
            }
            data = read_json(self._post("sendEdoc", logical, body))
        doc_id = data.get("DocId") or data.get("docId") or data.get("id")
        if not isinstance(doc_id, str) or not doc_id:
            raise AxisProtocolError(reason="sendEdoc answer without DocId")
        return SentEdoc(doc_id, sha256, size, envelope.document_id, bool(data.get("duplicate")))

    def get_received_list(self, messagetype: MessageType = "edoc") -> list[EdocInfo]:
        """Messages waiting for this system (not yet acknowledged ``done``)."""
        logical = {"servicetype": "eDoc", "messagetype": messagetype}
        return [edoc_info(item) for item in read_items(self._post("getReceivedEdocList", logical))]

    def get_sent_list(self, messagetype: MessageType = "edoc") -> list[EdocInfo]:
        """Messages this system sent, with each recipient's transport status."""
        logical = {"servicetype": "eDoc", "messagetype": messagetype}
        return [edoc_info(item) for item in read_items(self._post("getSentEdocList", logical))]

    def download_edoc(self, doc_id: str, sink: BinaryIO) -> DownloadedEdoc:
        """Stream a message's package into ``sink`` (base64 decoded on the fly), checked against
        the SHA-256 the axis announces. A failure mid-way leaves ``sink`` partial: retry the
        whole download into a fresh sink."""
        response = self._post("getEdoc", {"docid": doc_id}, stream=True)
        with response:
            decoder = Base64Sink(sink, max_size=2**40)
            try:
                if "json" in response.headers.get("Content-Type", ""):
                    decoder.feed(edoc_content(read_json(response)))
                else:
                    for chunk in response.iter_content(_CHUNK):
                        decoder.feed(chunk)
                payload = decoder.finish()
            except EdxmlError as exc:
                raise AxisProtocolError(reason="getEdoc content is not base64") from exc
            except requests.RequestException as exc:
                raise AxisUnavailableError(reason=type(exc).__name__) from exc
            announced = response.headers.get("XroadVnpt-hash-file", "").strip().lower()
        if announced and announced != payload.sha256:
            raise AxisIntegrityError(expected=announced, actual=payload.sha256, doc_id=doc_id)
        return DownloadedEdoc(doc_id, payload.sha256, payload.size)

    def get_edoc(self, doc_id: str) -> bytes:
        """A message's package bytes (in memory: prefer :meth:`download_edoc` for big ones)."""
        sink = io.BytesIO()
        self.download_edoc(doc_id, sink)
        return sink.getvalue()

    def update_status(self, doc_id: str, status: TransportStatus) -> None:
        """Acknowledge a received message: ``done`` (stored), ``fail`` or ``processing``."""
        if status not in ("done", "fail", "processing"):
            raise ValueError(f"update_status: unknown status {status!r}")
        read_json(self._post("updateStatus", {"docid": doc_id, "status": status}))

    def get_agencies(self) -> list[Agency]:
        """The axis's directory of organisations."""
        return [agency(item) for item in read_items(self._post("getAgenciesList", {}))]

    def register_agency(
        self,
        code: str,
        name: str,
        *,
        parent_code: str = "",
        address: str = "",
        email: str = "",
        phone: str = "",
        website: str = "",
    ) -> Agency:
        """Register (or update) an organisation of this system in the axis's directory."""
        fields = {
            "code": code, "name": name, "parent_code": parent_code, "address": address,
            "email": email, "phone": phone, "website": website,
        }  # fmt: skip
        body = json.dumps(fields, ensure_ascii=False).encode("utf-8")
        logical = {"hash-body": hashlib.sha256(body).hexdigest()}
        data = read_json(self._post("registerAgency", logical, body, json_body=True))
        item = data.get("data")
        return agency(item) if isinstance(item, dict) else Agency(code, name, parent_code)

    # --- transport ----------------------------------------------------------------------------

    def _post(
        self,
        call: str,
        logical: Mapping[str, str],
        body: bytes | Path | None = None,
        *,
        stream: bool = False,
        json_body: bool = False,
    ) -> requests.Response:
        url = f"{self.base_url}/{call}"
        reached = False  # whether an attempt may have reached the axis (a send may have left)
        for attempt in range(self.retries + 1):
            headers = sign(
                {
                    **logical,
                    "systemid": self.system_id,
                    "timestamp": format_timestamp(self._clock()),
                },
                self._secret,
            )
            headers["Content-Type"] = (
                "application/json" if json_body else "application/octet-stream"
            )
            last_try = attempt == self.retries
            try:
                with _payload(body) as data:
                    response = self._session.post(
                        url, data=data, headers=headers, timeout=self.timeout, stream=stream
                    )
            except _FAILED_EXCHANGE as exc:
                reached = reached or _may_have_reached(exc)
                if last_try:
                    raise AxisUnavailableError(
                        call=call, reason=type(exc).__name__, reached=reached
                    ) from exc
                self._sleep(self._delay(attempt, None))
                continue
            if response.status_code == TOO_MANY or response.status_code >= 500:
                retry_after = response.headers.get("Retry-After")
                response.close()
                # "Too many requests" turns the request away; a 5xx may come after the axis
                # (behind a gateway that gave up waiting) stored what was sent.
                reached = reached or response.status_code >= 500
                if last_try:
                    raise AxisUnavailableError(
                        call=call, status=response.status_code, reached=reached
                    )
                self._sleep(self._delay(attempt, retry_after))
                continue
            if response.status_code >= 400:
                raise refusal(call, response)
            return response
        raise AssertionError("unreachable")

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        if retry_after and retry_after.strip().isdigit():
            return min(float(retry_after), self.max_backoff)
        delay = min(self.backoff * 2.0**attempt, self.max_backoff)
        return delay * (0.5 + random.random() / 2)  # jitter, not security


# What a request that went wrong on the way raises (retried, then AxisUnavailableError): no
# connection, a timeout, or an answer cut off or garbled on the wire (the axis may have taken
# the request before its answer broke).
_FAILED_EXCHANGE = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)


def _may_have_reached(exc: requests.RequestException) -> bool:
    """Whether a request that failed may have reached the axis: not when no connection was
    made (refused, unreachable, a name not found, the connect timing out, the proxy failing,
    the TLS handshake refused: a certificate not trusted, a protocol not spoken); a read
    timeout, or a connection dropped, a TLS record broken or an answer cut off after the
    request went, may have."""
    if isinstance(exc, requests.ConnectTimeout | requests.exceptions.ProxyError):
        return False
    cause = exc.args[0] if exc.args else None
    cause = getattr(cause, "reason", cause)  # urllib3's MaxRetryError names what failed
    if isinstance(cause, urllib3.exceptions.ConnectTimeoutError | urllib3.exceptions.ProxyError):
        return False  # NewConnectionError, NameResolutionError are ConnectTimeoutErrors too
    if isinstance(exc, requests.exceptions.SSLError):
        return not _handshake_refused(exc)
    return True


# OpenSSL's reasons for a handshake that did not complete (nothing of the request was sent).
_HANDSHAKE_REASONS = frozenset(
    {
        "CERTIFICATE_VERIFY_FAILED",
        "WRONG_VERSION_NUMBER",
        "UNSUPPORTED_PROTOCOL",
        "NO_PROTOCOLS_AVAILABLE",
        "TLSV1_ALERT_PROTOCOL_VERSION",
        "SSLV3_ALERT_HANDSHAKE_FAILURE",
        "TLSV1_ALERT_UNKNOWN_CA",
        "SSLV3_ALERT_BAD_CERTIFICATE",
        "TLSV1_ALERT_INTERNAL_ERROR",
        "HTTP_REQUEST",
        "UNKNOWN_PROTOCOL",
        "SSLV3_ALERT_CERTIFICATE_EXPIRED",
        "TLSV1_UNRECOGNIZED_NAME",
    }
)


def _handshake_refused(exc: BaseException) -> bool:
    """Whether a TLS error comes from a handshake that did not complete: the ssl module's
    error inside it (wrapped by urllib3 and requests) is a certificate's, or names one of
    :data:`_HANDSHAKE_REASONS`. Any other (a broken record while the answer was read) may
    come after the request went."""
    seen: set[int] = set()
    todo: list[object] = [exc]
    while todo:
        e = todo.pop()
        if not isinstance(e, BaseException) or id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, ssl.SSLCertVerificationError):
            return True
        if isinstance(e, ssl.SSLError) and getattr(e, "reason", None) in _HANDSHAKE_REASONS:
            return True
        todo += [*e.args, getattr(e, "reason", None), e.__cause__, e.__context__]
    return False


@contextmanager
def _payload(body: bytes | Path | None) -> Iterator[bytes | BinaryIO | None]:
    if isinstance(body, Path):
        with body.open("rb") as stream:
            yield stream
    else:
        yield body


@contextmanager
def _body(source: Source) -> Iterator[tuple[bytes | Path, str, int]]:
    """The package as bytes or a re-readable file, with its SHA-256 and size."""
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        yield data, hashlib.sha256(data).hexdigest(), len(data)
        return
    if isinstance(source, os.PathLike):
        path = Path(source)
        with path.open("rb") as stream:
            sha256, size = _hash_stream(stream)
        yield path, sha256, size
        return
    with tempfile.TemporaryDirectory(prefix="dhtn-axis-") as directory:
        path = Path(directory) / "package.edxml"
        with path.open("wb") as copy:
            shutil.copyfileobj(source, copy, _CHUNK)
        with path.open("rb") as stream:
            sha256, size = _hash_stream(stream)
        yield path, sha256, size


def _hash_stream(stream: BinaryIO) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    while chunk := stream.read(_CHUNK):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size
