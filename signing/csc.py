# mypy: allow-untyped-calls
# (pyHanko and pyhanko-certvalidator leave parts of their API unannotated; we call it here.)
"""Remote signing through the Cloud Signature Consortium API v2 (a thin synchronous client).

pyHanko's ``csc_signer`` speaks CSC v1 (``hash``/``hashAlgo``) over aiohttp; v2 renamed the fields
(``hashes``/``hashAlgorithmOID``), so this module talks v2 itself with ``requests``:
``credentials/info`` once when the signer opens, then per signature ``credentials/authorize``
(SAD bound to the hash, as SCAL 2 requires) and ``signatures/signHash``. The user may have to
confirm on a phone during ``authorize``; ``timeout`` allows for that.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Any

import requests
from asn1crypto import x509 as asn1_x509
from pyhanko.sign.signers.pdf_cms import Signer
from pyhanko_certvalidator.registry import SimpleCertificateStore

from .errors import SignerUnavailableError
from .signers import (
    KeySigner,
    SignatureAlgorithm,
    default_algorithm,
    raw_signature_size,
    signature_mechanism,
)

__all__ = ["CscConfig", "CscKeySigner", "open_csc_signer"]

SHA256_OID = "2.16.840.1.101.3.4.2.1"
ALGORITHM_OIDS: dict[SignatureAlgorithm, str] = {
    "rsassa_pss_sha256": "1.2.840.113549.1.1.10",
    "rsassa_pkcs1v15_sha256": "1.2.840.113549.1.1.11",
    "ecdsa_sha256": "1.2.840.10045.4.3.2",
}
_RSA_ENCRYPTION = "1.2.840.113549.1.1.1"


@dataclass(frozen=True)
class CscConfig:
    """A credential at a CSC v2 service.

    ``service_url`` is the API base (the part before ``/credentials/info``, e.g.
    ``https://rs.example/csc/v2``); ``access_token`` an OAuth2 bearer token for the service;
    ``pin``/``otp`` the credential's activation data when it uses explicit authorisation.
    """

    service_url: str
    credential_id: str
    access_token: str | None = None
    pin: str | None = None
    otp: str | None = None
    timeout: float = 300.0
    prefer_pss: bool = True


class _CscClient:
    def __init__(self, config: CscConfig) -> None:
        self.config = config
        self.http = requests.Session()
        if config.access_token:
            self.http.headers["Authorization"] = f"Bearer {config.access_token}"

    def call(self, endpoint: str, body: dict[str, Any]) -> dict[str, Any]:
        url = f"{self.config.service_url.rstrip('/')}/{endpoint}"
        try:
            response = self.http.post(url, json=body, timeout=self.config.timeout)
        except requests.RequestException as exc:
            raise SignerUnavailableError(
                "Không kết nối được dịch vụ ký số từ xa.", details={"endpoint": endpoint}
            ) from exc
        try:
            data = response.json()
        except ValueError:
            data = {}
        if response.status_code != 200 or not isinstance(data, dict):
            raise SignerUnavailableError(
                "Dịch vụ ký số từ xa từ chối yêu cầu.",
                details={
                    "endpoint": endpoint,
                    "status": response.status_code,
                    "error": data.get("error") if isinstance(data, dict) else None,
                    "error_description": (
                        data.get("error_description") if isinstance(data, dict) else None
                    ),
                },
            )
        return data

    def sign_hash(self, digest: bytes, algorithm: SignatureAlgorithm) -> bytes:
        digest_b64 = base64.b64encode(digest).decode("ascii")
        authorize: dict[str, Any] = {
            "credentialID": self.config.credential_id,
            "numSignatures": 1,
            "hashes": [digest_b64],
            "hashAlgorithmOID": SHA256_OID,
        }
        if self.config.pin is not None:
            authorize["PIN"] = self.config.pin
        if self.config.otp is not None:
            authorize["OTP"] = self.config.otp
        sad = self.call("credentials/authorize", authorize).get("SAD")
        if not isinstance(sad, str):
            raise SignerUnavailableError("Dịch vụ ký từ xa không cấp dữ liệu kích hoạt chữ ký.")
        request: dict[str, Any] = {
            "credentialID": self.config.credential_id,
            "SAD": sad,
            "hashes": [digest_b64],
            "hashAlgorithmOID": SHA256_OID,
            "signAlgo": ALGORITHM_OIDS[algorithm],
        }
        params = signature_mechanism(algorithm)["parameters"]
        if params.native is not None:
            request["signAlgoParams"] = base64.b64encode(params.dump()).decode("ascii")
        signatures = self.call("signatures/signHash", request).get("signatures")
        if not isinstance(signatures, list) or len(signatures) != 1:
            raise SignerUnavailableError("Dịch vụ ký từ xa trả về kết quả không hợp lệ.")
        return base64.b64decode(signatures[0])


class _CscRawSigner(Signer):
    def __init__(
        self,
        client: _CscClient,
        certificate: asn1_x509.Certificate,
        chain: list[asn1_x509.Certificate],
        algorithm: SignatureAlgorithm,
    ) -> None:
        registry = SimpleCertificateStore()
        registry.register_multiple(chain)
        super().__init__(
            signing_cert=certificate,
            cert_registry=registry,
            signature_mechanism=signature_mechanism(algorithm),
        )
        self._client = client
        self._algorithm: SignatureAlgorithm = algorithm
        self._raw_size = raw_signature_size(certificate)

    async def async_sign_raw(
        self, data: bytes, digest_algorithm: str, dry_run: bool = False
    ) -> bytes:
        if dry_run:
            return bytes(self._raw_size)
        return self._client.sign_hash(hashlib.sha256(data).digest(), self._algorithm)


class CscKeySigner(KeySigner):
    """A credential at a CSC v2 service; :meth:`close` closes the HTTP session."""

    def __init__(
        self,
        client: _CscClient,
        signer: _CscRawSigner,
        chain: list[asn1_x509.Certificate],
        algorithm: SignatureAlgorithm,
    ) -> None:
        super().__init__(signer, signer.signing_cert, chain, algorithm)
        self._client = client

    def close(self) -> None:
        self._client.http.close()


def open_csc_signer(config: CscConfig) -> CscKeySigner:
    """Fetch the credential's certificates and algorithms (``credentials/info``)."""
    client = _CscClient(config)
    info = client.call(
        "credentials/info",
        {"credentialID": config.credential_id, "certificates": "chain", "certInfo": False},
    )
    try:
        certs = [
            asn1_x509.Certificate.load(base64.b64decode(c)) for c in info["cert"]["certificates"]
        ]
        supported = set(info["key"]["algo"])
    except (KeyError, TypeError, ValueError) as exc:
        client.http.close()
        raise SignerUnavailableError(
            "Dịch vụ ký từ xa trả về thông tin chứng thư không hợp lệ."
        ) from exc
    if not certs:
        client.http.close()
        raise SignerUnavailableError("Dịch vụ ký từ xa không trả về chứng thư.")
    certificate, chain = certs[0], certs[1:]
    algorithm = default_algorithm(certificate, prefer_pss=config.prefer_pss)
    if ALGORITHM_OIDS[algorithm] not in supported:
        fallback = {"rsassa_pss_sha256": "rsassa_pkcs1v15_sha256"}.get(algorithm)
        if fallback and (ALGORITHM_OIDS[fallback] in supported or _RSA_ENCRYPTION in supported):  # type: ignore[index]
            algorithm = fallback  # type: ignore[assignment]
        elif not (algorithm != "ecdsa_sha256" and _RSA_ENCRYPTION in supported):
            client.http.close()
            raise SignerUnavailableError(
                "Dịch vụ ký từ xa không hỗ trợ thuật toán ký cần dùng.",
                details={"supported": sorted(supported)},
            )
    return CscKeySigner(
        client, _CscRawSigner(client, certificate, chain, algorithm), chain, algorithm
    )
