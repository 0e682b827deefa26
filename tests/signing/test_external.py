"""Two-phase signing: the key stays with the test, as it would in a USB token or a phone."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils

from signing import (
    FIELD_LEADER,
    Modifications,
    PadesLevel,
    PreparedSignature,
    SignatureValueError,
    SigningSessionError,
    SigningSessionExpiredError,
    Summary,
    finish_external_signature,
    issue_request,
    leader_request,
    prepare_external_signature,
    verify_pdf,
)

from .conftest import CLERK, LEADER, ORG_CODE, ORG_NAME, PkiEnv
from .pdfsig import PdfSig


class Token:
    """Holds a private key and signs what it is given, like a USB token's driver."""

    def __init__(self, key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> None:
        self._key = key

    def sign(self, prepared: PreparedSignature, *, digest_only: bool = False) -> bytes:
        key = self._key
        if isinstance(key, ec.EllipticCurvePrivateKey):
            der = key.sign(prepared.to_be_signed, ec.ECDSA(hashes.SHA256()))
            r, s = utils.decode_dss_signature(der)
            return r.to_bytes(32, "big") + s.to_bytes(32, "big")  # raw r||s, as WebCrypto gives
        assert prepared.signature_algorithm == "rsassa_pss_sha256"
        pss = padding.PSS(padding.MGF1(hashes.SHA256()), 32)
        if digest_only:
            return key.sign(prepared.digest, pss, utils.Prehashed(hashes.SHA256()))
        return key.sign(prepared.to_be_signed, pss, hashes.SHA256())


def _token(pki_env: PkiEnv, name: str) -> Token:
    key = pki_env.pki.identity(name).private_key()
    return Token(key)


def _pem(pki_env: PkiEnv, name: str) -> tuple[bytes, list[bytes]]:
    from cryptography.hazmat.primitives.serialization import Encoding

    cert = pki_env.pki.identity(name).certificate.public_bytes(Encoding.PEM)
    chain = [c.public_bytes(Encoding.PEM) for c in pki_env.pki.chain()]
    return cert, chain


@pytest.mark.parametrize("level", [PadesLevel.B_T, PadesLevel.B_LT])
def test_two_phase_leader_then_organisation(
    level: PadesLevel,
    pki_env: PkiEnv,
    prepared: bytes,
    signature_png: bytes,
    seal_png: bytes,
    pdfsig: PdfSig,
) -> None:
    options = pki_env.options(level)
    cert, chain = _pem(pki_env, f"user:{LEADER}")
    session = prepare_external_signature(
        prepared, cert, chain, leader_request(signature_png), options
    )
    assert session.digest == hashlib.sha256(session.to_be_signed).digest()
    assert session.signature_algorithm == "rsassa_pss_sha256"
    assert session.expires_at > datetime.now(UTC)
    # The server keeps only the opaque state (e.g. in its database) while the user confirms.
    stored = bytes(session.state)
    raw = _token(pki_env, f"user:{LEADER}").sign(session, digest_only=True)
    signed = finish_external_signature(stored, raw, options)

    org_cert, org_chain = _pem(pki_env, f"org:{ORG_CODE}")
    request = issue_request(
        number="62/KH-MTTW-BTT",
        date_text="Hà Nội, ngày 10 tháng 6 năm 2026",
        seal_image=seal_png,
        organization_name=ORG_NAME,
    )
    org_session = prepare_external_signature(signed, org_cert, org_chain, request, options)
    issued = finish_external_signature(
        org_session.state, _token(pki_env, f"org:{ORG_CODE}").sign(org_session), options
    )
    report = verify_pdf(issued, pki_env.trust)
    assert report.summary == Summary.VALID, report.to_text()
    leader, org = report.signatures
    assert org.modifications == Modifications.NONE
    assert leader.field_name == FIELD_LEADER and leader.certification
    assert leader.modifications == Modifications.FORM_FILLING
    assert [s.level for s in report.signatures] == [level, level]
    assert issued.startswith(signed) and signed.startswith(prepared)
    pdfsig.assert_valid(issued, signatures=2, pki=pki_env.pki)


def test_ecdsa_token_with_raw_signature(
    pki_env: PkiEnv, prepared: bytes, signature_png: bytes, pdfsig: PdfSig
) -> None:
    cert, chain = _pem(pki_env, f"user:{CLERK}")
    options = pki_env.options(PadesLevel.B_T)
    session = prepare_external_signature(
        prepared, cert, chain, leader_request(signature_png), options
    )
    assert session.signature_algorithm == "ecdsa_sha256"
    signed = finish_external_signature(
        session.state, _token(pki_env, f"user:{CLERK}").sign(session), options
    )
    assert verify_pdf(signed, pki_env.trust).summary == Summary.VALID
    pdfsig.assert_valid(signed, signatures=1)


def test_wrong_signature_is_refused(pki_env: PkiEnv, prepared: bytes, signature_png: bytes) -> None:
    cert, chain = _pem(pki_env, f"user:{LEADER}")
    options = pki_env.options(PadesLevel.B_B)
    session = prepare_external_signature(
        prepared, cert, chain, leader_request(signature_png), options
    )
    other = _token(pki_env, f"org:{ORG_CODE}").sign(session)  # the wrong key
    with pytest.raises(SignatureValueError) as err:
        finish_external_signature(session.state, other, options)
    assert err.value.code == "signature_value_invalid"
    with pytest.raises(SignatureValueError):
        finish_external_signature(session.state, b"\x00" * 256, options)


def test_expired_session_is_refused(pki_env: PkiEnv, prepared: bytes, signature_png: bytes) -> None:
    cert, chain = _pem(pki_env, f"user:{LEADER}")
    options = pki_env.options(PadesLevel.B_B)
    session = prepare_external_signature(
        prepared, cert, chain, leader_request(signature_png), options, ttl=timedelta(minutes=5)
    )
    raw = _token(pki_env, f"user:{LEADER}").sign(session)
    later = datetime.now(UTC) + timedelta(minutes=6)
    with pytest.raises(SigningSessionExpiredError) as err:
        finish_external_signature(session.state, raw, options, now=later)
    assert err.value.code == "signing_session_expired"


def test_damaged_state_is_refused(pki_env: PkiEnv, prepared: bytes, signature_png: bytes) -> None:
    cert, chain = _pem(pki_env, f"user:{LEADER}")
    options = pki_env.options(PadesLevel.B_B)
    session = prepare_external_signature(
        prepared, cert, chain, leader_request(signature_png), options
    )
    raw = _token(pki_env, f"user:{LEADER}").sign(session)
    damaged = session.state[:-200] + b"X" + session.state[-199:]
    with pytest.raises(SigningSessionError):
        finish_external_signature(damaged, raw, options)
    with pytest.raises(SigningSessionError):
        finish_external_signature(b"not a session", raw, options)


def test_prepare_checks_the_certificate(
    pki_env: PkiEnv, prepared: bytes, signature_png: bytes
) -> None:
    from signing import CertificateExpiredError

    cert, chain = _pem(pki_env, "extra:expired")
    with pytest.raises(CertificateExpiredError):
        prepare_external_signature(
            prepared, cert, chain, leader_request(signature_png), pki_env.options(PadesLevel.B_B)
        )
