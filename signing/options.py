# mypy: allow-untyped-calls
# (pyHanko and pyhanko-certvalidator leave parts of their API unannotated; we call it here.)
"""How to sign: the PAdES level, where timestamps come from, what to trust, which fonts."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache

from pyhanko.sign.timestamps import TimeStamper

from .errors import SigningConfigError
from .fetching import FetchPolicy, PolicyTimeStamper
from .fonts import FontConfig
from .trust import TrustSettings

__all__ = ["PadesLevel", "SigningOptions"]


class PadesLevel(StrEnum):
    """ETSI EN 319 142 baseline levels.

    * ``B-B``: the signature alone;
    * ``B-T``: plus an RFC 3161 timestamp on the signature from a TSA;
    * ``B-LT``: plus the certificates and revocation data (OCSP/CRL) in the document's DSS;
    * ``B-LTA``: plus a document timestamp over all that, renewable (archive refresh).
    """

    B_B = "B-B"
    B_T = "B-T"
    B_LT = "B-LT"
    B_LTA = "B-LTA"

    def at_least(self, other: PadesLevel) -> bool:
        """Whether this level includes ``other`` (string comparison would get B-LT < B-T)."""
        order = list(PadesLevel)
        return order.index(self) >= order.index(other)


@dataclass(frozen=True)
class SigningOptions:
    """Everything about a signature that is deployment configuration rather than per document.

    ``timestamper`` overrides ``tsa_url`` (e.g. the demo PKI's in-process
    :class:`~signing.testpki.DemoTimeStamper`, so the app does not call itself over HTTP).
    ``trust`` is used to check the signer's certificate before signing (chain, revocation) and,
    for B-LT and above, to collect the revocation data to embed; without it only the validity
    dates and key usage are checked.
    """

    level: PadesLevel = PadesLevel.B_T
    tsa_url: str | None = None
    timestamper: TimeStamper | None = field(default=None, compare=False)
    trust: TrustSettings | None = None
    fonts: FontConfig = field(default_factory=FontConfig)
    tsa_timeout: float = 15.0
    check_certificate: bool = True

    def get_timestamper(self) -> TimeStamper | None:
        """The timestamper for B-T and above (``None`` at B-B); refuses a missing TSA."""
        if not self.level.at_least(PadesLevel.B_T):
            return None
        return self.require_timestamper()

    def require_timestamper(self) -> TimeStamper:
        if self.timestamper is not None:
            return self.timestamper
        if not self.tsa_url:
            raise SigningConfigError(
                f"Mức {self.level} cần máy chủ cấp dấu thời gian (DHTN_TSA_URL) nhưng chưa cấu hình."
            )
        return _http_timestamper(self.tsa_url, self.tsa_timeout)

    def require_trust(self) -> TrustSettings:
        if self.trust is None:
            raise SigningConfigError(
                "Cần cấu hình chứng thư gốc tin cậy (DHTN_TRUST_ROOTS) để nhúng thông tin thu hồi."
            )
        return self.trust


@lru_cache(maxsize=16)
def _http_timestamper(url: str, timeout: float) -> TimeStamper:
    # One instance per TSA: pyHanko caches the size of a probe token on it, which sizes the
    # signature container of every later document without asking the TSA again. The TSA is
    # operator-configured; the fetch policy still bounds time and size and refuses redirects.
    return PolicyTimeStamper(url, FetchPolicy.configure(tsa_url=url, timeout=timeout))
