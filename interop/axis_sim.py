"""A local simulator of the national document interconnection axis (``dhtn axis-sim``).

It speaks the API of DOMAIN.md §7 (see :mod:`interop.axis_client`) so that two DHTN
installations, or a developer, can exchange documents with no outside network::

    serve("127.0.0.1", 8090, "var/axis-sim", {"000.00.00.Z01": "secret-1", ...})
    python -m interop.axis_sim --port 8090 --data var/axis-sim --system ID:SECRET ...

Only the listed systems may connect; every request is checked as the real axis would
(:func:`interop.axis_auth.verify`: HMAC, signed headers, timestamp within 15 minutes): 401 for
a bad or missing signature, 403 for an unknown system. All calls are ``POST``:

==========================  =====================================================================
``/sendEdoc``               body: the package. Headers from, to (JSON list of agency codes or
                            system ids), messagetype edoc|status, hash-file (checked). The
                            envelope is read (a package that is not edXML, or of the wrong kind,
                            is refused and not kept); ``from`` must be the system or one of its
                            agencies. The same bytes from the same sender to the same recipients
                            are one message: the answer repeats the first id, ``duplicate: true``.
``/getReceivedEdocList``    messages of ``messagetype`` for the caller not yet acknowledged done
``/getSentEdocList``        the caller's messages with each recipient's transport status
``/getEdoc``                header docid: the package base64-encoded (streamed), its SHA-256 in
                            the ``XroadVnpt-hash-file`` response header; 404 unless the caller
                            sent or receives it
``/updateStatus``           headers docid, status done|fail|processing (the caller's delivery)
``/getAgenciesList``        the directory
``/registerAgency``         JSON body {code, name, parent_code, address, email, phone, website},
                            signed through hash-body; 409 for a code of another system
``/health``                 (GET, no signature) liveness
==========================  =====================================================================

Answers are JSON ``{"status": "OK", "ErrorCode": "0", "ErrorDesc": "", ...}``, refusals
``{"status": "FAIL", "ErrorCode": "<snake_case>", "ErrorDesc": "<Vietnamese>"}`` with the HTTP
status. What it holds survives restarts (:mod:`interop.axis_store`).
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import hashlib
import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from interop.axis_auth import DEFAULT_MAX_SKEW, SignedRequest, verify
from interop.axis_store import SimStore
from interop.edxml.parse import read_envelope
from interop.errors import AxisConflictError, EdxmlError, InteropError

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

DEFAULT_PORT = 8090
DEFAULT_MAX_PACKAGE = 1024 * 1024 * 1024
_STATUSES = ("done", "fail", "processing")
_RAW_CHUNK = 3 * 64 * 1024


class _Refusal(Exception):
    def __init__(self, status: int, code: str, message: str, **details: object) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details


class AxisSimulator:
    """The WSGI application. Use :func:`make_sim_app`."""

    def __init__(
        self,
        data_dir: str | os.PathLike[str],
        systems: Mapping[str, str],
        *,
        max_clock_skew: dt.timedelta = DEFAULT_MAX_SKEW,
        max_package_size: int = DEFAULT_MAX_PACKAGE,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        if not systems:
            raise ValueError("the axis simulator needs at least one system (ID:SECRET)")
        self.store = SimStore(data_dir)
        self.systems = dict(systems)
        self.max_clock_skew = max_clock_skew
        self.max_package_size = max_package_size
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self._routes: dict[str, Callable[[Request, SignedRequest], Response]] = {
            "sendEdoc": self._send,
            "getReceivedEdocList": self._received,
            "getSentEdocList": self._sent,
            "getEdoc": self._get,
            "updateStatus": self._update_status,
            "getAgenciesList": self._agencies,
            "registerAgency": self._register_agency,
        }

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        try:
            response = self._dispatch(request)
        except _Refusal as refusal:
            response = _fail(refusal.status, refusal.code, refusal.message)
        except InteropError as error:
            response = _fail(error.http_status, error.code, error.message)
        if response.status_code >= 400:
            _drain(request)
        return response(environ, start_response)

    def _dispatch(self, request: Request) -> Response:
        call = request.path.strip("/").rsplit("/", 1)[-1]
        if request.method == "GET" and call == "health":
            return _ok()
        handler = self._routes.get(call)
        if handler is None:
            raise _Refusal(404, "axis_unknown_call", "Không có chức năng này trên trục liên thông.")
        if request.method != "POST":
            raise _Refusal(405, "axis_method_not_allowed", "Chỉ chấp nhận phương thức POST.")
        headers = dict(request.headers.items())
        signed = verify(headers, self.systems.get, now=self.clock(), max_skew=self.max_clock_skew)
        return handler(request, signed)

    # --- calls ----------------------------------------------------------------------------

    def _send(self, request: Request, signed: SignedRequest) -> Response:
        messagetype = signed.get("messagetype", "edoc")
        if messagetype not in ("edoc", "status"):
            raise _Refusal(400, "axis_bad_messagetype", "Loại thông điệp không hợp lệ.")
        announced = signed.get("hash-file").strip().lower()
        if not announced:
            raise _Refusal(400, "axis_hash_missing", "Thiếu mã băm gói tin (hash-file).")
        from_code = signed.get("from").strip()
        if from_code != signed.system_id and self.store.agency_owner(from_code) != signed.system_id:
            raise _Refusal(
                403, "axis_sender_not_allowed", f"Hệ thống không được gửi thay cơ quan {from_code}."
            )
        to_codes = _json_list(signed.get("to"))
        systems = {code: self._system_of(code) for code in to_codes}
        unknown = sorted(code for code, system in systems.items() if system is None)
        if not to_codes or unknown:
            raise _Refusal(
                400, "axis_unknown_recipient", f"Không có nơi nhận hợp lệ: {', '.join(unknown)}"
            )
        upload, sha256, size = self.store.receive(
            request.stream, request.content_length, self.max_package_size
        )
        try:
            if size > self.max_package_size:
                raise _Refusal(413, "axis_package_too_large", "Gói tin vượt quá kích thước.")
            if sha256 != announced:
                raise _Refusal(
                    400, "axis_hash_mismatch", "Mã băm gói tin không khớp với hash-file."
                )
            envelope = read_envelope(upload)
            if envelope.kind != messagetype:
                raise _Refusal(
                    400, "axis_messagetype_mismatch", "Nội dung không khớp loại thông điệp."
                )
        except (_Refusal, EdxmlError):
            self.store.discard_upload(upload)
            raise
        message, duplicate = self.store.add(
            upload,
            sender_system=signed.system_id,
            from_code=from_code,
            to_codes=to_codes,
            recipient_systems=[s for s in systems.values() if s is not None],
            messagetype=messagetype,
            sha256=sha256,
            size=size,
            document_id=envelope.document_id,
            now=self.clock(),
        )
        return _ok(DocId=message.id, duplicate=duplicate)

    def _system_of(self, code: str) -> str | None:
        return self.store.agency_owner(code) or (code if code in self.systems else None)

    def _received(self, request: Request, signed: SignedRequest) -> Response:
        messagetype = signed.get("messagetype", "edoc")
        items = [
            {**message.as_json(), "status": status}
            for message, status in self.store.received(signed.system_id, messagetype)
        ]
        return _ok(data=items)

    def _sent(self, request: Request, signed: SignedRequest) -> Response:
        items = []
        for message, recipients in self.store.sent(
            signed.system_id, signed.get("messagetype", "edoc")
        ):
            deliveries = [
                {"code": code, "status": recipients.get(self._system_of(code) or "", "")}
                for code in message.to_codes
            ]
            items.append({**message.as_json(), "deliveries": deliveries})
        return _ok(data=items)

    def _get(self, request: Request, signed: SignedRequest) -> Response:
        message = self.store.get(signed.get("docid"))
        if message is None or signed.system_id not in (
            message.sender_system,
            *self.store.recipients(message.id),
        ):
            raise _Refusal(404, "axis_not_found", "Không tìm thấy gói tin.")
        response = Response(
            _base64_file(self.store.path_of(message.id)),
            mimetype="text/plain",
            direct_passthrough=True,
        )
        response.content_length = 4 * ((message.size + 2) // 3)
        response.headers["XroadVnpt-hash-file"] = message.sha256
        response.headers["XroadVnpt-docid"] = message.id
        return response

    def _update_status(self, request: Request, signed: SignedRequest) -> Response:
        status = signed.get("status")
        if status not in _STATUSES:
            raise _Refusal(400, "axis_bad_status", "Trạng thái phải là done, fail hoặc processing.")
        if not self.store.set_status(signed.get("docid"), signed.system_id, status, self.clock()):
            raise _Refusal(404, "axis_not_found", "Không tìm thấy gói tin.")
        return _ok()

    def _agencies(self, request: Request, signed: SignedRequest) -> Response:
        return _ok(data=self.store.agencies())

    def _register_agency(self, request: Request, signed: SignedRequest) -> Response:
        body = request.get_data(cache=False)
        if len(body) > 64 * 1024 or hashlib.sha256(body).hexdigest() != signed.get("hash-body"):
            raise _Refusal(400, "axis_hash_mismatch", "Mã băm nội dung không khớp với hash-body.")
        try:
            fields = json.loads(body)
        except ValueError:
            fields = None
        if not isinstance(fields, dict) or not all(isinstance(v, str) for v in fields.values()):
            raise _Refusal(400, "axis_bad_request", "Nội dung đăng ký cơ quan không hợp lệ.")
        code, name = fields.get("code", "").strip(), fields.get("name", "").strip()
        if not code or not name:
            raise _Refusal(400, "axis_bad_request", "Cần mã và tên cơ quan.")
        if code in self.systems and code != signed.system_id:
            raise AxisConflictError(f"Mã {code} là mã của một hệ thống khác.", code=code)
        details = {k: v for k, v in fields.items() if k not in ("code", "name")}
        self.store.register_agency(code, name, signed.system_id, details, self.clock())
        agency = {**details, "code": code, "name": name, "system_id": signed.system_id}
        return _ok(data=agency)


def _drain(request: Request, limit: int = 64 * 1024 * 1024) -> None:
    """Read what is left of a refused request's body, so the client sees the answer rather
    than a connection reset (beyond ``limit`` the connection is simply closed)."""
    length = request.content_length
    if length is None or length > limit:
        return
    stream = request.stream
    while stream.read(256 * 1024):
        pass


def _json_list(raw: str) -> list[str]:
    try:
        value = json.loads(raw) if raw.strip().startswith("[") else raw.split(",")
    except ValueError:
        return []
    if not isinstance(value, list):
        return []
    return [str(code).strip() for code in value if str(code).strip()]


def _base64_file(path: Path) -> Iterator[bytes]:
    with path.open("rb") as stream:
        while chunk := stream.read(_RAW_CHUNK):
            yield base64.b64encode(chunk)


def _ok(**fields: object) -> Response:
    body = {"status": "OK", "ErrorCode": "0", "ErrorDesc": "", **fields}
    return Response(json.dumps(body, ensure_ascii=False), mimetype="application/json")


def _fail(status: int, code: str, message: str) -> Response:
    body = {"status": "FAIL", "ErrorCode": code, "ErrorDesc": message}
    return Response(json.dumps(body, ensure_ascii=False), status, mimetype="application/json")


def make_sim_app(
    data_dir: str | os.PathLike[str], systems: dict[str, str], **options: Any
) -> WsgiApp:
    """The simulator as a WSGI app, keeping its data in ``data_dir``; ``systems`` maps each
    allowed system id to its secret. Options: ``max_clock_skew``, ``max_package_size``,
    ``clock``."""
    return AxisSimulator(data_dir, systems, **options)


def serve(host: str, port: int, data_dir: str | os.PathLike[str], systems: dict[str, str]) -> None:
    """Run the simulator (threaded werkzeug server) until interrupted."""
    app = make_sim_app(data_dir, systems)
    server = make_server(host, port, app, threaded=True)
    print(
        f"Trục liên thông giả lập: http://{host}:{server.port} "
        f"(dữ liệu: {Path(data_dir).resolve()}, hệ thống: {', '.join(sorted(systems))})",
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def parse_system_option(value: str) -> tuple[str, str]:
    """``"ID:SECRET"`` → ``("ID", "SECRET")`` (the secret may contain ``:``)."""
    system_id, colon, secret = value.partition(":")
    if not colon or not system_id.strip() or not secret:
        raise ValueError(f"expected ID:SECRET, got {value!r}")
    return system_id.strip(), secret


def main(argv: list[str] | None = None) -> None:
    """``python -m interop.axis_sim``: the same options as ``dhtn axis-sim``."""
    parser = argparse.ArgumentParser(prog="axis-sim", description="Local national-axis simulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--data", default="var/axis-sim")
    parser.add_argument("--system", action="append", required=True, metavar="ID:SECRET")
    args = parser.parse_args(argv)
    try:
        systems = dict(parse_system_option(value) for value in args.system)
    except ValueError as exc:
        parser.error(str(exc))
    serve(args.host, args.port, args.data, systems)


if __name__ == "__main__":
    main(sys.argv[1:])
