"""Building signers from configuration (the app's composition root calls these).

``open_signer`` accepts one of the back-end configs. The demo profile's signers and options are
:mod:`signing.testpki`'s (``demo_signer``, ``demo_options``, ``demo_trust``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .csc import CscConfig, open_csc_signer
from .errors import SigningConfigError
from .pkcs11 import Pkcs11Config, open_pkcs11_signer
from .signers import KeySigner, load_pkcs12_signer

__all__ = [
    "Pkcs12Config",
    "SignerConfig",
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
