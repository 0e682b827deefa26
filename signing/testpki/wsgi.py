"""A tiny pure-WSGI app (no framework) serving the demo PKI's TSA, OCSP, CRLs and CA certificates.

Mount it where the certificates' URLs point (``base_url`` given at generation, by default
``http://127.0.0.1:5000/pki``). Routes, relative to the mount point:

=========================  ======  =================================================
``/tsa``                   POST    RFC 3161 (``application/timestamp-query``)
``/ocsp``                  POST    RFC 6960 (``application/ocsp-request``)
``/ocsp/<base64 request>`` GET     RFC 6960 appendix A.1
``/crl/root.crl``          GET     CRL of the root CA
``/crl/issuing.crl``       GET     CRL of the issuing CA
``/certs/root.cer``        GET     root CA certificate (DER)
``/certs/issuing.cer``     GET     issuing CA certificate (DER)
``/roots.pem``             GET     the demo trust root as PEM
=========================  ======  =================================================
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import unquote

from .pki import DemoPKI

__all__ = ["make_pki_wsgi_app"]

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

# Requests larger than this are not OCSP or timestamp requests; refuse before reading them.
_MAX_BODY = 64 * 1024


def make_pki_wsgi_app(pki: DemoPKI) -> WsgiApp:
    """Build the WSGI callable serving ``pki``'s services (see the module docstring)."""

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "") or "/"
        if method == "POST" and path in ("/tsa", "/ocsp"):
            body = _read_body(environ)
            if body is None:
                return _reply(start_response, "413 Payload Too Large", b"", "text/plain")
            if path == "/tsa":
                return _reply(
                    start_response, "200 OK", pki.tsa_response(body), "application/timestamp-reply"
                )
            return _reply(
                start_response, "200 OK", pki.ocsp_response(body), "application/ocsp-response"
            )
        if method in ("GET", "HEAD"):
            if path.startswith("/ocsp/"):
                try:
                    request = base64.b64decode(unquote(path[len("/ocsp/") :]), validate=False)
                except (binascii.Error, ValueError):
                    return _reply(start_response, "400 Bad Request", b"", "text/plain")
                return _reply(
                    start_response,
                    "200 OK",
                    pki.ocsp_response(request),
                    "application/ocsp-response",
                )
            if path in ("/crl/root.crl", "/crl/issuing.crl"):
                crl = pki.crl("root") if path == "/crl/root.crl" else pki.crl("issuing")
                return _reply(start_response, "200 OK", crl, "application/pkix-crl")
            if path in ("/certs/root.cer", "/certs/issuing.cer"):
                ident = pki.root if path == "/certs/root.cer" else pki.issuing
                return _reply(
                    start_response, "200 OK", ident.certificate_der, "application/pkix-cert"
                )
            if path == "/roots.pem":
                return _reply(
                    start_response, "200 OK", pki.trust_roots_pem(), "application/x-pem-file"
                )
        return _reply(start_response, "404 Not Found", b"not found\n", "text/plain")

    return app


def _read_body(environ: dict[str, Any]) -> bytes | None:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > _MAX_BODY:
        return None
    stream = environ["wsgi.input"]
    data: bytes = stream.read(length) if length else stream.read(_MAX_BODY + 1)
    return None if len(data) > _MAX_BODY else data


def _reply(
    start_response: StartResponse, status: str, body: bytes, content_type: str
) -> list[bytes]:
    start_response(
        status,
        [
            ("Content-Type", content_type),
            ("Content-Length", str(len(body))),
            ("Cache-Control", "no-store"),
        ],
    )
    return [body]
