"""The signer's certificate is checked before signing; bad ones are refused with a clear error."""

from __future__ import annotations

import pytest

from signing import (
    CertificateError,
    CertificateExpiredError,
    CertificateKeyUsageError,
    CertificateRevokedError,
    CertificateUntrustedError,
    PadesLevel,
    SigningOptions,
    TrustSettings,
    sign_as_leader,
)

from .conftest import PkiEnv


@pytest.mark.parametrize(
    ("name", "error", "code"),
    [
        ("extra:expired", CertificateExpiredError, "certificate_expired"),
        ("extra:no-signing", CertificateKeyUsageError, "certificate_key_usage"),
    ],
)
def test_refused_even_without_trust_configuration(
    name: str,
    error: type[CertificateError],
    code: str,
    pki_env: PkiEnv,
    prepared: bytes,
    signature_png: bytes,
) -> None:
    with pytest.raises(error) as err:
        sign_as_leader(
            prepared,
            pki_env.signer(name),
            signature_image=signature_png,
            options=SigningOptions(level=PadesLevel.B_B),
        )
    assert err.value.code == code
    assert "Chứng thư số" in err.value.message


@pytest.mark.parametrize("level", [PadesLevel.B_T, PadesLevel.B_LT])
def test_revoked_certificate_refused_via_ocsp(
    level: PadesLevel, pki_env: PkiEnv, prepared: bytes, signature_png: bytes
) -> None:
    # B-T checks through our own pre-sign check; B-LT through pyHanko's revocation collection.
    with pytest.raises(CertificateRevokedError) as err:
        sign_as_leader(
            prepared,
            pki_env.signer("extra:revoked"),
            signature_image=signature_png,
            options=pki_env.options(level),
        )
    assert err.value.code == "certificate_revoked"
    assert err.value.to_dict()["message"] == err.value.message


def test_revoked_certificate_refused_from_a_given_crl(
    pki_env: PkiEnv, prepared: bytes, signature_png: bytes
) -> None:
    # No network at all: the CRL comes with the trust settings (the demo profile's way).
    trust = TrustSettings(
        roots=(pki_env.pki.root.certificate_der,),
        crls=(pki_env.pki.crl("root"), pki_env.pki.crl("issuing")),
        allow_fetching=False,
    )
    with pytest.raises(CertificateRevokedError):
        sign_as_leader(
            prepared,
            pki_env.signer("extra:revoked"),
            signature_image=signature_png,
            options=SigningOptions(level=PadesLevel.B_B, trust=trust),
        )


def test_certificate_from_an_untrusted_ca_refused(
    pki_env: PkiEnv, prepared: bytes, signature_png: bytes
) -> None:
    # Trusting only the TSA's certificate as a root: the signer cannot chain to it.
    trust = TrustSettings(roots=(pki_env.pki.tsa.certificate_der,), allow_fetching=False)
    with pytest.raises(CertificateUntrustedError):
        sign_as_leader(
            prepared,
            pki_env.signer("lanhdao.tw"),
            signature_image=signature_png,
            options=SigningOptions(level=PadesLevel.B_B, trust=trust),
        )
