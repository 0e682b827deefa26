# mypy: allow-untyped-calls
# (pyHanko and pyhanko-certvalidator leave parts of their API unannotated; we call it here.)
"""Signer back-ends behind one interface, :class:`KeySigner`.

A ``KeySigner`` owns a ready-to-use pyHanko ``Signer`` plus the facts our code needs about it
(certificate, chain, API algorithm name). Back-ends: an in-memory key (PKCS#12, PEM: the demo
PKI, or an organisation seal key kept server-side), PKCS#11 (USB tokens, HSMs) and the CSC remote
signing client (:mod:`signing.csc`). Two-phase signing, where the server never holds the key,
lives in :mod:`signing.external`.

Speed: pyHanko's stock ``SimpleSigner`` re-parses (and, with cryptography, re-validates) the
private key on every signature and signs twice per document (once "dry" to size the signature
container). Our in-memory signer keeps the parsed key and answers dry runs with placeholder bytes,
so one document costs one private-key operation; at B-B the CMS around it comes from a template
cut once per signer (:attr:`KeySigner.cms_template`, :mod:`signing.fastcms`).
"""

from __future__ import annotations

from collections.abc import Iterable
from types import TracebackType
from typing import Literal

from asn1crypto import algos
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from pyhanko.sign.signers.pdf_cms import Signer
from pyhanko_certvalidator.registry import SimpleCertificateStore

from .errors import SignerUnavailableError, SigningConfigError
from .fastcms import CmsTemplate
from .trust import run_async

__all__ = [
    "KeySigner",
    "LocalKeySigner",
    "SignatureAlgorithm",
    "load_pem_signer",
    "load_pkcs12_signer",
    "signature_mechanism",
    "verify_raw_signature",
]

SignatureAlgorithm = Literal["rsassa_pkcs1v15_sha256", "rsassa_pss_sha256", "ecdsa_sha256"]
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def signature_mechanism(algorithm: SignatureAlgorithm) -> algos.SignedDigestAlgorithm:
    """The CMS ``signatureAlgorithm`` for an API algorithm name (API.md §3).

    PSS is fixed to SHA-256, MGF1-SHA-256 and a 32-byte salt, what API.md promises clients.
    """
    if algorithm == "rsassa_pss_sha256":
        params = algos.RSASSAPSSParams(
            {
                "hash_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}),
                "mask_gen_algorithm": algos.MaskGenAlgorithm(
                    {
                        "algorithm": "mgf1",
                        "parameters": algos.DigestAlgorithm({"algorithm": "sha256"}),
                    }
                ),
                "salt_length": 32,
                "trailer_field": "trailer_field_bc",
            }
        )
        return algos.SignedDigestAlgorithm({"algorithm": "rsassa_pss", "parameters": params})
    if algorithm == "rsassa_pkcs1v15_sha256":
        return algos.SignedDigestAlgorithm({"algorithm": "sha256_rsa"})
    if algorithm == "ecdsa_sha256":
        return algos.SignedDigestAlgorithm({"algorithm": "sha256_ecdsa"})
    raise SigningConfigError(f"Thuật toán ký không được hỗ trợ: {algorithm}")


def default_algorithm(
    certificate: asn1_x509.Certificate, *, prefer_pss: bool
) -> SignatureAlgorithm:
    """RSA-PSS (or PKCS#1 v1.5 when asked) for RSA keys, ECDSA for P-256 keys."""
    key_algo = certificate.public_key.algorithm
    if key_algo == "rsa":
        if certificate.public_key.bit_size < 2048:
            raise SigningConfigError("Khóa RSA phải dài tối thiểu 2048 bit.")
        return "rsassa_pss_sha256" if prefer_pss else "rsassa_pkcs1v15_sha256"
    if key_algo == "ec":
        if certificate.public_key.curve[1] != "secp256r1":
            raise SigningConfigError("Chỉ hỗ trợ khóa ECDSA trên đường cong P-256.")
        return "ecdsa_sha256"
    raise SigningConfigError(f"Loại khóa không được hỗ trợ: {key_algo}")


def raw_signature_size(certificate: asn1_x509.Certificate) -> int:
    """Upper bound of a raw signature's size for the certificate's key (DER ECDSA included)."""
    if certificate.public_key.algorithm == "ec":
        return 72
    bits: int = certificate.public_key.bit_size
    return (bits + 7) // 8


def sign_raw(key: PrivateKey, data: bytes, algorithm: SignatureAlgorithm) -> bytes:
    """One private-key operation over ``data`` (hashing included) with ``algorithm``."""
    if isinstance(key, rsa.RSAPrivateKey):
        if algorithm == "rsassa_pss_sha256":
            return key.sign(data, padding.PSS(padding.MGF1(hashes.SHA256()), 32), hashes.SHA256())
        return key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    return key.sign(data, ec.ECDSA(hashes.SHA256()))


def verify_raw_signature(
    certificate: asn1_x509.Certificate, data: bytes, signature: bytes, algorithm: SignatureAlgorithm
) -> bool:
    """Whether ``signature`` is ``algorithm`` over ``data`` by the certificate's key."""
    public_key = x509.load_der_x509_certificate(certificate.dump()).public_key()
    try:
        if isinstance(public_key, rsa.RSAPublicKey):
            if algorithm == "rsassa_pss_sha256":
                pad: padding.AsymmetricPadding = padding.PSS(padding.MGF1(hashes.SHA256()), 32)
            elif algorithm == "rsassa_pkcs1v15_sha256":
                pad = padding.PKCS1v15()
            else:
                return False
            public_key.verify(signature, data, pad, hashes.SHA256())
        elif isinstance(public_key, ec.EllipticCurvePublicKey) and algorithm == "ecdsa_sha256":
            public_key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
        else:
            return False
    except InvalidSignature:
        return False
    return True


class KeySigner:
    """A key ready to sign, with its certificate and CA chain (the one signer interface).

    ``signer`` is the pyHanko ``Signer`` given to the PDF machinery. Close the signer when done
    (it is a context manager) to release token sessions or HTTP connections.
    """

    def __init__(
        self,
        signer: Signer,
        certificate: asn1_x509.Certificate,
        chain: Iterable[asn1_x509.Certificate],
        algorithm: SignatureAlgorithm,
    ) -> None:
        self.signer = signer
        self.certificate = certificate
        self.chain: tuple[asn1_x509.Certificate, ...] = tuple(chain)
        self.algorithm: SignatureAlgorithm = algorithm
        # Reserved /Contents sizes per (level, timestamper) once measured: later documents skip
        # the dry-run CMS build entirely.
        self.reservations: dict[tuple[str, int], int] = {}
        # The B-B CMS cut into its fixed pieces once (:mod:`signing.fastcms`); ``False`` when
        # this back-end's CMS does not fit the template (then pyHanko builds it every time).
        self.cms_template: CmsTemplate | Literal[False] | None = None

    @property
    def subject_name(self) -> str:
        return str(self.certificate.subject.native.get("common_name", ""))

    @property
    def raw_algorithms(self) -> tuple[SignatureAlgorithm, ...]:
        """The algorithms :meth:`sign_bytes` accepts: the back-end's configured one (a token or a
        remote service is set up for one mechanism); in-memory keys accept every one of their
        key type."""
        return (self.algorithm,)

    def sign_bytes(self, data: bytes, algorithm: SignatureAlgorithm | None = None) -> bytes:
        """One private-key operation over ``data`` (hashed with SHA-256) for signatures other than
        PDF ones (e.g. an XML-DSig ``SignatureValue``): the key never leaves the back-end.

        ECDSA signatures come DER-encoded. Raises :class:`SigningConfigError` for an algorithm
        not in :attr:`raw_algorithms`.
        """
        algorithm = algorithm or self.algorithm
        if algorithm not in self.raw_algorithms:
            raise SigningConfigError(f"Khóa ký không hỗ trợ thuật toán {algorithm}.")
        return run_async(self.signer.async_sign_raw(data, "sha256"))

    def close(self) -> None:
        """Release what the back-end holds (nothing for in-memory keys)."""

    def __enter__(self) -> KeySigner:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class _InMemorySigner(Signer):
    """pyHanko signer over an already-parsed key; dry runs cost no private-key operation."""

    def __init__(
        self,
        key: PrivateKey,
        certificate: asn1_x509.Certificate,
        chain: Iterable[asn1_x509.Certificate],
        algorithm: SignatureAlgorithm,
    ) -> None:
        registry = SimpleCertificateStore()
        registry.register_multiple(list(chain))
        super().__init__(
            signing_cert=certificate,
            cert_registry=registry,
            signature_mechanism=signature_mechanism(algorithm),
            embed_roots=True,
        )
        self._key = key
        self._algorithm: SignatureAlgorithm = algorithm
        self._raw_size = raw_signature_size(certificate)

    async def async_sign_raw(
        self, data: bytes, digest_algorithm: str, dry_run: bool = False
    ) -> bytes:
        if dry_run:
            return bytes(self._raw_size)
        return sign_raw(self._key, data, self._algorithm)


class LocalKeySigner(KeySigner):
    """A private key held in this process's memory (PKCS#12 or PEM)."""

    def __init__(
        self,
        key: PrivateKey,
        certificate: x509.Certificate,
        chain: Iterable[x509.Certificate] = (),
        *,
        prefer_pss: bool = True,
    ) -> None:
        cert = _to_asn1(certificate)
        asn1_chain = [_to_asn1(c) for c in chain]
        algorithm = default_algorithm(cert, prefer_pss=prefer_pss)
        super().__init__(
            _InMemorySigner(key, cert, asn1_chain, algorithm), cert, asn1_chain, algorithm
        )
        self._key = key

    @property
    def raw_algorithms(self) -> tuple[SignatureAlgorithm, ...]:
        if isinstance(self._key, rsa.RSAPrivateKey):
            return ("rsassa_pss_sha256", "rsassa_pkcs1v15_sha256")
        return ("ecdsa_sha256",)

    def sign_bytes(self, data: bytes, algorithm: SignatureAlgorithm | None = None) -> bytes:
        algorithm = algorithm or self.algorithm
        if algorithm not in self.raw_algorithms:
            raise SigningConfigError(f"Khóa ký không hỗ trợ thuật toán {algorithm}.")
        return sign_raw(self._key, data, algorithm)


def load_pkcs12_signer(
    data: bytes, password: str | bytes | None, *, prefer_pss: bool = True
) -> LocalKeySigner:
    """A signer from PKCS#12 bytes (the key is parsed once, here)."""
    secret = password.encode("utf-8") if isinstance(password, str) else password
    try:
        key, cert, extra = pkcs12.load_key_and_certificates(data, secret)
    except ValueError as exc:
        raise SignerUnavailableError(
            "Không mở được tệp PKCS#12 (sai mật khẩu hoặc tệp hỏng)."
        ) from exc
    if cert is None or not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise SignerUnavailableError("Tệp PKCS#12 không chứa khóa RSA/ECDSA và chứng thư.")
    return LocalKeySigner(key, cert, extra, prefer_pss=prefer_pss)


def load_pem_signer(
    key_pem: bytes,
    cert_pem: bytes,
    chain_pem: bytes = b"",
    *,
    password: bytes | None = None,
    prefer_pss: bool = True,
) -> LocalKeySigner:
    """A signer from a PEM key, its PEM certificate and an optional PEM chain bundle."""
    key = serialization.load_pem_private_key(key_pem, password=password)
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise SignerUnavailableError("Khóa không phải RSA hoặc ECDSA.")
    cert = x509.load_pem_x509_certificate(cert_pem)
    chain = x509.load_pem_x509_certificates(chain_pem) if chain_pem.strip() else []
    return LocalKeySigner(key, cert, chain, prefer_pss=prefer_pss)


def _to_asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
