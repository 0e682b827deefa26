# mypy: allow-untyped-calls
# (pyHanko and pyhanko-certvalidator leave parts of their API unannotated; we call it here.)
"""Trust configuration and the certificate check made before every signature.

Trust roots are configuration (the national roots in production, the demo root in the demo),
never hard-coded. :class:`TrustSettings` turns them into pyHanko validation contexts.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, TypeVar

from asn1crypto import pem
from asn1crypto import x509 as asn1_x509
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator.errors import (
    ExpiredError,
    NotYetValidError,
    PathBuildingError,
    PathValidationError,
    RevokedError,
    ValidationError,
)

from .errors import (
    CertificateExpiredError,
    CertificateKeyUsageError,
    CertificateNotYetValidError,
    CertificateRevokedError,
    CertificateUntrustedError,
    SigningConfigError,
)
from .fetching import FetchPolicy, PolicyFetcherBackend

__all__ = ["TrustSettings", "check_signing_certificate", "load_certificates"]

T = TypeVar("T")
RevocationMode = Literal["soft-fail", "hard-fail", "require"]
# Either is acceptable for signing documents; CAs differ in which one they set.
_SIGNING_KEY_USAGES = frozenset({"digital_signature", "non_repudiation"})


def load_certificates(data: bytes) -> list[asn1_x509.Certificate]:
    """Certificates from a PEM bundle or one DER certificate."""
    if pem.detect(data):
        return [asn1_x509.Certificate.load(der) for _, _, der in pem.unarmor(data, multiple=True)]
    return [asn1_x509.Certificate.load(data)]


@dataclass(frozen=True)
class TrustSettings:
    """What a verifier or signer trusts, and how it may learn about revocation.

    ``roots`` and ``intermediates`` are DER certificates. ``crls``/``ocsps`` are DER revocation
    data known in advance (e.g. the demo PKI's, to avoid the app calling itself over HTTP).
    Fetching (OCSP responses, CRLs, issuer certificates from the URLs in certificates) happens
    only through ``fetch_policy`` (:class:`~signing.fetching.FetchPolicy`: operator-configured
    hosts only) and only when ``allow_fetching``; without a policy nothing is fetched.
    ``revocation_mode`` is pyHanko's: ``soft-fail`` accepts a certificate whose revocation status
    cannot be learnt (unreachable responder) but never a revoked one.
    """

    roots: tuple[bytes, ...]
    intermediates: tuple[bytes, ...] = ()
    crls: tuple[bytes, ...] = ()
    ocsps: tuple[bytes, ...] = ()
    allow_fetching: bool = True
    revocation_mode: RevocationMode = "soft-fail"
    fetch_policy: FetchPolicy | None = None

    @classmethod
    def from_pem(cls, bundle: bytes | str | Path, **kwargs: object) -> TrustSettings:
        """Trust the certificates of a PEM bundle (bytes, text, or a path to a file)."""
        if isinstance(bundle, Path):
            data = bundle.read_bytes()
        elif isinstance(bundle, str):
            data = bundle.encode("ascii")
        else:
            data = bundle
        roots = tuple(cert.dump() for cert in load_certificates(data))
        if not roots:
            raise SigningConfigError("Tệp chứng thư gốc tin cậy không có chứng thư nào.")
        return cls(roots=roots, **kwargs)  # type: ignore[arg-type]

    @property
    def fetches(self) -> bool:
        """Whether validation may fetch anything (a policy that allows some host)."""
        return bool(self.allow_fetching and self.fetch_policy and self.fetch_policy.fetches)

    def context_kwargs(self) -> dict[str, object]:
        """The fetching part of a pyHanko ``ValidationContext``'s arguments."""
        if not self.fetches:
            return {"allow_fetching": False}
        assert self.fetch_policy is not None
        return {
            "allow_fetching": True,
            "fetcher_backend": PolicyFetcherBackend(self.fetch_policy),
        }

    def validation_context(
        self,
        *,
        extra_certs: Iterable[asn1_x509.Certificate] = (),
        moment: datetime | None = None,
        revocation_mode: RevocationMode | None = None,
    ) -> ValidationContext:
        """A fresh pyHanko validation context (contexts cache fetches: one per operation)."""
        others = [asn1_x509.Certificate.load(der) for der in self.intermediates]
        others.extend(extra_certs)
        return ValidationContext(
            trust_roots=[asn1_x509.Certificate.load(der) for der in self.roots],
            other_certs=others,
            crls=list(self.crls),
            ocsps=list(self.ocsps),
            revocation_mode=revocation_mode or self.revocation_mode,
            moment=moment,
            **self.context_kwargs(),  # type: ignore[arg-type]
        )


def run_async(coro: Awaitable[T], *contexts: ValidationContext | None) -> T:
    """Run a pyHanko coroutine to completion, then close the HTTP sessions its contexts opened."""

    async def _run() -> T:
        try:
            return await coro
        finally:
            for context in contexts:
                if context is not None:
                    await context.aclose()

    return asyncio.run(_run())


def check_signing_certificate(
    certificate: asn1_x509.Certificate,
    *,
    chain: Iterable[asn1_x509.Certificate] = (),
    trust: TrustSettings | None = None,
    at: datetime | None = None,
) -> None:
    """Refuse (raise a :class:`~signing.errors.CertificateError`) a certificate that must not sign.

    Always checked: validity dates and key usage. With ``trust``: the chain to a trusted root and
    revocation (OCSP/CRL from the certificate's URLs where reachable, or given in ``trust``).
    """
    at = at or datetime.now(UTC)
    details = {
        "subject": certificate.subject.human_friendly,
        "serial": format(certificate.serial_number, "x"),
    }
    validity = certificate["tbs_certificate"]["validity"]
    not_before = validity["not_before"].native
    not_after = validity["not_after"].native
    if at < not_before:
        raise CertificateNotYetValidError(details={**details, "not_before": not_before.isoformat()})
    if at > not_after:
        raise CertificateExpiredError(details={**details, "not_after": not_after.isoformat()})
    usages = certificate.key_usage_value
    if usages is not None and not (set(usages.native) & _SIGNING_KEY_USAGES):
        raise CertificateKeyUsageError(details={**details, "key_usage": sorted(usages.native)})
    if trust is None:
        return
    context = trust.validation_context(extra_certs=chain, moment=at)
    validator = CertificateValidator(
        certificate, intermediate_certs=list(chain), validation_context=context
    )
    try:
        run_async(validator.async_validate_path(), context)
    except RevokedError as exc:
        raise CertificateRevokedError(details={**details, "reason": str(exc)}) from exc
    except ExpiredError as exc:
        raise CertificateExpiredError(details={**details, "reason": str(exc)}) from exc
    except NotYetValidError as exc:
        raise CertificateNotYetValidError(details={**details, "reason": str(exc)}) from exc
    except (PathBuildingError, PathValidationError, ValidationError) as exc:
        raise CertificateUntrustedError(details={**details, "reason": str(exc)}) from exc
