"""The demo profile's signers and options: the demo PKI wired so the embedded profile signs,
timestamps and checks revocation without any network call (not even to itself: a single-worker
server calling its own ``/pki/tsa`` would deadlock)."""

from __future__ import annotations

from signing.options import PadesLevel, SigningOptions
from signing.signers import LocalKeySigner
from signing.trust import TrustSettings

from .pki import DemoPKI
from .services import DemoTimeStamper

__all__ = ["demo_options", "demo_signer", "demo_trust"]


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
