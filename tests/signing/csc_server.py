"""A small Cloud Signature Consortium API v2 server for the tests (werkzeug, loopback).

It holds one credential (a demo PKI key), requires a bearer token, explicit authorisation with a
PIN (and an OTP when ``otp`` is set), and SCAL 2: the SAD from ``credentials/authorize`` is bound
to the hashes it was issued for (``numSignatures`` of them) and may be used once. With
``client_id`` it hands out the bearer token by the OAuth 2.0 ``client_credentials`` grant at
``oauth2/token``; ``delay`` makes ``credentials/authorize`` answer late (a phone nobody confirms).
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils
from werkzeug.wrappers import Request, Response

SHA256 = "2.16.840.1.101.3.4.2.1"
PSS = "1.2.840.113549.1.1.10"
RSA_SHA256 = "1.2.840.113549.1.1.11"
ECDSA_SHA256 = "1.2.840.10045.4.3.2"


@dataclass
class CscServer:
    credential_id: str
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    certificates: list[bytes]  # DER, signer first
    token: str
    pin: str | None  # None: an OTP-only credential
    otp: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    delay: float = 0.0
    sads: dict[str, tuple[str, ...]] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    authorized: list[int] = field(default_factory=list)  # numSignatures of each SAD issued
    signed: int = 0  # hashes signed so far

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        response = self.handle(request)
        return response(environ, start_response)

    def handle(self, request: Request) -> Response:
        endpoint = request.path.removeprefix("/csc/v2/")
        self.calls.append(endpoint)
        if endpoint == "oauth2/token":
            form = request.form
            if (
                self.client_id is None
                or form.get("grant_type") != "client_credentials"
                or form.get("client_id") != self.client_id
                or form.get("client_secret") != self.client_secret
            ):
                return _error(400, "invalid_client", "Invalid client credentials")
            return _ok({"access_token": self.token, "token_type": "Bearer", "expires_in": 3600})
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return _error(401, "invalid_token", "Missing or invalid access token")
        try:
            body = json.loads(request.get_data() or b"{}")
        except ValueError:
            return _error(400, "invalid_request", "Body is not JSON")
        if endpoint != "info" and body.get("credentialID") != self.credential_id:
            return _error(400, "invalid_request", "Invalid parameter credentialID")
        if endpoint == "info":
            return _ok(
                {
                    "specs": "2.0.0.0",
                    "name": "DHTN test CSC",
                    "methods": ["credentials/info", "credentials/authorize", "signatures/signHash"],
                }
            )
        if endpoint == "credentials/info":
            algos = (
                [ECDSA_SHA256]
                if isinstance(self.key, ec.EllipticCurvePrivateKey)
                else [PSS, RSA_SHA256]
            )
            return _ok(
                {
                    "key": {"status": "enabled", "algo": algos, "len": self.key.key_size},
                    "cert": {
                        "status": "valid",
                        "certificates": [base64.b64encode(c).decode() for c in self.certificates],
                    },
                    "authMode": "explicit",
                    "SCAL": "2",
                    "multisign": 1,
                    "PIN": {"presence": "true", "format": "N"},
                }
            )
        if endpoint == "credentials/authorize":
            if self.delay:
                time.sleep(self.delay)
            if self.pin is not None and body.get("PIN") != self.pin:
                return _error(400, "invalid_pin", "The PIN is invalid")
            if self.otp is not None and body.get("OTP") != self.otp:
                return _error(400, "invalid_otp", "The OTP is invalid")
            if body.get("hashAlgorithmOID") != SHA256 or not body.get("hashes"):
                return _error(400, "invalid_request", "SCAL 2 requires hashes")
            if body.get("numSignatures") != len(body["hashes"]):
                return _error(400, "invalid_request", "numSignatures must match the hashes")
            sad = secrets.token_urlsafe(16)
            self.sads[sad] = tuple(body["hashes"])
            self.authorized.append(len(body["hashes"]))
            return _ok({"SAD": sad, "expiresIn": 300})
        if endpoint == "signatures/signHash":
            hashes_b64 = tuple(body.get("hashes", ()))
            if self.sads.pop(body.get("SAD", ""), None) != hashes_b64:
                return _error(
                    400, "invalid_request", "SAD invalid, expired or not for these hashes"
                )
            self.signed += len(hashes_b64)
            return _ok(
                {
                    "signatures": [
                        base64.b64encode(self._sign(base64.b64decode(h), body)).decode()
                        for h in hashes_b64
                    ]
                }
            )
        return _error(404, "invalid_request", "Unknown endpoint")

    def _sign(self, digest: bytes, body: dict[str, Any]) -> bytes:
        prehashed = utils.Prehashed(hashes.SHA256())
        algo = body.get("signAlgo")
        if isinstance(self.key, ec.EllipticCurvePrivateKey):
            return self.key.sign(digest, ec.ECDSA(prehashed))
        if algo == PSS:
            # signAlgoParams must be present for PSS (DER RSASSA-PSS-params); we use 32-byte salt.
            assert body.get("signAlgoParams")
            return self.key.sign(digest, padding.PSS(padding.MGF1(hashes.SHA256()), 32), prehashed)
        return self.key.sign(digest, padding.PKCS1v15(), prehashed)


def _ok(data: dict[str, Any]) -> Response:
    return Response(json.dumps(data), status=200, content_type="application/json")


def _error(status: int, error: str, description: str) -> Response:
    return Response(
        json.dumps({"error": error, "error_description": description}),
        status=status,
        content_type="application/json",
    )
