"""Remote signing through our CSC v2 client against the test CSC server on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from signing import (
    CscConfig,
    PadesLevel,
    RemoteSigningAuthError,
    RemoteSigningTimeoutError,
    SignerUnavailableError,
    Summary,
    fetch_credential,
    finish_external_signature,
    leader_request,
    open_csc_signer,
    open_signer,
    prepare_external_signature,
    sign_as_leader,
    sign_hashes,
    verify_pdf,
)

from .conftest import CLERK, LEADER, PkiEnv, free_port, serve
from .csc_server import CscServer
from .pdfsig import PdfSig


@pytest.fixture(scope="module")
def csc(pki_env: PkiEnv) -> Iterator[tuple[CscServer, CscConfig, CscConfig]]:
    pki = pki_env.pki
    chain = [c.public_bytes(Encoding.DER) for c in pki.chain()]
    rsa_server = CscServer(
        "cred-leader",
        pki.user(LEADER).private_key(),
        [pki.user(LEADER).certificate_der, *chain],
        "token-1",
        "1234",
    )
    ec_server = CscServer(
        "cred-clerk",
        pki.user(CLERK).private_key(),
        [pki.user(CLERK).certificate_der, *chain],
        "token-2",
        "9999",
    )
    port_rsa, port_ec = free_port(), free_port()
    servers = [serve(rsa_server, port_rsa), serve(ec_server, port_ec)]
    yield (
        rsa_server,
        CscConfig(
            f"http://127.0.0.1:{port_rsa}/csc/v2", "cred-leader", "token-1", pin="1234", timeout=10
        ),
        CscConfig(
            f"http://127.0.0.1:{port_ec}/csc/v2", "cred-clerk", "token-2", pin="9999", timeout=10
        ),
    )
    for server in servers:
        server.shutdown()


def test_remote_signature(
    csc: tuple[CscServer, CscConfig, CscConfig],
    pki_env: PkiEnv,
    prepared: bytes,
    signature_png: bytes,
    pdfsig: PdfSig,
) -> None:
    server, config, _ = csc
    server.calls.clear()
    with open_signer(config) as signer:
        assert signer.subject_name == "Lê Văn Minh"
        signed = sign_as_leader(
            prepared, signer, signature_image=signature_png, options=pki_env.options(PadesLevel.B_T)
        )
    report = verify_pdf(signed, pki_env.trust)
    assert report.summary == Summary.VALID, report.to_text()
    # One info call, then exactly one authorise + signHash pair for the one document.
    assert server.calls == ["credentials/info", "credentials/authorize", "signatures/signHash"]
    pdfsig.assert_valid(signed, signatures=1)


def test_remote_ecdsa(
    csc: tuple[CscServer, CscConfig, CscConfig],
    pki_env: PkiEnv,
    prepared: bytes,
    signature_png: bytes,
    pdfsig: PdfSig,
) -> None:
    with open_csc_signer(csc[2]) as signer:
        assert signer.algorithm == "ecdsa_sha256"
        signed = sign_as_leader(
            prepared, signer, signature_image=signature_png, options=pki_env.options(PadesLevel.B_B)
        )
    assert verify_pdf(signed, pki_env.trust).summary == Summary.VALID
    pdfsig.assert_valid(signed, signatures=1)


def test_wrong_pin_and_token(
    csc: tuple[CscServer, CscConfig, CscConfig],
    pki_env: PkiEnv,
    prepared: bytes,
    signature_png: bytes,
) -> None:
    _, config, _ = csc
    with (
        open_csc_signer(replace(config, pin="0000")) as signer,
        pytest.raises(SignerUnavailableError) as err,
    ):
        sign_as_leader(
            prepared, signer, signature_image=signature_png, options=pki_env.options(PadesLevel.B_B)
        )
    assert err.value.details["error"] == "invalid_pin"
    with pytest.raises(SignerUnavailableError) as err:
        open_csc_signer(replace(config, access_token="stolen"))
    assert err.value.details["status"] == 401
    with pytest.raises(SignerUnavailableError):
        open_csc_signer(replace(config, service_url=f"http://127.0.0.1:{free_port()}/csc/v2"))


def test_many_hashes_one_authorisation(
    csc: tuple[CscServer, CscConfig, CscConfig],
    pki_env: PkiEnv,
    prepared: bytes,
    signature_png: bytes,
    pdfsig: PdfSig,
) -> None:
    """N documents: their hashes prepared apart, ONE authorise (numSignatures=N) and ONE
    signHash; every PDF then finished and valid."""
    server, config, _ = csc
    credential = fetch_credential(config)
    options = pki_env.options(PadesLevel.B_B)
    request = leader_request(signature_png)
    prepared_docs = [
        prepare_external_signature(
            prepared,
            credential.certificate_der,
            credential.chain_der,
            request,
            options,
            prefer_pss=credential.algorithm == "rsassa_pss_sha256",
        )
        for _ in range(3)
    ]
    server.calls.clear()
    raws = sign_hashes(config, [p.digest for p in prepared_docs], credential.algorithm)
    assert server.calls == ["credentials/authorize", "signatures/signHash"]
    assert server.authorized[-1] == 3
    for p, raw in zip(prepared_docs, raws, strict=True):
        signed = finish_external_signature(p.state, raw, options)
        assert verify_pdf(signed, pki_env.trust).summary == Summary.VALID
    pdfsig.assert_valid(signed, signatures=1)
    assert "1234" not in repr(config) and "token-1" not in repr(config)


def test_wrong_otp_and_timeout(csc: tuple[CscServer, CscConfig, CscConfig]) -> None:
    server, config, _ = csc
    credential = fetch_credential(config)
    server.otp = "567890"
    try:
        with pytest.raises(RemoteSigningAuthError) as err:
            sign_hashes(replace(config, otp="000000"), [bytes(32)], credential.algorithm)
        assert err.value.code == "remote_signing_otp_invalid"
        assert sign_hashes(replace(config, otp="567890"), [bytes(32)], credential.algorithm)
        server.delay = 1.5
        signed_before = server.signed
        with pytest.raises(RemoteSigningTimeoutError):
            sign_hashes(
                replace(config, otp="567890", timeout=0.5), [bytes(32)], credential.algorithm
            )
        assert server.signed == signed_before
    finally:
        server.otp, server.delay = None, 0.0
