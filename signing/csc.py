# mypy: allow-untyped-calls
# (pyHanko and pyhanko-certvalidator leave parts of their API unannotated; we call it here.)
"""Remote signing through the Cloud Signature Consortium API v2 (a thin synchronous client).

pyHanko's ``csc_signer`` speaks CSC v1 (``hash``/``hashAlgo``) over aiohttp; v2 renamed the fields
(``hashes``/``hashAlgorithmOID``), so this module talks v2 itself with ``requests``:
``credentials/info`` once when the signer opens, then per signature ``credentials/authorize``
(SAD bound to the hash, as SCAL 2 requires) and ``signatures/signHash``. The user may have to
confirm on a phone during ``authorize``; ``timeout`` allows for that.

Many documents at once: :func:`fetch_credential` reads the certificate once, the caller prepares
each document's hash (:func:`signing.prepare_external_signature`), then :func:`sign_hashes`
asks for ONE authorisation for all of them (``numSignatures`` = N with the N hashes, as CSC
allows) and ONE ``signatures/signHash`` call. :class:`CscProvider` is the operator's side: the
service's base URL and the client credentials the server gets its access token with (OAuth 2.0
``client_credentials`` at ``oauth2/token``). PINs, OTPs and tokens never appear in a ``repr``.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import requests
from asn1crypto import x509 as asn1_x509
from pyhanko.sign.signers.pdf_cms import Signer
from pyhanko_certvalidator.registry import SimpleCertificateStore

from .errors import RemoteSigningAuthError, RemoteSigningTimeoutError, SignerUnavailableError
from .signers import (
    KeySigner,
    SignatureAlgorithm,
    default_algorithm,
    raw_signature_size,
    signature_mechanism,
)

__all__ = [
    "CscConfig",
    "CscCredential",
    "CscKeySigner",
    "CscProvider",
    "fetch_credential",
    "open_csc_signer",
    "sign_hashes",
]

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
    access_token: str | None = field(default=None, repr=False)
    pin: str | None = field(default=None, repr=False)
    otp: str | None = field(default=None, repr=False)
    timeout: float = 300.0
    prefer_pss: bool = True


#: What the service answers for a PIN or OTP it does not accept (CSC ``credentials/authorize``).
_AUTH_ERRORS = frozenset({"invalid_pin", "invalid_otp", "invalid_pin_otp"})


@dataclass(frozen=True)
class CscProvider:
    """The operator's remote signing service: its CSC v2 base URL and the OAuth 2.0 client
    credentials the server authenticates with. ``timeout`` bounds every HTTP call (seconds)."""

    service_url: str
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    timeout: float = 30.0
    prefer_pss: bool = True

    def access_token(self) -> str | None:
        """A bearer token by the ``client_credentials`` grant, or None without a client id."""
        if not self.client_id:
            return None
        url = f"{self.service_url.rstrip('/')}/oauth2/token"
        try:
            response = requests.post(
                url,
                data={
                    "grant_type": "client_credentials",
                    "client_id": self.client_id,
                    "client_secret": self.client_secret or "",
                },
                timeout=self.timeout,
            )
        except requests.Timeout as exc:
            raise RemoteSigningTimeoutError(details={"endpoint": "oauth2/token"}) from exc
        except requests.RequestException as exc:
            raise SignerUnavailableError(
                "Không kết nối được dịch vụ ký số từ xa.", details={"endpoint": "oauth2/token"}
            ) from exc
        try:
            token = response.json().get("access_token")
        except (ValueError, AttributeError):
            token = None
        if response.status_code != 200 or not isinstance(token, str):
            raise SignerUnavailableError(
                "Dịch vụ ký số từ xa không cấp quyền truy cập cho máy chủ.",
                details={"endpoint": "oauth2/token", "status": response.status_code},
            )
        return token

    def config(
        self, credential_id: str, *, pin: str | None = None, otp: str | None = None
    ) -> CscConfig:
        """The credential's configuration for one signing (a fresh access token)."""
        return CscConfig(
            self.service_url,
            credential_id,
            self.access_token(),
            pin=pin,
            otp=otp,
            timeout=self.timeout,
            prefer_pss=self.prefer_pss,
        )


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
        except requests.Timeout as exc:
            raise RemoteSigningTimeoutError(details={"endpoint": endpoint}) from exc
        except requests.RequestException as exc:
            raise SignerUnavailableError(
                "Không kết nối được dịch vụ ký số từ xa.", details={"endpoint": endpoint}
            ) from exc
        try:
            data = response.json()
        except ValueError:
            data = {}
        if (
            response.status_code != 200
            and isinstance(data, dict)
            and data.get("error") in _AUTH_ERRORS
        ):
            raise RemoteSigningAuthError(
                details={
                    "endpoint": endpoint,
                    "status": response.status_code,
                    "error": data["error"],
                }
            )
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
        return self.sign_hashes([digest], algorithm)[0]

    def sign_hashes(self, digests: Sequence[bytes], algorithm: SignatureAlgorithm) -> list[bytes]:
        """One ``credentials/authorize`` for all ``digests`` (SAD bound to them), then one
        ``signatures/signHash``; the signatures in the order of ``digests``."""
        if not digests:
            return []
        hashes = [base64.b64encode(d).decode("ascii") for d in digests]
        authorize: dict[str, Any] = {
            "credentialID": self.config.credential_id,
            "numSignatures": len(hashes),
            "hashes": hashes,
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
            "hashes": hashes,
            "hashAlgorithmOID": SHA256_OID,
            "signAlgo": ALGORITHM_OIDS[algorithm],
        }
        params = signature_mechanism(algorithm)["parameters"]
        if params.native is not None:
            request["signAlgoParams"] = base64.b64encode(params.dump()).decode("ascii")
        signatures = self.call("signatures/signHash", request).get("signatures")
        if not isinstance(signatures, list) or len(signatures) != len(hashes):
            raise SignerUnavailableError("Dịch vụ ký từ xa trả về kết quả không hợp lệ.")
        try:
            return [base64.b64decode(sig, validate=True) for sig in signatures]
        except (TypeError, ValueError) as exc:
            raise SignerUnavailableError("Dịch vụ ký từ xa trả về kết quả không hợp lệ.") from exc


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


@dataclass(frozen=True)
class CscCredential:
    """A credential's certificate, chain and the algorithm we sign with (``credentials/info``)."""

    certificate: asn1_x509.Certificate
    chain: list[asn1_x509.Certificate]
    algorithm: SignatureAlgorithm

    @property
    def certificate_der(self) -> bytes:
        return bytes(self.certificate.dump())

    @property
    def chain_der(self) -> list[bytes]:
        return [bytes(c.dump()) for c in self.chain]

    @property
    def subject(self) -> str:
        """The subject's common name and organisation, as a person reads them."""
        native = self.certificate.subject.native
        parts = [native.get("common_name"), native.get("organization_name")]
        return " | ".join(str(p) for p in parts if p)


def _credential(client: _CscClient) -> CscCredential:
    config = client.config
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
        raise SignerUnavailableError(
            "Dịch vụ ký từ xa trả về thông tin chứng thư không hợp lệ."
        ) from exc
    if not certs:
        raise SignerUnavailableError("Dịch vụ ký từ xa không trả về chứng thư.")
    certificate, chain = certs[0], certs[1:]
    algorithm = default_algorithm(certificate, prefer_pss=config.prefer_pss)
    if ALGORITHM_OIDS[algorithm] not in supported:
        fallback = {"rsassa_pss_sha256": "rsassa_pkcs1v15_sha256"}.get(algorithm)
        if fallback and (ALGORITHM_OIDS[fallback] in supported or _RSA_ENCRYPTION in supported):  # type: ignore[index]
            algorithm = fallback  # type: ignore[assignment]
        elif not (algorithm != "ecdsa_sha256" and _RSA_ENCRYPTION in supported):
            raise SignerUnavailableError(
                "Dịch vụ ký từ xa không hỗ trợ thuật toán ký cần dùng.",
                details={"supported": sorted(supported)},
            )
    return CscCredential(certificate, chain, algorithm)


def fetch_credential(config: CscConfig) -> CscCredential:
    """The credential's certificates and the algorithm to use (one ``credentials/info``)."""
    client = _CscClient(config)
    try:
        return _credential(client)
    finally:
        client.http.close()


def sign_hashes(
    config: CscConfig, digests: Sequence[bytes], algorithm: SignatureAlgorithm
) -> list[bytes]:
    """Sign SHA-256 ``digests`` with one authorisation for all of them (``numSignatures`` = N)
    and one ``signHash`` call; raises :class:`RemoteSigningAuthError` for a wrong PIN/OTP and
    :class:`RemoteSigningTimeoutError` when the service does not answer within the timeout."""
    client = _CscClient(config)
    try:
        return client.sign_hashes(digests, algorithm)
    finally:
        client.http.close()


def open_csc_signer(config: CscConfig) -> CscKeySigner:
    """Fetch the credential's certificates and algorithms (``credentials/info``)."""
    client = _CscClient(config)
    try:
        credential = _credential(client)
    except BaseException:
        client.http.close()
        raise
    return CscKeySigner(
        client,
        _CscRawSigner(client, credential.certificate, credential.chain, credential.algorithm),
        credential.chain,
        credential.algorithm,
    )
