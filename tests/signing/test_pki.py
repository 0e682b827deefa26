"""The demo PKI: generation, profiles, export, and its TSA/OCSP/CRL services over HTTP."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import requests
from asn1crypto import core, tsp
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID

from signing import (
    PkiError,
    SignerUnavailableError,
    load_pkcs12_signer,
)
from signing.testpki import (
    OrgSpec,
    UserSpec,
    export_user_p12,
    generate_demo_pki,
    load_demo_pki,
)

from .conftest import LEADER, ORG_CODE, PkiEnv


def test_generation_is_idempotent_and_additive(tmp_path: Path) -> None:
    orgs = [OrgSpec("000.00.01.Z01", "Ủy ban MTTQ Việt Nam tỉnh Demo")]
    first = generate_demo_pki(
        tmp_path,
        organizations=orgs,
        users=[UserSpec("lanhdao.tinh", "Trần Văn Bình", "000.00.01.Z01")],
    )
    again = generate_demo_pki(
        tmp_path,
        organizations=orgs,
        users=[UserSpec("vanthu.tinh", "Lê Thị Cúc", "000.00.01.Z01")],
    )
    assert again.root.certificate == first.root.certificate
    assert again.user("lanhdao.tinh").certificate == first.user("lanhdao.tinh").certificate
    assert "user:vanthu.tinh" in again.identities
    assert load_demo_pki(tmp_path).identities.keys() == again.identities.keys()
    # Private keys are readable by their owner only.
    key_path = again.user("vanthu.tinh").key_path
    assert key_path is not None and (os.stat(key_path).st_mode & 0o077) == 0
    with pytest.raises(PkiError):
        generate_demo_pki(tmp_path, users=[UserSpec("x", "X", "999.99.99.Z99")])
    with pytest.raises(PkiError):
        load_demo_pki(tmp_path / "nothing-here")


def test_certificate_profiles(pki_env: PkiEnv) -> None:
    leader = pki_env.pki.user(LEADER).certificate
    usage = leader.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.content_commitment and not usage.key_cert_sign
    aia = leader.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    urls = {desc.access_location.value for desc in aia}
    assert f"{pki_env.base_url}/ocsp" in urls
    assert f"{pki_env.base_url}/certs/issuing.cer" in urls
    tsa = pki_env.pki.tsa.certificate
    eku = tsa.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert eku.critical and list(eku.value) == [ExtendedKeyUsageOID.TIME_STAMPING]
    seal = pki_env.pki.organization(ORG_CODE).certificate
    assert (
        seal.subject.get_attributes_for_oid(x509.NameOID.ORGANIZATION_IDENTIFIER)[0].value
        == ORG_CODE
    )


def test_export_user_p12_round_trip(pki_env: PkiEnv) -> None:
    data = export_user_p12(pki_env.pki, LEADER, "mật khẩu")
    signer = load_pkcs12_signer(data, "mật khẩu")
    assert signer.subject_name == "Lê Văn Minh"
    assert len(signer.chain) == 2
    with pytest.raises(SignerUnavailableError):
        load_pkcs12_signer(data, "wrong")
    with pytest.raises(PkiError):
        export_user_p12(pki_env.pki, LEADER, "")


def _ocsp_status(pki_env: PkiEnv, name: str) -> ocsp.OCSPCertStatus:
    cert = pki_env.pki.identity(name).certificate
    request = (
        ocsp.OCSPRequestBuilder()
        .add_certificate(cert, pki_env.pki.issuing.certificate, hashes.SHA1())
        .build()
    )
    response = requests.post(
        f"{pki_env.base_url}/ocsp",
        data=request.public_bytes(Encoding.DER),
        headers={"Content-Type": "application/ocsp-request"},
        timeout=10,
    )
    assert response.headers["Content-Type"] == "application/ocsp-response"
    parsed = ocsp.load_der_ocsp_response(response.content)
    assert parsed.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL
    assert parsed.serial_number == cert.serial_number
    return parsed.certificate_status


def test_ocsp_over_http(pki_env: PkiEnv) -> None:
    assert _ocsp_status(pki_env, f"user:{LEADER}") == ocsp.OCSPCertStatus.GOOD
    assert _ocsp_status(pki_env, "extra:revoked") == ocsp.OCSPCertStatus.REVOKED
    garbage = requests.post(f"{pki_env.base_url}/ocsp", data=b"junk", timeout=10)
    assert ocsp.load_der_ocsp_response(garbage.content).response_status == (
        ocsp.OCSPResponseStatus.MALFORMED_REQUEST
    )


def test_crl_over_http_lists_revoked(pki_env: PkiEnv) -> None:
    data = requests.get(f"{pki_env.base_url}/crl/issuing.crl", timeout=10).content
    crl = x509.load_der_x509_crl(data)
    revoked = pki_env.pki.identity("extra:revoked").serial_number
    assert crl.get_revoked_certificate_by_serial_number(revoked) is not None
    assert (
        crl.get_revoked_certificate_by_serial_number(pki_env.pki.user(LEADER).serial_number) is None
    )
    assert crl.is_signature_valid(pki_env.pki.issuing.certificate.public_key())  # type: ignore[arg-type]


def test_tsa_over_http(pki_env: PkiEnv) -> None:
    request = tsp.TimeStampReq(
        {
            "version": 1,
            "message_imprint": {
                "hash_algorithm": {"algorithm": "sha256"},
                "hashed_message": bytes(32),
            },
            "nonce": 42,
            "cert_req": True,
        }
    )
    response = requests.post(
        f"{pki_env.base_url}/tsa",
        data=request.dump(),
        headers={"Content-Type": "application/timestamp-query"},
        timeout=10,
    )
    assert response.headers["Content-Type"] == "application/timestamp-reply"
    parsed = tsp.TimeStampResp.load(response.content)
    assert parsed["status"]["status"].native == "granted"
    info = parsed["time_stamp_token"]["content"]["encap_content_info"]["content"].parsed
    assert info["nonce"].native == 42
    rejected = core.Sequence.load(
        requests.post(f"{pki_env.base_url}/tsa", data=b"junk", timeout=10).content
    )
    status = tsp.PKIStatusInfo.load(rejected[0].dump())
    assert status["status"].native == "rejection"


def test_unknown_path_is_404(pki_env: PkiEnv) -> None:
    assert requests.get(f"{pki_env.base_url}/keys/root.key", timeout=10).status_code == 404
    assert requests.get(f"{pki_env.base_url}/roots.pem", timeout=10).content == (
        pki_env.pki.trust_roots_pem()
    )
