# mypy: allow-untyped-calls
# (pyHanko and pyhanko-certvalidator leave parts of their API unannotated; we call it here.)
"""PKCS#11 back-end: USB tokens and HSMs (tested with SoftHSM2).

The session stays open for the signer's lifetime, and the key and certificate handles are looked
up once, so each document costs one ``C_Sign``.
"""

from __future__ import annotations

from dataclasses import dataclass

from asn1crypto import x509 as asn1_x509
from pyhanko.config.pkcs11 import TokenCriteria
from pyhanko.sign.pkcs11 import PKCS11Signer, open_pkcs11_session

from .errors import SignerUnavailableError
from .signers import KeySigner, SignatureAlgorithm, default_algorithm, signature_mechanism
from .trust import run_async

__all__ = ["Pkcs11Config", "Pkcs11KeySigner", "open_pkcs11_signer"]


@dataclass(frozen=True)
class Pkcs11Config:
    """Where the key is: the module (``.so``), the token, the PIN and the objects' label or id.

    ``chain`` holds DER CA certificates to embed when the token does not store them.
    """

    module_path: str
    pin: str
    token_label: str | None = None
    key_label: str | None = None
    key_id: bytes | None = None
    cert_label: str | None = None
    cert_id: bytes | None = None
    chain: tuple[bytes, ...] = ()
    prefer_pss: bool = True


class Pkcs11KeySigner(KeySigner):
    """A key on a PKCS#11 token; :meth:`close` logs out and closes the session."""

    def __init__(
        self,
        session: object,
        signer: PKCS11Signer,
        chain: list[asn1_x509.Certificate],
        algorithm: SignatureAlgorithm,
    ) -> None:
        super().__init__(signer, signer.signing_cert, chain, algorithm)
        self._session = session

    def close(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            session.close()  # type: ignore[attr-defined]


def open_pkcs11_signer(config: Pkcs11Config) -> Pkcs11KeySigner:
    """Open the token, log in and find the key and certificate (refuses with a clear error)."""
    criteria = TokenCriteria(label=config.token_label) if config.token_label else None
    try:
        session = open_pkcs11_session(
            config.module_path, token_criteria=criteria, user_pin=config.pin
        )
    except Exception as exc:  # python-pkcs11 raises many unrelated types (PinIncorrect, ...)
        raise SignerUnavailableError(
            "Không mở được thiết bị ký (PKCS#11): kiểm tra thiết bị và mã PIN.",
            details={"reason": type(exc).__name__},
        ) from exc
    chain = [asn1_x509.Certificate.load(der) for der in config.chain]

    def make_signer(algorithm: SignatureAlgorithm | None) -> PKCS11Signer:
        signer = PKCS11Signer(
            session,
            cert_label=config.cert_label,
            key_label=config.key_label,
            cert_id=config.cert_id,
            key_id=config.key_id,
            ca_chain=chain,
            # Without a configured chain, take the CA certificates the token stores.
            other_certs_to_pull=None if not chain else (),
            embed_roots=True,
            signature_mechanism=None if algorithm is None else signature_mechanism(algorithm),
        )
        run_async(signer.ensure_objects_loaded())
        return signer

    try:
        # The mechanism depends on the key type, known only once the certificate is read.
        probe = make_signer(None)
        algorithm = default_algorithm(probe.signing_cert, prefer_pss=config.prefer_pss)
        signer = make_signer(algorithm)
    except Exception as exc:
        session.close()
        raise SignerUnavailableError(
            "Không tìm thấy khóa hoặc chứng thư trên thiết bị ký.",
            details={"reason": str(exc)},
        ) from exc
    return Pkcs11KeySigner(session, signer, chain, algorithm)
