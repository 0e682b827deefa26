"""Building signers and options from configuration (the app's composition root calls these).

``open_signer`` accepts one of the back-end configs; ``demo_signer``/``demo_options`` wire the demo
PKI so the embedded profile signs, timestamps and checks revocation without any network call
(not even to itself: a single-worker server calling its own ``/pki/tsa`` would deadlock).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .csc import CscConfig, open_csc_signer
from .errors import SigningConfigError
from .options import PadesLevel, SigningOptions
from .pkcs11 import Pkcs11Config, open_pkcs11_signer
from .pki import DemoPKI
from .pki_services import DemoTimeStamper
from .signers import KeySigner, LocalKeySigner, load_pkcs12_signer
from .trust import TrustSettings

__all__ = [
    "Pkcs12Config",
    "SignerConfig",
    "demo_options",
    "demo_signer",
    "demo_trust",
    "open_signer",
]


@dataclass(frozen=True)
class Pkcs12Config:
    """A PKCS#12 file (``path``) or its bytes (``data``) and its password."""

    password: str | None
    path: Path | None = None
    data: bytes | None = None
    prefer_pss: bool = True


SignerConfig = Pkcs12Config | Pkcs11Config | CscConfig


def open_signer(config: SignerConfig) -> KeySigner:
    """Open the configured back-end; keep the signer for many documents and close it at exit."""
    if isinstance(config, Pkcs12Config):
        data = config.data
        if data is None:
            if config.path is None:
                raise SigningConfigError("Cấu hình PKCS#12 cần đường dẫn hoặc nội dung tệp.")
            data = config.path.read_bytes()
        return load_pkcs12_signer(data, config.password, prefer_pss=config.prefer_pss)
    if isinstance(config, Pkcs11Config):
        return open_pkcs11_signer(config)
    if isinstance(config, CscConfig):
        return open_csc_signer(config)
    raise SigningConfigError(f"Kiểu cấu hình khóa ký không hỗ trợ: {type(config).__name__}")


def demo_signer(pki: DemoPKI, name: str, *, prefer_pss: bool = True) -> LocalKeySigner:
    """The demo key of ``user:<username>`` or ``org:<code>`` (or any identity name) as a signer."""
    if ":" not in name:
        name = f"user:{name}"
    ident = pki.identity(name)
    return LocalKeySigner(
        ident.private_key(), ident.certificate, pki.chain(), prefer_pss=prefer_pss
    )


def demo_trust(pki: DemoPKI, *, allow_fetching: bool = False) -> TrustSettings:
    """Trust the demo root, with fresh CRLs of both CAs given in advance (no fetching needed)."""
    return TrustSettings(
        roots=(pki.root.certificate_der,),
        intermediates=(pki.issuing.certificate_der,),
        crls=(pki.crl("root"), pki.crl("issuing")),
        allow_fetching=allow_fetching,
    )


def demo_options(pki: DemoPKI, level: PadesLevel = PadesLevel.B_T) -> SigningOptions:
    """Signing options for the demo profile: in-process TSA, demo trust with current CRLs.

    Build them per operation (or at least daily): the CRLs inside expire after a day.
    """
    return SigningOptions(level=level, timestamper=DemoTimeStamper(pki), trust=demo_trust(pki))
